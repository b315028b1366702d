/**
 * The weekly report to the escalation contacts: the last ISO week's incidents, escalations,
 * at-risk findings (the daily checks' warnings), slowest recoveries and trends. Pure: built from
 * the stored incidents and checks, keyed by the ISO week so one week gives one email, whichever
 * instance (or how many) builds it.
 */
import type { CauseId } from "./causes";
import type { Incident, IncidentState, OutboxMessage } from "./incident";
import { SEVERITY_ORDER, type CheckedAccount, type WarningSeverity } from "./warnings";

const DAY_MS = 86_400_000;
/** Rows of a list in the email: a fleet-wide bad week must still make a readable, bounded email. */
export const WEEKLY_REPORT_MAX_ROWS = 50;
const SLOWEST_RECOVERIES = 5;
const TREND_WEEKS = 8;

export interface WeeklyReportIncident {
  accountId: string;
  accountName: string;
  cause: CauseId;
  code: number | null;
  state: IncidentState;
  detectedAt: string;
  escalatedAt?: string;
  resolvedAt?: string;
  /** Detection to resolution; open incidents have none. */
  durationInMinutes?: number;
}

export interface WeeklyReportFacts {
  kind: "weekly-report";
  /** ISO week, e.g. "2026-W48". */
  week: string;
  /** Monday 00:00 UTC of the week, and of the week after (exclusive). */
  from: string;
  to: string;
  totals: { opened: number; resolved: number; escalated: number; openAtEnd: number; atRiskAccounts: number };
  /** Incidents open at any time during the week, newest first, at most WEEKLY_REPORT_MAX_ROWS. */
  incidents: WeeklyReportIncident[];
  /** Incidents escalated during the week. */
  escalations: WeeklyReportIncident[];
  /** Findings of the latest daily check of each healthy account, worst first. */
  atRisk: Array<{ accountId: string; accountName: string; severity: WarningSeverity; title: string }>;
  /** Rows left out of the lists above by the bound. */
  omitted: { incidents: number; escalations: number; atRisk: number };
  /** Resolved during the week, longest first. */
  slowestRecoveries: WeeklyReportIncident[];
  /** One entry per day of the week, Monday first. */
  daily: Array<{ day: string; opened: number; escalated: number; resolved: number }>;
  /** Incidents opened per ISO week, the last TREND_WEEKS weeks ending with this one. */
  weekly: Array<{ week: string; opened: number }>;
}

/** "2026-W49": the ISO 8601 week of a UTC instant (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides the year.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Monday 00:00 UTC of the week holding `at`. */
export function weekStart(at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() || 7) - 1) * DAY_MS);
}

/** The last complete week at `now`: the report due once Monday 00:00 UTC has passed. */
export function reportWeekAt(now: Date): { week: string; from: Date; to: Date } {
  const to = weekStart(now);
  const from = new Date(to.getTime() - 7 * DAY_MS);
  return { week: isoWeek(from), from, to };
}

function within(iso: string | undefined, from: number, to: number): boolean {
  if (!iso) return false;
  const t = Date.parse(iso);
  return t >= from && t < to;
}

function row(incident: Incident): WeeklyReportIncident {
  const duration = incident.resolvedAt ? Math.round((Date.parse(incident.resolvedAt) - Date.parse(incident.detectedAt)) / 60_000) : undefined;
  return {
    accountId: incident.accountId,
    accountName: incident.account?.name || incident.accountId,
    cause: incident.cause,
    code: incident.code,
    state: incident.state,
    detectedAt: incident.detectedAt,
    ...(incident.escalatedAt ? { escalatedAt: incident.escalatedAt } : {}),
    ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
    ...(duration !== undefined && Number.isFinite(duration) && duration >= 0 ? { durationInMinutes: duration } : {}),
  };
}

/** The report for `week` (from reportWeekAt) over every stored incident and the latest checks. */
export function buildWeeklyReport(
  week: { week: string; from: Date; to: Date },
  incidents: readonly Incident[],
  checks: readonly CheckedAccount[],
): WeeklyReportFacts {
  const from = week.from.getTime();
  const to = week.to.getTime();
  const openDuring = incidents.filter((incident) => {
    const detected = Date.parse(incident.detectedAt);
    const resolved = incident.resolvedAt ? Date.parse(incident.resolvedAt) : Number.POSITIVE_INFINITY;
    return detected < to && resolved >= from;
  });
  const newestFirst = [...openDuring].sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || a.accountId.localeCompare(b.accountId));
  const escalated = newestFirst.filter((incident) => within(incident.escalatedAt, from, to));
  const resolved = openDuring.filter((incident) => within(incident.resolvedAt, from, to));
  const openAtEnd = openDuring.filter((incident) => !incident.resolvedAt || Date.parse(incident.resolvedAt) >= to).length;
  const slowest = resolved
    .map(row)
    .sort((a, b) => (b.durationInMinutes ?? 0) - (a.durationInMinutes ?? 0) || a.accountId.localeCompare(b.accountId))
    .slice(0, SLOWEST_RECOVERIES);

  const atRiskAll = checks
    .flatMap((check) =>
      check.findings.map((finding) => ({ accountId: check.accountId, accountName: check.accountName, severity: finding.severity, title: finding.title })),
    )
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.accountName.localeCompare(b.accountName) || a.title.localeCompare(b.title));

  const daily = Array.from({ length: 7 }, (_, index) => {
    const start = from + index * DAY_MS;
    const end = start + DAY_MS;
    return {
      day: new Date(start).toISOString().slice(0, 10),
      opened: incidents.filter((incident) => within(incident.detectedAt, start, end)).length,
      escalated: incidents.filter((incident) => within(incident.escalatedAt, start, end)).length,
      resolved: incidents.filter((incident) => within(incident.resolvedAt, start, end)).length,
    };
  });
  const weekly = Array.from({ length: TREND_WEEKS }, (_, index) => {
    const start = from - (TREND_WEEKS - 1 - index) * 7 * DAY_MS;
    return { week: isoWeek(new Date(start)), opened: incidents.filter((incident) => within(incident.detectedAt, start, start + 7 * DAY_MS)).length };
  });

  return {
    kind: "weekly-report",
    week: week.week,
    from: week.from.toISOString(),
    to: week.to.toISOString(),
    totals: {
      opened: daily.reduce((sum, day) => sum + day.opened, 0),
      resolved: resolved.length,
      escalated: escalated.length,
      openAtEnd,
      atRiskAccounts: new Set(atRiskAll.map((finding) => finding.accountId)).size,
    },
    incidents: newestFirst.slice(0, WEEKLY_REPORT_MAX_ROWS).map(row),
    escalations: escalated.slice(0, WEEKLY_REPORT_MAX_ROWS).map(row),
    atRisk: atRiskAll.slice(0, WEEKLY_REPORT_MAX_ROWS),
    omitted: {
      incidents: Math.max(0, newestFirst.length - WEEKLY_REPORT_MAX_ROWS),
      escalations: Math.max(0, escalated.length - WEEKLY_REPORT_MAX_ROWS),
      atRisk: Math.max(0, atRiskAll.length - WEEKLY_REPORT_MAX_ROWS),
    },
    slowestRecoveries: slowest,
    daily,
    weekly,
  };
}

/** The outbox partition of the weekly reports (not an account: no resource id starts like this). */
export const WEEKLY_REPORT_PARTITION = "weekly-report";

/** The report as an outbox message; the key (the ISO week) makes a second report for that week impossible. */
export function weeklyReportMessage(facts: WeeklyReportFacts, recipients: readonly string[], createdAt: Date): OutboxMessage {
  return {
    key: `weekly-report:${facts.week}`,
    incidentId: `weekly-report-${facts.week}`,
    accountId: WEEKLY_REPORT_PARTITION,
    kind: "weekly-report",
    to: [...recipients],
    cc: [],
    createdAt: createdAt.toISOString(),
    facts,
  };
}
