/**
 * Resource Graph can lag ARM by seconds to minutes. Before a state change it suggests is acted
 * on — a new incident, a resolution, a new cause, an account gone — the account is read once with
 * a direct ARM GET and decided again from that. Nothing else pays a per-account call: reminders,
 * escalations and probe findings need no confirmation, and ARM discovery is ARM already.
 */
import { describeFailure } from "../adapters/azureErrors";
import { classifyStatus } from "../domain/classifier";
import type { DecisionReason, LifecycleInput } from "../domain/lifecycle";
import { decideItem, lifecycleContext, type PlannedChange, type WorkItem } from "./observeStages";
import { mapWithConcurrency, type Stage } from "./stage";

/** Decisions that open, close or re-explain an incident. */
export const STATE_CHANGES: ReadonlySet<DecisionReason> = new Set(["first-notice", "recovered", "account-removed", "cause-changed"]);

export const confirmStage: Stage<PlannedChange, PlannedChange> = {
  name: "confirm",
  async run(ctx, changes) {
    const { accounts, log, settings } = ctx.deps;
    if (!ctx.confirmChanges || !accounts.getAccount) return [...changes];
    const lifecycle = lifecycleContext(settings);
    const confirmed = await mapWithConcurrency(changes, settings.listConcurrency, async (change): Promise<PlannedChange | undefined> => {
      if (change.item.confirmed || !change.decision.reasons.some((reason) => STATE_CHANGES.has(reason))) return change;
      let input: LifecycleInput;
      try {
        ctx.stats.confirmations += 1;
        const get = () => accounts.getAccount!(change.item.accountId);
        const fresh = await (ctx.workSlots ? ctx.workSlots.run(get) : get());
        // Gone from ARM, or no longer using a customer-managed key: both end the incident.
        input = fresh ? { kind: "observed", account: fresh, classification: classifyStatus(fresh.customerManagedKeyStatus) } : { kind: "account-missing" };
      } catch (error) {
        ctx.stats.confirmationsFailed += 1;
        const info = describeFailure(error);
        log.warn(`cmk-monitor: could not confirm ${change.item.accountId} with ARM (${info.reason}): ${info.message}; its state change waits for the next cycle`);
        // Unconfirmed: no state change this cycle, but deadlines still count.
        input = { kind: "tick" };
      }
      const item: WorkItem = { accountId: change.item.accountId, record: change.item.record, input, confirmed: true };
      if (change.item.probe && input.kind === "observed") item.probe = change.item.probe;
      const { decision, probeStateChanged } = decideItem(item, item.record.incident, ctx.now, lifecycle);
      const overturned = !decision.reasons.some((reason) => change.decision.reasons.includes(reason) && STATE_CHANGES.has(reason));
      if (overturned && input.kind !== "tick") ctx.stats.confirmationsOverturned += 1;
      if (decision.reasons.length === 0 && decision.events.length === 0 && !probeStateChanged) return undefined;
      return { item, decision };
    });
    return confirmed.filter((change): change is PlannedChange => change !== undefined);
  },
};
