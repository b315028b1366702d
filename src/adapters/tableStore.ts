/**
 * State in Azure Table Storage (`@azure/data-tables`).
 *
 * One partition per account holds its incident row, the incident's event timeline and its
 * outbox. A state change and the messages it causes are one ETag-guarded transaction, so two
 * monitors deciding the same thing cannot both commit it.
 */
import { createHash } from "node:crypto";
import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { normalizeResourceId } from "../domain/account";
import type { DeliveryResults } from "../domain/deliveryReport";
import type { Incident, IncidentEvent, OutboxMessage } from "../domain/incident";
import type { Decision } from "../domain/lifecycle";
import type { AtRiskState } from "../domain/atRisk";
import { digestOwnerKey, type CheckedAccount, type DigestState } from "../domain/warnings";
import { WEEKLY_REPORT_PARTITION } from "../domain/weeklyReport";
import { statusCodeOf } from "../ports/failures";
import { createOrReplaceOver } from "./guardedWrite";
import { StateConflictError } from "../ports/errors";
import type { DeliveryReportStore } from "../ports/deliveryReports";
import type { AccountRecord, CommitOptions, IncidentStore, MessageStatus, StoredMessage } from "../ports/incidentStore";
import type { RetentionStore } from "../ports/retentionStore";
import type { StoredAccountCheck, WarningStore } from "../ports/warningStore";
import type { RetainedIncident, RetentionBatch, RetentionRow } from "../domain/retention";

const STATE_ROW = "state";
const EVENT_PREFIX = "event|";
const OUTBOX_PREFIX = "outbox|";
const INCIDENT_PREFIX = "incident|";
const LINK_TOKEN_PREFIX = "link|";
/**
 * Healthy accounts' last daily probes (warnings), spread over 16 partitions by the account id's
 * hash: one Azure Table partition serves about 2,000 entities a second, which a fleet's daily checks
 * written by several instances at once would exceed (and Azurite scans a partition per row it
 * touches). The partitions sort together, so a cycle still reads every check in one range query.
 */
const CHECKS_PARTITION_PREFIX = "warning-checks-";
/** Just past every "warning-checks-<hex>" partition ('.' follows '-'). */
const CHECKS_PARTITION_END = "warning-checks.";
/** A recipient's warning-digest state, in the recipient's partition. */
const DIGEST_ROW = "digest";
/** In the weekly report's partition: the last ISO week reported. */
const WEEKLY_REPORT_ROW = "weekly-report-state";
/** An account's urgent findings already warned about, in the account's partition beside its outbox. */
const AT_RISK_ROW = "at-risk";
// A Table string property holds at most 64 KiB (32K UTF-16 units); larger JSON is split. A whole
// entity holds at most 1 MiB, strings counted as UTF-16 (2 bytes a unit): 15 chunks are 900,000
// bytes, leaving room for the row's other properties and their names.
const CHUNK = 30_000;
const MAX_CHUNKS = 15;
/** The most JSON one stored value (incident, outbox message, check) may have, in UTF-16 units. */
export const MAX_STORED_JSON_LENGTH = CHUNK * MAX_CHUNKS;

export function partitionKeyFor(accountId: string): string {
  return `a-${createHash("sha256").update(normalizeResourceId(accountId)).digest("hex").slice(0, 40)}`;
}

/** Where an account's daily check lives: the partition (one of 16, by the hash's first digit) and row. */
export function checkRowFor(accountId: string): { partitionKey: string; rowKey: string } {
  const rowKey = partitionKeyFor(accountId);
  return { partitionKey: `${CHECKS_PARTITION_PREFIX}${rowKey.charAt(2)}`, rowKey };
}

export class TableIncidentStore implements IncidentStore, WarningStore, RetentionStore, DeliveryReportStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  /** Creates the table once per process; safe to call concurrently. */
  async ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
  }

  async listOpenRecords(): Promise<AccountRecord[]> {
    await this.ensureTable();
    const records: AccountRecord[] = [];
    const rows = this.table.listEntities<TableEntity>({
      queryOptions: { filter: odata`RowKey eq ${STATE_ROW} and open eq true` },
    });
    for await (const row of rows) records.push(toRecord(row));
    return records;
  }

  async getRecord(accountId: string): Promise<AccountRecord> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<TableEntity>(partitionKeyFor(accountId), STATE_ROW);
      return toRecord(row);
    } catch (error) {
      if (statusCodeOf(error) === 404) return { accountId, incident: undefined, etag: undefined };
      throw error;
    }
  }

  async commit(record: AccountRecord, decision: Decision, options: CommitOptions = {}): Promise<void> {
    const incident = decision.incident;
    if (!incident) return;
    await this.ensureTable();
    const partitionKey = partitionKeyFor(record.accountId);
    const stateEntity: TableEntity = {
      partitionKey,
      rowKey: STATE_ROW,
      accountId: record.accountId,
      incidentId: incident.id,
      state: incident.state,
      cause: incident.cause,
      open: incident.state !== "resolved",
      updatedAt: decision.events.at(-1)?.at ?? incident.detectedAt,
      ...chunked("incident", incident),
    };
    const actions: TransactionAction[] = [record.etag === undefined ? ["create", stateEntity] : ["update", stateEntity, "Replace", { etag: record.etag }]];
    for (const event of decision.events) {
      actions.push([
        "create",
        {
          partitionKey,
          rowKey: `${EVENT_PREFIX}${event.incidentId}|${String(event.seq).padStart(6, "0")}`,
          incidentId: event.incidentId,
          seq: event.seq,
          at: event.at,
          type: event.type,
          cause: event.cause,
          detail: event.detail.slice(0, CHUNK),
        },
      ]);
    }
    for (const message of decision.messages) actions.push(["create", outboxEntity(partitionKey, message)]);
    if (options.consumeLinkToken) {
      const { nonce, action, incidentId } = options.consumeLinkToken;
      const usedAt = decision.events.at(-1)?.at ?? incident.detectedAt;
      actions.push(["create", { partitionKey, rowKey: `${LINK_TOKEN_PREFIX}${nonce}`, action, incidentId, usedAt }]);
    }
    if (incident.state === "resolved") {
      // Keep the closed incident as history; the state row moves on with the next incident.
      actions.push(["upsert", { partitionKey, rowKey: `${INCIDENT_PREFIX}${incident.id}`, ...chunked("incident", incident) }, "Replace"]);
    }
    if (actions.length > 100) throw new Error(`Too many changes for one transaction (${actions.length})`);
    try {
      await this.table.submitTransaction(actions);
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 409 || status === 412) throw new StateConflictError(record.accountId, error);
      throw error;
    }
  }

  async isLinkTokenUsed(accountId: string, nonce: string): Promise<boolean> {
    await this.ensureTable();
    try {
      await this.table.getEntity(partitionKeyFor(accountId), `${LINK_TOKEN_PREFIX}${nonce}`);
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 404) return false;
      throw error;
    }
  }

  async listEvents(accountId: string, incidentId: string): Promise<IncidentEvent[]> {
    await this.ensureTable();
    const prefix = `${EVENT_PREFIX}${incidentId}|`;
    const events: IncidentEvent[] = [];
    const rows = this.table.listEntities<TableEntity>({
      queryOptions: {
        filter: odata`PartitionKey eq ${partitionKeyFor(accountId)} and RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`,
      },
    });
    for await (const row of rows) {
      events.push({
        incidentId: String(row.incidentId),
        seq: Number(row.seq),
        at: String(row.at),
        type: row.type as IncidentEvent["type"],
        cause: row.cause as IncidentEvent["cause"],
        detail: String(row.detail ?? ""),
      });
    }
    return events.sort((a, b) => a.seq - b.seq);
  }

  async listIncidents(filter: { accountId?: string } = {}): Promise<Incident[]> {
    await this.ensureTable();
    const rows = odata`RowKey eq ${STATE_ROW} or (RowKey ge ${INCIDENT_PREFIX} and RowKey lt ${`${INCIDENT_PREFIX}~`})`;
    const query = filter.accountId === undefined ? rows : `${odata`PartitionKey eq ${partitionKeyFor(filter.accountId)}`} and (${rows})`;
    // A resolved incident is both the state row (until the next one opens) and its history row.
    const byId = new Map<string, Incident>();
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter: query } })) {
      const incident = unchunked<Incident>(row, "incident");
      const known = byId.get(incident.id);
      if (!known || known.eventCount < incident.eventCount) byId.set(incident.id, incident);
    }
    return [...byId.values()].sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || a.id.localeCompare(b.id));
  }

  async listDueMessages(now: Date, options: { withDigestMembers?: boolean } = {}): Promise<StoredMessage[]> {
    await this.ensureTable();
    const at = now.toISOString();
    return this.queryMessages(
      options.withDigestMembers
        ? odata`(status eq 'pending' and nextAttemptAt le ${at}) or (status eq 'sending' and leaseUntil le ${at}) or (digestId gt '' and (status eq 'pending' or status eq 'sending'))`
        : odata`(status eq 'pending' and nextAttemptAt le ${at}) or (status eq 'sending' and leaseUntil le ${at})`,
    );
  }

  async getMessage(accountId: string, key: string): Promise<StoredMessage | undefined> {
    await this.ensureTable();
    try {
      return toStoredMessage(await this.table.getEntity<TableEntity>(partitionKeyFor(accountId), `${OUTBOX_PREFIX}${key}`));
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async listMessages(filter: { status?: MessageStatus; accountId?: string } = {}): Promise<StoredMessage[]> {
    await this.ensureTable();
    const conditions = [odata`RowKey ge ${OUTBOX_PREFIX} and RowKey lt ${`${OUTBOX_PREFIX}~`}`];
    if (filter.status) conditions.push(odata`status eq ${filter.status}`);
    if (filter.accountId !== undefined) conditions.unshift(odata`PartitionKey eq ${partitionKeyFor(filter.accountId)}`);
    return this.queryMessages(conditions.join(" and "));
  }

  async listSentTimes(since: Date): Promise<string[]> {
    await this.ensureTable();
    const times: string[] = [];
    const filter = odata`RowKey ge ${OUTBOX_PREFIX} and RowKey lt ${`${OUTBOX_PREFIX}~`} and status eq 'sent' and sentAt ge ${since.toISOString()}`;
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter, select: ["sentAt"] } })) times.push(String(row.sentAt));
    return times.sort();
  }

  async claimMessage(
    stored: StoredMessage,
    now: Date,
    leaseInSeconds: number,
    options: { digestId?: string; operationId?: string } = {},
  ): Promise<StoredMessage | undefined> {
    const leaseUntil = new Date(now.getTime() + leaseInSeconds * 1000).toISOString();
    try {
      const response = await this.table.updateEntity(
        {
          partitionKey: partitionKeyFor(stored.message.accountId),
          rowKey: `${OUTBOX_PREFIX}${stored.message.key}`,
          status: "sending",
          leaseUntil,
          attempts: stored.attempts + 1,
          // The digest binding commits with the claim: a retry regroups by it, never differently.
          ...(options.digestId ? { digestId: options.digestId } : {}),
          // When asked (the send stage marks it later, with markPostStarting): a crash after it leaves the row "ask ACS first".
          ...(options.operationId ? { unverifiedOperationId: options.operationId } : {}),
        },
        "Merge",
        { etag: stored.etag },
      );
      return {
        ...stored,
        status: "sending",
        leaseUntil,
        attempts: stored.attempts + 1,
        ...(options.digestId ? { digestId: options.digestId } : {}),
        ...(options.operationId ? { unverifiedOperationId: options.operationId } : {}),
        etag: response.etag ?? "",
      };
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  async markPostStarting(stored: StoredMessage, operationId: string): Promise<StoredMessage | undefined> {
    try {
      const response = await this.table.updateEntity(
        { partitionKey: partitionKeyFor(stored.message.accountId), rowKey: `${OUTBOX_PREFIX}${stored.message.key}`, unverifiedOperationId: operationId },
        "Merge",
        { etag: stored.etag },
      );
      return { ...stored, unverifiedOperationId: operationId, etag: response.etag ?? "" };
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  async markSent(stored: StoredMessage, now: Date, operationId: string, options: { outcomeCheckAt?: Date } = {}): Promise<void> {
    await this.table.updateEntity(
      {
        partitionKey: partitionKeyFor(stored.message.accountId),
        rowKey: `${OUTBOX_PREFIX}${stored.message.key}`,
        status: "sent",
        sentAt: now.toISOString(),
        operationId,
        lastError: "",
        unverifiedOperationId: "",
        outcomeCheckAt: options.outcomeCheckAt?.toISOString() ?? "",
      },
      "Merge",
      { etag: stored.etag },
    );
  }

  async markFailed(
    stored: StoredMessage,
    error: string,
    retryAt: Date | undefined,
    options: { newOperation?: boolean; releaseDigest?: boolean; verified?: boolean } = {},
  ): Promise<void> {
    await this.table.updateEntity(
      {
        partitionKey: partitionKeyFor(stored.message.accountId),
        rowKey: `${OUTBOX_PREFIX}${stored.message.key}`,
        status: retryAt ? "pending" : "dead",
        generation: stored.generation + (options.newOperation ? 1 : 0),
        nextAttemptAt: (retryAt ?? new Date(0)).toISOString(),
        lastError: error.slice(0, 2000),
        outcomeCheckAt: "",
        ...(options.releaseDigest ? { digestId: "" } : {}),
        // Known outcome (refused, or Failed under the old id): the retry needs no status read first.
        ...(options.verified || options.newOperation ? { unverifiedOperationId: "" } : {}),
      },
      "Merge",
      { etag: stored.etag },
    );
  }

  async listOutcomeChecks(now: Date): Promise<StoredMessage[]> {
    await this.ensureTable();
    return this.queryMessages(odata`status eq 'sent' and outcomeCheckAt gt '' and outcomeCheckAt le ${now.toISOString()}`);
  }

  async markOutcomeChecked(stored: StoredMessage, nextCheckAt?: Date): Promise<StoredMessage | undefined> {
    const outcomeCheckAt = nextCheckAt?.toISOString() ?? "";
    try {
      const response = await this.table.updateEntity(
        { partitionKey: partitionKeyFor(stored.message.accountId), rowKey: `${OUTBOX_PREFIX}${stored.message.key}`, outcomeCheckAt },
        "Merge",
        { etag: stored.etag },
      );
      const { outcomeCheckAt: _previous, ...rest } = stored;
      return { ...rest, ...(outcomeCheckAt ? { outcomeCheckAt } : {}), etag: response.etag ?? "" };
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  // --- Retention (RetentionStore) ----------------------------------------------------------

  async listRetentionRows(cutoff: Date): Promise<{ incidents: RetainedIncident[]; rows: RetentionRow[] }> {
    await this.ensureTable();
    const byId = new Map<string, RetainedIncident>();
    const incidentRows = odata`RowKey eq ${STATE_ROW} or (RowKey ge ${INCIDENT_PREFIX} and RowKey lt ${`${INCIDENT_PREFIX}~`})`;
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter: incidentRows } })) {
      const incident = unchunked<Incident>(row, "incident");
      // A resolved incident is its history row (the one the sweep writes the summary into) and maybe
      // the state row too, with the same content; an open one is only the state row.
      if (row.rowKey !== STATE_ROW) byId.set(incident.id, { partitionKey: row.partitionKey, incident, historyEtag: row.etag });
      else if (!byId.has(incident.id)) byId.set(incident.id, { partitionKey: row.partitionKey, incident, historyEtag: undefined });
    }
    const rows: RetentionRow[] = [];
    const range = (prefix: string) => odata`RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`;
    const at = cutoff.toISOString();
    // Events are judged by their incident; only resolved incidents' are candidates, so all are read (three small columns).
    for await (const row of this.table.listEntities<TableEntity>({
      queryOptions: { filter: range(EVENT_PREFIX), select: ["PartitionKey", "RowKey", "incidentId", "at"] },
    })) {
      rows.push({ partitionKey: row.partitionKey, rowKey: row.rowKey, kind: "event", incidentId: String(row.incidentId ?? ""), at: String(row.at ?? "") });
    }
    // Every sent row (not only old ones): an incident's email count is written before its emails go.
    const sentSelect = ["PartitionKey", "RowKey", "incidentId", "kind", "sentAt", "unverifiedOperationId", "outcomeCheckAt"];
    for await (const row of this.table.listEntities<TableEntity>({
      queryOptions: { filter: `${range(OUTBOX_PREFIX)} and status eq 'sent'`, select: sentSelect },
    })) {
      rows.push({
        partitionKey: row.partitionKey,
        rowKey: row.rowKey,
        kind: "outbox",
        incidentId: String(row.incidentId ?? ""),
        messageKind: String(row.kind ?? ""),
        at: String(row.sentAt ?? ""),
        inDoubt: Boolean(row.unverifiedOperationId) || Boolean(row.outcomeCheckAt),
      });
    }
    const linkFilter = `${range(LINK_TOKEN_PREFIX)} and ${odata`usedAt lt ${at}`}`;
    for await (const row of this.table.listEntities<TableEntity>({
      queryOptions: { filter: linkFilter, select: ["PartitionKey", "RowKey", "incidentId", "usedAt"] },
    })) {
      rows.push({ partitionKey: row.partitionKey, rowKey: row.rowKey, kind: "link", incidentId: String(row.incidentId ?? ""), at: String(row.usedAt ?? "") });
    }
    const checkFilter = odata`PartitionKey ge ${CHECKS_PARTITION_PREFIX} and PartitionKey lt ${CHECKS_PARTITION_END} and checkedOn lt ${at.slice(0, 10)}`;
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter: checkFilter, select: ["PartitionKey", "RowKey", "checkedOn"] } })) {
      rows.push({ partitionKey: row.partitionKey, rowKey: row.rowKey, kind: "check", incidentId: "", at: String(row.checkedOn ?? "") });
    }
    return { incidents: [...byId.values()], rows };
  }

  async applyRetentionBatch(batch: RetentionBatch): Promise<boolean> {
    const actions: TransactionAction[] = [
      ...batch.summaries.map(({ incident, etag }): TransactionAction => [
        "update",
        { partitionKey: batch.partitionKey, rowKey: `${INCIDENT_PREFIX}${incident.id}`, ...chunked("incident", incident) },
        "Replace",
        { etag },
      ]),
      ...batch.rowKeys.map((rowKey): TransactionAction => ["delete", { partitionKey: batch.partitionKey, rowKey }]),
    ];
    if (actions.length === 0) return true;
    try {
      await this.table.submitTransaction(actions);
      return true;
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 404 || status === 409 || status === 412) return false;
      throw error;
    }
  }

  // --- Warnings (WarningStore) --------------------------------------------------------------

  async listAccountChecks(): Promise<StoredAccountCheck[]> {
    await this.ensureTable();
    const checks: StoredAccountCheck[] = [];
    const filter = odata`PartitionKey ge ${CHECKS_PARTITION_PREFIX} and PartitionKey lt ${CHECKS_PARTITION_END}`;
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter } })) {
      checks.push({ check: unchunked<CheckedAccount>(row, "check"), etag: row.etag, ...(row.pendingDigest === true ? { pendingDigest: true } : {}) });
    }
    return checks;
  }

  async getAccountCheck(accountId: string): Promise<StoredAccountCheck | undefined> {
    await this.ensureTable();
    const { partitionKey, rowKey } = checkRowFor(accountId);
    try {
      const row = await this.table.getEntity<TableEntity>(partitionKey, rowKey);
      return { check: unchunked<CheckedAccount>(row, "check"), etag: row.etag, ...(row.pendingDigest === true ? { pendingDigest: true } : {}) };
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async putAccountCheck(check: CheckedAccount, etag: string | undefined, options: { pendingDigest?: boolean } = {}): Promise<boolean> {
    await this.ensureTable();
    return createOrReplaceOver(this.table, checkEntity(check, options.pendingDigest === true), etag);
  }

  async putAccountChecks(entries: ReadonlyArray<{ check: CheckedAccount; etag: string | undefined; pendingDigest?: boolean }>): Promise<Set<string>> {
    await this.ensureTable();
    const recorded = new Set<string>();
    type Row = { action: TransactionAction; entry: (typeof entries)[number] };
    const byPartition = new Map<string, Row[]>();
    for (const entry of entries) {
      const entity = checkEntity(entry.check, entry.pendingDigest === true);
      const action: TransactionAction = entry.etag === undefined ? ["create", entity] : ["update", entity, "Replace", { etag: entry.etag }];
      const rows = byPartition.get(entity.partitionKey);
      if (rows) rows.push({ action, entry });
      else byPartition.set(entity.partitionKey, [{ action, entry }]);
    }
    // Per partition, up to 100 rows per atomic transaction. A chunk that fails (one stale ETag fails
    // it whole) is retried row by row, so the others still go in and real errors still surface.
    for (const rows of byPartition.values()) {
      for (let i = 0; i < rows.length; i += 100) {
        const chunk = rows.slice(i, i + 100);
        try {
          await this.table.submitTransaction(chunk.map(({ action }) => action));
          for (const { entry } of chunk) recorded.add(entry.check.accountId);
        } catch {
          for (const { entry } of chunk) {
            if (await this.putAccountCheck(entry.check, entry.etag, { pendingDigest: entry.pendingDigest === true })) recorded.add(entry.check.accountId);
          }
        }
      }
    }
    return recorded;
  }

  checkWriteGroup(accountId: string): string {
    return checkRowFor(accountId).partitionKey;
  }

  async clearPendingDigest(entry: StoredAccountCheck): Promise<boolean> {
    try {
      await this.table.updateEntity({ ...checkRowFor(entry.check.accountId), pendingDigest: false }, "Merge", { etag: entry.etag });
      return true;
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  async getDigestState(recipient: string): Promise<{ state: DigestState; etag: string | undefined }> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<TableEntity>(partitionKeyFor(digestOwnerKey(recipient)), DIGEST_ROW);
      return { state: unchunked<DigestState>(row, "digest"), etag: row.etag };
    } catch (error) {
      if (statusCodeOf(error) === 404) return { state: { recipient, reported: [] }, etag: undefined };
      throw error;
    }
  }

  async commitDigest(state: DigestState, etag: string | undefined, message: OutboxMessage): Promise<void> {
    await this.ensureTable();
    const partitionKey = partitionKeyFor(message.accountId);
    const stateEntity: TableEntity = { partitionKey, rowKey: DIGEST_ROW, lastDigestOn: state.lastDigestOn ?? "", ...chunked("digest", state) };
    await this.commitStateWithOutbox(stateEntity, etag, [message], message.accountId);
  }

  // --- Delivery reports (DeliveryReportStore) -------------------------------------------------

  /**
   * A query over every partition's outbox rows (no index row: delivery reports come at most as
   * often as ACS's send quota lets emails go, and the send path stays as it is). An attempt whose
   * 202 was not recorded yet still carries its id as unverifiedOperationId.
   */
  async findMessagesByOperation(operationId: string): Promise<StoredMessage[]> {
    await this.ensureTable();
    const id = operationId.toLowerCase();
    return this.queryMessages(
      odata`RowKey ge ${OUTBOX_PREFIX} and RowKey lt ${`${OUTBOX_PREFIX}~`} and (operationId eq ${id} or unverifiedOperationId eq ${id})`,
    );
  }

  async recordDeliveryResults(stored: StoredMessage, results: DeliveryResults): Promise<boolean> {
    try {
      // Merge names only this column: the send state on the row is left as the sender wrote it.
      await this.table.updateEntity(
        {
          partitionKey: partitionKeyFor(stored.message.accountId),
          rowKey: `${OUTBOX_PREFIX}${stored.message.key}`,
          deliveryResults: JSON.stringify(results),
        },
        "Merge",
        { etag: stored.etag },
      );
      return true;
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 412 || status === 404) return false;
      throw error;
    }
  }

  async getWeeklyReportState(): Promise<{ lastWeek: string | undefined; etag: string | undefined }> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<TableEntity>(partitionKeyFor(WEEKLY_REPORT_PARTITION), WEEKLY_REPORT_ROW);
      return { lastWeek: typeof row.lastWeek === "string" && row.lastWeek !== "" ? row.lastWeek : undefined, etag: row.etag };
    } catch (error) {
      if (statusCodeOf(error) === 404) return { lastWeek: undefined, etag: undefined };
      throw error;
    }
  }

  async commitWeeklyReport(week: string, etag: string | undefined, message: OutboxMessage): Promise<void> {
    await this.ensureTable();
    const partitionKey = partitionKeyFor(message.accountId);
    const stateEntity: TableEntity = { partitionKey, rowKey: WEEKLY_REPORT_ROW, lastWeek: week };
    // 404: the state row named by the ETag is gone; like a changed row, someone else's write won.
    await this.commitStateWithOutbox(stateEntity, etag, [message], message.accountId, [409, 412, 404]);
  }

  async getAtRisk(accountId: string): Promise<{ state: AtRiskState | undefined; etag: string | undefined }> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<TableEntity>(partitionKeyFor(accountId), AT_RISK_ROW);
      return { state: unchunked<AtRiskState>(row, "atRisk"), etag: row.etag };
    } catch (error) {
      if (statusCodeOf(error) === 404) return { state: undefined, etag: undefined };
      throw error;
    }
  }

  async commitAtRisk(state: AtRiskState, etag: string | undefined, messages: readonly OutboxMessage[]): Promise<void> {
    await this.ensureTable();
    const partitionKey = partitionKeyFor(state.accountId);
    const stateEntity: TableEntity = { partitionKey, rowKey: AT_RISK_ROW, open: state.open.length, ...chunked("atRisk", state) };
    await this.commitStateWithOutbox(stateEntity, etag, messages, state.accountId);
  }

  /**
   * A state row (created, or replaced under its ETag) and the outbox rows it caused, in one
   * transaction of its partition; a lost race is a StateConflictError for the caller to re-plan.
   */
  private async commitStateWithOutbox(
    stateEntity: TableEntity,
    etag: string | undefined,
    messages: readonly OutboxMessage[],
    conflictId: string,
    conflictStatuses: readonly number[] = [409, 412],
  ): Promise<void> {
    const actions: TransactionAction[] = [etag === undefined ? ["create", stateEntity] : ["update", stateEntity, "Replace", { etag }]];
    for (const message of messages) actions.push(["create", outboxEntity(stateEntity.partitionKey, message)]);
    if (actions.length > 100) throw new Error(`Too many changes for one transaction (${actions.length})`);
    try {
      await this.table.submitTransaction(actions);
    } catch (error) {
      const status = statusCodeOf(error);
      if (status !== undefined && conflictStatuses.includes(status)) throw new StateConflictError(conflictId, error);
      throw error;
    }
  }

  private async queryMessages(filter: string): Promise<StoredMessage[]> {
    const messages: StoredMessage[] = [];
    for await (const row of this.table.listEntities<TableEntity>({ queryOptions: { filter } })) {
      if (!String(row.rowKey).startsWith(OUTBOX_PREFIX)) continue;
      messages.push(toStoredMessage(row));
    }
    return messages.sort((a, b) => a.message.createdAt.localeCompare(b.message.createdAt) || a.message.key.localeCompare(b.message.key));
  }
}

function checkEntity(check: CheckedAccount, pendingDigest: boolean): TableEntity {
  return {
    ...checkRowFor(check.accountId),
    accountId: check.accountId,
    checkedOn: check.checkedOn,
    pendingDigest,
    ...chunked("check", check),
  };
}

/** An outbox row as the send stages read it (pending, no attempts yet). */
function outboxEntity(partitionKey: string, message: OutboxMessage): TableEntity {
  return {
    partitionKey,
    rowKey: `${OUTBOX_PREFIX}${message.key}`,
    kind: message.kind,
    incidentId: message.incidentId,
    accountId: message.accountId,
    status: "pending",
    attempts: 0,
    nextAttemptAt: message.createdAt,
    createdAt: message.createdAt,
    ...chunked("message", message),
  };
}

function toStoredMessage(row: TableEntityResult<TableEntity>): StoredMessage {
  return {
    message: unchunked<OutboxMessage>(row, "message"),
    status: row.status as MessageStatus,
    attempts: Number(row.attempts ?? 0),
    generation: Number(row.generation ?? 0),
    nextAttemptAt: String(row.nextAttemptAt ?? ""),
    ...(row.leaseUntil ? { leaseUntil: String(row.leaseUntil) } : {}),
    ...(row.sentAt ? { sentAt: String(row.sentAt) } : {}),
    ...(row.operationId ? { operationId: String(row.operationId) } : {}),
    ...(row.lastError ? { lastError: String(row.lastError) } : {}),
    ...(row.digestId ? { digestId: String(row.digestId) } : {}),
    ...(row.unverifiedOperationId ? { unverifiedOperationId: String(row.unverifiedOperationId) } : {}),
    ...(row.outcomeCheckAt ? { outcomeCheckAt: String(row.outcomeCheckAt) } : {}),
    ...(typeof row.deliveryResults === "string" && row.deliveryResults ? { deliveryResults: parseDeliveryResults(row.deliveryResults) } : {}),
    etag: row.etag,
  };
}

/** A row written by this version holds JSON; anything else reads as no results rather than failing the listing. */
function parseDeliveryResults(json: string): DeliveryResults {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as DeliveryResults) : {};
  } catch {
    return {};
  }
}

function toRecord(row: TableEntityResult<TableEntity>): AccountRecord {
  const incident = unchunked<Incident>(row, "incident");
  return { accountId: String(row.accountId), incident, etag: row.etag };
}

/** Splits JSON over `name0..nameN` properties; Table properties are capped at 64 KiB, entities at 1 MiB. */
export function chunked(name: string, value: unknown): Record<string, string | number> {
  const json = JSON.stringify(value);
  const parts = Math.ceil(json.length / CHUNK) || 1;
  if (parts > MAX_CHUNKS) throw new Error(`${name} is too large to store (${json.length} characters)`);
  const properties: Record<string, string | number> = { [`${name}Chunks`]: parts };
  for (let i = 0; i < parts; i++) properties[`${name}${i}`] = json.slice(i * CHUNK, (i + 1) * CHUNK);
  return properties;
}

function unchunked<T>(row: Record<string, unknown>, name: string): T {
  const parts = Number(row[`${name}Chunks`] ?? 0);
  let json = "";
  for (let i = 0; i < parts; i++) json += String(row[`${name}${i}`] ?? "");
  return JSON.parse(json) as T;
}
