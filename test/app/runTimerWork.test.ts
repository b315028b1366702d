/** The poll timer's work on the fakes: each step runs even after a failure, the first failure is rethrown, and follow-ups wait when the cycle used the time. */
import { runTimerWork } from "../../src/app/runTimerWork";
import { withCallDeadline } from "../../src/ports/callDeadline";
import type { ChangeWatermark, ChangeWatermarkRead, ResourceChangeSource } from "../../src/ports/resourceChanges";
import { FakeAccountProber } from "../fakes/fakeAccountProber";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

/** A watermark store that counts reads and can fail the catch-up's. */
class CountingWatermark implements ChangeWatermark {
  changeReads = 0;
  keyReads = 0;
  constructor(private readonly failChanges: boolean) {}
  async readChangeWatermark(): Promise<ChangeWatermarkRead> {
    this.changeReads += 1;
    if (this.failChanges) throw new Error("meta table unavailable");
    return {};
  }
  async advanceChangeWatermark(): Promise<boolean> {
    return true;
  }
  async readKeyRiskCheck(): Promise<ChangeWatermarkRead> {
    this.keyReads += 1;
    return {};
  }
  async recordKeyRiskCheck(): Promise<boolean> {
    return true;
  }
}

const noChanges: ResourceChangeSource = { queryChanges: async () => ({ rows: [], calls: 1 }), queryRoleAssignments: async () => ({ rows: [], calls: 1 }) };

describe("runTimerWork", () => {
  it.each<{ name: string; failChanges: boolean; budgetInMs?: number; changeReads: number; keyReads: number; rejects: boolean }>([
    // Everything due and working: cycle, catch-up, key re-read.
    { name: "all three run", failChanges: false, changeReads: 1, keyReads: 1, rejects: false },
    // The catch-up fails: the key re-read still runs, and the failure reaches the host.
    { name: "a failed catch-up", failChanges: true, changeReads: 1, keyReads: 1, rejects: true },
    // Under a minute left after the cycle: both follow-ups wait for the next timer, nothing fails.
    { name: "no time left", failChanges: false, budgetInMs: 30_000, changeReads: 0, keyReads: 0, rejects: false },
  ])("$name", async ({ failChanges, budgetInMs, changeReads, keyReads, rejects }) => {
    const watermark = new CountingWatermark(failChanges);
    const fake = fakeMonitorDeps({ deps: { probes: new FakeAccountProber(), changes: { source: noChanges, watermark } } });
    const run = () => runTimerWork(fake.deps);
    const work = budgetInMs === undefined ? run() : withCallDeadline(budgetInMs, run);
    if (rejects) await expect(work).rejects.toThrow("meta table unavailable");
    else await work;
    expect([watermark.changeReads, watermark.keyReads]).toEqual([changeReads, keyReads]);
    // The cycle always ran (its heartbeat was written).
    expect(await fake.heartbeat.lastCycle()).toBeDefined();
  });
});
