/** The sweep's per-cycle behaviour on a scripted store: when it runs, rests and retries. */
import type { RetainedIncident, RetentionBatch, RetentionRow } from "../../src/domain/retention";
import { startCycle } from "../../src/pipeline/cycleContext";
import { sweepRetention } from "../../src/pipeline/retention";
import type { RetentionStore } from "../../src/ports/retentionStore";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

const NOW = new Date("2026-12-03T10:00:00.000Z");

/** A store holding `count` stale checks in one partition; `refuse` makes every batch fail as a race would. */
class ScriptedStore implements RetentionStore {
  reads = 0;
  applied: RetentionBatch[] = [];
  cutoffs: string[] = [];
  constructor(
    private rows: RetentionRow[],
    private readonly refuse = false,
  ) {}
  async listRetentionRows(cutoff: Date): Promise<{ incidents: RetainedIncident[]; rows: RetentionRow[] }> {
    this.reads += 1;
    this.cutoffs.push(cutoff.toISOString());
    return { incidents: [], rows: this.rows };
  }
  async applyRetentionBatch(batch: RetentionBatch): Promise<boolean> {
    if (this.refuse) return false;
    this.applied.push(batch);
    this.rows = this.rows.filter((row) => !batch.rowKeys.includes(row.rowKey));
    return true;
  }
}

const staleChecks = (count: number): RetentionRow[] =>
  Array.from({ length: count }, (_, i) => ({
    partitionKey: "warning-checks-a",
    rowKey: `r${String(i).padStart(4, "0")}`,
    kind: "check" as const,
    incidentId: "",
    at: "2026-01-01",
  }));

function sweep(store: RetentionStore, at: Date, maxWrites?: number) {
  const monitor = fakeMonitorDeps({ env: { CMK_RETENTION_DAYS: "30" }, deps: { retention: store } });
  return sweepRetention(startCycle(monitor.deps, at), maxWrites);
}

describe("sweepRetention", () => {
  it("reads with the cutoff CMK_RETENTION_DAYS before now", async () => {
    const store = new ScriptedStore([]);
    await sweep(store, NOW);
    expect(store.cutoffs).toEqual(["2026-11-03T10:00:00.000Z"]);
  });

  it.each<[string, number, number, Array<[number, number]>]>([
    // 250 rows, 100 a cycle: three cycles prune them, the fourth finds nothing and rests.
    [
      "more than one cycle's budget",
      250,
      100,
      [
        [100, 150],
        [100, 50],
        [50, 0],
      ],
    ],
    // Within one cycle's budget: done at once.
    ["within the budget", 40, 100, [[40, 0]]],
  ])("%s: bounded per cycle, continued on the next", async (_name, count, budget, cycles) => {
    const store = new ScriptedStore(staleChecks(count));
    for (const [written, remaining] of cycles) await expect(sweep(store, NOW, budget)).resolves.toEqual({ swept: true, written, remaining });
    expect(store.applied.every((batch) => batch.rowKeys.length <= 100)).toBe(true);
  });

  it("rests for the rest of the UTC day once nothing is left, and sweeps again the next day", async () => {
    const store = new ScriptedStore([]);
    await sweep(store, NOW);
    // Later the same day: no read at all (an idle cycle costs the sweep nothing).
    await expect(sweep(store, new Date("2026-12-03T23:55:00.000Z"))).resolves.toEqual({ swept: false, written: 0, remaining: 0 });
    expect(store.reads).toBe(1);
    await sweep(store, new Date("2026-12-04T00:00:00.000Z"));
    expect(store.reads).toBe(2);
  });

  it("does not rest after a refused batch: the next cycle replans", async () => {
    const store = new ScriptedStore(staleChecks(5), true);
    await expect(sweep(store, NOW)).resolves.toEqual({ swept: true, written: 0, remaining: 5 });
    await sweep(store, NOW);
    expect(store.reads).toBe(2);
  });

  it("does nothing without a retention store (fakes and tools that do not wire one)", async () => {
    const monitor = fakeMonitorDeps();
    await expect(sweepRetention(startCycle(monitor.deps, NOW))).resolves.toEqual({ swept: false, written: 0, remaining: 0 });
  });
});
