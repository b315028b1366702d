/** Sending one claimed unit and recording the outcome on its rows, on the fakes. */
import { nextAttemptAt, operationIdFor, sendStage } from "../../src/pipeline/sendStage";
import type { SendTally, SendUnit } from "../../src/pipeline/sendUnit";
import type { StoredMessage } from "../../src/ports/incidentStore";
import { namedAccount, openIncident } from "../fixtures/storedIncidents";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import type { SendFailure } from "../fakes/fakeEmailSender";

/** Opens incidents for `names` (one revoked email each) and claims their rows, bound to `digestId` if given. */
async function claimedUnit(monitor: FakeMonitor, names: string[], digestId?: string): Promise<SendUnit> {
  for (const name of names) await openIncident(monitor, namedAccount(name));
  const members: StoredMessage[] = [];
  for (const row of await monitor.store.listMessages()) {
    members.push((await monitor.store.claimMessage(row, monitor.clock.now(), 300, digestId ? { digestId } : {}))!);
  }
  return digestId ? { digestId, members } : { members };
}

async function send(monitor: FakeMonitor, unit: SendUnit, tally: SendTally = { reserved: 1, used: 0 }) {
  const ctx = monitor.context();
  const [outcome] = await sendStage(tally).run(ctx, [unit]);
  return { outcome: outcome!, tally, stats: ctx.stats, rows: await monitor.store.listMessages() };
}

describe("sendStage, one email", () => {
  it.each<{ failure: SendFailure | undefined; status: string; row: string; generation: number; used: number }>([
    // Delivered: the row is sent under the operation id derived from its key.
    { failure: undefined, status: "sent", row: "sent", generation: 0, used: 1 },
    // No answer in time: ACS may have it, so the retry reuses the operation id and the send still counts.
    { failure: "timeout", status: "retrying", row: "pending", generation: 0, used: 1 },
    // ACS refused it (503): not counted against its limits, so the reservation goes back to the tally.
    { failure: "not-accepted", status: "retrying", row: "pending", generation: 0, used: 0 },
    // ACS accepted and reports Failed: definitely not delivered, so the retry is a new operation.
    { failure: "operation-failed", status: "retrying", row: "pending", generation: 1, used: 1 },
  ])("$failure → $status, row $row, generation $generation, $used used", async ({ failure, status, row, generation, used }) => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["orders-db"]);
    if (failure) monitor.email.failNext(1, failure);
    const result = await send(monitor, unit);
    expect(result.outcome.status).toBe(status);
    expect(result.rows).toMatchObject([{ status: row, generation }]);
    expect(result.tally.used).toBe(used);
    expect(monitor.email.attempts.map((email) => email.operationId)).toEqual([operationIdFor(unit.members[0]!.message.key)]);
    expect(monitor.email.delivered).toHaveLength(failure ? 0 : 1);
    if (failure) {
      // First attempt: back off one minute.
      expect(result.rows[0]!.nextAttemptAt).toBe(new Date(monitor.clock.now().getTime() + 60_000).toISOString());
      expect(result.stats.emailsRetrying).toBe(1);
    } else {
      expect(result.stats.emailsSent).toBe(1);
    }
  });
});

describe("sendStage, a digest", () => {
  it.each<{ failure: SendFailure; released: boolean }>([
    // Definitely not delivered: the rows are freed to be grouped anew, under a new generation.
    { failure: "operation-failed", released: true },
    // Maybe delivered: the rows stay bound, so the retry is the same digest under the same operation id.
    { failure: "timeout", released: false },
    // Refused outright, but not reported Failed: the binding is kept as for any unsure outcome.
    { failure: "not-accepted", released: false },
  ])("$failure → rows released from the digest: $released", async ({ failure, released }) => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["db-a", "db-b"], "digest.revoked.test");
    monitor.email.failNext(1, failure);
    const { rows } = await send(monitor, unit);
    expect(rows.map((stored) => stored.digestId)).toEqual(released ? [undefined, undefined] : ["digest.revoked.test", "digest.revoked.test"]);
    expect(rows.map((stored) => stored.generation)).toEqual(released ? [1, 1] : [0, 0]);
  });

  it("sends one email for the whole digest and marks every row sent", async () => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["db-a", "db-b", "db-c"], "digest.revoked.test");
    const { stats, rows } = await send(monitor, unit);
    expect(monitor.email.delivered).toHaveLength(1);
    expect(monitor.email.delivered[0]!.operationId).toBe(operationIdFor("digest.revoked.test"));
    expect(rows.map((stored) => stored.status)).toEqual(["sent", "sent", "sent"]);
    expect(stats).toMatchObject({ emailsSent: 1, digestsSent: 1, messagesInDigests: 3 });
  });
});

describe("nextAttemptAt", () => {
  const now = new Date("2026-11-29T08:00:00.000Z");
  it.each([
    // Exponential from one minute...
    [1, undefined, 1],
    [2, undefined, 2],
    [3, undefined, 4],
    // ...capped at one default poll interval...
    [6, undefined, 5],
    // ...but never sooner than ACS's Retry-After.
    [1, 600, 10],
  ])("attempt %i with Retry-After %s → %i minute(s)", (attempts, retryAfter, minutes) => {
    expect(nextAttemptAt(now, attempts, retryAfter).getTime() - now.getTime()).toBe(minutes * 60_000);
  });
});
