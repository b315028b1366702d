/**
 * What a drill produced, in the shapes `drill --json` prints: the timeline entries, one row
 * per incident, and the summary computed from them. The field names are a public contract
 * (docs/scenarios.md); add fields, never rename one.
 */
import type { CauseId } from "../domain/causes";
import type { MessageKind } from "../domain/incident";

export const TIMELINE_TYPES = [
  "detected",
  "email",
  "fix-acknowledged",
  "fix-observed",
  "cause-changed",
  "escalated",
  "resolved",
] as const;

export type TimelineType = (typeof TIMELINE_TYPES)[number];

export const MESSAGE_KINDS: readonly MessageKind[] = ["revoked", "reminder", "cause-changed", "fix-acknowledged", "escalation", "resolved"];

export interface TimelineEntry {
  /** Minutes since the scenario's start. */
  atMinute: number;
  /** The same moment as an ISO time, in simulated time. */
  at: string;
  account: string;
  type: TimelineType;
  /** The incident's cause after this entry (absent on emails the drill cannot attribute). */
  cause?: CauseId;
  /** The CMK code Azure reported, when there was one. */
  code?: number;
  /** Emails: which message it is. */
  kind?: MessageKind;
  /** Emails: recipients. */
  to?: string[];
  cc?: string[];
  subject?: string;
  /** fix-acknowledged: who said it was fixed. */
  by?: string;
  /** fix-acknowledged: the scenario's note on the event, if any. */
  note?: string;
}

/** One incident from detection to resolution (or the end of the drill). */
export interface DrillIncident {
  incidentId: string;
  account: string;
  /** Every cause the incident had, first to last. */
  causes: CauseId[];
  /** When Azure's status first said revoked (from the scenario). */
  revokedAtMinute: number;
  detectedAtMinute: number;
  fixAcknowledgedAtMinutes: number[];
  escalatedAtMinute?: number;
  resolvedAtMinute?: number;
}

export interface DrillSummary {
  accounts: number;
  polls: number;
  incidents: number;
  incidentsResolved: number;
  /** Accounts whose incident was still open when the drill ended. */
  openAtEnd: string[];
  emails: number;
  emailsByKind: Record<MessageKind, number>;
  escalations: number;
  /** In the order they were escalated. */
  escalatedAccounts: string[];
  /** Every cause some incident had, in order of first appearance. */
  causesSeen: CauseId[];
  /** Accounts never emailed about (healthy throughout, or never caught). */
  neverEmailed: string[];
  /** From Azure reporting revoked to the monitor's detection; bounded by the poll interval. */
  meanTimeToDetectMinutes: number | null;
  maxTimeToDetectMinutes: number | null;
  /** From detection to the resolving poll, over resolved incidents. */
  meanTimeToResolveMinutes: number | null;
  /** Engine warnings and ignored scenario events; see `warnings` in the result. */
  warnings: number;
}

export function summarize(input: {
  accountNames: readonly string[];
  polls: number;
  timeline: readonly TimelineEntry[];
  incidents: readonly DrillIncident[];
  warnings: number;
}): DrillSummary {
  const { timeline, incidents } = input;
  const emails = timeline.filter((entry) => entry.type === "email");
  const emailsByKind = Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, 0])) as Record<MessageKind, number>;
  for (const email of emails) if (email.kind) emailsByKind[email.kind] += 1;
  const emailed = new Set(emails.map((email) => email.account));
  const resolved = incidents.filter((incident) => incident.resolvedAtMinute !== undefined);
  const escalated = incidents
    .filter((incident) => incident.escalatedAtMinute !== undefined)
    .sort((a, b) => a.escalatedAtMinute! - b.escalatedAtMinute!);
  const detectDelays = incidents.map((incident) => incident.detectedAtMinute - incident.revokedAtMinute);
  return {
    accounts: input.accountNames.length,
    polls: input.polls,
    incidents: incidents.length,
    incidentsResolved: resolved.length,
    openAtEnd: incidents.filter((incident) => incident.resolvedAtMinute === undefined).map((incident) => incident.account),
    emails: emails.length,
    emailsByKind,
    escalations: escalated.length,
    escalatedAccounts: escalated.map((incident) => incident.account),
    causesSeen: [...new Set(incidents.flatMap((incident) => incident.causes))],
    neverEmailed: input.accountNames.filter((name) => !emailed.has(name)),
    meanTimeToDetectMinutes: mean(detectDelays),
    maxTimeToDetectMinutes: detectDelays.length === 0 ? null : Math.max(...detectDelays),
    meanTimeToResolveMinutes: mean(resolved.map((incident) => incident.resolvedAtMinute! - incident.detectedAtMinute)),
    warnings: input.warnings,
  };
}

/** Rounded to a tenth of a minute: finer is noise at poll granularity. */
function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return Math.round((values.reduce((sum, value) => sum + value, 0) / values.length) * 10) / 10;
}
