/** Sending one claimed unit and recording the outcome on its rows, on the fakes (ACS delivers every accepted POST, repeats too). */
import { claimStage } from "../../src/pipeline/claimStage";
import {
  DELIVERY_REPORT_WAIT_IN_MINUTES,
  finalReadAction,
  nextAttemptAt,
  operationIdFor,
  OUTCOME_CHECK_DELAY_IN_MINUTES,
  sendStage,
} from "../../src/pipeline/sendStage";
import type { SendTally, SendUnit } from "../../src/pipeline/sendUnit";
import type { EmailOperationStatus } from "../../src/ports/emailSender";
import type { StoredMessage } from "../../src/ports/incidentStore";
import { namedAccount, openIncident } from "../fixtures/storedIncidents";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import type { SendFailure } from "../fakes/fakeEmailSender";

/** Opens incidents for `names` (one revoked email each) and claims their rows as the claim stage does, bound to `digestId` if given. */
async function claimedUnit(monitor: FakeMonitor, names: string[], digestId?: string): Promise<SendUnit> {
  for (const name of names) await openIncident(monitor, namedAccount(name));
  return claimAgain(monitor, digestId);
}

/** Claims every unsent row again as one unit (what the next drain would do). */
async function claimAgain(monitor: FakeMonitor, digestId?: string): Promise<SendUnit> {
  const rows = (await monitor.store.listMessages()).filter((stored) => stored.status === "pending" || stored.status === "sending");
  const [unit] = await claimStage.run(monitor.context(), [digestId ? { digestId, members: rows } : { members: rows }]);
  return unit!;
}

async function send(monitor: FakeMonitor, unit: SendUnit, tally: SendTally = { reserved: 1, used: 0 }) {
  const ctx = monitor.context();
  const [outcome] = await sendStage(tally).run(ctx, [unit]);
  return { outcome: outcome!, tally, stats: ctx.stats, rows: await monitor.store.listMessages() };
}

const minutesFrom = (monitor: FakeMonitor, minutes: number) => new Date(monitor.clock.now().getTime() + minutes * 60_000).toISOString();

describe("sendStage, one email: the POST's answer", () => {
  it.each<{ failure: SendFailure | undefined; status: string; row: string; inDoubt: boolean; delivered: number; used?: number }>([
    // 202: the commit point; the row is sent at once, its final status read once later.
    { failure: undefined, status: "sent", row: "sent", inDoubt: false, delivered: 1 },
    // 202, and the operation will end Failed: still sent now; the later status read finds out.
    { failure: "operation-failed", status: "sent", row: "sent", inDoubt: false, delivered: 0 },
    // Accepted but the answer was lost: the row keeps the operation in doubt, so the retry reads it first.
    { failure: "timeout", status: "retrying", row: "pending", inDoubt: true, delivered: 1 },
    // A 503 may come after ACS accepted: in doubt as well.
    { failure: "server-error", status: "retrying", row: "pending", inDoubt: true, delivered: 0 },
    // A 429 is a refusal: ACS does not have it, the retry may POST straight away.
    { failure: "not-accepted", status: "retrying", row: "pending", inDoubt: false, delivered: 0 },
    // The connection was refused: provably never reached ACS, the only send whose budget goes back.
    { failure: "refused-connection", status: "retrying", row: "pending", inDoubt: false, delivered: 0, used: 0 },
  ])("$failure → $status, row $row, in doubt: $inDoubt", async ({ failure, status, row, inDoubt, delivered, used = 1 }) => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["orders-db"]);
    const operationId = operationIdFor(unit.members[0]!.message.key);
    if (failure) monitor.email.failNext(1, failure);
    const result = await send(monitor, unit);
    expect(result.outcome.status).toBe(status);
    expect(result.rows).toMatchObject([{ status: row, generation: 0 }]);
    expect(result.rows[0]!.unverifiedOperationId).toBe(inDoubt ? operationId : undefined);
    // Every answer from ACS counts against its limits: nothing goes back to the budget unless it never left.
    expect(result.tally.used).toBe(used);
    expect(monitor.email.attempts.map((email) => email.operationId)).toEqual([operationId]);
    expect(monitor.email.delivered).toHaveLength(delivered);
    expect(monitor.email.statusReads).toEqual([]);
    if (row === "sent") {
      expect(result.rows[0]).toMatchObject({ operationId, outcomeCheckAt: minutesFrom(monitor, OUTCOME_CHECK_DELAY_IN_MINUTES) });
      expect(result.stats.emailsSent).toBe(1);
    } else {
      // First attempt: back off one minute; in doubt, until ACS has usually decided, so one status read sees the end.
      expect(result.rows[0]!.nextAttemptAt).toBe(minutesFrom(monitor, inDoubt ? OUTCOME_CHECK_DELAY_IN_MINUTES : 1));
      expect(result.stats.emailsRetrying).toBe(1);
    }
  });

  it("a 429 defers the shared budget and holds back the rest of the drain without sending", async () => {
    const monitor = fakeMonitorDeps();
    for (const name of ["db-a", "db-b"]) await openIncident(monitor, namedAccount(name));
    const rows = await monitor.store.listMessages();
    const units = await claimStage.run(
      monitor.context(),
      rows.map((stored) => ({ members: [stored] })),
    );
    monitor.email.failNext(1, "not-accepted");
    const tally: SendTally = { reserved: 2, used: 0 };
    const outcomes = await sendStage(tally).run(monitor.context(), units);
    expect(outcomes.map((o) => o.status)).toEqual(["retrying", "retrying"]);
    // One POST only; the 429 had no Retry-After, so the default minute.
    expect(monitor.email.attempts).toHaveLength(1);
    expect(monitor.sendBudget.deferredUntil.send?.toISOString()).toBe(minutesFrom(monitor, 1));
    const after = await monitor.store.listMessages();
    // The held-back row never reached ACS: no status read needed before its send.
    expect(after.map((stored) => [stored.status, stored.unverifiedOperationId])).toEqual([
      ["pending", undefined],
      ["pending", undefined],
    ]);
    expect(tally.used).toBe(1);
  });
});

describe("sendStage, the rest of the drain after the first email's answer", () => {
  it.each<{ failure: SendFailure; posts: number; heldBack: boolean; deferred: boolean }>([
    // A 503: the service is failing. POSTing the second email too would put it in doubt as well
    // (one more status read before its retry, and a send ACS counts); it waits a minute unsent.
    { failure: "server-error", posts: 1, heldBack: true, deferred: true },
    // A 429: refused; the rest waits for the Retry-After (here the default minute).
    { failure: "not-accepted", posts: 1, heldBack: true, deferred: true },
    // The answer was lost (ACS had it): nothing says the service is failing, the second email goes out.
    { failure: "timeout", posts: 2, heldBack: false, deferred: false },
    // The connection was refused before sending: the next email tries again, nothing to read back.
    { failure: "refused-connection", posts: 2, heldBack: false, deferred: false },
  ])("$failure → $posts POST(s), rest held back: $heldBack", async ({ failure, posts, heldBack, deferred }) => {
    const monitor = fakeMonitorDeps();
    for (const name of ["db-a", "db-b"]) await openIncident(monitor, namedAccount(name));
    const rows = await monitor.store.listMessages();
    const units = await claimStage.run(
      monitor.context(),
      rows.map((stored) => ({ members: [stored] })),
    );
    monitor.email.failNext(1, failure);
    const outcomes = await sendStage({ reserved: 2, used: 0 }).run(monitor.context(), units);
    expect(monitor.email.attempts).toHaveLength(posts);
    // Every drain and instance reserving from the shared budget holds back too, for that minute.
    expect(monitor.sendBudget.deferredUntil.send?.toISOString()).toBe(deferred ? minutesFrom(monitor, 1) : undefined);
    const second = (await monitor.store.listMessages()).find((stored) => stored.message.key === units[1]!.members[0]!.message.key)!;
    if (heldBack) {
      // Held back unsent: not in doubt, so its send needs no status read first; due again in a minute.
      expect(outcomes[1]!.status).toBe("retrying");
      expect([second.status, second.unverifiedOperationId, second.nextAttemptAt]).toEqual(["pending", undefined, minutesFrom(monitor, 1)]);
    } else {
      expect([outcomes[1]!.status, second.status]).toEqual(["sent", "sent"]);
    }
  });
});

describe("sendStage, an attempt in doubt is read back before anything is sent again", () => {
  it.each<{ previous: SendFailure; setStatus?: EmailOperationStatus; readFails?: boolean; posts: number; delivered: number; row: string; generation: number }>([
    // The lost answer was a 202: Succeeded → recorded as sent, no second POST (ACS would deliver it again).
    { previous: "timeout", posts: 1, delivered: 1, row: "sent", generation: 0 },
    // Still running at ACS: accepted, not sent again.
    { previous: "timeout", setStatus: "Running", posts: 1, delivered: 1, row: "sent", generation: 0 },
    // The 503 was a real refusal: ACS does not know the id (404) → POST again under the same id.
    { previous: "server-error", posts: 2, delivered: 1, row: "sent", generation: 0 },
    // Accepted, then Failed: not delivered → a new operation (generation 1), sent by the next drain.
    { previous: "timeout", setStatus: "Failed", posts: 1, delivered: 1, row: "pending", generation: 1 },
    // Canceled is as final as Failed.
    { previous: "timeout", setStatus: "Canceled", posts: 1, delivered: 1, row: "pending", generation: 1 },
    // The status read itself failed: nothing is sent, the row stays in doubt.
    { previous: "timeout", readFails: true, posts: 1, delivered: 1, row: "pending", generation: 0 },
  ])(
    "after $previous, status $setStatus (read fails: $readFails) → $posts POST(s), row $row, generation $generation",
    async ({ previous, setStatus, readFails, posts, delivered, row, generation }) => {
      const monitor = fakeMonitorDeps();
      const first = await claimedUnit(monitor, ["orders-db"]);
      const operationId = operationIdFor(first.members[0]!.message.key);
      monitor.email.failNext(1, previous);
      await send(monitor, first);
      if (setStatus) monitor.email.setOperationStatus(operationId, setStatus);
      if (readFails) monitor.email.statusFailures.push(Object.assign(new Error("Service Unavailable"), { statusCode: 503 }));
      monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);

      const retry = await claimAgain(monitor);
      expect(retry.inDoubt).toBe(operationId);
      const { rows } = await send(monitor, retry);

      expect(monitor.email.statusReads).toEqual([operationId]);
      expect(monitor.email.attempts.map((email) => email.operationId)).toEqual(Array(posts).fill(operationId));
      expect(monitor.email.delivered).toHaveLength(delivered);
      expect(rows).toMatchObject([{ status: row, generation }]);
      if (row === "sent") expect(rows[0]!.unverifiedOperationId).toBeUndefined();
    },
  );

  it("without status budget nothing is read or sent: the row waits, still in doubt", async () => {
    const monitor = fakeMonitorDeps({ env: { CMK_EMAIL_STATUS_RATE_PER_MINUTE: "1" } });
    const first = await claimedUnit(monitor, ["orders-db"]);
    monitor.email.failNext(1, "timeout");
    await send(monitor, first);
    await monitor.sendBudget.reserveEmailSends(monitor.clock.now(), 1, { perMinute: 1, perHour: 20 }, "status");

    const { rows, outcome } = await send(monitor, await claimAgain(monitor));

    expect(outcome.status).toBe("retrying");
    expect(monitor.email.statusReads).toEqual([]);
    expect(monitor.email.attempts).toHaveLength(1);
    expect(rows[0]!.unverifiedOperationId).toBe(operationIdFor(first.members[0]!.message.key));
  });
});

describe("sendStage, where the process died decides whether the retry reads ACS first", () => {
  it.each<{ diedAfter: "claim" | "post-started"; inDoubt: boolean; statusReads: number }>([
    // Died between the claim and "POST started": nothing left the process, the retry POSTs with no status read.
    { diedAfter: "claim", inDoubt: false, statusReads: 0 },
    // Died after "POST started" (the request may have left): the retry reads the operation first (404 here, then the POST).
    { diedAfter: "post-started", inDoubt: true, statusReads: 1 },
  ])("died after $diedAfter → in doubt: $inDoubt, $statusReads status read(s), delivered once", async ({ diedAfter, inDoubt, statusReads }) => {
    const monitor = fakeMonitorDeps();
    const first = await claimedUnit(monitor, ["orders-db"]);
    const operationId = operationIdFor(first.members[0]!.message.key);
    if (diedAfter === "post-started") await monitor.store.markPostStarting(first.members[0]!, operationId);
    // The lease runs out; the next drain claims the row again.
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);

    const retry = await claimAgain(monitor);
    expect(retry.inDoubt).toBe(inDoubt ? operationId : undefined);
    const { rows } = await send(monitor, retry);

    expect(monitor.email.statusReads).toHaveLength(statusReads);
    expect(monitor.email.delivered).toHaveLength(1);
    expect(rows).toMatchObject([{ status: "sent" }]);
  });

  it("a claim whose lease another instance took over does not POST: its mark is refused", async () => {
    const monitor = fakeMonitorDeps();
    const slow = await claimedUnit(monitor, ["orders-db"]);
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);
    const other = await claimAgain(monitor);

    const late = await send(monitor, slow);
    expect(late.outcome.status).toBe("retrying");
    expect(monitor.email.attempts).toHaveLength(0);
    await send(monitor, other);
    expect(monitor.email.delivered).toHaveLength(1);
  });
});

describe("sendStage, a digest", () => {
  it.each<{ failure: SendFailure; bound: boolean; status: string }>([
    // 202 now, Failed later: sent; the outcome read releases the rows if it comes to that.
    { failure: "operation-failed", bound: true, status: "sent" },
    // Maybe delivered: the rows stay bound, so the retry reads back the same digest's operation.
    { failure: "timeout", bound: true, status: "pending" },
    // Refused outright: the binding is kept; the retry is the same digest.
    { failure: "not-accepted", bound: true, status: "pending" },
  ])("$failure → rows still bound: $bound, $status", async ({ failure, bound, status }) => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["db-a", "db-b"], "digest.revoked.test");
    monitor.email.failNext(1, failure);
    const { rows } = await send(monitor, unit);
    expect(rows.map((stored) => stored.digestId)).toEqual(bound ? ["digest.revoked.test", "digest.revoked.test"] : [undefined, undefined]);
    expect(rows.map((stored) => [stored.status, stored.generation])).toEqual([
      [status, 0],
      [status, 0],
    ]);
  });

  it('every row of a digest says "POST started" before the POST: a row whose answer could not be recorded is read back, not sent again', async () => {
    const monitor = fakeMonitorDeps();
    const unit = await claimedUnit(monitor, ["db-a", "db-b", "db-c"], "digest.revoked.test");
    const operationId = operationIdFor("digest.revoked.test");
    // The POST goes out; recording "sent" fails on every row (the table is unavailable).
    const markSent = monitor.store.markSent.bind(monitor.store);
    monitor.store.markSent = () => Promise.reject(Object.assign(new Error("Service Unavailable"), { statusCode: 503 }));
    await send(monitor, unit);
    monitor.store.markSent = markSent;
    const rows = await monitor.store.listMessages();
    expect(rows.map((stored) => [stored.status, stored.unverifiedOperationId])).toEqual(Array(3).fill(["sending", operationId]));

    // The lease runs out: the next drain reads the digest's operation and records it, one delivery.
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);
    const retry = await claimAgain(monitor, "digest.revoked.test");
    expect(retry.inDoubt).toBe(operationId);
    const after = await send(monitor, retry);
    expect(monitor.email.statusReads).toEqual([operationId]);
    expect(monitor.email.attempts).toHaveLength(1);
    expect(after.rows.map((stored) => stored.status)).toEqual(["sent", "sent", "sent"]);
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

describe("sendStage, an attempt in doubt whose delivery report arrived", () => {
  it.each<{ status: string; reads: number }>([
    // Delivered under the attempt's operation: ACS accepted it; no read-back, no final read, no second POST.
    { status: "Delivered", reads: 0 },
    // Suppressed: ACS had it and chose not to deliver; sending again would be suppressed again.
    { status: "Suppressed", reads: 0 },
    // Failed says nothing about the operation: read back as without a report.
    { status: "Failed", reads: 1 },
  ])("a $status report → $reads status read(s), delivered once", async ({ status, reads }) => {
    const monitor = fakeMonitorDeps();
    const first = await claimedUnit(monitor, ["orders-db"]);
    const operationId = operationIdFor(first.members[0]!.message.key);
    monitor.email.failNext(1, "timeout");
    await send(monitor, first);
    const [row] = await monitor.store.listMessages();
    const recipient = row!.message.to[0]!.toLowerCase();
    await monitor.store.recordDeliveryResults(row!, { [recipient]: { status, at: monitor.clock.now().toISOString(), eventId: "e1", operationId } });
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);

    const { rows, stats } = await send(monitor, await claimAgain(monitor));

    expect(monitor.email.statusReads).toHaveLength(reads);
    expect(monitor.email.attempts).toHaveLength(1);
    expect(monitor.email.delivered).toHaveLength(1);
    expect(rows).toMatchObject([{ status: "sent", generation: 0 }]);
    expect(rows[0]!.unverifiedOperationId).toBeUndefined();
    // Known from the report: no later final read either.
    if (reads === 0) expect([rows[0]!.outcomeCheckAt, stats.statusReadsSkipped]).toEqual([undefined, 1]);
  });
});

describe("finalReadAction", () => {
  const sentAt = "2026-11-29T08:00:00.000Z";
  const operationId = operationIdFor("key", 0);
  const row = (results?: Record<string, { status: string; operationId?: string }>): StoredMessage =>
    ({
      sentAt,
      ...(results
        ? {
            deliveryResults: Object.fromEntries(
              Object.entries(results).map(([recipient, r]) => [
                recipient,
                { at: sentAt, eventId: "e", status: r.status, ...(r.operationId ? { operationId: r.operationId } : {}) },
              ]),
            ),
          }
        : {}),
    }) as unknown as StoredMessage;
  const at = (minutes: number) => new Date(Date.parse(sentAt) + minutes * 60_000);

  it.each<{ name: string; members: StoredMessage[]; minute: number; reports: boolean; expected: string }>([
    // Reports not wired: the read is made as always.
    { name: "reports off", members: [row({ a: { status: "Delivered", operationId } })], minute: 5, reports: false, expected: "read" },
    // A processed report for the operation: no read.
    { name: "delivered", members: [row({ a: { status: "Delivered", operationId } })], minute: 5, reports: true, expected: "skip" },
    // One of a digest's rows has it: the operation is the digest's, so no read for any row.
    { name: "digest, one row reported", members: [row(), row({ b: { status: "Quarantined", operationId } })], minute: 5, reports: true, expected: "skip" },
    // Only Failed: the operation's status decides, read now.
    { name: "failed report", members: [row({ a: { status: "Failed", operationId } })], minute: 5, reports: true, expected: "read" },
    // A status nobody documented proves nothing: read now.
    { name: "unknown status", members: [row({ a: { status: "Deferred", operationId } })], minute: 5, reports: true, expected: "read" },
    // A report recorded before reports carried the operation: not proof for this one; wait.
    { name: "report without operation", members: [row({ a: { status: "Delivered" } })], minute: 5, reports: true, expected: "wait" },
    // None yet: wait until 30 minutes after the 202.
    { name: "none at 29", members: [row()], minute: 29, reports: true, expected: "wait" },
    // None at 30: read after all (late or dropped by Event Grid).
    { name: "none at 30", members: [row()], minute: 30, reports: true, expected: "read" },
  ])("$name → $expected", ({ members, minute, reports, expected }) => {
    const action = finalReadAction(members, operationId, at(minute), reports);
    expect(action.action).toBe(expected);
    if (action.action === "wait") expect(action.until).toEqual(at(DELIVERY_REPORT_WAIT_IN_MINUTES));
  });
});
