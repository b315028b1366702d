/**
 * Filing a support ticket exactly once, as pure steps over the incident. The caller (src/pipeline/
 * supportTicketStage.ts) reads Azure, asks `nextFilingStep` what to do, and commits what the step
 * functions return, ETag-guarded in the incident's partition, before and after each create call.
 *
 *   (none) ──intent──▶ creating ──ticket seen──▶ filed
 *                         │  └── refused / given up ──▶ not-filed
 *                         └── create may still be running: wait SETTLE, then read again
 */
import type { Decision } from "./lifecycle";
import type { Incident, IncidentEvent, SupportTicketRecord } from "./incident";
import { supportTicketName } from "./supportTicket";

/** After a create call that did not report back, Azure may still be creating: no second create before this. */
export const CREATE_SETTLE_IN_MINUTES = 5;
/** The escalation email waits at most this long for the ticket; then it goes with the reason. */
export const FILING_GIVE_UP_IN_MINUTES = 20;
const MINUTE = 60_000;

export type FilingStep =
  /** Filed or refused before: send the email. */
  | { kind: "done" }
  /** Record the intent, then create. */
  | { kind: "create" }
  /** A create may still be running, or the name is taken but not yet readable: try again later. */
  | { kind: "wait"; until: string }
  /** Waited long enough: send the email with the reason. */
  | { kind: "give-up"; reason: string };

/**
 * What to do, given the record and what Azure says now. `existing` is the GET by the derived name,
 * `nameAvailable` the name check; when either shows the ticket, the caller records it instead.
 */
export function nextFilingStep(record: SupportTicketRecord | undefined, observed: { nameAvailable: boolean }, now: Date): FilingStep {
  if (record?.state === "filed" || record?.state === "not-filed") return { kind: "done" };
  const nowMs = now.getTime();
  const givenUp = record && nowMs - Date.parse(record.firstTriedAt) >= FILING_GIVE_UP_IN_MINUTES * MINUTE;
  if (record?.createStartedAt) {
    const settledAt = Date.parse(record.createStartedAt) + CREATE_SETTLE_IN_MINUTES * MINUTE;
    if (nowMs < settledAt) return givenUp ? giveUp(record) : { kind: "wait", until: new Date(settledAt).toISOString() };
  }
  if (!observed.nameAvailable) {
    // Azure holds the name but does not show the ticket yet: it exists, so never create it again.
    return givenUp ? giveUp(record) : { kind: "wait", until: new Date(nowMs + MINUTE).toISOString() };
  }
  if (givenUp) return giveUp(record);
  return { kind: "create" };
}

function giveUp(record: Extract<SupportTicketRecord, { state: "creating" }>): FilingStep {
  return {
    kind: "give-up",
    reason: `Azure did not confirm the ticket within ${FILING_GIVE_UP_IN_MINUTES} minutes${record.lastError ? ` (last error: ${record.lastError})` : ""}; check the portal for ticket name ${record.name} before filing it by hand`,
  };
}

/** The intent, recorded before a create call. */
export function recordCreating(incident: Incident, now: Date): Decision {
  const previous = incident.supportTicket?.state === "creating" ? incident.supportTicket : undefined;
  return change(incident, {
    state: "creating",
    name: supportTicketName(incident.id),
    firstTriedAt: previous?.firstTriedAt ?? now.toISOString(),
    createStartedAt: now.toISOString(),
    attempts: (previous?.attempts ?? 0) + 1,
  });
}

/** A create that failed for a reason worth trying again: kept as the intent, with the error. */
export function recordTransientFailure(incident: Incident, error: string, now: Date): Decision {
  const previous = incident.supportTicket?.state === "creating" ? incident.supportTicket : undefined;
  return change(incident, {
    state: "creating",
    name: supportTicketName(incident.id),
    firstTriedAt: previous?.firstTriedAt ?? now.toISOString(),
    ...(previous?.createStartedAt ? { createStartedAt: previous.createStartedAt } : {}),
    attempts: previous?.attempts ?? 0,
    lastError: error.slice(0, 300),
  });
}

export function recordFiled(incident: Incident, filed: { ticketNumber: string; status: string; subscriptionId: string }, now: Date): Decision {
  const name = supportTicketName(incident.id);
  return change(
    incident,
    { state: "filed", name, ticketNumber: filed.ticketNumber, filedAt: now.toISOString(), subscriptionId: filed.subscriptionId, status: filed.status },
    `Support ticket ${filed.ticketNumber} filed (name ${name})`,
    now,
  );
}

export function recordNotFiled(incident: Incident, reason: string, now: Date): Decision {
  const name = supportTicketName(incident.id);
  return change(incident, { state: "not-filed", name, reason, at: now.toISOString() }, `Support ticket not filed: ${reason}`, now);
}

function change(current: Incident, record: SupportTicketRecord, detail?: string, now?: Date): Decision {
  const incident: Incident = { ...structuredClone(current), supportTicket: record };
  const events: IncidentEvent[] = [];
  if (detail && now) {
    incident.eventCount += 1;
    events.push({ incidentId: incident.id, seq: incident.eventCount, at: now.toISOString(), type: "support-ticket", cause: incident.cause, detail });
  }
  return { reasons: [], incident, events, messages: [] };
}

/** A filed ticket's status is read this often while its incident is open: support moves in hours, not minutes. */
export const TICKET_STATUS_INTERVAL_IN_MINUTES = 60;

/** True when the incident's filed ticket is due a status read. */
export function ticketStatusDue(incident: Incident, now: Date): boolean {
  const ticket = incident.supportTicket;
  if (ticket?.state !== "filed" || incident.state === "resolved") return false;
  const last = Date.parse(ticket.statusCheckedAt ?? ticket.filedAt);
  return now.getTime() - last >= TICKET_STATUS_INTERVAL_IN_MINUTES * MINUTE;
}

/** The status read, kept on the incident for the dashboard and /api/status (no timeline entry). */
export function recordTicketStatus(incident: Incident, status: string, now: Date): Decision {
  const ticket = incident.supportTicket;
  if (ticket?.state !== "filed") return { reasons: [], incident, events: [], messages: [] };
  return change(incident, { ...ticket, status: status.slice(0, 40), statusCheckedAt: now.toISOString() });
}
