/**
 * Port: where ACS delivery reports are recorded (on the outbox rows, beside the send state) and
 * counted (the monitor's meta table: what the status page shows). docs/azure-behaviour.md, "Email
 * delivery reports".
 */
import type { DeliveryResults, IgnoredReason } from "../domain/deliveryReport";
import type { StoredMessage } from "./incidentStore";

export interface DeliveryReportStore {
  /**
   * The outbox rows sent (or being verified) under this ACS operation id: one row, or every row of
   * a digest (they share the digest's operation). Empty when none is known.
   */
  findMessagesByOperation(operationId: string): Promise<StoredMessage[]>;
  /** One outbox row as stored now; undefined when it does not exist. */
  getMessage(accountId: string, key: string): Promise<StoredMessage | undefined>;
  /**
   * Replaces the row's per-recipient delivery results under the ETag `stored` was read with, and
   * touches nothing else; false when the row changed (or went) since.
   */
  recordDeliveryResults(stored: StoredMessage, results: DeliveryResults): Promise<boolean>;
}

/** What became of one event. */
export type DeliveryEventOutcome = "recorded" | "unchanged" | "unmatched" | "ignored";

/** An escalation email a recipient's latest report says did not arrive. */
export interface UndeliveredEscalation {
  /** The outbox row's key. */
  key: string;
  accountId: string;
  incidentId: string;
  recipient: string;
  status: string;
  at: string;
  details?: string;
}

export interface DeliveryReportTally {
  recorded: number;
  unchanged: number;
  unmatched: number;
  ignored: Partial<Record<IgnoredReason, number>>;
  lastEventAt: string | null;
  /** Newest first, at most a few dozen; an escalation whose recipient later reported Delivered leaves the list. */
  undeliveredEscalations: UndeliveredEscalation[];
}

export interface DeliveryReportLog {
  /**
   * Counts one event's outcome; with `escalation`, also keeps that recipient's entry in the list of
   * undelivered escalations current (added when `undelivered`, removed otherwise).
   */
  countDeliveryEvent(
    at: Date,
    outcome: DeliveryEventOutcome,
    detail?: { ignoredReason?: IgnoredReason; escalation?: { entry: UndeliveredEscalation; undelivered: boolean } },
  ): Promise<void>;
  /** The counts so far; undefined before the first event. */
  deliveryReportTally(): Promise<DeliveryReportTally | undefined>;
}
