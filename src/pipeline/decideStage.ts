/** Pure: what should happen to each account now. Items with nothing to do stop here. */
import type { Incident } from "../domain/incident";
import { decide, type Decision, type LifecycleContext } from "../domain/lifecycle";
import { decideWithProbe } from "../domain/probeDecision";
import type { Stage } from "./stage";
import type { PlannedChange, WorkItem } from "./workItem";

export const decideStage: Stage<WorkItem, PlannedChange> = {
  name: "decide",
  async run(ctx, items) {
    const changes: PlannedChange[] = [];
    for (const item of items) {
      const decided = decideItem(item, item.record.incident, ctx.now, ctx.lifecycle);
      if (needsCommit(decided)) changes.push({ item, decision: decided.decision });
    }
    return changes;
  },
};

export interface ItemDecision {
  decision: Decision;
  /** The probes' state changed (evidence, fix observed): a commit is needed even without an event. */
  probeStateChanged: boolean;
}

/**
 * The decision for one item: the lifecycle alone, or with the probes' verdict (which may add
 * "fix-observed"/"fix-undone" and evidence).
 */
export function decideItem(item: WorkItem, incident: Incident | undefined, now: Date, lifecycle: LifecycleContext): ItemDecision {
  if (!item.probe) return { decision: decide(incident, item.input, now, lifecycle), probeStateChanged: false };
  const { decision, probeStateChanged } = decideWithProbe(incident, item.input, item.probe, now, lifecycle);
  return { decision, probeStateChanged };
}

/** Anything to record: a reason, an event, or changed probe state. */
export function needsCommit({ decision, probeStateChanged }: ItemDecision): boolean {
  return decision.reasons.length > 0 || decision.events.length > 0 || probeStateChanged;
}
