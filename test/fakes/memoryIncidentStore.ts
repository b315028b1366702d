/**
 * IncidentStore and WarningStore in memory, with the table store's semantics (src/adapters/tableStore.ts):
 * one partition per account, ETag-guarded all-or-nothing commits, Merge updates that keep the
 * fields they do not name, rows stored as JSON (what goes in is a copy). The contract test
 * (memoryIncidentStore.test.ts) runs the same cases against both.
 */
import { createHash } from "node:crypto";
import { normalizeResourceId } from "../../src/domain/account";
import type { AtRiskState } from "../../src/domain/atRisk";
import type { DeliveryResults } from "../../src/domain/deliveryReport";
import type { DeliveryReportStore } from "../../src/ports/deliveryReports";
import type { Incident, IncidentEvent, OutboxMessage } from "../../src/domain/incident";
import type { Decision } from "../../src/domain/lifecycle";
import { digestOwnerKey, type CheckedAccount, type DigestState } from "../../src/domain/warnings";
import { WEEKLY_REPORT_PARTITION } from "../../src/domain/weeklyReport";
import { StateConflictError } from "../../src/ports/errors";
import type { AccountRecord, CommitOptions, IncidentStore, MessageStatus, StoredMessage } from "../../src/ports/incidentStore";
import type { StoredAccountCheck, WarningStore } from "../../src/ports/warningStore";
import { FaultPlan, restError } from "./faultPlan";

type Row = Record<string, unknown> & { etag: string };
type Method = keyof IncidentStore | keyof WarningStore | keyof DeliveryReportStore;
/** One write of a transaction: create fails on an existing row, update on a missing row or another ETag. */
type Write = { rowKey: string; row: Record<string, unknown> } & ({ op: "create" } | { op: "upsert" } | { op: "update"; etag: string });

const STATE_ROW = "state";
const DIGEST_ROW = "digest";
const WEEKLY_REPORT_ROW = "weekly-report-state";
const AT_RISK_ROW = "at-risk";
const MAX_ACTIONS = 100;
const CHECKS_PER_TRANSACTION = 100;

export class MemoryIncidentStore implements IncidentStore, WarningStore, DeliveryReportStore {
  /** Partition → row key → row. */
  private readonly partitions = new Map<string, Map<string, Row>>();
  private etags = 0;
  readonly faults = new FaultPlan<Method>();
  /** Calls per method, for tests that check what a stage read or wrote. */
  readonly calls: Partial<Record<Method, number>> = {};

  async listOpenRecords(): Promise<AccountRecord[]> {
    this.enter("listOpenRecords");
    return this.rows((key, row) => key === STATE_ROW && row.open === true).map(toRecord);
  }

  async getRecord(accountId: string): Promise<AccountRecord> {
    this.enter("getRecord");
    const row = this.partition(accountId).get(STATE_ROW);
    return row ? toRecord(row) : { accountId, incident: undefined, etag: undefined };
  }

  async commit(record: AccountRecord, decision: Decision, options: CommitOptions = {}): Promise<void> {
    this.enter("commit");
    const incident = decision.incident;
    if (!incident) return;
    const state = { accountId: record.accountId, incidentId: incident.id, state: incident.state, open: incident.state !== "resolved", incident };
    const writes: Write[] = [
      record.etag === undefined ? { op: "create", rowKey: STATE_ROW, row: state } : { op: "update", rowKey: STATE_ROW, row: state, etag: record.etag },
    ];
    for (const event of decision.events) {
      writes.push({
        op: "create",
        rowKey: `event|${event.incidentId}|${String(event.seq).padStart(6, "0")}`,
        row: { event: { ...event, detail: event.detail.slice(0, 30_000) } },
      });
    }
    for (const message of decision.messages) writes.push(outboxWrite(message));
    if (options.consumeLinkToken) {
      const usedAt = decision.events.at(-1)?.at ?? incident.detectedAt;
      writes.push({ op: "create", rowKey: `link|${options.consumeLinkToken.nonce}`, row: { ...options.consumeLinkToken, usedAt } });
    }
    // Kept as history; the state row moves on with the next incident.
    if (incident.state === "resolved") writes.push({ op: "upsert", rowKey: `incident|${incident.id}`, row: { incident } });
    if (writes.length > MAX_ACTIONS) throw new Error(`Too many changes for one transaction (${writes.length})`);
    this.transaction(record.accountId, writes, record.accountId);
  }

  async isLinkTokenUsed(accountId: string, nonce: string): Promise<boolean> {
    this.enter("isLinkTokenUsed");
    return this.partition(accountId).has(`link|${nonce}`);
  }

  async listEvents(accountId: string, incidentId: string): Promise<IncidentEvent[]> {
    this.enter("listEvents");
    const prefix = `event|${incidentId}|`;
    return [...this.partition(accountId).entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, row]) => copy(row.event as IncidentEvent))
      .sort((a, b) => a.seq - b.seq);
  }

  async listIncidents(filter: { accountId?: string } = {}): Promise<Incident[]> {
    this.enter("listIncidents");
    const partitions = filter.accountId === undefined ? [...this.partitions.values()] : [this.partition(filter.accountId)];
    const byId = new Map<string, Incident>();
    for (const rows of partitions) {
      for (const [key, row] of rows) {
        if (key !== STATE_ROW && !key.startsWith("incident|")) continue;
        const incident = copy(row.incident as Incident);
        const known = byId.get(incident.id);
        if (!known || known.eventCount < incident.eventCount) byId.set(incident.id, incident);
      }
    }
    return [...byId.values()].sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || a.id.localeCompare(b.id));
  }

  async listDueMessages(now: Date, options: { withDigestMembers?: boolean } = {}): Promise<StoredMessage[]> {
    this.enter("listDueMessages");
    const at = now.toISOString();
    return this.messages((row) => {
      const unsent = row.status === "pending" || row.status === "sending";
      return (
        (row.status === "pending" && String(row.nextAttemptAt) <= at) ||
        (row.status === "sending" && typeof row.leaseUntil === "string" && row.leaseUntil <= at) ||
        (options.withDigestMembers === true && typeof row.digestId === "string" && row.digestId > "" && unsent)
      );
    });
  }

  async getMessage(accountId: string, key: string): Promise<StoredMessage | undefined> {
    this.enter("getMessage");
    const row = this.partition(accountId).get(`outbox|${key}`);
    return row ? toStoredMessage(row) : undefined;
  }

  async listMessages(filter: { status?: MessageStatus; accountId?: string } = {}): Promise<StoredMessage[]> {
    this.enter("listMessages");
    const account = filter.accountId === undefined ? undefined : normalizeResourceId(filter.accountId);
    return this.messages(
      (row) =>
        (filter.status === undefined || row.status === filter.status) &&
        (account === undefined || normalizeResourceId((row.message as OutboxMessage).accountId) === account),
    );
  }

  async listSentTimes(since: Date): Promise<string[]> {
    this.enter("listSentTimes");
    const from = since.toISOString();
    return this.messages((row) => row.status === "sent" && typeof row.sentAt === "string" && row.sentAt >= from)
      .map((stored) => stored.sentAt!)
      .sort();
  }

  async claimMessage(
    stored: StoredMessage,
    now: Date,
    leaseInSeconds: number,
    options: { digestId?: string; operationId?: string } = {},
  ): Promise<StoredMessage | undefined> {
    this.enter("claimMessage");
    const leaseUntil = new Date(now.getTime() + leaseInSeconds * 1000).toISOString();
    const change = {
      status: "sending",
      leaseUntil,
      attempts: stored.attempts + 1,
      ...(options.digestId ? { digestId: options.digestId } : {}),
      ...(options.operationId ? { unverifiedOperationId: options.operationId } : {}),
    };
    let etag: string;
    try {
      etag = this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, change);
    } catch (error) {
      // Another instance holds it, or the row changed or went: not ours to send.
      if ((error as { statusCode?: number }).statusCode === 412 || (error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    return { ...stored, ...(change as Partial<StoredMessage>), etag };
  }

  async markPostStarting(stored: StoredMessage, operationId: string): Promise<StoredMessage | undefined> {
    this.enter("markPostStarting");
    let etag: string;
    try {
      etag = this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, { unverifiedOperationId: operationId });
    } catch (error) {
      // The lease ran out and another instance claimed the row (or it went): not ours to send.
      if ((error as { statusCode?: number }).statusCode === 412 || (error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    return { ...stored, unverifiedOperationId: operationId, etag };
  }

  async markSent(stored: StoredMessage, now: Date, operationId: string, options: { outcomeCheckAt?: Date } = {}): Promise<void> {
    this.enter("markSent");
    this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, {
      status: "sent",
      sentAt: now.toISOString(),
      operationId,
      lastError: "",
      unverifiedOperationId: "",
      outcomeCheckAt: options.outcomeCheckAt?.toISOString() ?? "",
    });
  }

  async markFailed(
    stored: StoredMessage,
    error: string,
    retryAt: Date | undefined,
    options: { newOperation?: boolean; releaseDigest?: boolean; verified?: boolean } = {},
  ): Promise<void> {
    this.enter("markFailed");
    this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, {
      status: retryAt ? "pending" : "dead",
      generation: stored.generation + (options.newOperation ? 1 : 0),
      nextAttemptAt: (retryAt ?? new Date(0)).toISOString(),
      lastError: error.slice(0, 2000),
      outcomeCheckAt: "",
      ...(options.releaseDigest ? { digestId: "" } : {}),
      ...(options.verified || options.newOperation ? { unverifiedOperationId: "" } : {}),
    });
  }

  async listOutcomeChecks(now: Date): Promise<StoredMessage[]> {
    this.enter("listOutcomeChecks");
    const at = now.toISOString();
    return this.messages((row) => row.status === "sent" && typeof row.outcomeCheckAt === "string" && row.outcomeCheckAt > "" && row.outcomeCheckAt <= at);
  }

  async markOutcomeChecked(stored: StoredMessage, nextCheckAt?: Date): Promise<StoredMessage | undefined> {
    this.enter("markOutcomeChecked");
    const outcomeCheckAt = nextCheckAt?.toISOString() ?? "";
    let etag: string;
    try {
      etag = this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, { outcomeCheckAt });
    } catch (error) {
      // Another instance moved it first: not ours to read.
      if ((error as { statusCode?: number }).statusCode === 412 || (error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    const { outcomeCheckAt: _previous, ...rest } = stored;
    return { ...rest, ...(outcomeCheckAt ? { outcomeCheckAt } : {}), etag };
  }

  // --- DeliveryReportStore --------------------------------------------------------------------

  async findMessagesByOperation(operationId: string): Promise<StoredMessage[]> {
    this.enter("findMessagesByOperation");
    const id = operationId.toLowerCase();
    return this.messages((row) => [row.operationId, row.unverifiedOperationId].some((value) => typeof value === "string" && value.toLowerCase() === id));
  }

  async recordDeliveryResults(stored: StoredMessage, results: DeliveryResults): Promise<boolean> {
    this.enter("recordDeliveryResults");
    try {
      this.merge(stored.message.accountId, `outbox|${stored.message.key}`, stored.etag, { deliveryResults: results });
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 412 || status === 404) return false;
      throw error;
    }
  }

  // --- WarningStore ---------------------------------------------------------------------------

  async listAccountChecks(): Promise<StoredAccountCheck[]> {
    this.enter("listAccountChecks");
    return [...this.partitions.entries()]
      .filter(([partition]) => partition.startsWith("warning-checks-"))
      .flatMap(([, rows]) => [...rows.values()])
      .map((row) => ({ check: copy(row.check as CheckedAccount), etag: row.etag, ...(row.pendingDigest === true ? { pendingDigest: true } : {}) }));
  }

  async getAccountCheck(accountId: string): Promise<StoredAccountCheck | undefined> {
    this.enter("getAccountCheck");
    const row = this.partitionNamed(this.checkWriteGroup(accountId)).get(checkRowKey(accountId));
    return row ? { check: copy(row.check as CheckedAccount), etag: row.etag, ...(row.pendingDigest === true ? { pendingDigest: true } : {}) } : undefined;
  }

  async putAccountCheck(check: CheckedAccount, etag: string | undefined, options: { pendingDigest?: boolean } = {}): Promise<boolean> {
    this.enter("putAccountCheck");
    return this.putCheck(check, etag, options.pendingDigest === true);
  }

  async putAccountChecks(entries: ReadonlyArray<{ check: CheckedAccount; etag: string | undefined; pendingDigest?: boolean }>): Promise<Set<string>> {
    this.enter("putAccountChecks");
    const recorded = new Set<string>();
    const groups = new Map<string, Array<(typeof entries)[number]>>();
    for (const entry of entries) {
      const group = this.checkWriteGroup(entry.check.accountId);
      groups.set(group, [...(groups.get(group) ?? []), entry]);
    }
    for (const [group, rows] of groups) {
      for (let i = 0; i < rows.length; i += CHECKS_PER_TRANSACTION) {
        const chunk = rows.slice(i, i + CHECKS_PER_TRANSACTION);
        try {
          this.transactionIn(
            group,
            chunk.map((entry) => checkWrite(entry.check, entry.etag, entry.pendingDigest === true)),
          );
          for (const entry of chunk) recorded.add(entry.check.accountId);
        } catch {
          // One stale ETag fails the whole transaction: row by row, the others still go in.
          for (const entry of chunk) if (this.putCheck(entry.check, entry.etag, entry.pendingDigest === true)) recorded.add(entry.check.accountId);
        }
      }
    }
    return recorded;
  }

  /** The table store's shard: "warning-checks-" and the first hex digit of the account id's hash. */
  checkWriteGroup(accountId: string): string {
    return `warning-checks-${createHash("sha256").update(normalizeResourceId(accountId)).digest("hex").charAt(0)}`;
  }

  async clearPendingDigest(entry: StoredAccountCheck): Promise<boolean> {
    this.enter("clearPendingDigest");
    try {
      this.mergeIn(this.checkWriteGroup(entry.check.accountId), checkRowKey(entry.check.accountId), entry.etag, { pendingDigest: false });
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  async getDigestState(recipient: string): Promise<{ state: DigestState; etag: string | undefined }> {
    this.enter("getDigestState");
    const row = this.partition(digestOwnerKey(recipient)).get(DIGEST_ROW);
    return row ? { state: copy(row.digest as DigestState), etag: row.etag } : { state: { recipient, reported: [] }, etag: undefined };
  }

  async commitDigest(state: DigestState, etag: string | undefined, message: OutboxMessage): Promise<void> {
    this.enter("commitDigest");
    this.commitStateWithOutbox(message.accountId, DIGEST_ROW, { digest: state, lastDigestOn: state.lastDigestOn ?? "" }, etag, [message]);
  }

  async getWeeklyReportState(): Promise<{ lastWeek: string | undefined; etag: string | undefined }> {
    this.enter("getWeeklyReportState");
    const row = this.partition(WEEKLY_REPORT_PARTITION).get(WEEKLY_REPORT_ROW);
    return row ? { lastWeek: row.lastWeek as string, etag: row.etag } : { lastWeek: undefined, etag: undefined };
  }

  async commitWeeklyReport(week: string, etag: string | undefined, message: OutboxMessage): Promise<void> {
    this.enter("commitWeeklyReport");
    this.commitStateWithOutbox(message.accountId, WEEKLY_REPORT_ROW, { lastWeek: week }, etag, [message]);
  }

  async getAtRisk(accountId: string): Promise<{ state: AtRiskState | undefined; etag: string | undefined }> {
    this.enter("getAtRisk");
    const row = this.partition(accountId).get(AT_RISK_ROW);
    return row ? { state: copy(row.atRisk as AtRiskState), etag: row.etag } : { state: undefined, etag: undefined };
  }

  async commitAtRisk(state: AtRiskState, etag: string | undefined, messages: readonly OutboxMessage[]): Promise<void> {
    this.enter("commitAtRisk");
    this.commitStateWithOutbox(state.accountId, AT_RISK_ROW, { atRisk: state }, etag, messages);
  }

  /** A state row (created when there is no ETag, else replaced over it) and its outbox rows in one transaction, as the table store writes them. */
  private commitStateWithOutbox(
    partition: string,
    rowKey: string,
    row: Record<string, unknown>,
    etag: string | undefined,
    messages: readonly OutboxMessage[],
  ): void {
    this.transaction(
      partition,
      [etag === undefined ? { op: "create", rowKey, row } : { op: "update", rowKey, row, etag }, ...messages.map(outboxWrite)],
      partition,
    );
  }

  // --- For tests --------------------------------------------------------------------------------

  /** Every outbox row, as listMessages returns them (a synchronous peek for assertions). */
  outbox(): StoredMessage[] {
    return this.messages(() => true);
  }

  // --- Storage ----------------------------------------------------------------------------------

  private enter(method: Method): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.faults.throwIfPlanned(method);
  }

  private partition(accountId: string): Map<string, Row> {
    return this.partitionNamed(normalizeResourceId(accountId));
  }

  private partitionNamed(name: string): Map<string, Row> {
    let rows = this.partitions.get(name);
    if (!rows) this.partitions.set(name, (rows = new Map()));
    return rows;
  }

  private nextEtag(): string {
    this.etags += 1;
    return `W/"${this.etags}"`;
  }

  private rows(match: (rowKey: string, row: Row) => boolean): Row[] {
    return [...this.partitions.values()].flatMap((rows) => [...rows.entries()].filter(([key, row]) => match(key, row)).map(([, row]) => row));
  }

  private messages(match: (row: Row) => boolean): StoredMessage[] {
    return this.rows((key, row) => key.startsWith("outbox|") && match(row))
      .map(toStoredMessage)
      .sort((a, b) => a.message.createdAt.localeCompare(b.message.createdAt) || a.message.key.localeCompare(b.message.key));
  }

  /** All or nothing in one account's partition; a conflict is StateConflictError for `accountId`. */
  private transaction(accountId: string, writes: Write[], conflictFor: string): void {
    try {
      this.transactionIn(normalizeResourceId(accountId), writes);
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) throw new StateConflictError(conflictFor, error);
      throw error;
    }
  }

  private transactionIn(partition: string, writes: Write[]): void {
    const rows = this.partitionNamed(partition);
    for (const write of writes) {
      const existing = rows.get(write.rowKey);
      if (write.op === "create" && existing) throw restError(409, `The row ${write.rowKey} already exists`);
      // A conditional replace of a row that is not there fails like a changed one (Azure answers 404 in a batch).
      if (write.op === "update" && (!existing || existing.etag !== write.etag)) throw restError(existing ? 412 : 404, `The row ${write.rowKey} changed`);
    }
    for (const write of writes) rows.set(write.rowKey, { ...copy(write.row), etag: this.nextEtag() });
  }

  private merge(accountId: string, rowKey: string, etag: string, change: Record<string, unknown>): string {
    return this.mergeIn(normalizeResourceId(accountId), rowKey, etag, change);
  }

  /** An ETag-guarded Merge: 404 when the row is gone, 412 when it changed. Returns the new ETag. */
  private mergeIn(partition: string, rowKey: string, etag: string, change: Record<string, unknown>): string {
    const rows = this.partitionNamed(partition);
    const existing = rows.get(rowKey);
    if (!existing) throw restError(404, `The row ${rowKey} does not exist`);
    if (existing.etag !== etag) throw restError(412, `The row ${rowKey} changed`);
    const next = { ...existing, ...copy(change), etag: this.nextEtag() };
    rows.set(rowKey, next);
    return next.etag;
  }

  private putCheck(check: CheckedAccount, etag: string | undefined, pendingDigest: boolean): boolean {
    try {
      this.transactionIn(this.checkWriteGroup(check.accountId), [checkWrite(check, etag, pendingDigest)]);
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // As the table store: a replace of a row that is gone (404) is not a lost race, it surfaces.
      if (status === 409 || status === 412) return false;
      throw error;
    }
  }
}

function outboxWrite(message: OutboxMessage): Write {
  return { op: "create", rowKey: `outbox|${message.key}`, row: { message, status: "pending", attempts: 0, nextAttemptAt: message.createdAt } };
}

function checkRowKey(accountId: string): string {
  return normalizeResourceId(accountId);
}

function checkWrite(check: CheckedAccount, etag: string | undefined, pendingDigest: boolean): Write {
  const row = { check, pendingDigest };
  const rowKey = checkRowKey(check.accountId);
  return etag === undefined ? { op: "create", rowKey, row } : { op: "update", rowKey, row, etag };
}

function toRecord(row: Row): AccountRecord {
  return { accountId: String(row.accountId), incident: copy(row.incident as Incident), etag: row.etag };
}

/** Optional fields a Merge may have emptied; like the table store, an empty one reads back as absent. */
const OPTIONAL_MESSAGE_FIELDS = ["leaseUntil", "sentAt", "operationId", "lastError", "digestId", "unverifiedOperationId", "outcomeCheckAt"] as const;

function toStoredMessage(row: Row): StoredMessage {
  const stored = copy(row as unknown as StoredMessage);
  stored.generation ??= 0;
  for (const name of OPTIONAL_MESSAGE_FIELDS) if (!stored[name]) delete stored[name];
  return stored;
}

/** What a table row gives back: a JSON copy, never the caller's object. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
