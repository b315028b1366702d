/**
 * What a drill produced, in the shapes `drill --json` prints: the timeline entries, one row
 * per incident, and the summary computed from them. The field names are a public contract
 * (docs/scenarios.md); add fields, never rename one.
 */
import type { CauseId } from "../domain/causes";
import type { MessageKind } from "../domain/incident";
import type { WarningKind, WarningSeverity } from "../domain/warnings";

export const TIMELINE_TYPES = [
  "detected",
  "email",
  "fix-acknowledged",
  "fix-observed",
  "fix-undone",
  "cause-changed",
  "escalated",
  "resolved",
  "warning",
  "warning-resolved",
  "support-ticket",
] as const;

export type TimelineType = (typeof TIMELINE_TYPES)[number];

export const MESSAGE_KINDS: readonly MessageKind[] = [
  "revoked",
  "reminder",
  "cause-changed",
  "fix-acknowledged",
  "fix-observed",
  "fix-undone",
  "escalation",
  "resolved",
  "at-risk",
  "warning-digest",
];

export interface TimelineEntry {
  /** Minutes since the scenario's start. */
  atMinute: number;
  /** The same moment as an ISO time, in simulated time. */
  at: string;
  /** The account's name; for a warning digest, its recipient's address. */
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
  /** fix-observed, fix-undone: what the probes saw, in their words. */
  detail?: string;
  /** fix-acknowledged, fix-observed: when recovery is expected and when the incident escalates if it is still revoked. */
  expectedRecoveryAtMinute?: number;
  escalateAtMinute?: number;
  /** warning, warning-resolved: the kind of finding on a healthy account, e.g. "key-expires-soon". */
  finding?: WarningKind;
  severity?: WarningSeverity;
  /** warning, warning-resolved: the finding's headline, e.g. "Key expires in 12 days". */
  title?: string;
  /** At-risk emails: "push" when a change event's re-check found it, "catch-up" when the resourcechanges catch-up's did, "poll" when a poll's daily check did. */
  via?: AtRiskVia;
  /** Warning-digest emails: the accounts the digest reports on (current and resolved findings). */
  accounts?: string[];
  /** support-ticket: the ticket the monitor filed in the sandbox (CMK_SUPPORT_TICKETS=create). */
  ticketName?: string;
  ticketNumber?: string;
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
  /** Fixes the probes saw without an acknowledgment. */
  fixObservedAtMinutes: number[];
  /** Observed or acknowledged fixes the probes then saw undone. */
  fixUndoneAtMinutes: number[];
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
  /** Accounts never emailed about, in an incident email or a warning digest (healthy throughout, or never caught). */
  neverEmailed: string[];
  /** Fixes seen by the probes without anyone acknowledging them. */
  fixesObserved: number;
  fixesAcknowledged: number;
  fixesUndone: number;
  /** Findings on healthy accounts (`warning` entries), and how many of them later went away. */
  warningFindings: number;
  warningFindingsResolved: number;
  /** Support tickets the monitor filed (CMK_SUPPORT_TICKETS=create in the drill). */
  supportTickets: number;
  /** Healthy accounts with at least one warning finding, in order of first warning. */
  warnedAccounts: string[];
  /** From Azure reporting revoked to the monitor's detection; bounded by the poll interval. */
  meanTimeToDetectMinutes: number | null;
  maxTimeToDetectMinutes: number | null;
  /** From detection to the resolving poll, over resolved incidents. */
  meanTimeToResolveMinutes: number | null;
  /** Engine warnings and ignored scenario events; see `warnings` in the result. */
  warnings: number;
  /** At-risk warnings (not their "resolved"), minutes from the scenario's change behind each to its email, by how the monitor heard of it. */
  atRiskWarnings: Record<AtRiskVia, AtRiskFigures>;
}

/** How the monitor heard of the change behind an at-risk email. */
export type AtRiskVia = "push" | "catch-up" | "poll";

export interface AtRiskFigures {
  count: number;
  meanMinutesAfterChange: number | null;
  maxMinutesAfterChange: number | null;
}

export function summarize(input: {
  accountNames: readonly string[];
  polls: number;
  timeline: readonly TimelineEntry[];
  incidents: readonly DrillIncident[];
  warnings: number;
  /** The scenario's sandbox changes (the facts behind accounts), for the at-risk figures. */
  sandboxChanges?: ReadonlyArray<{ atMinute: number; account: string }>;
}): DrillSummary {
  const { timeline, incidents } = input;
  const emails = timeline.filter((entry) => entry.type === "email");
  const emailsByKind = Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, 0])) as Record<MessageKind, number>;
  for (const email of emails) if (email.kind) emailsByKind[email.kind] += 1;
  const emailed = new Set(emails.flatMap((email) => (email.kind === "warning-digest" ? (email.accounts ?? []) : [email.account])));
  const count = (type: TimelineEntry["type"]) => timeline.filter((entry) => entry.type === type).length;
  const resolved = incidents.filter((incident) => incident.resolvedAtMinute !== undefined);
  const escalated = incidents.filter((incident) => incident.escalatedAtMinute !== undefined).sort((a, b) => a.escalatedAtMinute! - b.escalatedAtMinute!);
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
    fixesObserved: count("fix-observed"),
    fixesAcknowledged: count("fix-acknowledged"),
    fixesUndone: count("fix-undone"),
    warningFindings: count("warning"),
    warningFindingsResolved: count("warning-resolved"),
    supportTickets: count("support-ticket"),
    warnedAccounts: [...new Set(timeline.filter((entry) => entry.type === "warning").map((entry) => entry.account))],
    meanTimeToDetectMinutes: mean(detectDelays),
    maxTimeToDetectMinutes: detectDelays.length === 0 ? null : Math.max(...detectDelays),
    meanTimeToResolveMinutes: mean(resolved.map((incident) => incident.resolvedAtMinute! - incident.detectedAtMinute)),
    warnings: input.warnings,
    atRiskWarnings: atRiskFigures(emails, input.sandboxChanges ?? []),
  };
}

/** From the last change to the account at or before each at-risk email; an email with no change before it (a fact true from the start) is left out. */
function atRiskFigures(emails: readonly TimelineEntry[], changes: ReadonlyArray<{ atMinute: number; account: string }>): DrillSummary["atRiskWarnings"] {
  const delays: Record<AtRiskVia, number[]> = { push: [], "catch-up": [], poll: [] };
  for (const email of emails) {
    if (email.kind !== "at-risk" || !email.subject?.startsWith("[CMK at risk]")) continue;
    const change = changes.filter((c) => c.account === email.account && c.atMinute <= email.atMinute).at(-1);
    if (change) delays[email.via ?? "poll"].push(email.atMinute - change.atMinute);
  }
  const figures = (values: number[]): AtRiskFigures => ({
    count: values.length,
    meanMinutesAfterChange: mean(values),
    maxMinutesAfterChange: values.length === 0 ? null : Math.max(...values),
  });
  return { push: figures(delays.push), "catch-up": figures(delays["catch-up"]), poll: figures(delays.poll) };
}

/** Rounded to a tenth of a minute: finer is noise at poll granularity. */
function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return Math.round((values.reduce((sum, value) => sum + value, 0) / values.length) * 10) / 10;
}
