/**
 * Commits each change with its outbox rows (one account's partition each, so several at once). On a
 * conflict another instance got there first: the change is decided again from what it wrote, and
 * only what is still needed is committed.
 */
import { describeFailure } from "../ports/failures";
import { applyToIncident, MAX_COMMIT_ATTEMPTS } from "./applyToIncident";
import { mapWithConcurrency } from "./concurrency";
import type { CycleContext } from "./cycleContext";
import { decideItem, needsCommit } from "./decideStage";
import type { Stage } from "./stage";
import type { PlannedChange } from "./workItem";

/** Commits (one partition each) in flight at once. */
const RECORD_CONCURRENCY = 8;

export const recordStage: Stage<PlannedChange, PlannedChange> = {
  name: "record",
  async run(ctx, changes) {
    const committed = await mapWithConcurrency(changes, RECORD_CONCURRENCY, (change) => commitChange(ctx, change));
    return committed.filter((change): change is PlannedChange => change !== undefined);
  },
};

/** The committed change (as finally decided), or undefined when nothing was left to do or it failed (logged, counted). */
export async function commitChange(ctx: CycleContext, change: PlannedChange): Promise<PlannedChange | undefined> {
  const { stats, deps } = ctx;
  let item = change.item;
  try {
    const outcome = await applyToIncident(
      deps.store,
      item.accountId,
      (record, attempt) => {
        if (attempt === 1) return { commit: change.decision };
        item = { ...item, record };
        const decided = decideItem(item, record.incident, ctx.now, ctx.lifecycle);
        // Nothing left: the other instance did it.
        return needsCommit(decided) ? { commit: decided.decision } : { stop: undefined };
      },
      { record: item.record, onConflict: () => (stats.conflicts += 1) },
    );
    if (outcome.outcome === "stopped") return undefined;
    if (outcome.outcome === "gave-up") {
      deps.log.warn(`cmk-monitor: gave up recording ${item.accountId} after ${MAX_COMMIT_ATTEMPTS} conflicts; next cycle retries`);
      return undefined;
    }
    for (const reason of outcome.decision.reasons) stats.decisions[reason] = (stats.decisions[reason] ?? 0) + 1;
    return { item, decision: outcome.decision };
  } catch (error) {
    const info = describeFailure(error);
    stats.commitFailures.push({ accountId: item.accountId, message: info.message });
    deps.log.error(`cmk-monitor: could not record state for ${item.accountId} (${info.reason}): ${info.message}`);
    return undefined;
  }
}
