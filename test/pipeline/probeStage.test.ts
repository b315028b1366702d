/** Probing revoked accounts before the decision, on the fakes: who is probed, and what the deadline leaves for later. */
import type { AccountProber } from "../../src/ports/accountProber";
import { probeStage } from "../../src/pipeline/probeStage";
import { STOP_STARTING_WORK_IN_MS } from "../../src/pipeline/cycleContext";
import type { WorkItem } from "../../src/pipeline/workItem";
import { withCallDeadline } from "../../src/ports/callDeadline";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";
import { healthyFacts } from "../fixtures/probes";
import { HEALTHY_STATUS, namedAccount, observed } from "../fixtures/storedIncidents";

function items(): WorkItem[] {
  const revoked = namedAccount("orders-db");
  const healthy = namedAccount("billing-db", { customerManagedKeyStatus: HEALTHY_STATUS });
  return [revoked, healthy].map((account) => ({ accountId: account.id, record: { etag: undefined, outbox: [] } as never, input: observed(account) }));
}

describe("probeStage", () => {
  it.each<[string, number | undefined, { probed: number; deferred: number }]>([
    // No deadline (the CLI, a test): the revoked account is probed, the healthy one never here.
    ["no deadline", undefined, { probed: 1, deferred: 0 }],
    // Plenty of time left in the invocation.
    ["far from the deadline", 5 * 60_000, { probed: 1, deferred: 0 }],
    // Less than the stop margin left: decided on the ARM status alone, probed next cycle.
    ["near the deadline", STOP_STARTING_WORK_IN_MS - 1_000, { probed: 0, deferred: 1 }],
  ])("%s", async (_name, budget, expected) => {
    const probed: string[] = [];
    const probes: AccountProber = { session: () => ({ probe: async (account) => (probed.push(account.name), healthyFacts(account)) }) };
    const monitor = fakeMonitorDeps({ deps: { probes } });
    const ctx = monitor.context();
    const run = () => probeStage.run(ctx, items());
    const out = budget === undefined ? await run() : await withCallDeadline(budget, run);
    expect(probed).toHaveLength(expected.probed);
    expect(out.filter((item) => item.probe !== undefined)).toHaveLength(expected.probed);
    // Every item goes on to the decision, probed or not.
    expect(out).toHaveLength(2);
    expect(ctx.stats.deferredForDeadline).toBe(expected.deferred);
  });
});
