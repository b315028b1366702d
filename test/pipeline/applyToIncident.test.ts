/** The one load → decide → commit → retry loop, on the in-memory store's real ETags. */
import { decide } from "../../src/domain/lifecycle";
import { applyToIncident, MAX_COMMIT_ATTEMPTS, type IncidentStep } from "../../src/pipeline/applyToIncident";
import type { AccountRecord } from "../../src/ports/incidentStore";
import { ACCOUNT_ID } from "../fixtures/incidents";
import { openIncident } from "../fixtures/storedIncidents";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import { restError } from "../fakes/faultPlan";

/** Another instance changes the incident (a snooze, a new ETag) between our read and our commit. */
async function otherWriterSnoozes(monitor: FakeMonitor, hours: number): Promise<void> {
  const ctx = monitor.context();
  const record = await monitor.store.getRecord(ACCOUNT_ID);
  const until = new Date(ctx.now.getTime() + hours * 3_600_000).toISOString();
  await monitor.store.commit(record, decide(record.incident, { kind: "snoozed", until, by: "other" }, ctx.now, ctx.lifecycle));
}

/** Our step: acknowledge the fix, unless the record we were given is already recovering. */
function acknowledge(monitor: FakeMonitor) {
  return (record: AccountRecord): IncidentStep<string> => {
    if (record.incident?.state !== "revoked") return { stop: "already recovering" };
    const ctx = monitor.context();
    return { commit: decide(record.incident, { kind: "acknowledged", by: "alice@contoso.com" }, ctx.now, ctx.lifecycle) };
  };
}

describe("applyToIncident", () => {
  it.each([
    // No race: the first attempt commits from the record it was given.
    { races: 0, outcome: "committed", attempts: 1 },
    // One lost race: the record is read again and the step decides again from what the other writer left.
    { races: 1, outcome: "committed", attempts: 2 },
    // Lost races on every attempt but the last still commit.
    { races: MAX_COMMIT_ATTEMPTS - 1, outcome: "committed", attempts: MAX_COMMIT_ATTEMPTS },
    // Every attempt lost: give up after MAX_COMMIT_ATTEMPTS (the next cycle or the person retries).
    { races: MAX_COMMIT_ATTEMPTS, outcome: "gave-up", attempts: MAX_COMMIT_ATTEMPTS },
  ])("$races lost race(s) → $outcome after $attempts attempt(s)", async ({ races, outcome, attempts }) => {
    const monitor = fakeMonitorDeps();
    const first = await openIncident(monitor);
    let conflicts = 0;
    const seen: number[] = [];
    const result = await applyToIncident(
      monitor.store,
      ACCOUNT_ID,
      async (record, attempt) => {
        seen.push(attempt);
        if (attempt <= races) await otherWriterSnoozes(monitor, attempt);
        return acknowledge(monitor)(record);
      },
      { record: first, onConflict: () => (conflicts += 1) },
    );
    expect(result.outcome).toBe(outcome);
    expect(seen).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
    expect(conflicts).toBe(races);
    const stored = (await monitor.store.getRecord(ACCOUNT_ID)).incident!;
    expect(stored.state).toBe(outcome === "committed" ? "recovering" : "revoked");
    // The snoozes the other writer committed are kept, not overwritten by our retry.
    if (races > 0) expect(stored.remindersSnoozedUntil).toBeDefined();
  });

  it("stops when, after a lost race, nothing is left to do", async () => {
    const monitor = fakeMonitorDeps();
    const first = await openIncident(monitor);
    // The other writer acknowledged first: our second look finds the incident recovering.
    const result = await applyToIncident(
      monitor.store,
      ACCOUNT_ID,
      async (record, attempt) => {
        if (attempt === 1) {
          const ctx = monitor.context();
          await monitor.store.commit(record, decide(record.incident, { kind: "acknowledged", by: "bob@contoso.com" }, ctx.now, ctx.lifecycle));
        }
        return acknowledge(monitor)(record);
      },
      { record: first },
    );
    expect(result).toEqual({ outcome: "stopped", value: "already recovering" });
    expect((await monitor.store.getRecord(ACCOUNT_ID)).incident?.fixAcknowledgedBy).toBe("bob@contoso.com");
  });

  it("throws errors other than a lost race without retrying", async () => {
    const monitor = fakeMonitorDeps();
    await openIncident(monitor);
    const outage = restError(503, "Server Busy");
    monitor.store.faults.failNext("commit", outage);
    const step = jest.fn(acknowledge(monitor));
    await expect(applyToIncident(monitor.store, ACCOUNT_ID, step)).rejects.toBe(outage);
    expect(step).toHaveBeenCalledTimes(1);
  });
});
