/**
 * Timer trigger: one poll cycle on the CMK_POLL_SCHEDULE schedule, then the change catch-up when it
 * is due (every CMK_CHANGES_INTERVAL_MINUTES, decided from the shared watermark) and the per-vault
 * key re-read when it is (every CMK_RISK_CHECK_INTERVAL_MINUTES). Registers and
 * delegates; each runs even when the other failed, and the first failure is rethrown.
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { invocationLogger } from "./invocationLogger";
import { catchUpChanges } from "../app/catchUpChanges";
import { recheckVaultKeys } from "../app/recheckVaultKeys";
import { runCycle } from "../app/runCycle";

export async function pollTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const deps = { ...getMonitorDeps(), log: invocationLogger(context) };
  const failures: unknown[] = [];
  for (const [name, run] of [
    ["cycle", () => runCycle(deps)],
    ["change catch-up", () => catchUpChanges(deps)],
    ["key re-read", () => recheckVaultKeys(deps)],
  ] as const) {
    try {
      await run();
    } catch (error) {
      context.error(`cmk-monitor: ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}

app.timer("cmkPoll", { schedule: "%CMK_POLL_SCHEDULE%", handler: pollTimer });
