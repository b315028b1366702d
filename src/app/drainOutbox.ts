/**
 * Sends whatever is due (within `scope`): after every cycle, after a work batch (only its own rows),
 * and right after an acknowledgment so owners hear at once. Sends reserved from the shared budget
 * but not used are given back. Before sending, the accepted emails whose final status is due get
 * their one status read: one that ended Failed or Canceled goes out again in this same drain.
 */
import { startCycle, type CycleContext } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { sendPipeline } from "../pipeline/pipelineBuilder";
import { finalReadAction, readStatus } from "../pipeline/sendStage";
import { pushTo, type OutboxScope, type SendTally } from "../pipeline/sendUnit";
import { describeFailure } from "../ports/failures";
import type { StoredMessage } from "../ports/incidentStore";

export async function drainOutbox(deps: MonitorDeps, scope?: OutboxScope): Promise<void> {
  await drainOutboxIn(startCycle(deps, deps.clock.now()), scope);
}

/** The same within a run already started (its counters get the sends). */
export async function drainOutboxIn(ctx: CycleContext, scope: OutboxScope = {}): Promise<void> {
  // A work batch drains only its own new rows; outcome reads belong to the full drains.
  if (!scope.only) await checkOutcomes(ctx);
  const tally: SendTally = { reserved: 0, used: 0 };
  try {
    await sendPipeline(scope, tally).run(ctx, [ctx.now]);
  } finally {
    await giveBackUnused(ctx, tally.reserved - tally.used);
  }
}

/**
 * The one final-status read of each accepted email (a digest's rows share one operation), oldest
 * first, within the status budget. Succeeded, still running or no longer known (404 after a 202):
 * done, ACS has it. Failed or Canceled: the rows become pending under a new operation id. With
 * delivery reports wired, a report that proves ACS processed the operation replaces the read, and
 * an operation without one waits for it a while (finalReadAction).
 */
async function checkOutcomes(ctx: CycleContext): Promise<void> {
  const { store, log } = ctx.deps;
  let rows: StoredMessage[];
  try {
    rows = await store.listOutcomeChecks(ctx.now);
  } catch (error) {
    log.warn(`cmk-monitor: could not list accepted emails awaiting their status read: ${describeFailure(error).message}`);
    return;
  }
  const byOperation = new Map<string, StoredMessage[]>();
  for (const stored of rows) pushTo(byOperation, stored.operationId ?? stored.message.key, stored);
  const ordered = [...byOperation.entries()].sort(([, a], [, b]) => (a[0]!.sentAt ?? "").localeCompare(b[0]!.sentAt ?? ""));
  for (const [operationId, listed] of ordered) {
    // One instance reads each operation: the first row's check is moved a lease ahead, ETag-guarded.
    const members = [...listed].sort((a, b) => a.message.key.localeCompare(b.message.key));
    const plan = finalReadAction(members, operationId, ctx.now, ctx.settings.deliveryReports);
    if (plan.action !== "read") {
      // Both are idempotent and make no call to ACS: another instance doing the same writes the same.
      if (plan.action === "skip") ctx.stats.statusReadsSkipped += 1;
      await settleChecks(ctx, members, plan.action === "wait" ? plan.until : undefined);
      continue;
    }
    let lead: StoredMessage | undefined;
    try {
      lead = await store.markOutcomeChecked(members[0]!, new Date(ctx.now.getTime() + ctx.settings.sendLeaseInSeconds * 1000));
    } catch (error) {
      log.warn(`cmk-monitor: could not take the status read of ACS operation ${operationId}: ${describeFailure(error).message}`);
    }
    if (!lead) continue;
    members[0] = lead;
    const status = await readStatus(ctx, operationId);
    // Out of budget (or throttled): the rest keep their check for a later drain; this one's lease runs out.
    if (status === "no-budget") break;
    if (status === "failed") continue;
    const failed = status === "Failed" || status === "Canceled";
    if (failed) log.warn(`cmk-monitor: accepted email operation ${operationId} ended ${status} at ACS: it goes out again under a new operation id`);
    for (const stored of members) {
      try {
        if (failed) {
          await store.markFailed(stored, `ACS operation ${operationId} ended ${status}`, ctx.now, {
            newOperation: true,
            releaseDigest: stored.digestId !== undefined,
          });
        } else {
          await store.markOutcomeChecked(stored);
        }
      } catch (error) {
        // The check stays due: the next drain reads the status again (one more read, never a re-send).
        log.warn(`cmk-monitor: could not record the status read [${stored.message.key}]: ${describeFailure(error).message}`);
      }
    }
  }
}

/** Clears the rows' final-status check (a report made it unnecessary) or moves it to `until`; a failed write leaves it due. */
async function settleChecks(ctx: CycleContext, members: readonly StoredMessage[], until: Date | undefined): Promise<void> {
  for (const stored of members) {
    try {
      await ctx.deps.store.markOutcomeChecked(stored, until);
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: could not record the status check of [${stored.message.key}]: ${describeFailure(error).message}`);
    }
  }
}

/**
 * Gives back reserved sends that never reached ACS: units another instance claimed first, units
 * recorded from a status read without a POST, and POSTs refused before they left this process.
 * An error answer from ACS (429, 503) counts against its limits and keeps its reservation.
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
