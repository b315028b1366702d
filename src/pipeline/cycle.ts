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
import { claimStage, dueMessagesStage, sendStage } from "./sendStages";

export interface CycleReport extends CycleStats {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  changes: PlannedChange[];
}

const observePipeline = chain(chain(chain(discoverStage, planStage), decideStage), recordStage);
const sendPipeline = chain(chain(dueMessagesStage, claimStage), sendStage);

export async function runCycle(deps: MonitorDeps): Promise<CycleReport> {
  const started = deps.clock.now();
  const ctx: CycleContext = { deps, now: started, stats: newStats() };
  const changes = await observePipeline.run(ctx, deps.settings.subscriptionIds);
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
      `${report.subscriptionsFailed.length} subscription(s) failed`,
  );
  return report;
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
