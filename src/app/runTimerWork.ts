/**
 * What the poll timer does each time it fires, under one invocation deadline: the poll cycle, then
 * the change catch-up and the per-vault key re-read when they are due. Each runs even when an earlier
 * one failed; a follow-up is left for the next timer when too little of the budget is left; the first
 * failure is rethrown so the host records the invocation as failed.
 */
import { withCallDeadline, remainingInMs } from "../ports/callDeadline";
import { describeFailure } from "../ports/failures";
import { INVOCATION_BUDGET_IN_MS } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { catchUpChanges } from "./catchUpChanges";
import { recheckVaultKeys } from "./recheckVaultKeys";
import { runCycle } from "./runCycle";

/** Less than this left after the cycle: the follow-ups wait for the next timer (they are due again then). */
export const FOLLOW_UP_MIN_BUDGET_IN_MS = 60_000;

export function runTimerWork(deps: MonitorDeps): Promise<void> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, async () => {
    const failures: unknown[] = [];
    const steps: Array<[string, () => Promise<unknown>, boolean]> = [
      ["cycle", () => runCycle(deps), false],
      ["change catch-up", () => catchUpChanges(deps), true],
      ["key re-read", () => recheckVaultKeys(deps), true],
    ];
    for (const [name, run, followUp] of steps) {
      if (followUp && remainingInMs() < FOLLOW_UP_MIN_BUDGET_IN_MS) {
        deps.log.info(`cmk-monitor: ${name} left for the next timer (the cycle used the invocation's time)`);
        continue;
      }
      try {
        await run();
      } catch (error) {
        deps.log.error(`cmk-monitor: ${name} failed: ${describeFailure(error).message}`);
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  });
}
