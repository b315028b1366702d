/** `cmk-monitor ack --fixed` on the fakes: the outcomes a person sees. */
import { acknowledgeFix } from "../../src/app/acknowledgeFix";
import { MAX_COMMIT_ATTEMPTS } from "../../src/pipeline/applyToIncident";
import { StateConflictError } from "../../src/ports/errors";
import { ACCOUNT_ID } from "../fixtures/incidents";
import { decideNow, HEALTHY_STATUS, namedAccount, observed, openIncident } from "../fixtures/storedIncidents";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";

const BY = "alice@contoso.com";

/** The incident states the command can meet. */
const SETUPS: Record<string, (monitor: FakeMonitor) => Promise<void>> = {
  none: async () => {},
  revoked: async (monitor) => void (await openIncident(monitor)),
  recovering: async (monitor) => {
    await openIncident(monitor);
    const { record, decision } = await decideNow(monitor, ACCOUNT_ID, { kind: "acknowledged", by: "bob@contoso.com" });
    await monitor.store.commit(record, decision);
  },
  resolved: async (monitor) => {
    await openIncident(monitor);
    const { record, decision } = await decideNow(
      monitor,
      ACCOUNT_ID,
      observed(namedAccount("orders-db", { id: ACCOUNT_ID, customerManagedKeyStatus: HEALTHY_STATUS })),
    );
    await monitor.store.commit(record, decision);
  },
};

const acknowledgments = (monitor: FakeMonitor) => monitor.email.delivered.filter((email) => email.idempotencyKey.endsWith(".fix-acknowledged"));

describe("acknowledgeFix", () => {
  it.each([
    // The usual case: the fix is recorded, the recovery clock starts and the owners hear at once.
    { setup: "revoked", outcome: "acknowledged", emails: 1 },
    // Someone acknowledged already: idempotent, nothing new recorded or sent (bob's email went before).
    { setup: "recovering", outcome: "already-recovering", emails: 1 },
    // No incident at all, or only a closed one: nothing to acknowledge.
    { setup: "none", outcome: "no-open-incident", emails: 0 },
    { setup: "resolved", outcome: "no-open-incident", emails: 0 },
  ])("$setup → $outcome", async ({ setup, outcome, emails }) => {
    const monitor = fakeMonitorDeps();
    await SETUPS[setup]!(monitor);
    const commitsBefore = monitor.store.calls.commit ?? 0;
    monitor.clock.advance(10);
    const result = await acknowledgeFix(monitor.deps, ACCOUNT_ID, BY);
    expect(result.outcome).toBe(outcome);
    expect(monitor.store.calls.commit ?? 0).toBe(commitsBefore + (outcome === "acknowledged" ? 1 : 0));
    if (outcome === "acknowledged") {
      // Drained at once: the acknowledgment email is out before the command returns.
      expect(acknowledgments(monitor)).toHaveLength(emails);
      const incident = (await monitor.store.getRecord(ACCOUNT_ID)).incident!;
      expect(incident).toMatchObject({ state: "recovering", fixAcknowledgedBy: BY });
      expect(result).toEqual({ outcome, incidentId: incident.id, expectedRecoveryBy: incident.expectedRecoveryBy, escalateAt: incident.escalateAt });
    } else {
      expect((await monitor.store.listMessages()).filter((stored) => stored.message.kind === "fix-acknowledged")).toHaveLength(emails);
    }
  });

  it("answers busy after every attempt lost a race, having recorded nothing", async () => {
    const monitor = fakeMonitorDeps();
    const record = await openIncident(monitor);
    monitor.store.faults.failNext("commit", new StateConflictError(ACCOUNT_ID), MAX_COMMIT_ATTEMPTS);
    const result = await acknowledgeFix(monitor.deps, ACCOUNT_ID, BY);
    expect(result).toEqual({ outcome: "busy", incidentId: record.incident!.id });
    expect((await monitor.store.getRecord(ACCOUNT_ID)).incident?.state).toBe("revoked");
    expect(monitor.store.calls.commit).toBe(1 + MAX_COMMIT_ATTEMPTS);
    expect(monitor.email.delivered).toEqual([]);
  });
});
