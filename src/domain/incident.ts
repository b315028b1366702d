/**
 * Incident data: one open incident per revoked account. Plain, serialisable data; the
 * lifecycle (src/domain/lifecycle.ts) is a pure function over it.
 */
import type { CmkAccount } from "./account";
import type { CauseId } from "./causes";
import type { EvidenceLine } from "./probeFindings";
import type { AtRiskFacts } from "./atRisk";
import type { WarningDigestFacts } from "./warnings";
import type { WeeklyReportFacts } from "./weeklyReport";

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
  /**
   * The first fix the monitor observed for the current cause. Later observed fixes (after an undo:
   * a flapping probe) escalate from it instead of restarting the clock.
   */
  firstFixObservedAt?: string;
  /** Owners hear of the first observed fix and the first undo of an incident's cause; later flaps are events only. */
  fixObservedEmailed?: boolean;
  fixUndoneEmailed?: boolean;
  /** Recovery clock start: the fix, or detection for causes nobody has to fix. */
  clockStartedAt?: string;
  expectedRecoveryBy?: string;
  escalateAt?: string;
  escalatedAt?: string;
  nextReminderAt?: string;
  /** Reminders (never escalation) are paused until then. */
  remindersSnoozedUntil?: string;
  /** Addresses new to this incident emailed on `day` (UTC), bounded by the context's newRecipientsPerDay. */
  newRecipients?: { day: string; count: number };
  /** Snooze time granted so far, all snoozes together; bounded by MAX_TOTAL_SNOOZE_IN_HOURS. */
  snoozedInMinutes?: number;
  reminderCount: number;
  resolvedAt?: string;
  resolution?: "recovered" | "account-removed";
  /** Emails sent about it, written by the retention sweep (src/domain/retention.ts) before it deletes them. */
  emailsSent?: number;
  /** Everyone who has been emailed about this incident, for the resolved notice. */
  notified: string[];
  /** The account as last seen, for rendering commands in emails. */
  account: CmkAccount;
  /** Monotonic counter of events, so event row keys are ordered and unique. */
  eventCount: number;
  /**
   * The last conclusive verdict of the monitor's own probes on `cause` (src/domain/probeDecision.ts):
   * a change from "present" to "gone" is a fix observed without anyone acknowledging it.
   */
  probe?: { cause: CauseId; verdict: "present" | "gone"; at: string; detail: string };
  /** The at-risk warning this revocation followed (src/domain/atRisk.ts), shown as "we warned at …". */
  priorWarning?: { at: string; title: string };
  /** The Microsoft support ticket for this incident (CMK_SUPPORT_TICKETS=create); see src/domain/supportTicketFiling.ts. */
  supportTicket?: SupportTicketRecord;
}

/**
 * What the monitor knows of its support ticket. "creating" is the intent, recorded before each
 * create call: while it is recent, a create may still be running and no second one is started.
 */
export type SupportTicketRecord =
  | { state: "creating"; name: string; firstTriedAt: string; createStartedAt?: string; attempts: number; lastError?: string }
  | { state: "filed"; name: string; ticketNumber: string; filedAt: string; subscriptionId: string; status?: string; statusCheckedAt?: string }
  | { state: "not-filed"; name: string; reason: string; at: string };

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
  | "recipients-dropped"
  | "support-ticket";

export interface IncidentEvent {
  incidentId: string;
  seq: number;
  at: string;
  type: IncidentEventType;
  cause: CauseId;
  detail: string;
}

/** Emails about one incident. */
export type IncidentMessageKind = "revoked" | "reminder" | "cause-changed" | "fix-acknowledged" | "fix-observed" | "fix-undone" | "escalation" | "resolved";

/** Every email the monitor sends: incident emails, urgent at-risk warnings, the daily warning digest per recipient, the weekly report. */
export type MessageKind = IncidentMessageKind | "at-risk" | "warning-digest" | "weekly-report";

/** An email to send, recorded in the outbox together with the state change that caused it. */
export interface OutboxMessage {
  /** Deterministic idempotency key: the same transition always yields the same key. */
  key: string;
  /** For a warning digest: "warning-digest-<date>". */
  incidentId: string;
  /** The account; for a warning digest, the recipient's digest key (`digest-owner:<hash>`). Picks the store partition. */
  accountId: string;
  kind: MessageKind;
  to: string[];
  cc: string[];
  createdAt: string;
  /** A digest's facts when `kind` is "warning-digest", a warning's when "at-risk", the report's for "weekly-report"; an incident email's otherwise. */
  facts: MessageFacts | AtRiskFacts | WarningDigestFacts | WeeklyReportFacts;
}

/** Everything a template needs; rendering is pure over this. */
export interface MessageFacts {
  kind: IncidentMessageKind;
  incident: Incident;
  /** The timeline so far (escalation emails carry it for the support case). */
  timeline: IncidentEvent[];
  previousCause?: CauseId;
  reminderNumber?: number;
  /** What the probes found when the message was recorded ("What we checked"). */
  evidence?: EvidenceLine[];
}

/** An incident email's facts, as opposed to a digest's, an at-risk warning's or the weekly report's (which are about no incident). */
export function isIncidentFacts(facts: OutboxMessage["facts"]): facts is MessageFacts {
  return facts.kind !== "warning-digest" && facts.kind !== "at-risk" && facts.kind !== "weekly-report";
}
