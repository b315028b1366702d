/**
 * The monitor's own bookkeeping, in a small table beside the state table (`<state table>meta`):
 * a heartbeat row for the last completed cycle, and the link-signing key the app creates when
 * CMK_LINK_SIGNING_KEY is not set; the email send budget (emails sent per minute over the last
 * hour), the count of poison work items and the delivery report counts. Kept out of the state table on purpose: a heartbeat is
 * written every cycle, and an idle cycle must not touch any account's partition.
 */
import { randomBytes } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { statusCodeOf } from "../ports/failures";
import { createOrReplaceOver } from "./guardedWrite";
import type { IgnoredReason } from "../domain/deliveryReport";
import type { DeliveryEventOutcome, DeliveryReportLog, DeliveryReportTally, UndeliveredEscalation } from "../ports/deliveryReports";
import type { CycleHeartbeat, Heartbeat, PoisonRecord } from "../ports/heartbeat";
import type { LinkKeys } from "../ports/linkKeys";
import type { ChangeWatermark, ChangeWatermarkRead } from "../ports/resourceChanges";
import type { EmailBudgetName, EmailRateLimits, SendBudget } from "../ports/sendBudget";

const PARTITION = "monitor";
const HEARTBEAT_ROW = "last-cycle";
const KEY_ROW = "link-signing-key";
const BUDGET_ROWS: Record<EmailBudgetName, string> = { send: "email-budget", status: "email-status-budget" };
const POISON_ROW = "poison-work-items";
const SINCE_ROW = "monitoring-since";
const DELIVERY_ROW = "delivery-reports";
const WATERMARK_ROW = "change-watermark";
const KEY_RISK_ROW = "key-risk-check";
/** Undelivered escalations kept on the delivery row: the newest, enough for an operator to act on. */
const MAX_UNDELIVERED = 25;
/** An undelivered escalation older than this leaves the list (a newer escalation would be reported on its own). */
const UNDELIVERED_KEPT_FOR_IN_MS = 14 * 24 * 60 * 60_000;
const MAX_ROW_ATTEMPTS = 8;
const MINUTE_IN_MS = 60_000;

/** `cmkmonitor` → `cmkmonitormeta`, kept within the 63-character table name limit. */
export function metaTableNameFor(stateTable: string): string {
  return `${stateTable.slice(0, 59)}meta`;
}

export class TableMonitorMeta implements Heartbeat, SendBudget, LinkKeys, DeliveryReportLog, ChangeWatermark {
  private ready: Promise<void> | undefined;
  private since: Date | undefined;
  private key: Promise<Buffer> | undefined;

  constructor(private readonly table: TableClient) {}

  private async ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
  }

  async recordCycle(heartbeat: CycleHeartbeat): Promise<void> {
    await this.ensureTable();
    if (heartbeat.poisonWorkItems === undefined) {
      const poison = await this.getRow(POISON_ROW);
      if (poison) heartbeat = { ...heartbeat, poisonWorkItems: Number(poison.count ?? 0) };
    }
    // Last writer wins: with overlapping instances either one's completed cycle is a fair answer.
    await this.table.upsertEntity({ partitionKey: PARTITION, rowKey: HEARTBEAT_ROW, ...heartbeat }, "Replace");
  }

  async monitoringSince(now: Date): Promise<Date> {
    if (this.since) return this.since;
    await this.ensureTable();
    try {
      // Create-only: the first instance's time wins, later ones read it.
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: SINCE_ROW, since: now.toISOString() });
      this.since = now;
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      const row = await this.getRow(SINCE_ROW);
      const since = new Date(String(row?.since ?? ""));
      if (Number.isNaN(since.getTime())) throw new Error("The monitoring-since row holds no valid time");
      this.since = since;
    }
    return this.since;
  }

  async lastCycle(): Promise<CycleHeartbeat | undefined> {
    await this.ensureTable();
    const row = await this.getRow(HEARTBEAT_ROW);
    if (!row) return undefined;
    return {
      startedAt: String(row.startedAt ?? ""),
      finishedAt: String(row.finishedAt ?? ""),
      durationInMs: Number(row.durationInMs ?? 0),
      accountsSeen: Number(row.accountsSeen ?? 0),
      revokedSeen: Number(row.revokedSeen ?? 0),
      changes: Number(row.changes ?? 0),
      emailsSent: Number(row.emailsSent ?? 0),
      emailsRetrying: Number(row.emailsRetrying ?? 0),
      subscriptionsFailed: Number(row.subscriptionsFailed ?? 0),
      ...(row.subscriptionsPropagating !== undefined ? { subscriptionsPropagating: Number(row.subscriptionsPropagating) } : {}),
      ...(row.poisonWorkItems !== undefined ? { poisonWorkItems: Number(row.poisonWorkItems) } : {}),
      ...(row.subscriptionsInScope !== undefined ? { subscriptionsInScope: Number(row.subscriptionsInScope) } : {}),
      ...(row.subscriptionsReadable !== undefined ? { subscriptionsReadable: Number(row.subscriptionsReadable) } : {}),
      ...(row.subscriptionsWithCmk !== undefined ? { subscriptionsWithCmk: Number(row.subscriptionsWithCmk) } : {}),
      ...(row.statusSource === "arm" || row.statusSource === "resource-graph" ? { statusSource: row.statusSource } : {}),
      ...(row.statusCalls !== undefined ? { statusCalls: Number(row.statusCalls) } : {}),
      ...(typeof row.statusSourceFallback === "string" ? { statusSourceFallback: row.statusSourceFallback } : {}),
      ...(row.statusSourceDisagreements !== undefined ? { statusSourceDisagreements: Number(row.statusSourceDisagreements) } : {}),
      ...(row.statusSourceLagMinutes !== undefined ? { statusSourceLagMinutes: Number(row.statusSourceLagMinutes) } : {}),
      ...(await this.deliveryReportSummary()),
      ...(await this.catchUpSummary()),
    };
  }

  private async catchUpSummary(): Promise<Pick<CycleHeartbeat, "changeCatchUp">> {
    const { watermark, gapBefore } = await this.readChangeWatermark();
    return watermark ? { changeCatchUp: { watermark, ...(gapBefore ? { gapBefore } : {}) } } : {};
  }

  readChangeWatermark(): Promise<ChangeWatermarkRead> {
    return this.readMark(WATERMARK_ROW);
  }

  advanceChangeWatermark(read: ChangeWatermarkRead, to: string, gapBefore?: string): Promise<boolean> {
    // A gap stays reported until a newer one replaces it: the changes before it were still never read.
    return this.writeMark(WATERMARK_ROW, read, { watermark: to, gapBefore: gapBefore ?? read.gapBefore ?? "" });
  }

  readKeyRiskCheck(): Promise<ChangeWatermarkRead> {
    return this.readMark(KEY_RISK_ROW);
  }

  recordKeyRiskCheck(read: ChangeWatermarkRead, at: string): Promise<boolean> {
    return this.writeMark(KEY_RISK_ROW, read, { watermark: at });
  }

  private async readMark(rowKey: string): Promise<ChangeWatermarkRead> {
    await this.ensureTable();
    const row = await this.getRow(rowKey);
    if (!row) return {};
    return {
      etag: String(row.etag),
      ...(typeof row.watermark === "string" && row.watermark ? { watermark: row.watermark } : {}),
      ...(typeof row.gapBefore === "string" && row.gapBefore ? { gapBefore: row.gapBefore } : {}),
    };
  }

  /** Writes the row only from the version `read` saw (or creates it); false when another instance wrote it since. */
  private async writeMark(rowKey: string, read: ChangeWatermarkRead, fields: Record<string, string>): Promise<boolean> {
    await this.ensureTable();
    const entity = { partitionKey: PARTITION, rowKey, ...fields };
    // A refusal is not retried: the other instance's run covered this one's.
    return createOrReplaceOver(this.table, entity, read.etag);
  }

  private async deliveryReportSummary(): Promise<Pick<CycleHeartbeat, "deliveryReports">> {
    const tally = await this.deliveryReportTally();
    if (!tally) return {};
    const ignored = Object.values(tally.ignored).reduce((sum, count) => sum + (count ?? 0), 0);
    const { recorded, unchanged, unmatched, undeliveredEscalations } = tally;
    return { deliveryReports: { recorded, unchanged, unmatched, ignored, undeliveredEscalations } };
  }

  async countDeliveryEvent(
    at: Date,
    outcome: DeliveryEventOutcome,
    detail: { ignoredReason?: IgnoredReason; escalation?: { entry: UndeliveredEscalation; undelivered: boolean } } = {},
  ): Promise<void> {
    const counted = await this.changeRow(DELIVERY_ROW, (row) => {
      const tally = readTally(row);
      if (outcome === "ignored") {
        const reason = detail.ignoredReason ?? "malformed";
        tally.ignored[reason] = (tally.ignored[reason] ?? 0) + 1;
      } else tally[outcome] += 1;
      if (tally.lastEventAt === null || at.toISOString() > tally.lastEventAt) tally.lastEventAt = at.toISOString();
      const escalation = detail.escalation;
      let list = tally.undeliveredEscalations.filter((e) => Date.parse(e.at) > at.getTime() - UNDELIVERED_KEPT_FOR_IN_MS);
      if (escalation) {
        const { key, recipient } = escalation.entry;
        list = list.filter((e) => !(e.key === key && e.recipient === recipient));
        if (escalation.undelivered) list.push(escalation.entry);
      }
      tally.undeliveredEscalations = list.sort((a, b) => b.at.localeCompare(a.at)).slice(0, MAX_UNDELIVERED);
      return { result: true, write: writeTally(tally) };
    });
    if (!counted) throw new Error(`The delivery report counts could not be updated after ${MAX_ROW_ATTEMPTS} attempts (other instances kept changing them)`);
  }

  async deliveryReportTally(): Promise<DeliveryReportTally | undefined> {
    await this.ensureTable();
    const row = await this.getRow(DELIVERY_ROW);
    return row ? readTally(row) : undefined;
  }

  async reserveEmailSends(now: Date, wanted: number, limits: EmailRateLimits, budget: EmailBudgetName = "send"): Promise<number> {
    if (wanted <= 0) return 0;
    const minute = Math.floor(now.getTime() / MINUTE_IN_MS);
    const granted = await this.changeRow(BUDGET_ROWS[budget], (row) => {
      const deferUntil = String(row?.deferUntil ?? "");
      if (deferUntil > now.toISOString()) return { result: 0 };
      const buckets = parseBuckets(row?.buckets);
      // Only the last hour counts; older minutes fall out as the row is rewritten.
      for (const key of Object.keys(buckets)) if (Number(key) <= minute - 60) delete buckets[key];
      const thisMinute = buckets[String(minute)] ?? 0;
      const lastHour = Object.values(buckets).reduce((sum, count) => sum + count, 0);
      const grant = Math.max(0, Math.min(wanted, limits.perMinute - thisMinute, limits.perHour - lastHour));
      if (grant === 0) return { result: 0 };
      buckets[String(minute)] = thisMinute + grant;
      return { result: grant, write: { buckets: JSON.stringify(buckets), deferUntil } };
    });
    // Still racing other instances after every attempt: send nothing this drain rather than overrun.
    return granted ?? 0;
  }

  async releaseEmailSends(reservedAt: Date, count: number, budget: EmailBudgetName = "send"): Promise<void> {
    if (count <= 0) return;
    const minute = String(Math.floor(reservedAt.getTime() / MINUTE_IN_MS));
    // Giving up after every attempt only costs pacing: the reservation leaves the window within the hour.
    await this.changeRow(BUDGET_ROWS[budget], (row) => {
      const buckets = parseBuckets(row?.buckets);
      // Never below zero: the minute may already have fallen out of the window.
      const kept = Math.max(0, (buckets[minute] ?? 0) - count);
      if (!row || buckets[minute] === undefined || kept === buckets[minute]) return { result: undefined };
      if (kept === 0) delete buckets[minute];
      else buckets[minute] = kept;
      return { result: undefined, write: { buckets: JSON.stringify(buckets), deferUntil: String(row.deferUntil ?? "") } };
    });
  }

  async deferEmailCalls(until: Date, budget: EmailBudgetName = "send"): Promise<void> {
    await this.changeRow(BUDGET_ROWS[budget], (row) => {
      const current = String(row?.deferUntil ?? "");
      if (current >= until.toISOString()) return { result: undefined };
      return { result: undefined, write: { buckets: String(row?.buckets ?? "{}"), deferUntil: until.toISOString() } };
    });
  }

  async recordPoisonWorkItem(at: Date, summary: string): Promise<PoisonRecord> {
    const recorded = await this.changeRow(POISON_ROW, (row) => {
      const record: PoisonRecord = { count: Number(row?.count ?? 0) + 1, lastAt: at.toISOString(), lastSummary: summary.slice(0, 1000) };
      return { result: record, write: { ...record } };
    });
    if (!recorded) throw new Error(`The poison work item count could not be updated after ${MAX_ROW_ATTEMPTS} attempts (other instances kept changing it)`);
    return recorded;
  }

  /**
   * Reads a row, lets `change` decide the result and what to write, and writes it under the ETag it
   * read (or creates it); when another instance changed or created the row meanwhile, reads again and
   * retries, up to MAX_ROW_ATTEMPTS. Undefined when every attempt lost the race.
   */
  private async changeRow<T>(
    rowKey: string,
    change: (row: Record<string, unknown> | undefined) => { result: T; write?: Record<string, unknown> },
  ): Promise<T | undefined> {
    await this.ensureTable();
    for (let attempt = 1; attempt <= MAX_ROW_ATTEMPTS; attempt++) {
      const row = await this.getRow(rowKey);
      const { result, write } = change(row);
      if (!write) return result;
      const entity = { partitionKey: PARTITION, rowKey, ...write };
      try {
        if (row) await this.table.updateEntity(entity, "Replace", { etag: String(row.etag) });
        else await this.table.createEntity(entity);
        return result;
      } catch (error) {
        const status = statusCodeOf(error);
        if (status !== 409 && status !== 412) throw error;
        // Jittered, so instances racing for the same row do not collide again at once.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 20 * attempt)));
      }
    }
    return undefined;
  }

  linkSigningKey(): Promise<Buffer> {
    this.key ??= this.loadOrCreateKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async loadOrCreateKey(): Promise<Buffer> {
    await this.ensureTable();
    const existing = await this.getRow(KEY_ROW);
    if (existing) return Buffer.from(String(existing.key), "base64");
    try {
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: KEY_ROW, key: randomBytes(32).toString("base64") });
    } catch (error) {
      // Another instance created it first: everyone uses that one.
      if (statusCodeOf(error) !== 409) throw error;
    }
    const created = await this.getRow(KEY_ROW);
    if (!created) throw new Error("The link-signing key could not be read back after creating it");
    return Buffer.from(String(created.key), "base64");
  }

  private async getRow(rowKey: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(PARTITION, rowKey);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }
}

function parseBuckets(value: unknown): Record<string, number> {
  if (typeof value !== "string") return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!parsed || typeof parsed !== "object") return {};
    const buckets: Record<string, number> = {};
    for (const [key, count] of Object.entries(parsed as Record<string, unknown>)) {
      if (/^\d+$/.test(key) && typeof count === "number" && Number.isFinite(count) && count > 0) buckets[key] = count;
    }
    return buckets;
  } catch {
    return {};
  }
}

function readTally(row: Record<string, unknown> | undefined): DeliveryReportTally {
  return {
    recorded: Number(row?.recorded ?? 0),
    unchanged: Number(row?.unchanged ?? 0),
    unmatched: Number(row?.unmatched ?? 0),
    ignored: parseJsonObject(row?.ignored) as DeliveryReportTally["ignored"],
    lastEventAt: typeof row?.lastEventAt === "string" && row.lastEventAt ? row.lastEventAt : null,
    undeliveredEscalations: parseJsonArray(row?.undeliveredEscalations) as UndeliveredEscalation[],
  };
}

function writeTally(tally: DeliveryReportTally): Record<string, unknown> {
  return {
    recorded: tally.recorded,
    unchanged: tally.unchanged,
    unmatched: tally.unmatched,
    ignored: JSON.stringify(tally.ignored),
    lastEventAt: tally.lastEventAt ?? "",
    undeliveredEscalations: JSON.stringify(tally.undeliveredEscalations),
  };
}

function parseJsonObject(value: unknown): Record<string, unknown> {
  try {
    const parsed = JSON.parse(String(value ?? "{}")) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseJsonArray(value: unknown): unknown[] {
  try {
    const parsed = JSON.parse(String(value ?? "[]")) as unknown;
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}
