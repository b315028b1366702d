/**
 * One poll cycle: find the fleet, record what changed, then drain the outbox.
 *
 * Inline (small fleets, or CMK_FANOUT=inline): this process does everything. Fanned out
 * (CMK_FANOUT=queue, or auto above CMK_FANOUT_THRESHOLD accounts needing work): this process
 * handles the open incidents discovery did not show (account gone, or discovery failed) — each
 * exactly once per cycle, here and nowhere else — and the warning digests, puts every other
 * account that needs work on the queue as work batches (processWorkBatch.ts), and sends only what
 * earlier cycles left in the outbox: this cycle's batches send their own.
 */
import type { CmkAccount } from "../domain/account";
import { INVOCATION_BUDGET_IN_MS, startCycle, type CycleContext } from "../pipeline/cycleContext";
import { withCallDeadline } from "../ports/callDeadline";
import { mergeStats, type CycleStats } from "../pipeline/cycleStats";
import { AccountChecks, dueForDailyCheck, type DailyCheckItem } from "../pipeline/dailyChecks";
import { discoverFleet } from "../pipeline/discover";
import { newCycleId, planWorkBatches, type WorkPlan } from "../pipeline/fanoutPlan";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { decidePipeline } from "../pipeline/pipelineBuilder";
import { observedItems, selectWork } from "../pipeline/selectWork";
import { checkAndWarn, planPendingDigests } from "../pipeline/warningDigests";
import { recordWeeklyReport } from "../pipeline/weeklyReport";
import type { WorkBatchMessage } from "../pipeline/workBatch";
import type { PlannedChange } from "../pipeline/workItem";
import { describeFailure } from "../ports/failures";
import { refreshTicketStatuses } from "../pipeline/supportTicketStatus";
import { sweepRetention } from "../pipeline/retention";
import { drainOutboxIn } from "./drainOutbox";
import { processWorkBatch } from "./processWorkBatch";

export interface CycleReport extends CycleStats {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  changes: PlannedChange[];
}

/** One cycle within the invocation's time budget: every SDK call in it ends at the deadline. */
export function runCycle(deps: MonitorDeps): Promise<CycleReport> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => cycle(deps));
}

async function cycle(deps: MonitorDeps): Promise<CycleReport> {
  const started = deps.clock.now();
  const ctx = startCycle(deps, started);
  // The state reads do not depend on discovery: they run beside it. A failed read surfaces where
  // it is awaited (the daily checks' is a courtesy), not as an unhandled rejection meanwhile.
  const openRecords = deps.store.listOpenRecords();
  openRecords.catch(() => undefined);
  const checks = new AccountChecks(deps.warnings);
  if (deps.probes) checks.read().catch(() => undefined);
  // Every subscription with an open incident is read with ARM, whatever Resource Graph says.
  const alsoRead = openRecords.then((records) => records.map((record) => record.incident?.account.subscriptionId ?? "").filter(Boolean));
  alsoRead.catch(() => undefined);
  // Recorded on the first cycle ever (then read once per instance); a failed read means "no grace".
  const since = deps.heartbeat.monitoringSince(started).catch(() => undefined);
  const listing = await discoverFleet(ctx, deps.discovery, { alsoRead }, () => since);
  const selection = selectWork(ctx, listing, await openRecords);
  const dailyChecks = await dailyChecksDue(ctx, selection.healthy, checks);
  const decisions = decidePipeline({ confirmChanges: listing.confirmChanges });

  let changes: PlannedChange[];
  if (shouldFanOut(deps, selection.observed.length + dailyChecks.length)) {
    ctx.stats.fanout = "queue";
    // The open incidents discovery did not show are this process's, so each is handled once.
    changes = selection.unobserved.length > 0 ? await decisions.run(ctx, selection.unobserved) : [];
    await enqueueWork(ctx, planWorkBatches(ctx, newCycleId(started), selection.observed, dailyChecks));
    await courtesy(ctx, "warning digests", () => planPendingDigests(ctx, selection.healthy, checks));
    await courtesy(ctx, "weekly report", () => recordWeeklyReport(ctx));
    await drainOutboxIn(ctx, { createdUpTo: started.toISOString() });
  } else {
    // Decisions and daily checks side by side, sharing the call slots.
    [changes] = await Promise.all([
      observedItems(ctx, selection.observed).then(async (observed) => {
        const items = [...observed, ...selection.unobserved];
        return items.length > 0 ? decisions.run(ctx, items) : [];
      }),
      courtesy(ctx, "warnings stage", async () => {
        await checkAndWarn(ctx, selection.healthy, checks);
        // Checks a fanned-out cycle recorded, when this one happens to run inline.
        await planPendingDigests(ctx, selection.healthy, checks);
      }),
    ]);
    await courtesy(ctx, "weekly report", () => recordWeeklyReport(ctx));
    await drainOutboxIn(ctx);
  }
  // The records as the cycle read them: a ticket filed during this cycle is read from the next one on.
  await courtesy(ctx, "support ticket status", async () => refreshTicketStatuses(ctx, await openRecords));
  // Last: pruning old history must never hold up detection or the emails.
  await courtesy(ctx, "retention sweep", () => sweepRetention(ctx));

  const finished = deps.clock.now();
  const report: CycleReport = {
    ...ctx.stats,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationInMs: Math.max(0, finished.getTime() - started.getTime()),
    changes,
  };
  deps.log.info(
    `cmk-monitor: cycle completed in ${report.durationInMs} ms: ${report.accountsSeen} CMK account(s), ${report.revokedSeen} revoked, ` +
      `${changes.length} change(s), ${report.emailsSent} email(s) sent, ${report.emailsRetrying} retrying, ` +
      `${failedCount(report)} subscription(s) failed` +
      (propagatingCount(report) > 0 ? ` (${propagatingCount(report)} more refused while permissions propagate)` : "") +
      (deps.probes ? `, ${report.accountsProbed} account(s) probed, ${report.warningDigestsRecorded} warning digest(s) recorded` : "") +
      `; discovery ${report.discoveryMode} (${report.discoveryCalls} call(s)), status from ${report.statusSource} (${report.statusCalls} call(s)), ` +
      `${report.subscriptionsWithCmk} of ${report.subscriptionsInScope} subscription(s) hold CMK accounts` +
      (report.confirmations > 0 ? `, ${report.confirmations} confirmation GET(s)` : "") +
      (report.fanout === "queue" ? `; fanned out ${report.workAccountsEnqueued} account(s) in ${report.workBatchesEnqueued} work item(s)` : "") +
      (report.emailsDeferred > 0 ? `; ${report.emailsDeferred} email(s) held back by the send rate` : "") +
      (report.deferredForDeadline > 0 ? `; ${report.deferredForDeadline} probe(s), check(s) or drain(s) left for the next cycle (near the time limit)` : ""),
  );
  await recordHeartbeat(deps, report);
  return report;
}

/** Healthy accounts due their daily check; none when the checks cannot be read (warnings are a courtesy). */
async function dailyChecksDue(ctx: CycleContext, healthy: readonly CmkAccount[], checks: AccountChecks): Promise<DailyCheckItem[]> {
  if (!ctx.deps.probes || healthy.length === 0) return [];
  try {
    return dueForDailyCheck(ctx, healthy, await checks.byAccount());
  } catch (error) {
    ctx.deps.log.error(`cmk-monitor: could not read the daily checks: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** Fan out when a queue is there and the work is big enough (CMK_FANOUT, CMK_FANOUT_THRESHOLD). */
function shouldFanOut(deps: MonitorDeps, accountsNeedingWork: number): boolean {
  const { fanout, fanoutThreshold } = deps.settings;
  if (!deps.workQueue || fanout === "inline" || accountsNeedingWork === 0) return false;
  return fanout === "queue" || accountsNeedingWork > fanoutThreshold;
}

/**
 * Puts the batches on the queue. A batch the queue refuses (or an account too large for any
 * message) is processed right here instead: slower, never lost.
 */
async function enqueueWork(ctx: CycleContext, plan: WorkPlan): Promise<void> {
  const { deps, stats } = ctx;
  const queue = deps.workQueue!;
  const timeToLiveInSeconds = 2 * deps.settings.pollIntervalInMinutes * 60;
  const local: WorkBatchMessage[] = [];
  let enqueued = 0;
  await Promise.all(
    plan.messages.map(async ({ message, json }) => {
      try {
        await queue.send(json, { timeToLiveInSeconds });
        enqueued += 1;
        stats.workAccountsEnqueued += message.accounts.length;
      } catch (error) {
        deps.log.warn(`cmk-monitor: could not enqueue work item ${message.batch}/${message.batches} (${describeFailure(error).message}); processing it here`);
        local.push(message);
      }
    }),
  );
  stats.workBatchesEnqueued += enqueued;
  if (plan.oversize.length > 0) {
    local.push({ type: "cmk-work", version: 1, cycleId: "local", cycleStartedAt: ctx.now.toISOString(), batch: 0, batches: 0, accounts: plan.oversize });
  }
  for (const message of local) mergeStats(stats, await processWorkBatch(deps, message));
}

/** Warnings are a courtesy: a failure here must not keep the incident emails from going out. */
async function courtesy(ctx: CycleContext, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    ctx.deps.log.error(`cmk-monitor: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * One row in the meta table (never an account's partition), so an idle cycle still writes
 * nothing to incident state. A failure here is logged, not fatal: the cycle's work is done.
 */
async function recordHeartbeat(deps: MonitorDeps, report: CycleReport): Promise<void> {
  try {
    await deps.heartbeat.recordCycle({
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      durationInMs: report.durationInMs,
      accountsSeen: report.accountsSeen,
      revokedSeen: report.revokedSeen,
      changes: report.changes.length,
      emailsSent: report.emailsSent,
      emailsRetrying: report.emailsRetrying,
      subscriptionsFailed: failedCount(report),
      ...(propagatingCount(report) > 0 ? { subscriptionsPropagating: propagatingCount(report) } : {}),
      subscriptionsInScope: report.subscriptionsInScope,
      subscriptionsReadable: report.subscriptionsListed,
      subscriptionsWithCmk: report.subscriptionsWithCmk,
      statusSource: report.statusSource,
      statusCalls: report.statusCalls,
      ...(report.statusSourceFallback ? { statusSourceFallback: report.statusSourceFallback } : {}),
      ...(report.statusSourceDisagreements !== undefined ? { statusSourceDisagreements: report.statusSourceDisagreements } : {}),
      ...(report.statusSourceLagMinutes !== undefined ? { statusSourceLagMinutes: report.statusSourceLagMinutes } : {}),
    });
  } catch (error) {
    deps.log.warn(`cmk-monitor: could not record the cycle heartbeat: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function failedCount(report: CycleReport): number {
  return report.subscriptionsFailed.filter((f) => !f.propagating).length;
}

function propagatingCount(report: CycleReport): number {
  return report.subscriptionsFailed.filter((f) => f.propagating).length;
}
