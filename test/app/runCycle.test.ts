/**
 * Poll cycles on the fakes, as a timeline: at minute N something happens to the account, and
 * between minutes A and B exactly these emails go out. The total is checked too, so a duplicate
 * and a miss both fail.
 */
import { acknowledgeFix } from "../../src/app/acknowledgeFix";
import { runCycle } from "../../src/app/runCycle";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import { HEALTHY_STATUS, namedAccount } from "../fixtures/storedIncidents";

const POLL_EVERY_MINUTES = 5;
const account = namedAccount("orders-db");

type Event = (monitor: FakeMonitor) => Promise<void> | void;
/** An email as the timeline sees it: the minute it was delivered and its kind (from its idempotency key). */
type Delivered = { minute: number; kind: string };

/** Runs a cycle every POLL_EVERY_MINUTES from 0 to `until`, applying `events` at their minute first. */
async function timeline(monitor: FakeMonitor, events: Record<number, Event>, until: number): Promise<Delivered[]> {
  const delivered: Delivered[] = [];
  for (let minute = 0; minute <= until; minute++) {
    monitor.clock.set(monitor.clock.atMinute(minute));
    const before = monitor.email.delivered.length;
    await events[minute]?.(monitor);
    if (minute % POLL_EVERY_MINUTES === 0) await runCycle(monitor.deps);
    for (const email of monitor.email.delivered.slice(before)) delivered.push({ minute, kind: email.idempotencyKey.split(".").at(-1)! });
  }
  return delivered;
}

const between = (delivered: Delivered[], from: number, to: number) =>
  delivered.filter((email) => email.minute >= from && email.minute <= to).map((email) => email.kind);

describe("runCycle timeline (ARM discovery, reminders every 60 minutes)", () => {
  it("revoked → reminded → acknowledged → recovered: one email each", async () => {
    const monitor = fakeMonitorDeps();
    const delivered = await timeline(
      monitor,
      {
        0: (m) => m.accounts.put(account),
        // The owner says it is fixed between polls: the acknowledgment goes out at once.
        92: async (m) => void (await acknowledgeFix(m.deps, account.id, "alice@contoso.com")),
        101: (m) => m.accounts.setStatus(account.id, HEALTHY_STATUS),
      },
      180,
    );
    expect(between(delivered, 0, 0)).toEqual(["revoked"]);
    expect(between(delivered, 1, 59)).toEqual([]);
    expect(between(delivered, 60, 60)).toEqual(["reminder"]);
    expect(between(delivered, 61, 91)).toEqual([]);
    expect(between(delivered, 92, 92)).toEqual(["fix-acknowledged"]);
    // No reminders while recovering; the recovery is seen at the next poll.
    expect(between(delivered, 93, 104)).toEqual([]);
    expect(between(delivered, 105, 105)).toEqual(["resolved"]);
    expect(delivered).toHaveLength(4);
    expect(monitor.email.repeats).toBe(0);
  });

  it.each<{ failure: "timeout" | "server-error"; deliveredAt: number }>([
    // ACS accepted the reminder but the answer was lost: it was delivered at 60; the status read at 65 says so, nothing is sent again.
    { failure: "timeout", deliveredAt: 60 },
    // ACS answered 503 and had not accepted it: the status read at 65 finds nothing (404), so it goes out then.
    { failure: "server-error", deliveredAt: 65 },
  ])("a reminder send that ended in $failure is delivered once, at minute $deliveredAt", async ({ failure, deliveredAt }) => {
    const monitor = fakeMonitorDeps();
    const delivered = await timeline(
      monitor,
      {
        0: (m) => m.accounts.put(account),
        60: (m) => m.email.failNext(1, failure),
      },
      70,
    );
    expect(between(delivered, 0, 0)).toEqual(["revoked"]);
    expect(between(delivered, deliveredAt, deliveredAt)).toEqual(["reminder"]);
    expect(delivered).toHaveLength(2);
    // The reminder's operation was read back before any re-send, and any re-send reused its id.
    const reminderId = monitor.email.attempts[1]!.operationId;
    expect(monitor.email.statusReads).toContain(reminderId);
    expect(new Set(monitor.email.attempts.slice(1).map((email) => email.operationId))).toEqual(new Set([reminderId]));
  });

  it("an account whose subscription could not be listed keeps its deadlines but is not resolved", async () => {
    const monitor = fakeMonitorDeps();
    const delivered = await timeline(
      monitor,
      {
        0: (m) => m.accounts.put(account),
        30: (m) => void (m.discovery.failures = [{ scope: account.subscriptionId, reason: "throttled", message: "429" }]),
      },
      60,
    );
    // Not listed, not covered: a tick, so the reminder still goes out and nothing says "resolved".
    expect(delivered.map((email) => email.kind)).toEqual(["revoked", "reminder"]);
    expect(between(delivered, 60, 60)).toEqual(["reminder"]);
  });
});

describe("runCycle right after deployment: role assignments still propagating", () => {
  const refused = (m: FakeMonitor) => void (m.discovery.failures = [{ scope: account.subscriptionId, reason: "auth", message: "403 AuthorizationFailed" }]);

  it.each<[string, number, number, { failed: number; propagating?: number }, "info" | "warn"]>([
    // Refused on the very first cycle: the deployment's Reader assignment has not reached ARM yet.
    ["refused in the first cycle", 0, 0, { failed: 0, propagating: 1 }, "info"],
    // Still inside the 30-minute window.
    ["refused 25 minutes in", 0, 25, { failed: 0, propagating: 1 }, "info"],
    // After the window a refusal is a real failure again.
    ["refused 35 minutes in", 0, 35, { failed: 1 }, "warn"],
    // A deployment that has been monitoring for a day: no grace for a new refusal.
    ["refused a day later", 0, 24 * 60, { failed: 1 }, "warn"],
  ])("%s", async (_name, firstCycle, refusedAt, expected, level) => {
    const monitor = fakeMonitorDeps();
    monitor.accounts.put(account);
    monitor.clock.set(monitor.clock.atMinute(firstCycle));
    if (refusedAt === firstCycle) refused(monitor);
    await runCycle(monitor.deps);
    monitor.clock.set(monitor.clock.atMinute(refusedAt));
    refused(monitor);
    const report = await runCycle(monitor.deps);
    const heartbeat = await monitor.heartbeat.lastCycle();
    expect({ failed: heartbeat?.subscriptionsFailed, propagating: heartbeat?.subscriptionsPropagating }).toEqual({
      failed: expected.failed,
      propagating: expected.propagating,
    });
    // Either way the subscription is not covered: the account is never taken for deleted.
    expect(report.subscriptionsFailed).toHaveLength(1);
    const about = monitor.log.lines.filter((l) => l.message.includes(`subscription ${account.subscriptionId}`)).at(-1);
    expect(about?.level).toBe(level);
  });
});
