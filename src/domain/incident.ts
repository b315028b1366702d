/**
 * Incident data: one open incident per revoked account. Plain, serialisable data; the
 * lifecycle (src/domain/lifecycle.ts) is a pure function over it.
 */
import type { CmkAccount } from "./account";
import type { CauseId } from "./causes";

export type IncidentState = "revoked" | "recovering" | "escalated" | "resolved";

export type FixSource = "acknowledged" | "observed" | "detection";

export interface Incident {
  /** Deterministic: derived from the account id and the detection time. */
  id: string;
  accountId: string;
  state: IncidentState;
  cause: CauseId;
  code: number | null;
  /** The status text last seen from Azure (untrusted, truncated). */
  statusText: string;
  detectedAt: string;
  /** When the owner's fix was acknowledged or observed; starts the recovery clock. */
  fixObservedAt?: string;
  fixSource?: FixSource;
  /** Who acknowledged, for the timeline. */
  fixAcknowledgedBy?: string;
  /** Recovery clock start: the fix, or detection for causes nobody has to fix. */
  clockStartedAt?: string;
  expectedRecoveryBy?: string;
  escalateAt?: string;
  escalatedAt?: string;
  nextReminderAt?: string;
  /** Reminders (never escalation) are paused until then. */
  remindersSnoozedUntil?: string;
  reminderCount: number;
  resolvedAt?: string;
  resolution?: "recovered" | "account-removed";
  /** Everyone who has been emailed about this incident, for the resolved notice. */
  notified: string[];
  /** The account as last seen, for rendering commands in emails. */
  account: CmkAccount;
  /** Monotonic counter of events, so event row keys are ordered and unique. */
  eventCount: number;
}

export type IncidentEventType =
  | "detected"
  | "reminded"
  | "cause-changed"
  | "fix-acknowledged"
  | "fix-observed"
  | "fix-undone"
  | "snoozed"
  | "escalated"
  | "resolved"
  | "recipients-dropped";

export interface IncidentEvent {
  incidentId: string;
  seq: number;
  at: string;
  type: IncidentEventType;
  cause: CauseId;
  detail: string;
}

export type MessageKind =
  | "revoked"
  | "reminder"
  | "cause-changed"
  | "fix-acknowledged"
  | "fix-observed"
  | "fix-undone"
  | "escalation"
  | "resolved";

/** An email to send, recorded in the outbox together with the state change that caused it. */
export interface OutboxMessage {
  /** Deterministic idempotency key: the same transition always yields the same key. */
  key: string;
  incidentId: string;
  accountId: string;
  kind: MessageKind;
  to: string[];
  cc: string[];
  createdAt: string;
  facts: MessageFacts;
}

/** Everything a template needs; rendering is pure over this. */
export interface MessageFacts {
  kind: MessageKind;
  incident: Incident;
  /** The timeline so far (escalation emails carry it for the support case). */
  timeline: IncidentEvent[];
  previousCause?: CauseId;
  reminderNumber?: number;
}
