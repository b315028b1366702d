/**
 * Timer trigger on the CMK_POLL_SCHEDULE schedule: one poll cycle, then the change catch-up (every
 * CMK_CHANGES_INTERVAL_MINUTES) and the per-vault key re-read (every CMK_RISK_CHECK_INTERVAL_MINUTES)
 * when due. Registers and delegates (src/app/runTimerWork.ts).
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { invocationLogger } from "./invocationLogger";
import { runTimerWork } from "../app/runTimerWork";

export async function pollTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  await runTimerWork({ ...getMonitorDeps(), log: invocationLogger(context) });
}

app.timer("cmkPoll", { schedule: "%CMK_POLL_SCHEDULE%", handler: pollTimer });
