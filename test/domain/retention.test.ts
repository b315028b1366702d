import { MAX_TRANSACTION_OPERATIONS, planRetention, type RetainedIncident, type RetentionRow } from "../../src/domain/retention";
import type { Incident } from "../../src/domain/incident";
import { makeIncident } from "../fixtures/incidents";

const CUTOFF = "2026-09-01T00:00:00.000Z";
const OLD = "2026-08-01T00:00:00.000Z";
const NEW = "2026-09-15T00:00:00.000Z";

/** Incidents by id: "old" resolved before the cutoff, "recent" resolved after it, "open" still revoked. */
const INCIDENTS: Record<string, RetainedIncident> = {
  old: { partitionKey: "a-1", incident: makeIncident({ id: "old", state: "resolved", resolvedAt: OLD }), historyEtag: "e-old" },
  recent: { partitionKey: "a-1", incident: makeIncident({ id: "recent", state: "resolved", resolvedAt: NEW }), historyEtag: "e-recent" },
  open: { partitionKey: "a-2", incident: makeIncident({ id: "open", state: "revoked", detectedAt: "2026-05-01T00:00:00.000Z" }), historyEtag: undefined },
  counted: { partitionKey: "a-3", incident: makeIncident({ id: "counted", state: "resolved", resolvedAt: OLD, emailsSent: 4 }), historyEtag: "e-counted" },
  noHistory: { partitionKey: "a-4", incident: makeIncident({ id: "noHistory", state: "resolved", resolvedAt: OLD }), historyEtag: undefined },
};

function row(kind: RetentionRow["kind"], incidentId: string, at: string, extra: Partial<RetentionRow> = {}): RetentionRow {
  const partitionKey = INCIDENTS[incidentId]?.partitionKey ?? "p-other";
  return { partitionKey, rowKey: `${kind}|${incidentId}|${at}`, kind, incidentId, at, ...extra };
}

function plan(rows: RetentionRow[], maxWrites = 500) {
  return planRetention({ incidents: Object.values(INCIDENTS), rows, cutoff: CUTOFF, maxWrites });
}

const deleted = (rows: RetentionRow[]) => plan(rows).batches.flatMap((batch) => batch.rowKeys);

describe("planRetention: which rows go", () => {
  it.each<[string, RetentionRow, boolean]>([
    // An incident resolved before the cutoff: its timeline goes (the history row keeps its summary).
    ["an old incident's event", row("event", "old", "2026-07-01T00:00:00.000Z"), true],
    // Judged by the incident, not the event: an old event of a recently resolved incident stays.
    ["a recent incident's old event", row("event", "recent", "2026-07-01T00:00:00.000Z"), false],
    // Never an open incident's rows, however old.
    ["an open incident's old event", row("event", "open", "2026-05-01T00:00:00.000Z"), false],
    // An incident the store does not know: nothing to judge it by, so kept.
    ["an unknown incident's event", row("event", "ghost", OLD), false],
    // Sent before the cutoff, for an old incident.
    ["an old incident's sent email", row("outbox", "old", OLD), true],
    // Sent after the cutoff (a resolved notice can follow the resolution): kept until it is old too.
    ["an old incident's email sent after the cutoff", row("outbox", "old", NEW), false],
    // In doubt (an ACS operation not yet confirmed or its final read due): never pruned.
    ["an old incident's email in doubt", row("outbox", "old", OLD, { inDoubt: true }), false],
    ["an open incident's old email", row("outbox", "open", OLD), false],
    // Digest emails belong to no incident: age alone decides.
    ["an old digest email", row("outbox", "warning-digest-2026-07-01", OLD, { messageKind: "warning-digest" }), true],
    ["a new digest email", row("outbox", "warning-digest-2026-09-14", NEW, { messageKind: "warning-digest" }), false],
    // Used link tokens: old and their incident old (the link expired long before).
    ["an old incident's used link", row("link", "old", OLD), true],
    ["an open incident's used link", row("link", "open", OLD), false],
    ["a used link newer than the cutoff", row("link", "old", NEW), false],
    // Daily checks are dated by day: one not refreshed since before the cutoff's day goes.
    ["a check from before the cutoff's day", row("check", "", "2026-08-31"), true],
    ["a check from the cutoff's day", row("check", "", "2026-09-01"), false],
    // The email count is already in the history row: the emails go without another summary.
    ["an already-counted incident's email", row("outbox", "counted", OLD), true],
    // No history row to hold the count (never written by this code, but then keep the emails).
    ["an email whose incident has no history row", row("outbox", "noHistory", OLD), false],
    // Its events still go: they are not what the count is made from.
    ["an event whose incident has no history row", row("event", "noHistory", OLD), true],
  ])("%s", (_name, candidate, goes) => {
    expect(deleted([candidate])).toEqual(goes ? [candidate.rowKey] : []);
  });
});

describe("planRetention: summaries and batches", () => {
  it("writes the incident's email count into its history row, first, in the batch that deletes its emails", () => {
    // Three sent emails, one still in doubt: all three were sent, so the count is 3; the doubtful one stays.
    const rows = [row("outbox", "old", OLD), row("outbox", "old", "2026-08-02T00:00:00.000Z"), row("outbox", "old", OLD, { rowKey: "x", inDoubt: true })];
    const result = plan(rows);
    expect(result.batches).toHaveLength(1);
    const [batch] = result.batches;
    expect(batch!.summaries).toEqual([{ incident: { ...INCIDENTS.old!.incident, emailsSent: 3 } as Incident, etag: "e-old" }]);
    expect(batch!.rowKeys).toHaveLength(2);
    expect(result).toMatchObject({ writes: 3, remaining: 0 });
  });

  it("writes no summary when only events go", () => {
    // The count is taken from emails; an incident without any keeps a null count rather than a made-up 0.
    expect(plan([row("event", "old", OLD)]).batches[0]!.summaries).toEqual([]);
  });

  it.each<[string, number, number, number[], number]>([
    // 250 rows in one partition: three transactions (100, 100, 50), each within the table's limit.
    ["all within the budget", 250, 500, [100, 100, 50], 0],
    // The budget stops mid-partition: the rest is left for the next cycle.
    ["a budget of 150", 250, 150, [100, 50], 100],
    // A zero budget writes nothing.
    ["no budget", 10, 0, [], 10],
  ])("%s: batches of at most 100, bounded by the budget", (_name, count, budget, sizes, remaining) => {
    const rows = Array.from({ length: count }, (_, i) => row("event", "old", OLD, { rowKey: `event|old|${String(i).padStart(6, "0")}` }));
    const result = plan(rows, budget);
    expect(result.batches.map((batch) => batch.rowKeys.length)).toEqual(sizes);
    expect(result.batches.every((batch) => batch.rowKeys.length + batch.summaries.length <= MAX_TRANSACTION_OPERATIONS)).toBe(true);
    expect(result.remaining).toBe(remaining);
  });

  it("never mixes partitions in one batch", () => {
    // A table transaction holds one partition: two accounts' rows are two batches.
    const rows = [row("event", "old", OLD), row("check", "", "2026-08-01", { partitionKey: "warning-checks-a" })];
    expect(
      plan(rows)
        .batches.map((batch) => batch.partitionKey)
        .sort(),
    ).toEqual(["a-1", "warning-checks-a"]);
  });
});
