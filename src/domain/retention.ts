/**
 * What the retention sweep may delete (CMK_RETENTION_DAYS), decided from the rows' few columns.
 * Pure; src/pipeline/retention.ts reads the rows and applies the plan.
 *
 * An incident's rows go together once it was resolved before the cutoff: its events, its sent
 * emails and its used link tokens. The incident itself stays as its history row (`incident|<id>`,
 * which holds everything the history views read), and the number of emails it sent is written
 * into that row first, because the emails that counted them are going. Kept always: an open
 * incident's rows, any outbox row not plainly sent (pending, sending, dead) or in doubt (an ACS
 * operation not yet confirmed, or its final-status read still due), the state rows, the digest
 * state, and anything newer than the cutoff.
 */
import type { Incident } from "./incident";

export type RetentionRowKind = "event" | "outbox" | "link" | "check";

/** One row the sweep might delete, with only the columns the decision needs. */
export interface RetentionRow {
  partitionKey: string;
  rowKey: string;
  kind: RetentionRowKind;
  /** The incident the row belongs to; a digest email's is `warning-digest-<date>`; a check's is "". */
  incidentId: string;
  /** Outbox rows: the message kind ("warning-digest" emails belong to no incident). */
  messageKind?: string;
  /** Events: when it happened; outbox: when ACS accepted it; links: when used; checks: the check's UTC date. */
  at: string;
  /** Outbox rows: not sent, or sent but still unconfirmed or awaiting its final-status read. */
  inDoubt?: boolean;
}

/** A resolved or open incident as the store keeps it, with its history row's ETag (undefined: only the state row holds it). */
export interface RetainedIncident {
  partitionKey: string;
  incident: Incident;
  historyEtag: string | undefined;
}

export interface RetentionBatch {
  partitionKey: string;
  /** Written first, in the same transaction: the incident's history row with its email count (ETag-guarded). */
  summaries: Array<{ incident: Incident; etag: string }>;
  rowKeys: string[];
}

export interface RetentionPlan {
  /** Each at most 100 operations, all in one partition (a table transaction's limits). */
  batches: RetentionBatch[];
  /** Operations (summaries and deletes) in the batches. */
  writes: number;
  /** Operations due but left for a later cycle by the budget. */
  remaining: number;
}

/** A table transaction: at most 100 operations, one partition. */
export const MAX_TRANSACTION_OPERATIONS = 100;

export function planRetention(input: {
  incidents: readonly RetainedIncident[];
  rows: readonly RetentionRow[];
  /** Rows older than this go (ISO date-time). */
  cutoff: string;
  /** Operations this cycle may write, at most. */
  maxWrites: number;
}): RetentionPlan {
  const { cutoff } = input;
  const byId = new Map<string, RetainedIncident>();
  for (const entry of input.incidents) byId.set(entry.incident.id, entry);
  // Resolved before the cutoff; an incident the store does not know is kept (nothing to judge it by).
  const old = (incidentId: string): boolean => {
    const incident = byId.get(incidentId)?.incident;
    return incident !== undefined && incident.state === "resolved" && incident.resolvedAt !== undefined && incident.resolvedAt < cutoff;
  };
  const sentByIncident = new Map<string, number>();
  for (const row of input.rows) {
    if (row.kind === "outbox") sentByIncident.set(row.incidentId, (sentByIncident.get(row.incidentId) ?? 0) + 1);
  }

  const deletable = (row: RetentionRow): boolean => {
    switch (row.kind) {
      case "event":
        return old(row.incidentId);
      case "link":
        return row.at < cutoff && old(row.incidentId);
      case "check":
        // A check is dated by day: one older than the cutoff's day was not refreshed within the window.
        return row.at < cutoff.slice(0, 10);
      case "outbox":
        if (row.inDoubt || row.at >= cutoff) return false;
        return row.messageKind === "warning-digest" || old(row.incidentId);
    }
  };

  const byPartition = new Map<string, { summaries: RetentionBatch["summaries"]; rowKeys: string[] }>();
  const summarised = new Set<string>();
  for (const row of [...input.rows].sort((a, b) => a.partitionKey.localeCompare(b.partitionKey) || a.rowKey.localeCompare(b.rowKey))) {
    if (!deletable(row)) continue;
    let partition = byPartition.get(row.partitionKey);
    if (!partition) byPartition.set(row.partitionKey, (partition = { summaries: [], rowKeys: [] }));
    const retained = byId.get(row.incidentId);
    // The email count goes into the history row before the emails that show it go (once: a row that has it keeps it).
    if (row.kind === "outbox" && retained && !summarised.has(row.incidentId) && retained.incident.emailsSent === undefined && retained.historyEtag) {
      summarised.add(row.incidentId);
      partition.summaries.push({ incident: { ...retained.incident, emailsSent: sentByIncident.get(row.incidentId) ?? 0 }, etag: retained.historyEtag });
    }
    // Without a history row to hold the count, an incident's emails wait (the resolving commit always writes one).
    if (row.kind === "outbox" && retained && retained.incident.emailsSent === undefined && !retained.historyEtag) continue;
    partition.rowKeys.push(row.rowKey);
  }

  const batches: RetentionBatch[] = [];
  let writes = 0;
  let due = 0;
  for (const [partitionKey, { summaries, rowKeys }] of byPartition) {
    const operations = [...summaries.map((summary) => ({ summary })), ...rowKeys.map((rowKey) => ({ rowKey }))];
    due += operations.length;
    for (let i = 0; i < operations.length; i += MAX_TRANSACTION_OPERATIONS) {
      const room = Math.min(MAX_TRANSACTION_OPERATIONS, input.maxWrites - writes);
      if (room <= 0) break;
      const chunk = operations.slice(i, i + room);
      batches.push({
        partitionKey,
        summaries: chunk.flatMap((op) => ("summary" in op ? [op.summary] : [])),
        rowKeys: chunk.flatMap((op) => ("rowKey" in op ? [op.rowKey] : [])),
      });
      writes += chunk.length;
      if (chunk.length < Math.min(MAX_TRANSACTION_OPERATIONS, operations.length - i)) break;
    }
  }
  return { batches, writes, remaining: due - writes };
}
