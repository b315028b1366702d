/**
 * The queue-triggered half of a fanned-out cycle: one work batch runs through the same stages as
 * an inline cycle (probe → decide → confirm → record, side by side with the daily checks), then
 * sends what it recorded, so the per-account work spreads over Azure Functions' own scale-out.
 *
 * Re-delivery is harmless: every decision is re-made from the stored record and committed under
 * its ETag, daily checks replace exactly the row they read, and only rows this run recorded are
 * sent, each under its lease. The snapshot in a batch may be minutes old by the time it runs, so
 * every state change it suggests is confirmed with an ARM GET first (as for Resource Graph); and a
 * batch older than two poll intervals is dropped: later cycles have covered its accounts.
 */
import { classifyStatus } from "../domain/classifier";
import { mapWithConcurrency } from "../pipeline/concurrency";
import { INVOCATION_BUDGET_IN_MS, startCycle, type CycleContext } from "../pipeline/cycleContext";
import { withCallDeadline } from "../ports/callDeadline";
import type { CycleStats } from "../pipeline/cycleStats";
import { recordDailyChecks, type DailyCheckItem } from "../pipeline/dailyChecks";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { decidePipeline } from "../pipeline/pipelineBuilder";
import { countHealth, observedItems, type ObservedAccount } from "../pipeline/selectWork";
import { describeWorkBatch, parseWorkBatch } from "../pipeline/workBatch";
import type { PlannedChange } from "../pipeline/workItem";
import type { StoredMessage } from "../ports/incidentStore";
import { drainOutboxIn } from "./drainOutbox";

export interface WorkBatchReport extends CycleStats {
  cycleId: string;
  batch: number;
  /** True when the batch was too old to act on. */
  stale: boolean;
  changes: PlannedChange[];
  durationInMs: number;
}

/** Runs one batch: probe, decide, confirm, record, and the daily checks; then sends what it recorded. */
/** One work batch within its own invocation's time budget (or the cycle's, when run inside one). */
export function processWorkBatch(deps: MonitorDeps, raw: unknown): Promise<WorkBatchReport> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => processBatch(deps, raw));
}

async function processBatch(deps: MonitorDeps, raw: unknown): Promise<WorkBatchReport> {
  const message = parseWorkBatch(raw);
  const started = deps.clock.now();
  const ctx = startCycle(deps, started);
  ctx.stats.fanout = "queue";
  const report = (changes: PlannedChange[], stale: boolean): WorkBatchReport => ({
    ...ctx.stats,
    cycleId: message.cycleId,
    batch: message.batch,
    stale,
    changes,
    durationInMs: Math.max(0, deps.clock.now().getTime() - started.getTime()),
  });
  const maxAgeInMs = 2 * deps.settings.pollIntervalInMinutes * 60_000;
  if (started.getTime() - Date.parse(message.cycleStartedAt) > maxAgeInMs) {
    deps.log.warn(`cmk-monitor: dropped a stale work item (${describeWorkBatch(message)}); later cycles have covered its accounts`);
    return report([], true);
  }

  const observed: ObservedAccount[] = message.accounts
    .filter((entry) => entry.decide)
    .map((entry) => ({ account: entry.account, classification: classifyStatus(entry.account.customerManagedKeyStatus) }));
  for (const { classification } of observed) countHealth(ctx, classification);
  ctx.stats.accountsSeen = message.accounts.length;
  const checks: DailyCheckItem[] = message.accounts
    .filter((entry) => entry.dailyCheck)
    .map(({ account, dailyCheck }) => ({
      account,
      ...(dailyCheck!.etag ? { etag: dailyCheck!.etag } : {}),
      ...(dailyCheck!.findings ? { previousFindings: dailyCheck!.findings } : {}),
      // What the last check put in the fleet index: unchanged, the index is not written again.
      ...(typeof dailyCheck!.indexedAs === "string" ? { indexedAs: dailyCheck!.indexedAs } : {}),
    }));
  // The snapshot is as old as the queue made it: confirm any state change with ARM before acting.
  const decisions = decidePipeline({ confirmChanges: true });
  // Decisions and daily checks side by side, sharing the call slots.
  const [changes] = await Promise.all([
    observedItems(ctx, observed).then((items) => (items.length > 0 ? decisions.run(ctx, items) : [])),
    checks.length > 0 ? recordDailyChecks(ctx, checks, { pendingDigest: true }) : undefined,
  ]);
  await sendRecorded(ctx, changes);
  deps.log.info(
    `cmk-monitor: work item ${message.batch}/${message.batches} of cycle ${message.cycleId} done: ${observed.length} decided, ` +
      `${changes.length} change(s), ${checks.length} daily check(s), ${ctx.stats.emailsSent} email(s) sent`,
  );
  return report(changes, false);
}

/** Sends the rows this run recorded (grouped into digests where they share recipients), under the send budget. */
async function sendRecorded(ctx: CycleContext, changes: readonly PlannedChange[]): Promise<void> {
  const { store } = ctx.deps;
  const messages = changes.flatMap((change) => change.decision.messages);
  const rows = (await mapWithConcurrency(messages, 8, (message) => store.getMessage(message.accountId, message.key))).filter(
    (stored): stored is StoredMessage => stored !== undefined,
  );
  if (rows.length > 0) await drainOutboxIn(ctx, { only: rows });
}
