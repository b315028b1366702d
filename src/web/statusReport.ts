/**
 * The fleet's CMK health now: the fleet overview (every account's state, subscriptions, the last
 * cycle's health) with the filtered account list, every open incident with its deadlines, counts
 * by state and cause, the last completed poll, and the history's trends. `GET /api/status`
 * returns it as JSON (schema: docs/operator-api.md); the dashboard renders it. Building it is
 * pure; loading it reads the store, the daily checks and the heartbeat.
 */
import { parseAccountResourceId } from "../domain/account";
import { getCause, type CauseId } from "../domain/causes";
import type { FixSource, Incident, IncidentEvent, IncidentEventType } from "../domain/incident";
import type { CheckedAccount } from "../domain/warnings";
import type { CycleHeartbeat } from "../ports/heartbeat";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { buildFleet, filterAccounts, parseFleetQuery, type FleetAccount, type FleetOptions, type FleetOverview, type FleetQuery } from "./fleetOverview";
import { durationsByCause, incidentsPerDay, summarizeIncident, windowStart, type CauseDurations, type DayCount } from "./incidentHistory";

export type OpenState = "escalated" | "revoked" | "recovering";

/** Most urgent first: the order of the dashboard's tables. */
export const OPEN_STATES: readonly OpenState[] = ["escalated", "revoked", "recovering"];

export type DeadlineKind = "reminder" | "expected-recovery" | "escalation";

export interface StatusIncident {
  id: string;
  accountId: string;
  accountName: string;
  subscriptionId: string | null;
  resourceGroup: string | null;
  state: OpenState;
  cause: CauseId;
  causeTitle: string;
  code: number | null;
  /** As Azure reported it: untrusted text. */
  statusText: string;
  detectedAt: string;
  fixObservedAt: string | null;
  fixSource: FixSource | null;
  fixAcknowledgedBy: string | null;
  expectedRecoveryBy: string | null;
  escalateAt: string | null;
  escalatedAt: string | null;
  nextReminderAt: string | null;
  remindersSnoozedUntil: string | null;
  reminderCount: number;
  /** The next thing that happens on its own; the latest one passed when all are overdue. */
  nextDeadline: { kind: DeadlineKind; at: string } | null;
  /** The Microsoft support ticket (CMK_SUPPORT_TICKETS=create): being filed, filed (number, last status read) or not filed (why). */
  supportTicket: { state: "creating" | "filed" | "not-filed"; name: string; ticketNumber: string | null; status: string | null; reason: string | null } | null;
  /** Oldest first, at most TIMELINE_LIMIT of the latest events. */
  timeline: Array<{ seq: number; at: string; type: IncidentEventType; detail: string }>;
}

export interface StatusReport {
  generatedAt: string;
  /** Null until a cycle completes with this version of the app. */
  lastCycle: CycleHeartbeat | null;
  fleet: FleetOverview;
  /** The filter applied to `accounts` (from the query string: q, state, cause, subscription, owner). */
  filter: FleetQuery;
  /** The fleet's listed accounts matching `filter`, most urgent first. */
  accounts: FleetAccount[];
  counts: {
    open: number;
    byState: Record<OpenState, number>;
    byCause: Partial<Record<CauseId, number>>;
  };
  incidents: StatusIncident[];
  history: StatusHistory;
}

export interface StatusHistory {
  /** The window of `perDay` (7, 30 or 90; `?days=`). */
  days: number;
  perDay: DayCount[];
  /** Over the incidents detected in the window (resolved ones are kept until deleted: see docs/operator-api.md). */
  durationsByCause: CauseDurations[];
}

export const HISTORY_WINDOWS = [7, 30, 90] as const;
export const DEFAULT_HISTORY_DAYS = 30;

export interface StatusInput {
  /** The open incidents with their events. */
  open: ReadonlyArray<{ incident: Incident; events: readonly IncidentEvent[] }>;
  /** Every incident the store keeps, open and resolved. */
  all: readonly Incident[];
  checks: readonly CheckedAccount[];
  /** When each email in the history window was sent. */
  sentTimes: readonly string[];
  lastCycle: CycleHeartbeat | undefined;
  filter: FleetQuery;
  historyDays: number;
  options: FleetOptions;
}

export const TIMELINE_LIMIT = 50;

export function buildStatusReport(input: StatusInput, now: Date): StatusReport {
  const { lastCycle } = input;
  const fleet = buildFleet(
    input.open.map(({ incident }) => incident),
    input.checks,
    lastCycle,
    now,
    input.options,
  );
  const summaries = input.all.map(summarizeIncident);
  // Durations over the same window as the per-day counts: switching 7/30/90 days shows whether they improve.
  const since = windowStart(input.historyDays, now).toISOString();
  const open = input.open
    .filter(({ incident }) => incident.state !== "resolved")
    .map(({ incident, events }) => toStatusIncident(incident, events, now))
    .sort((a, b) => OPEN_STATES.indexOf(a.state) - OPEN_STATES.indexOf(b.state) || a.detectedAt.localeCompare(b.detectedAt) || a.id.localeCompare(b.id));
  const byState: Record<OpenState, number> = { escalated: 0, revoked: 0, recovering: 0 };
  const byCause: Partial<Record<CauseId, number>> = {};
  for (const incident of open) {
    byState[incident.state] += 1;
    byCause[incident.cause] = (byCause[incident.cause] ?? 0) + 1;
  }
  return {
    generatedAt: now.toISOString(),
    lastCycle: lastCycle ?? null,
    fleet: fleet.overview,
    filter: input.filter,
    accounts: filterAccounts(fleet.accounts, input.filter),
    counts: { open: open.length, byState, byCause },
    incidents: open,
    history: {
      days: input.historyDays,
      perDay: incidentsPerDay(summaries, input.sentTimes, input.historyDays, now),
      durationsByCause: durationsByCause(summaries.filter((incident) => incident.detectedAt >= since)),
    },
  };
}

/** `?days=` when it is one of the windows offered, else the default. */
export function historyDaysFrom(params: URLSearchParams): number {
  const days = Number(params.get("days"));
  return (HISTORY_WINDOWS as readonly number[]).includes(days) ? days : DEFAULT_HISTORY_DAYS;
}

function toStatusIncident(incident: Incident, events: readonly IncidentEvent[], now: Date): StatusIncident {
  const parsed = parseAccountResourceId(incident.accountId);
  return {
    id: incident.id,
    accountId: incident.accountId,
    accountName: incident.account?.name || parsed?.name || incident.accountId,
    subscriptionId: incident.account?.subscriptionId ?? parsed?.subscriptionId ?? null,
    resourceGroup: incident.account?.resourceGroup ?? parsed?.resourceGroup ?? null,
    state: incident.state as OpenState,
    cause: incident.cause,
    causeTitle: getCause(incident.cause).title,
    code: incident.code,
    statusText: incident.statusText,
    detectedAt: incident.detectedAt,
    fixObservedAt: incident.fixObservedAt ?? null,
    fixSource: incident.fixSource ?? null,
    fixAcknowledgedBy: incident.fixAcknowledgedBy ?? null,
    expectedRecoveryBy: incident.expectedRecoveryBy ?? null,
    escalateAt: incident.escalateAt ?? null,
    escalatedAt: incident.escalatedAt ?? null,
    nextReminderAt: incident.nextReminderAt ?? null,
    remindersSnoozedUntil: incident.remindersSnoozedUntil ?? null,
    reminderCount: incident.reminderCount,
    nextDeadline: nextDeadline(incident, now),
    supportTicket: supportTicketOf(incident),
    timeline: [...events]
      .filter((event) => event.incidentId === incident.id)
      .sort((a, b) => a.seq - b.seq)
      .slice(-TIMELINE_LIMIT)
      .map(({ seq, at, type, detail }) => ({ seq, at, type, detail })),
  };
}

/** What happens next without anyone acting: a reminder, the expected recovery, or escalation. */
export function nextDeadline(incident: Incident, now: Date): StatusIncident["nextDeadline"] {
  if (incident.state === "escalated" || incident.state === "resolved") return null;
  const candidates: Array<{ kind: DeadlineKind; at: string }> = [];
  if (incident.state === "revoked" && incident.nextReminderAt) {
    // A snooze moves the reminder to the snooze's end, never the escalation.
    const snoozedUntil = incident.remindersSnoozedUntil;
    const at = snoozedUntil && snoozedUntil > incident.nextReminderAt ? snoozedUntil : incident.nextReminderAt;
    candidates.push({ kind: "reminder", at });
  }
  if (incident.expectedRecoveryBy) candidates.push({ kind: "expected-recovery", at: incident.expectedRecoveryBy });
  if (incident.escalateAt) candidates.push({ kind: "escalation", at: incident.escalateAt });
  const nowMs = now.getTime();
  const sorted = candidates.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return sorted.find((c) => Date.parse(c.at) > nowMs) ?? sorted.at(-1) ?? null;
}

/** Reads what the report needs: every incident, the open ones' timelines, the daily checks and the heartbeat. */
export async function loadStatusReport(
  deps: Pick<MonitorDeps, "store" | "warnings" | "heartbeat" | "clock" | "settings">,
  params: URLSearchParams = new URLSearchParams(),
): Promise<StatusReport> {
  const now = deps.clock.now();
  const historyDays = historyDaysFrom(params);
  const [all, checks, sentTimes, lastCycle] = await Promise.all([
    deps.store.listIncidents(),
    deps.warnings.listAccountChecks(),
    deps.store.listSentTimes(windowStart(historyDays, now)),
    deps.heartbeat.lastCycle(),
  ]);
  const open = await Promise.all(
    all
      .filter((incident) => incident.state !== "resolved")
      .map(async (incident) => ({ incident, events: await deps.store.listEvents(incident.accountId, incident.id) })),
  );
  return buildStatusReport(
    {
      open,
      all,
      checks: checks.map((entry) => entry.check),
      sentTimes,
      lastCycle,
      filter: parseFleetQuery(params),
      historyDays,
      options: fleetOptions(deps.settings),
    },
    now,
  );
}

export function fleetOptions(settings: MonitorDeps["settings"]): FleetOptions {
  return { pollIntervalInMinutes: settings.pollIntervalInMinutes, ownerTag: settings.ownerTag, allowedRecipientDomains: settings.allowedRecipientDomains };
}

function supportTicketOf(incident: Incident): StatusIncident["supportTicket"] {
  const ticket = incident.supportTicket;
  if (!ticket) return null;
  return {
    state: ticket.state,
    name: ticket.name,
    ticketNumber: ticket.state === "filed" ? ticket.ticketNumber : null,
    status: ticket.state === "filed" ? (ticket.status ?? null) : null,
    reason: ticket.state === "not-filed" ? ticket.reason : ticket.state === "creating" ? (ticket.lastError ?? null) : null,
  };
}
