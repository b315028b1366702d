/**
 * Where the stages are wired (the counterpart of Alertmanager's PipelineBuilder). A run builds the
 * pipeline it needs with that run's own state as constructor arguments.
 */
import { claimStage } from "./claimStage";
import { confirmStage } from "./confirmStage";
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

/** The sending half: due → group → pace → claim → send, within `scope`, counting into `tally`. */
export function sendPipeline(scope: OutboxScope, tally: SendTally): Stage<Date, SendOutcome> {
  return chain(chain(chain(chain(dueMessagesStage(scope), groupStage), paceStage(tally)), chain(claimStage, supportTicketStage)), sendStage(tally));
}
