/** One poll cycle: record what changed, then drain the outbox. */
import { chain, newStats, type CycleContext, type CycleStats, type MonitorDeps } from "./stage";
import { decide } from "../domain/lifecycle";
import {
  commitWithRetry,
  decideStage,
  discoverStage,
  lifecycleContext,
  planStage,
  recordStage,
  type PlannedChange,
} from "./observeStages";
import { probeStage } from "./probeStages";
import { claimStage, dueMessagesStage, sendStage } from "./sendStages";
import { warningsStage } from "./warningStages";

export interface CycleReport extends CycleStats {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  changes: PlannedChange[];
}

// Discovery runs first on its own: the warnings stage needs the same listings after the incidents are recorded.
const observePipeline = chain(chain(chain(planStage, probeStage), decideStage), recordStage);
const sendPipeline = chain(chain(dueMessagesStage, claimStage), sendStage);

export async function runCycle(deps: MonitorDeps): Promise<CycleReport> {
  const started = deps.clock.now();
  const ctx: CycleContext = { deps, now: started, stats: newStats() };
  const listings = await discoverStage.run(ctx, deps.settings.subscriptionIds);
  const changes = listings.length === 0 ? [] : await observePipeline.run(ctx, listings);
  try {
    await warningsStage.run(ctx, listings);
  } catch (error) {
    // Warnings are a courtesy: a failure here must not keep the incident emails from going out.
    deps.log.error(`cmk-monitor: warnings stage failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  await drainOutbox(ctx);
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
      (deps.probes ? `, ${report.accountsProbed} account(s) probed, ${report.warningDigestsRecorded} warning digest(s) recorded` : ""),
  );
  await recordHeartbeat(deps, report);
  return report;
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

/** Sends whatever is due; also used right after an acknowledgment so owners hear at once. */
export async function drainOutbox(ctx: CycleContext): Promise<void> {
  await sendPipeline.run(ctx, [ctx.now]);
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
