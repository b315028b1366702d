/** The warnings' memory: see WarningStore. */
import type { AtRiskState } from "../domain/atRisk";
import type { OutboxMessage } from "../domain/incident";
import type { CheckedAccount, DigestState } from "../domain/warnings";

export interface StoredAccountCheck {
  check: CheckedAccount;
  etag: string;
  /** Recorded by a work batch: the recipients' digests are planned by the timer's next cycle. */
  pendingDigest?: boolean;
}

/**
 * Port: the warnings' memory. Per healthy account, its last daily check (a row in one of the
 * "warning-checks-<shard>" partitions); per recipient, what their last digest reported (a "digest"
 * row in the recipient's own partition, beside the digest's outbox rows).
 */
export interface WarningStore {
  listAccountChecks(): Promise<StoredAccountCheck[]>;
  /** One account's last daily check; undefined when it was never checked. */
  getAccountCheck(accountId: string): Promise<StoredAccountCheck | undefined>;
  /** Records a check; false when another instance recorded one first (its etag moved on). */
  putAccountCheck(check: CheckedAccount, etag: string | undefined, options?: { pendingDigest?: boolean }): Promise<boolean>;
  /**
   * Records many checks at once (one transaction per 100, the table's limit, per write group), each
   * still replacing exactly the row its ETag names; returns the account ids recorded.
   */
  putAccountChecks(entries: ReadonlyArray<{ check: CheckedAccount; etag: string | undefined; pendingDigest?: boolean }>): Promise<Set<string>>;
  /** Checks with the same group can share one putAccountChecks transaction (they live in one partition). */
  checkWriteGroup(accountId: string): string;
  /** The digests for a pending check were planned; false when the row changed meanwhile (it stays pending). */
  clearPendingDigest(entry: StoredAccountCheck): Promise<boolean>;
  getDigestState(recipient: string): Promise<{ state: DigestState; etag: string | undefined }>;
  /** The digest email and the state that says what it reported, in one transaction; StateConflictError on a race. */
  commitDigest(state: DigestState, etag: string | undefined, message: OutboxMessage): Promise<void>;
  /** An account's urgent (at-risk) findings already warned about; undefined state when there are none yet. */
  getAtRisk(accountId: string): Promise<{ state: AtRiskState | undefined; etag: string | undefined }>;
  /**
   * The at-risk state and the emails it causes, in one ETag-guarded transaction in the account's
   * partition (the messages' keys are deterministic); StateConflictError on a race.
   */
  commitAtRisk(state: AtRiskState, etag: string | undefined, messages: readonly OutboxMessage[]): Promise<void>;
}
