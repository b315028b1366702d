/**
 * Port: the monitor's memory. A state change and the messages it causes are committed together
 * (one ETag-guarded transaction in the account's partition), so two monitors deciding the same
 * thing cannot both commit it; the loser gets StateConflictError (./errors).
 */
import type { Incident, IncidentEvent, OutboxMessage } from "../domain/incident";
import type { Decision } from "../domain/lifecycle";

/** The stored state of one account: its current (or last) incident and the row's ETag. */
export interface AccountRecord {
  accountId: string;
  incident: Incident | undefined;
  etag: string | undefined;
}

export type MessageStatus = "pending" | "sending" | "sent" | "dead";

export interface StoredMessage {
  message: OutboxMessage;
  status: MessageStatus;
  attempts: number;
  /** Bumped when ACS definitely did not deliver, so the retry is a new ACS operation. */
  generation: number;
  nextAttemptAt: string;
  leaseUntil?: string;
  sentAt?: string;
  operationId?: string;
  lastError?: string;
  /**
   * Set when the row was claimed as part of a digest email (src/pipeline/sendUnit.ts): from then
   * on it is only ever sent with the other rows of that digest, under the digest's operation id.
   */
  digestId?: string;
  etag: string;
}

export interface CommitOptions {
  /**
   * Marks an email link's token as used in the same transaction as the change it made, so a
   * reused token can never change anything twice (the row already exists: the whole commit fails).
   */
  consumeLinkToken?: { nonce: string; action: string; incidentId: string };
}

/** Port: the monitor's memory of incidents, their timelines and their outbox (one partition per account). */
export interface IncidentStore {
  listOpenRecords(): Promise<AccountRecord[]>;
  getRecord(accountId: string): Promise<AccountRecord>;
  /** Applies a decision atomically; throws StateConflictError when the record changed meanwhile. */
  commit(record: AccountRecord, decision: Decision, options?: CommitOptions): Promise<void>;
  /** True when a link token with this nonce was used on the account (see CommitOptions). */
  isLinkTokenUsed(accountId: string, nonce: string): Promise<boolean>;
  listEvents(accountId: string, incidentId: string): Promise<IncidentEvent[]>;
  /**
   * Every incident the store keeps, open and resolved (resolved ones stay until deleted by hand:
   * nothing prunes them yet), each once; with `accountId`, only that account's (one partition).
   */
  listIncidents(filter?: { accountId?: string }): Promise<Incident[]>;
  /** Rows due now; with `withDigestMembers`, also every unsent row bound to a digest, due or not. */
  listDueMessages(now: Date, options?: { withDigestMembers?: boolean }): Promise<StoredMessage[]>;
  /** One outbox row; undefined when it does not exist. */
  getMessage(accountId: string, key: string): Promise<StoredMessage | undefined>;
  /** Outbox rows, oldest first; with `accountId`, only that account's (one partition). */
  listMessages(filter?: { status?: MessageStatus; accountId?: string }): Promise<StoredMessage[]>;
  /** When each email handed to ACS since `since` was sent (incident emails and digests), for the trends; reads that one column. */
  listSentTimes(since: Date): Promise<string[]>;
  /** Takes a lease on a message (binding it to `digestId` if given); undefined when another instance holds it or it changed. */
  claimMessage(stored: StoredMessage, now: Date, leaseInSeconds: number, options?: { digestId?: string }): Promise<StoredMessage | undefined>;
  markSent(stored: StoredMessage, now: Date, operationId: string): Promise<void>;
  /**
   * Records a failed attempt; `newOperation` when ACS reported the operation Failed (not delivered);
   * `releaseDigest` unbinds the row from its digest (only when that digest was definitely not delivered).
   */
  markFailed(stored: StoredMessage, error: string, retryAt: Date | undefined, options?: { newOperation?: boolean; releaseDigest?: boolean }): Promise<void>;
}
