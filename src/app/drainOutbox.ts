/**
 * Sends whatever is due (within `scope`): after every cycle, after a work batch (only its own rows),
 * and right after an acknowledgment so owners hear at once. Sends reserved from the shared budget
 * but not used are given back.
 */
import { startCycle, type CycleContext } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { sendPipeline } from "../pipeline/pipelineBuilder";
import type { OutboxScope, SendTally } from "../pipeline/sendUnit";
import { describeFailure } from "../ports/failures";

export async function drainOutbox(deps: MonitorDeps, scope?: OutboxScope): Promise<void> {
  await drainOutboxIn(startCycle(deps, deps.clock.now()), scope);
}

/** The same within a run already started (its counters get the sends). */
export async function drainOutboxIn(ctx: CycleContext, scope: OutboxScope = {}): Promise<void> {
  const tally: SendTally = { reserved: 0, used: 0 };
  try {
    await sendPipeline(scope, tally).run(ctx, [ctx.now]);
  } finally {
    await giveBackUnused(ctx, tally.reserved - tally.used);
  }
}

/**
 * Gives back reserved sends that never reached ACS: units another instance claimed first, and
 * sends ACS answered with an error (an outage's 503s, its own 429s). They do not count against its
 * limits, and kept reserved they would hold back real mail for up to an hour once an outage is
 * over. An attempt that may have been accepted (a timeout, a failed poll) keeps its reservation.
 */
async function giveBackUnused(ctx: CycleContext, unused: number): Promise<void> {
  if (unused <= 0) return;
  try {
    await ctx.deps.sendBudget.releaseEmailSends(ctx.now, unused);
  } catch (error) {
    // Only pacing is affected: the reservation falls out of the window within the hour.
    ctx.deps.log.warn(`cmk-monitor: could not give back ${unused} unused email send(s) to the budget: ${describeFailure(error).message}`);
  }
}
