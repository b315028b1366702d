/** What flows through the decision stages: one account's work item, and the change decided for it. */
import type { Decision, LifecycleInput } from "../domain/lifecycle";
import type { ProbeFacts } from "../domain/probeFacts";
import type { AccountRecord } from "../ports/incidentStore";

/** One account to decide this run (not to be confused with a work batch on the queue). */
export interface WorkItem {
  accountId: string;
  record: AccountRecord;
  input: LifecycleInput;
  /** What the probes found this run (revoked accounts only; see probeStage.ts). */
  probe?: ProbeFacts;
  /** The input is a fresh ARM GET (confirmStage.ts), not a possibly lagging listing. */
  confirmed?: boolean;
}

export interface PlannedChange {
  item: WorkItem;
  decision: Decision;
}
