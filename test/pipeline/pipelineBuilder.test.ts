/** The stage wiring's own gate: no outbox drain starts in the invocation's last seconds. */
import { sendDeadlineGate } from "../../src/pipeline/pipelineBuilder";
import { STOP_STARTING_WORK_IN_MS } from "../../src/pipeline/cycleContext";
import { withCallDeadline } from "../../src/ports/callDeadline";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

describe("sendDeadlineGate", () => {
  it.each<[string, number | undefined, number, number]>([
    // No deadline: the drain goes on.
    ["no deadline", undefined, 1, 0],
    // Minutes left: the drain goes on.
    ["minutes left", 5 * 60_000, 1, 0],
    // Less than the stop margin: nothing is claimed, the outbox waits for the next drain, and the cycle says so.
    ["near the deadline", STOP_STARTING_WORK_IN_MS - 1_000, 0, 1],
  ])("%s", async (_name, budget, passed, deferred) => {
    const monitor = fakeMonitorDeps();
    const ctx = monitor.context();
    const run = () => sendDeadlineGate.run(ctx, [ctx.now]);
    const out = budget === undefined ? await run() : await withCallDeadline(budget, run);
    expect(out).toHaveLength(passed);
    expect(ctx.stats.deferredForDeadline).toBe(deferred);
  });
});
