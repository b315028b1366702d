/**
 * The one load → decide → commit → retry loop. Every change to an account's incident goes through
 * it: the record stage, `cmk-monitor ack` and the email links. A commit is ETag-guarded; when
 * another writer got there first (StateConflictError) the record is read again and the step
 * decides again from what that writer left, possibly that nothing is left to do.
 */
import type { Decision } from "../domain/lifecycle";
import { StateConflictError } from "../ports/errors";
import type { AccountRecord, CommitOptions, IncidentStore } from "../ports/incidentStore";

/** What a step decided from the record it was given: commit this, or stop with a value. */
export type IncidentStep<Stop> = { commit: Decision; commitOptions?: CommitOptions } | { stop: Stop };

export type IncidentOutcome<Stop> =
  | { outcome: "committed"; record: AccountRecord; decision: Decision }
  | { outcome: "stopped"; value: Stop }
  /** Every attempt lost a race: the next cycle (or the person, trying again) picks it up. */
  | { outcome: "gave-up"; attempts: number };

export interface ApplyToIncidentOptions {
  /** The record already read (the first attempt uses it instead of reading again). */
  record?: AccountRecord;
  maxAttempts?: number;
  /** Called for each lost race. */
  onConflict?(): void;
}

export const MAX_COMMIT_ATTEMPTS = 4;

/** Errors other than a lost race are thrown to the caller. */
export async function applyToIncident<Stop>(
  store: Pick<IncidentStore, "getRecord" | "commit">,
  accountId: string,
  step: (record: AccountRecord, attempt: number) => IncidentStep<Stop> | Promise<IncidentStep<Stop>>,
  options: ApplyToIncidentOptions = {},
): Promise<IncidentOutcome<Stop>> {
  const maxAttempts = options.maxAttempts ?? MAX_COMMIT_ATTEMPTS;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const record = attempt === 1 && options.record ? options.record : await store.getRecord(accountId);
    const next = await step(record, attempt);
    if ("stop" in next) return { outcome: "stopped", value: next.stop };
    try {
      await store.commit(record, next.commit, next.commitOptions);
      return { outcome: "committed", record, decision: next.commit };
    } catch (error) {
      if (!(error instanceof StateConflictError)) throw error;
      options.onConflict?.();
    }
  }
  return { outcome: "gave-up", attempts: maxAttempts };
}
