/**
 * The on-call dashboard: one self-contained HTML page (inline CSS and JS, nothing fetched)
 * rendered from a StatusReport. Every value from Azure or a tag goes through the escaping
 * `html` template; the one inline script is our own constant, allowed by the CSP nonce. The
 * page is complete without JavaScript; the script only ticks relative times and countdowns.
 */
import { getCause, type CauseId } from "../domain/causes";
import type { IncidentEventType } from "../domain/incident";
import { html, raw, type SafeHtml } from "../email/html";
import { formatUtc } from "../email/templates";
import { OPEN_STATES, type DeadlineKind, type OpenState, type StatusIncident, type StatusReport } from "./statusReport";

export const DASHBOARD_REFRESH_IN_SECONDS = 30;

export const STATE_LABELS: Record<OpenState, string> = {
  escalated: "Escalated",
  revoked: "Revoked",
  recovering: "Recovering",
};

const STATE_HINTS: Record<OpenState, string> = {
  escalated: "Did not recover in time; support has been contacted.",
  revoked: "Key access lost; waiting for the owner's fix.",
  recovering: "Fix recorded; waiting for Azure to restore access.",
};

const DEADLINE_LABELS: Record<DeadlineKind, string> = {
  reminder: "Next reminder",
  "expected-recovery": "Expected recovery",
  escalation: "Escalation",
};

const EVENT_LABELS: Record<IncidentEventType, string> = {
  detected: "Revocation detected",
  reminded: "Reminder sent",
  "cause-changed": "Cause changed",
  "fix-acknowledged": "Fix acknowledged",
  "fix-observed": "Fix observed",
  "fix-undone": "Fix undone",
  snoozed: "Reminders snoozed",
  escalated: "Escalated",
  resolved: "Resolved",
  "recipients-dropped": "Recipients dropped",
  "support-ticket": "Support ticket",
};

/** "2 d 3 h", "1 h 5 min", "4 min 09 s", "12 s": the same rule as the page's script. */
export function formatSpan(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${seconds} s`;
}

export function countdownText(deadlineIso: string, now: Date): string {
  const ms = Date.parse(deadlineIso) - now.getTime();
  return ms > 0 ? `in ${formatSpan(ms)}` : `${formatSpan(ms)} overdue`;
}

export function agoText(iso: string, now: Date): string {
  return `${formatSpan(now.getTime() - Date.parse(iso))} ago`;
}

// The page's only script: ticks [data-deadline] and [data-since] from the server's clock.
const TICK_SCRIPT = `(function () {
  "use strict";
  var offset = Date.parse(document.body.getAttribute("data-now")) - Date.now();
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function span(ms) {
    var t = Math.floor(Math.abs(ms) / 1000), d = Math.floor(t / 86400), h = Math.floor((t % 86400) / 3600),
        m = Math.floor((t % 3600) / 60), s = t % 60;
    if (d > 0) return d + " d " + h + " h";
    if (h > 0) return h + " h " + m + " min";
    if (m > 0) return m + " min " + pad(s) + " s";
    return s + " s";
  }
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-deadline")) - now;
      el.textContent = ms > 0 ? "in " + span(ms) : span(ms) + " overdue";
      el.classList.toggle("overdue", ms <= 0);
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = span(now - Date.parse(el.getAttribute("data-since"))) + " ago";
    });
  }
  tick();
  setInterval(tick, 1000);
})();`;

const STYLE = `
:root { color-scheme: light; }
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; color: #1b1b1b; margin: 0; padding: 16px 24px; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 24px 0 8px 0; display: flex; align-items: center; gap: 8px; }
p.meta { margin: 2px 0; color: #444; }
.summary { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; margin: 12px 0; }
.summary table { border-collapse: collapse; }
.summary caption { text-align: left; font-weight: 600; padding: 0 0 4px 0; }
.summary td { padding: 2px 12px 2px 0; }
table.incidents { border-collapse: collapse; width: 100%; background: #fff; table-layout: fixed; }
table.incidents th, table.incidents td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid #e3e3e3; }
table.incidents th { font-weight: 600; background: #f0f0f0; }
table.incidents th:nth-child(1) { width: 22%; }
table.incidents th:nth-child(2) { width: 9%; }
table.incidents th:nth-child(3) { width: 26%; }
table.incidents th:nth-child(4) { width: 12%; }
table.incidents th:nth-child(5) { width: 14%; }
table.incidents th:nth-child(6) { width: 17%; }
td small { color: #555; display: block; overflow-wrap: anywhere; }
td small.utc { white-space: nowrap; overflow-wrap: normal; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; letter-spacing: 0.03em; text-transform: uppercase; border: 2px solid; }
.state-escalated { color: #fff; background: #5b1a8e; border-color: #5b1a8e; }
.state-revoked { color: #fff; background: #b00020; border-color: #b00020; }
.state-recovering { color: #5c3b00; background: #ffe8a3; border-color: #9a6700; }
.countdown { font-variant-numeric: tabular-nums; font-weight: 600; }
.overdue { color: #b00020; }
details { margin: 0; }
details ol { margin: 4px 0 4px 20px; padding: 0; }
details li { margin: 2px 0; }
.empty { color: #555; font-style: italic; }
.healthy { padding: 12px; background: #e6f4ea; border: 1px solid #1e7b34; color: #145523; font-weight: 600; }
`;

export interface DashboardOptions {
  nonce: string;
  refreshInSeconds?: number;
}

export function renderDashboard(report: StatusReport, options: DashboardOptions): SafeHtml {
  const now = new Date(report.generatedAt);
  const refresh = options.refreshInSeconds ?? DASHBOARD_REFRESH_IN_SECONDS;
  const open = report.counts.open;
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<title>CMK health: ${open === 0 ? "all healthy" : `${open} open incident${open === 1 ? "" : "s"}`}</title>
<style nonce="${options.nonce}">${raw(STYLE)}</style>
</head>
<body data-now="${report.generatedAt}">
<header>
<h1>Cosmos DB customer-managed key health</h1>
<p class="meta">As of ${formatUtc(report.generatedAt)}; this page refreshes every ${refresh} seconds.</p>
<p class="meta" id="last-poll">${lastPoll(report, now)}</p>
</header>
${open === 0 ? html`<p class="healthy" id="all-healthy">No open incidents: every watched account can use its key.</p>` : ""}
<section class="summary" aria-label="Counts">
<table id="counts-by-state"><caption>By state</caption><tbody>${OPEN_STATES.map(
    (state) => html`<tr><td>${badge(state)}</td><td>${report.counts.byState[state]}</td></tr>`,
  )}</tbody></table>
<table id="counts-by-cause"><caption>By cause</caption><tbody>${
    Object.keys(report.counts.byCause).length === 0
      ? html`<tr><td class="empty">none</td></tr>`
      : Object.entries(report.counts.byCause).map(
          ([cause, count]) => html`<tr data-cause="${cause}"><td>${getCause(cause as CauseId).title}</td><td>${count ?? 0}</td></tr>`,
        )
  }</tbody></table>
</section>
${OPEN_STATES.map((state) =>
  stateSection(
    state,
    report.incidents.filter((i) => i.state === state),
    now,
  ),
)}
<script nonce="${options.nonce}">${raw(TICK_SCRIPT)}</script>
</body></html>
`;
}

function lastPoll(report: StatusReport, now: Date): SafeHtml {
  const cycle = report.lastCycle;
  if (!cycle) return html`Last completed poll: none recorded yet.`;
  return html`Last completed poll: <time datetime="${cycle.finishedAt}" data-since="${cycle.finishedAt}">${agoText(cycle.finishedAt, now)}</time>
 (${formatUtc(cycle.finishedAt)}), took ${cycle.durationInMs} ms: ${cycle.accountsSeen} CMK account(s), ${cycle.revokedSeen} revoked${
   cycle.subscriptionsFailed > 0 ? html`, <strong>${cycle.subscriptionsFailed} subscription(s) could not be listed</strong>` : ""
 }${
   (cycle.subscriptionsPropagating ?? 0) > 0
     ? html`, ${cycle.subscriptionsPropagating} subscription(s) waiting for the monitor's role assignments to propagate`
     : ""
 }${
   cycle.subscriptionsInScope !== undefined
     ? html`; ${cycle.subscriptionsReadable ?? 0} of ${cycle.subscriptionsInScope} subscription(s) read, ${cycle.subscriptionsWithCmk ?? 0} holding CMK accounts; status from ${cycle.statusSource === "resource-graph" ? "Resource Graph (checked against ARM)" : "ARM"}`
     : ""
 }${cycle.statusSourceFallback ? html` (<strong>Resource Graph not trusted: ${cycle.statusSourceFallback}</strong>)` : ""}.`;
}

function badge(state: OpenState): SafeHtml {
  return html`<span class="badge state-${state}">${STATE_LABELS[state]}</span>`;
}

function stateSection(state: OpenState, incidents: StatusIncident[], now: Date): SafeHtml {
  return html`<section id="state-${state}" data-state="${state}">
<h2>${badge(state)} <span>${incidents.length} incident${incidents.length === 1 ? "" : "s"}</span></h2>
<p class="meta">${STATE_HINTS[state]}</p>
<table class="incidents"><thead><tr><th scope="col">Account</th><th scope="col">State</th><th scope="col">Cause</th><th scope="col">Detected</th><th scope="col">Fix</th><th scope="col">Next deadline</th></tr></thead>
<tbody>${
    incidents.length === 0
      ? html`<tr><td colspan="6" class="empty">No ${STATE_LABELS[state].toLowerCase()} incidents.</td></tr>`
      : incidents.map((incident) => incidentRows(incident, now))
  }</tbody></table>
</section>
`;
}

function incidentRows(incident: StatusIncident, now: Date): SafeHtml {
  const where = [incident.subscriptionId, incident.resourceGroup].filter(Boolean).join(" / ");
  return html`<tr class="incident" data-incident-id="${incident.id}">
<td><strong class="account-name">${incident.accountName}</strong><small>${where}</small><small>${incident.id}</small></td>
<td>${badge(incident.state)}</td>
<td>${incident.causeTitle}${incident.code === null ? "" : ` (${incident.code})`}<small>${incident.statusText}</small></td>
<td>${timeAgo(incident.detectedAt, now)}</td>
<td>${fixCell(incident, now)}</td>
<td class="deadline">${deadlineCell(incident, now)}</td>
</tr>
<tr class="timeline-row"><td colspan="6"><details><summary>Timeline (${incident.timeline.length} event${incident.timeline.length === 1 ? "" : "s"})</summary><ol class="timeline">${incident.timeline.map(
    (event) =>
      html`<li><time datetime="${event.at}">${formatUtc(event.at)}</time>: <strong>${EVENT_LABELS[event.type] ?? event.type}</strong>: ${event.detail}</li>`,
  )}</ol></details></td></tr>
`;
}

function timeAgo(iso: string, now: Date): SafeHtml {
  return html`<time datetime="${iso}" data-since="${iso}">${agoText(iso, now)}</time><small class="utc">${formatUtc(iso)}</small>`;
}

function fixCell(incident: StatusIncident, now: Date): SafeHtml {
  if (!incident.fixObservedAt) {
    if (incident.fixSource === "detection") return html`Nobody needs to fix this cause`;
    return html`No fix yet${incident.remindersSnoozedUntil && Date.parse(incident.remindersSnoozedUntil) > now.getTime() ? html`<small>Reminders snoozed until ${formatUtc(incident.remindersSnoozedUntil)}</small>` : ""}`;
  }
  const how =
    incident.fixSource === "acknowledged" ? `Acknowledged${incident.fixAcknowledgedBy ? ` by ${incident.fixAcknowledgedBy}` : ""}` : "Observed by the monitor";
  return html`${how} ${timeAgo(incident.fixObservedAt, now)}`;
}

/** The support ticket under an escalation: its number and last status, or that it is being filed, or why it was not. */
function ticketNote(incident: StatusIncident): SafeHtml | "" {
  const ticket = incident.supportTicket;
  if (!ticket) return "";
  if (ticket.state === "filed")
    return html`<small class="utc">Support ticket ${ticket.ticketNumber ?? ticket.name}${ticket.status ? ` (${ticket.status})` : ""}</small>`;
  if (ticket.state === "creating") return html`<small class="utc">Support ticket being filed</small>`;
  return html`<small class="utc">Support ticket not filed: ${ticket.reason ?? "unknown reason"}</small>`;
}

function deadlineCell(incident: StatusIncident, now: Date): SafeHtml {
  const deadline = incident.nextDeadline;
  const escalation =
    incident.escalateAt && deadline?.kind !== "escalation" && incident.state !== "escalated"
      ? html`<small class="utc">Escalation ${formatUtc(incident.escalateAt)}</small>`
      : "";
  if (!deadline) {
    return incident.escalatedAt ? html`Escalated ${timeAgo(incident.escalatedAt, now)}${ticketNote(incident)}` : html`<span class="empty">none</span>`;
  }
  const overdue = Date.parse(deadline.at) <= now.getTime();
  return html`<span class="deadline-kind">${DEADLINE_LABELS[deadline.kind]}</span>
<time class="countdown${overdue ? " overdue" : ""}" datetime="${deadline.at}" data-deadline="${deadline.at}">${countdownText(deadline.at, now)}</time>
<small class="utc">${formatUtc(deadline.at)}</small>${escalation}`;
}
