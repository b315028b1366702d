/** How a work batch processed inside the timer's cycle joins the cycle's counters. */
import { MERGE_RULES, mergeStats, newStats, type CycleStats } from "../../src/pipeline/cycleStats";

/** A batch that did something on every counter, so a counter the merge forgets shows up. */
function busyBatch(): CycleStats {
  const stats = newStats();
  for (const [name, value] of Object.entries(stats)) {
    const target = stats as unknown as Record<string, unknown>;
    if (typeof value === "number") target[name] = 3;
  }
  stats.subscriptionsFailed = [{ subscriptionId: "s", reason: "auth", message: "no" }];
  stats.commitFailures = [{ accountId: "a", message: "boom" }];
  stats.decisions = { "first-notice": 2, reminder: 1 };
  stats.discoveryMode = "resource-graph";
  stats.fanout = "queue";
  return stats;
}

describe("mergeStats", () => {
  it("has a rule for every counter a cycle keeps", () => {
    // A counter added to CycleStats without a rule would silently never reach the heartbeat.
    expect(Object.keys(MERGE_RULES).sort()).toEqual(Object.keys(newStats()).sort());
  });

  it.each(Object.entries(MERGE_RULES))("merges %s by its rule (%s)", (name, rule) => {
    const cycle = newStats();
    const target = cycle as unknown as Record<string, unknown>;
    // The cycle already counted something, so "sum" and "keep" differ.
    if (typeof target[name] === "number") target[name] = 1;
    if (name === "decisions") cycle.decisions = { "first-notice": 1 };
    if (name === "commitFailures") cycle.commitFailures = [{ accountId: "b", message: "earlier" }];
    const before = structuredClone(cycle) as unknown as Record<string, unknown>;
    const batch = busyBatch() as unknown as Record<string, unknown>;

    mergeStats(cycle, batch as unknown as CycleStats);

    const after = target[name];
    switch (rule) {
      case "sum":
        // Work the batch did (emails, probes, confirmations) adds to the cycle's.
        expect(after).toBe((before[name] as number) + (batch[name] as number));
        break;
      case "append":
        expect(after).toEqual([...(before[name] as unknown[]), ...(batch[name] as unknown[])]);
        break;
      case "sum-each":
        expect(after).toEqual({ "first-notice": 3, reminder: 1 });
        break;
      case "keep":
        // The cycle saw the batch's accounts at discovery and owns how the fleet was listed.
        expect(after).toEqual(before[name]);
        break;
    }
  });
});
