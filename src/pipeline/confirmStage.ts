/**
 * Resource Graph (and a work batch's snapshot) can lag ARM by seconds to minutes. Before a state
 * change it suggests is acted on — a new incident, a resolution, a new cause, an account gone —
 * the account is read once with a direct ARM GET and decided again from that. Nothing else pays a
 * per-account call: reminders, escalations and probe findings need no confirmation, and ARM
 * discovery is ARM already.
 */
import { classifyStatus } from "../domain/classifier";
import type { DecisionReason, LifecycleInput } from "../domain/lifecycle";
import { describeFailure } from "../ports/failures";
import { mapWithConcurrency } from "./concurrency";
import { decideItem, needsCommit } from "./decideStage";
import type { Stage } from "./stage";
import type { PlannedChange, WorkItem } from "./workItem";

/** Decisions that open, close or re-explain an incident. */
export const STATE_CHANGES: ReadonlySet<DecisionReason> = new Set(["first-notice", "recovered", "account-removed", "cause-changed"]);

/** `confirmChanges`: the observations may lag ARM; without it the stage passes every change on. */
export function confirmStage(confirmChanges: boolean): Stage<PlannedChange, PlannedChange> {
  return {
    name: "confirm",
    async run(ctx, changes) {
      if (!confirmChanges) return [...changes];
      const { accounts, log } = ctx.deps;
      const confirmed = await mapWithConcurrency(changes, ctx.settings.armConcurrency, async (change): Promise<PlannedChange | undefined> => {
        if (change.item.confirmed || !change.decision.reasons.some((reason) => STATE_CHANGES.has(reason))) return change;
        let input: LifecycleInput;
        try {
          ctx.stats.confirmations += 1;
          const fresh = await ctx.slots.run(() => accounts.getAccount(change.item.accountId));
          // Gone from ARM, or no longer using a customer-managed key: both end the incident.
          input = fresh ? { kind: "observed", account: fresh, classification: classifyStatus(fresh.customerManagedKeyStatus) } : { kind: "account-missing" };
        } catch (error) {
          ctx.stats.confirmationsFailed += 1;
          const info = describeFailure(error);
          log.warn(
            `cmk-monitor: could not confirm ${change.item.accountId} with ARM (${info.reason}): ${info.message}; its state change waits for the next cycle`,
          );
          // Unconfirmed: no state change this cycle, but deadlines still count.
          input = { kind: "tick" };
        }
        const item: WorkItem = { accountId: change.item.accountId, record: change.item.record, input, confirmed: true };
        if (change.item.probe && input.kind === "observed") item.probe = change.item.probe;
        const decided = decideItem(item, item.record.incident, ctx.now, ctx.lifecycle);
        const overturned = !decided.decision.reasons.some((reason) => change.decision.reasons.includes(reason) && STATE_CHANGES.has(reason));
        if (overturned && input.kind !== "tick") ctx.stats.confirmationsOverturned += 1;
        if (!needsCommit(decided)) return undefined;
        return { item, decision: decided.decision };
      });
      return confirmed.filter((change): change is PlannedChange => change !== undefined);
    },
  };
}
