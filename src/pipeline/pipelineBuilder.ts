/**
 * Where the stages are wired (the counterpart of Alertmanager's PipelineBuilder). A run builds the
 * pipeline it needs with that run's own state as constructor arguments.
 */
import { claimStage } from "./claimStage";
import { confirmStage } from "./confirmStage";
import { deferForDeadline } from "./cycleContext";
import { decideStage } from "./decideStage";
import { dueMessagesStage } from "./dueMessagesStage";
import { groupStage } from "./groupStage";
import { paceStage } from "./paceStage";
import { probeStage } from "./probeStage";
import { recordStage } from "./recordStage";
import { sendStage, type SendOutcome } from "./sendStage";
import { supportTicketStage } from "./supportTicketStage";
import type { OutboxScope, SendTally } from "./sendUnit";
import { chain, type Stage } from "./stage";
import type { PlannedChange, WorkItem } from "./workItem";

/**
 * The decision half of a run: probe → decide → confirm → record. `confirmChanges` when the
 * observations may lag ARM (Resource Graph, a queued batch's snapshot).
 */
export function decidePipeline(options: { confirmChanges: boolean }): Stage<WorkItem, PlannedChange> {
  return chain(chain(chain(probeStage, decideStage), confirmStage(options.confirmChanges)), recordStage);
}

/**
 * The sending half: (deadline) → due → group → pace → claim → send, within `scope`, counting into
 * `tally`. Near the invocation's deadline nothing new is claimed: the outbox keeps it for the next drain.
 */
export function sendPipeline(scope: OutboxScope, tally: SendTally): Stage<Date, SendOutcome> {
  return chain(
    chain(chain(chain(chain(sendDeadlineGate, dueMessagesStage(scope)), groupStage), paceStage(tally)), chain(claimStage, supportTicketStage)),
    sendStage(tally),
  );
}

/** Passes the drain on only while there is time to claim, send and record before the deadline. */
export const sendDeadlineGate: Stage<Date, Date> = {
  name: "deadline",
  async run(ctx, batch) {
    if (!deferForDeadline(ctx)) return [...batch];
    ctx.deps.log.info("cmk-monitor: near the invocation's time limit; the outbox is left for the next drain");
    return [];
  },
};
