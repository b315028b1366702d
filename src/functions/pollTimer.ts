/** Timer trigger: one poll cycle on the CMK_POLL_SCHEDULE schedule. Registers and delegates. */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { invocationLogger } from "./invocationLogger";
import { runCycle } from "../app/runCycle";

export async function pollTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  try {
    await runCycle({ ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: cycle failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.timer("cmkPoll", { schedule: "%CMK_POLL_SCHEDULE%", handler: pollTimer });
