/**
 * Every incident the store keeps, open and resolved, as flat summaries with their durations, and
 * the trends drawn from them: incidents per day and time to fix and to recover by cause. Pure;
 * `GET /api/incidents` (JSON or CSV) and the dashboard's history section show it.
 *
 * Time to detect is not measured: Azure's status carries no time at which access was lost, so the
 * only bound is the poll interval (a revocation is seen by the first poll after it).
 */
import { parseAccountResourceId } from "../domain/account";
import { getCause, type CauseId } from "../domain/causes";
import type { FixSource, Incident, IncidentState } from "../domain/incident";

export interface IncidentSummary {
  id: string;
  accountId: string;
  accountName: string;
  subscriptionId: string | null;
  resourceGroup: string | null;
  state: IncidentState;
  cause: CauseId;
  causeTitle: string;
  code: number | null;
  detectedAt: string;
  fixObservedAt: string | null;
  fixSource: FixSource | null;
  escalatedAt: string | null;
  resolvedAt: string | null;
  resolution: "recovered" | "account-removed" | null;
  reminderCount: number;
  /** Detection to the owner's fix (acknowledged or observed); null until then, and for causes nobody fixes. */
  timeToFixInMinutes: number | null;
  /** The recovery clock's start (the fix, or detection when nobody has to fix) to resolution; null while open. */
  timeToRecoverInMinutes: number | null;
  /** Detection to resolution; null while open. */
  durationInMinutes: number | null;
  /**
   * Emails sent about it, as counted by the retention sweep when it pruned them (with its events);
   * null while they are kept (the account's page lists them).
   */
  emailsSent: number | null;
}

export const INCIDENT_STATE_FILTERS = ["open", "resolved", "revoked", "recovering", "escalated"] as const;
export type IncidentStateFilter = (typeof INCIDENT_STATE_FILTERS)[number];

export interface IncidentQuery {
  state?: IncidentStateFilter;
  /** Incidents detected, or still open, or resolved at or after this instant. */
  since?: string;
}

export type ParsedIncidentQuery = { ok: true; query: IncidentQuery } | { ok: false; error: string };

const MINUTE_IN_MS = 60_000;
const DAY_IN_MS = 86_400_000;

/** `?state=` and `?since=` (an ISO date or date-time, or a number of days such as `30d`), checked. */
export function parseIncidentQuery(params: URLSearchParams, now: Date): ParsedIncidentQuery {
  const query: IncidentQuery = {};
  const state = params.get("state");
  if (state !== null && state !== "") {
    if (!(INCIDENT_STATE_FILTERS as readonly string[]).includes(state))
      return { ok: false, error: `state must be one of ${INCIDENT_STATE_FILTERS.join(", ")}` };
    query.state = state as IncidentStateFilter;
  }
  const since = params.get("since");
  if (since !== null && since !== "") {
    const days = /^(\d{1,4})d$/.exec(since);
    const at = days ? now.getTime() - Number(days[1]) * DAY_IN_MS : /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(since) ? Date.parse(since) : NaN;
    if (Number.isNaN(at)) return { ok: false, error: "since must be a UTC date (2026-11-01), date-time (2026-11-01T00:00:00Z) or a number of days (30d)" };
    query.since = new Date(at).toISOString();
  }
  return { ok: true, query };
}

export function summarizeIncident(incident: Incident): IncidentSummary {
  const parsed = parseAccountResourceId(incident.accountId);
  const minutesBetween = (from: string | undefined, to: string | undefined): number | null =>
    from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / MINUTE_IN_MS)) : null;
  const ownerFixed = incident.fixSource === "acknowledged" || incident.fixSource === "observed";
  return {
    id: incident.id,
    accountId: incident.accountId,
    accountName: incident.account?.name || parsed?.name || incident.accountId,
    subscriptionId: incident.account?.subscriptionId ?? parsed?.subscriptionId ?? null,
    resourceGroup: incident.account?.resourceGroup ?? parsed?.resourceGroup ?? null,
    state: incident.state,
    cause: incident.cause,
    causeTitle: getCause(incident.cause).title,
    code: incident.code,
    detectedAt: incident.detectedAt,
    fixObservedAt: incident.fixObservedAt ?? null,
    fixSource: incident.fixSource ?? null,
    escalatedAt: incident.escalatedAt ?? null,
    resolvedAt: incident.resolvedAt ?? null,
    resolution: incident.resolution ?? null,
    reminderCount: incident.reminderCount,
    timeToFixInMinutes: ownerFixed ? minutesBetween(incident.detectedAt, incident.fixObservedAt) : null,
    timeToRecoverInMinutes: minutesBetween(incident.clockStartedAt ?? incident.fixObservedAt ?? incident.detectedAt, incident.resolvedAt),
    durationInMinutes: minutesBetween(incident.detectedAt, incident.resolvedAt),
    emailsSent: incident.emailsSent ?? null,
  };
}

/** Newest detection first; `since` keeps what overlaps [since, now]: detected after it, or not resolved before it. */
export function selectIncidents(incidents: readonly IncidentSummary[], query: IncidentQuery): IncidentSummary[] {
  return incidents
    .filter((incident) => matchesState(incident.state, query.state))
    .filter((incident) => !query.since || incident.detectedAt >= query.since || incident.resolvedAt === null || incident.resolvedAt >= query.since)
    .sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || a.id.localeCompare(b.id));
}

function matchesState(state: IncidentState, filter: IncidentStateFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter === "open") return state !== "resolved";
  return state === filter;
}

export interface DayCount {
  /** UTC date, YYYY-MM-DD. */
  date: string;
  detected: number;
  escalated: number;
  resolved: number;
  /** Emails handed to ACS that day (incident emails and digests). */
  emailsSent: number;
}

/** The first instant of the window `incidentsPerDay` counts: midnight UTC, `days - 1` days before today. */
export function windowStart(days: number, now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * DAY_IN_MS);
}

/** One entry per UTC day of the last `days` days, today last, counting what happened on that day. */
export function incidentsPerDay(incidents: readonly IncidentSummary[], sentTimes: readonly string[], days: number, now: Date): DayCount[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const counts: DayCount[] = [];
  const index = new Map<string, DayCount>();
  for (let i = days - 1; i >= 0; i--) {
    const day: DayCount = { date: new Date(today - i * DAY_IN_MS).toISOString().slice(0, 10), detected: 0, escalated: 0, resolved: 0, emailsSent: 0 };
    counts.push(day);
    index.set(day.date, day);
  }
  for (const incident of incidents) {
    const bump = (at: string | null, field: "detected" | "escalated" | "resolved"): void => {
      const day = at ? index.get(at.slice(0, 10)) : undefined;
      if (day) day[field] += 1;
    };
    bump(incident.detectedAt, "detected");
    bump(incident.escalatedAt, "escalated");
    bump(incident.resolvedAt, "resolved");
  }
  for (const at of sentTimes) {
    const day = index.get(at.slice(0, 10));
    if (day) day.emailsSent += 1;
  }
  return counts;
}

export interface DurationStats {
  count: number;
  medianInMinutes: number | null;
  p90InMinutes: number | null;
}

export interface CauseDurations {
  cause: CauseId;
  causeTitle: string;
  incidents: number;
  timeToFix: DurationStats;
  timeToRecover: DurationStats;
  duration: DurationStats;
}

/** Median and 90th percentile (nearest rank) per cause, over the incidents that have each measure. */
export function durationsByCause(incidents: readonly IncidentSummary[]): CauseDurations[] {
  const byCause = new Map<CauseId, IncidentSummary[]>();
  for (const incident of incidents) byCause.set(incident.cause, [...(byCause.get(incident.cause) ?? []), incident]);
  return [...byCause.entries()]
    .map(([cause, list]) => ({
      cause,
      causeTitle: getCause(cause).title,
      incidents: list.length,
      timeToFix: stats(list.map((i) => i.timeToFixInMinutes)),
      timeToRecover: stats(list.map((i) => i.timeToRecoverInMinutes)),
      duration: stats(list.map((i) => i.durationInMinutes)),
    }))
    .sort((a, b) => b.incidents - a.incidents || a.cause.localeCompare(b.cause));
}

export function stats(values: ReadonlyArray<number | null>): DurationStats {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return { count: sorted.length, medianInMinutes: percentile(sorted, 50), p90InMinutes: percentile(sorted, 90) };
}

/** Nearest rank: the smallest value with at least p% of the values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const CSV_COLUMNS: ReadonlyArray<keyof IncidentSummary> = [
  "id",
  "accountId",
  "accountName",
  "subscriptionId",
  "resourceGroup",
  "state",
  "cause",
  "code",
  "detectedAt",
  "fixObservedAt",
  "fixSource",
  "escalatedAt",
  "resolvedAt",
  "resolution",
  "reminderCount",
  "timeToFixInMinutes",
  "timeToRecoverInMinutes",
  "durationInMinutes",
  "emailsSent",
];

/**
 * RFC 4180 CSV. Names come from Azure: a cell a spreadsheet would run as a formula (=, +, -, @,
 * tab, CR) is prefixed with an apostrophe (OWASP's CSV-injection advice).
 */
export function incidentsCsv(incidents: readonly IncidentSummary[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const incident of incidents) lines.push(CSV_COLUMNS.map((column) => csvCell(incident[column])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
