/**
 * Port: the monitor's memory. A state change and the messages it causes are committed together
 * (one ETag-guarded transaction in the account's partition), so two monitors deciding the same
 * thing cannot both commit it; the loser gets StateConflictError (./errors).
 */
import type { DeliveryResults } from "../domain/deliveryReport";
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
  /** Bumped when ACS reported the operation Failed or Canceled, so the retry is a new ACS operation. */
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
  /**
   * The ACS operation of an attempt whose outcome is unknown: written just before the POST
   * (`markPostStarting`), cleared once ACS's answer is recorded. Set on a row about to be sent, it means "ask ACS
   * for this operation first" (docs/azure-behaviour.md, "Email send protocol").
   */
  unverifiedOperationId?: string;
  /** On a sent (accepted) row: when to read the operation's final status, once. */
  outcomeCheckAt?: string;
  /** Per recipient, the latest ACS delivery report (Event Grid); absent until one arrives. */
  deliveryResults?: DeliveryResults;
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
   * Every incident the store keeps, open and resolved (the retention sweep prunes a resolved one's
   * events and emails, never its row), each once; with `accountId`, only that account's (one partition).
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
  /**
   * Takes a lease on a message (binding it to `digestId` if given) and records `operationId` as the
   * attempt whose outcome is not known yet; undefined when another instance holds it or it changed.
   */
  claimMessage(
    stored: StoredMessage,
    now: Date,
    leaseInSeconds: number,
    options?: { digestId?: string; operationId?: string },
  ): Promise<StoredMessage | undefined>;
  /**
   * Records `operationId` as the attempt whose outcome is not known, just before its POST leaves
   * (ETag-guarded on the claimed row): from then a crash leaves the row "ask ACS first", before it
   * nothing was sent. Undefined when the row changed meanwhile (the lease was lost): do not send.
   */
  markPostStarting(stored: StoredMessage, operationId: string): Promise<StoredMessage | undefined>;
  /** ACS accepted the operation (202, or a status read said so); `outcomeCheckAt` schedules the one final-status read. */
  markSent(stored: StoredMessage, now: Date, operationId: string, options?: { outcomeCheckAt?: Date }): Promise<void>;
  /**
   * Records a failed attempt; `newOperation` when ACS reported the operation Failed or Canceled (not
   * delivered); `releaseDigest` unbinds the row from its digest (only when that digest was
   * definitely not delivered); `verified` when ACS provably did not accept it (no status read
   * needed before the retry). Works on sent rows too (an outcome read that found the operation Failed).
   */
  markFailed(
    stored: StoredMessage,
    error: string,
    retryAt: Date | undefined,
    options?: { newOperation?: boolean; releaseDigest?: boolean; verified?: boolean },
  ): Promise<void>;
  /** The last ISO week a weekly report was recorded for ("2026-W48"), and its state row's ETag. */
  getWeeklyReportState(): Promise<{ lastWeek: string | undefined; etag: string | undefined }>;
  /**
   * The weekly report's outbox row and the state naming its week, in one transaction guarded by
   * the state's ETag (created when `etag` is undefined); StateConflictError when another instance
   * recorded one first.
   */
  commitWeeklyReport(week: string, etag: string | undefined, message: OutboxMessage): Promise<void>;
  /** Sent rows whose final-status read is due. */
  listOutcomeChecks(now: Date): Promise<StoredMessage[]>;
  /**
   * Moves a sent row's final-status read (ETag-guarded): to `nextCheckAt` (a lease while this
   * instance reads it), or done when undefined. Undefined when another instance changed the row first.
   */
  markOutcomeChecked(stored: StoredMessage, nextCheckAt?: Date): Promise<StoredMessage | undefined>;
}
