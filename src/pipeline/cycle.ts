/**
 * One poll cycle: find the fleet, record what changed, then drain the outbox.
 *
 * Inline (small fleets, or CMK_FANOUT=inline): this process does everything. Fanned out
 * (CMK_FANOUT=queue, or auto above CMK_FANOUT_THRESHOLD accounts needing work): this process
 * handles the open incidents discovery did not show (account gone, or discovery failed) — each
 * exactly once per cycle, here and nowhere else — and the warning digests, puts every other
 * account that needs work on the queue (src/pipeline/fanout.ts), and sends only what earlier
 * cycles left in the outbox: this cycle's batches send their own.
 */
import { describeFailure } from "../adapters/azureErrors";
import type { CmkAccount } from "../domain/account";
import { decide } from "../domain/lifecycle";
import { decidePipeline, newCycleId, planWorkItems, processWorkItem, type WorkItemMessage } from "./fanout";
import { commitWithRetry, discoverStage, lifecycleContext, observedItems, selectWork, type PlannedChange } from "./observeStages";
import { workSlotsFor } from "./probeStages";
import { drainOutbox } from "./sendStages";
import { newStats, type CycleContext, type CycleStats, type MonitorDeps } from "./stage";
import { accountChecks, dueForDailyCheck, planPendingDigests, readAccountChecks, warningsStage, type DailyCheckItem } from "./warningStages";

export { drainOutbox } from "./sendStages";

export interface CycleReport extends CycleStats {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  changes: PlannedChange[];
}

export async function runCycle(deps: MonitorDeps): Promise<CycleReport> {
  const started = deps.clock.now();
  const ctx: CycleContext = { deps, now: started, stats: newStats() };
  // The state reads do not depend on discovery: they run beside it. A failed read surfaces where
  // it is awaited (the daily checks' is a courtesy), not as an unhandled rejection meanwhile.
  const openRecords = deps.store.listOpenRecords();
  openRecords.catch(() => undefined);
  if (deps.probes && deps.warnings) readAccountChecks(ctx).catch(() => undefined);
  const [listing] = await discoverStage.run(ctx, [started]);
  const selection = selectWork(ctx, listing!, await openRecords);
  const dailyChecks = await dailyChecksDue(ctx, selection.healthy);

  let changes: PlannedChange[];
  if (shouldFanOut(deps, selection.observed.length + dailyChecks.length)) {
    ctx.stats.fanout = "queue";
    // The open incidents discovery did not show are this process's, so each is handled once.
    changes = selection.unobserved.length > 0 ? await decidePipeline.run(ctx, selection.unobserved) : [];
    await enqueueWork(ctx, planWorkItems(ctx, newCycleId(started), selection.observed, dailyChecks));
    await courtesy(ctx, "warning digests", () => planPendingDigests(ctx, selection.healthy));
    await drainOutbox(ctx, { createdUpTo: started.toISOString() });
  } else {
    // Decisions and daily checks side by side, sharing one set of call slots.
    workSlotsFor(ctx);
    [changes] = await Promise.all([
      observedItems(ctx, selection.observed).then(async (observed) => {
        const items = [...observed, ...selection.unobserved];
        return items.length > 0 ? decidePipeline.run(ctx, items) : [];
      }),
      courtesy(ctx, "warnings stage", async () => {
        await warningsStage.run(ctx, selection.healthy);
        // Checks a fanned-out cycle recorded, when this one happens to run inline.
        await planPendingDigests(ctx, selection.healthy);
      }),
    ]);
    await drainOutbox(ctx);
  }

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
      `${report.subscriptionsFailed.length} subscription(s) failed` +
      (deps.probes ? `, ${report.accountsProbed} account(s) probed, ${report.warningDigestsRecorded} warning digest(s) recorded` : "") +
      `; discovery ${report.discoveryMode} (${report.discoveryCalls} call(s))` +
      (report.confirmations > 0 ? `, ${report.confirmations} confirmation GET(s)` : "") +
      (report.fanout === "queue" ? `; fanned out ${report.workAccountsEnqueued} account(s) in ${report.workBatchesEnqueued} work item(s)` : "") +
      (report.emailsDeferred > 0 ? `; ${report.emailsDeferred} email(s) held back by the send rate` : ""),
  );
  await recordHeartbeat(deps, report);
  return report;
}

/** Healthy accounts due their daily check; none when the checks cannot be read (warnings are a courtesy). */
async function dailyChecksDue(ctx: CycleContext, healthy: readonly CmkAccount[]): Promise<DailyCheckItem[]> {
  if (!ctx.deps.probes || !ctx.deps.warnings || healthy.length === 0) return [];
  try {
    return dueForDailyCheck(ctx, healthy, await accountChecks(ctx));
  } catch (error) {
    ctx.deps.log.error(`cmk-monitor: could not read the daily checks: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** Fan out when a queue is there and the work is big enough (CMK_FANOUT, CMK_FANOUT_THRESHOLD). */
function shouldFanOut(deps: MonitorDeps, accountsNeedingWork: number): boolean {
  const fanout = deps.settings.fanout;
  if (!deps.workQueue || !fanout || fanout.mode === "inline" || accountsNeedingWork === 0) return false;
  return fanout.mode === "queue" || accountsNeedingWork > fanout.threshold;
}

/**
 * Puts the batches on the queue. A batch the queue refuses (or an account too large for any
 * message) is processed right here instead: slower, never lost.
 */
async function enqueueWork(ctx: CycleContext, plan: ReturnType<typeof planWorkItems>): Promise<void> {
  const { deps } = ctx;
  const queue = deps.workQueue!;
  const timeToLiveInSeconds = 2 * (deps.settings.pollIntervalInMinutes ?? 5) * 60;
  const local: WorkItemMessage[] = [];
  let enqueued = 0;
  await Promise.all(
    plan.messages.map(async ({ message, json }) => {
      try {
        await queue.send(json, { timeToLiveInSeconds });
        enqueued += 1;
        ctx.stats.workAccountsEnqueued += message.accounts.length;
      } catch (error) {
        deps.log.warn(`cmk-monitor: could not enqueue work item ${message.batch}/${message.batches} (${describeFailure(error).message}); processing it here`);
        local.push(message);
      }
    }),
  );
  ctx.stats.workBatchesEnqueued += enqueued;
  if (plan.oversize.length > 0) {
    local.push({ type: "cmk-work", version: 1, cycleId: "local", cycleStartedAt: ctx.now.toISOString(), batch: 0, batches: 0, accounts: plan.oversize });
  }
  for (const message of local) {
    const report = await processWorkItem(deps, message);
    ctx.stats.emailsSent += report.emailsSent;
    ctx.stats.accountsProbed += report.accountsProbed;
    ctx.stats.confirmations += report.confirmations;
  }
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
  if (!deps.meta) return;
  try {
    await deps.meta.recordCycle({
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      durationInMs: report.durationInMs,
      accountsSeen: report.accountsSeen,
      revokedSeen: report.revokedSeen,
      changes: report.changes.length,
      emailsSent: report.emailsSent,
      emailsRetrying: report.emailsRetrying,
      subscriptionsFailed: report.subscriptionsFailed.length,
    });
  } catch (error) {
    deps.log.warn(`cmk-monitor: could not record the cycle heartbeat: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export type AcknowledgeResult =
  | { outcome: "acknowledged"; incidentId: string; expectedRecoveryBy?: string; escalateAt?: string }
  | { outcome: "already-recovering"; incidentId: string; state: string }
  | { outcome: "no-open-incident" };

/** Records an owner's "fixed" for the account's open incident; starts the recovery clock. */
export async function acknowledgeFix(deps: MonitorDeps, accountId: string, by: string): Promise<AcknowledgeResult> {
  const ctx: CycleContext = { deps, now: deps.clock.now(), stats: newStats() };
  const record = await deps.store.getRecord(accountId);
  const incident = record.incident;
  if (!incident || incident.state === "resolved") return { outcome: "no-open-incident" };
  const decision = decide(incident, { kind: "acknowledged", by }, ctx.now, lifecycleContext(deps.settings));
  if (decision.reasons.length === 0) return { outcome: "already-recovering", incidentId: incident.id, state: incident.state };
  const committed = await commitWithRetry(ctx, { item: { accountId, record, input: { kind: "acknowledged", by } }, decision });
  await drainOutbox(ctx);
  const after = committed?.decision.incident ?? (await deps.store.getRecord(accountId)).incident;
  return {
    outcome: "acknowledged",
    incidentId: incident.id,
    ...(after?.expectedRecoveryBy ? { expectedRecoveryBy: after.expectedRecoveryBy } : {}),
    ...(after?.escalateAt ? { escalateAt: after.escalateAt } : {}),
  };
}
