/**
 * The fleet's CMK health now: every open incident with its deadlines, counts by state and
 * cause, and the last completed poll. `GET /api/status` returns it as JSON; the dashboard
 * renders it. Building it is pure; loading it reads the store and the heartbeat.
 */
import { parseAccountResourceId } from "../domain/account";
import { getCause, type CauseId } from "../domain/causes";
import type { FixSource, Incident, IncidentEvent, IncidentEventType } from "../domain/incident";
import type { CycleHeartbeat } from "../ports/heartbeat";
import type { AccountRecord } from "../ports/incidentStore";
import type { MonitorDeps } from "../pipeline/monitorDeps";

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
  counts: {
    open: number;
    byState: Record<OpenState, number>;
    byCause: Partial<Record<CauseId, number>>;
  };
  incidents: StatusIncident[];
}

export const TIMELINE_LIMIT = 50;

export function buildStatusReport(
  incidents: ReadonlyArray<{ incident: Incident; events: readonly IncidentEvent[] }>,
  lastCycle: CycleHeartbeat | undefined,
  now: Date,
): StatusReport {
  const open = incidents
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
    counts: { open: open.length, byState, byCause },
    incidents: open,
  };
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

/** Reads what the report needs: open incidents, their timelines, and the heartbeat. */
export async function loadStatusReport(deps: Pick<MonitorDeps, "store" | "heartbeat" | "clock">): Promise<StatusReport> {
  const records: AccountRecord[] = await deps.store.listOpenRecords();
  const incidents = await Promise.all(
    records
      .filter((record): record is AccountRecord & { incident: Incident } => record.incident !== undefined)
      .map(async (record) => ({ incident: record.incident, events: await deps.store.listEvents(record.accountId, record.incident.id) })),
  );
  const lastCycle = await deps.heartbeat.lastCycle();
  return buildStatusReport(incidents, lastCycle, deps.clock.now());
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
