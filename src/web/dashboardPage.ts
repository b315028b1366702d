/**
 * The on-call dashboard: one self-contained HTML page (inline CSS and JS, inline SVG, nothing
 * fetched) rendered from a StatusReport: the fleet overview, the open incidents by state, the
 * account list with its filter (a plain GET form), and the history's trends. Every value from
 * Azure or a tag goes through the escaping `html` template; the one inline script is our own
 * constant, allowed by the CSP nonce. The page is complete without JavaScript; the script only
 * ticks relative times and countdowns.
 */
import { CAUSE_IDS, getCause, type CauseId } from "../domain/causes";
import { API_PREFIX } from "../domain/linkTokens";
import { WARNING_KIND_LABELS, WARNING_KINDS, type WarningKind } from "../domain/warnings";
import { accountPath } from "./accountReport";
import { durationChart, emailsPerDayChart, perDayChart } from "./charts";
import { FLEET_STATES, isFiltered, type CycleHealth, type FleetAccount, type FleetState } from "./fleetOverview";
import type { IncidentEventType } from "../domain/incident";
import { html, raw, type SafeHtml } from "../email/html";
import { formatUtc } from "../email/templates";
import { agoText, countdownText, formatSpan } from "./timeText";
import { DEFAULT_HISTORY_DAYS, HISTORY_WINDOWS, OPEN_STATES, type DeadlineKind, type OpenState, type StatusIncident, type StatusReport } from "./statusReport";

export { agoText, countdownText, formatSpan };

export const DASHBOARD_REFRESH_IN_SECONDS = 30;

export const STATE_LABELS: Record<OpenState, string> = {
  escalated: "Escalated",
  revoked: "Revoked",
  recovering: "Recovering",
};

export const FLEET_STATE_LABELS: Record<FleetState, string> = {
  ...STATE_LABELS,
  "at-risk": "At risk",
  unknown: "Unknown",
  healthy: "Healthy",
};

const FLEET_STATE_HINTS: Record<FleetState, string> = {
  escalated: "open incident, support contacted",
  revoked: "open incident, waiting for the owner's fix",
  recovering: "fix recorded, waiting for Azure",
  "at-risk": "healthy, but the daily check found something that can revoke it",
  unknown: "its daily check is more than 48 hours old: it could not be checked",
  healthy: "key access confirmed",
};

const HEALTH_LABELS: Record<CycleHealth, string> = { ok: "OK", degraded: "Degraded", late: "Late", none: "No cycle yet" };

/** Accounts listed on the page at most; the JSON (/api/status) has them all. */
export const MAX_ACCOUNT_ROWS = 500;

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

export const EVENT_LABELS: Record<IncidentEventType, string> = {
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
  // Refreshing is the reader's choice (WCAG 2.2.1: a timed refresh must be possible to turn off),
  // remembered for the tab; without script the page simply does not refresh.
  var box = document.getElementById("auto-refresh");
  var seconds = Number(document.body.getAttribute("data-refresh"));
  if (box && seconds > 0) {
    try { box.checked = sessionStorage.getItem("cmk-auto-refresh") !== "off"; } catch (e) {}
    document.getElementById("auto-refresh-control").hidden = false;
    box.addEventListener("change", function () {
      try { sessionStorage.setItem("cmk-auto-refresh", box.checked ? "on" : "off"); } catch (e) {}
    });
    setInterval(function () { if (box.checked) location.reload(); }, seconds * 1000);
  }
})();`;

export const PAGE_STYLE = `
:root { color-scheme: light; }
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; color: #1b1b1b; margin: 0; padding: 16px 24px; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 24px 0 8px 0; display: flex; align-items: center; gap: 8px; }
p.meta { margin: 2px 0; color: #444; }
/* Azure's status text, identity paths and key URIs have long unbroken runs: they wrap rather than widen the page. */
main p, main li, header p { overflow-wrap: anywhere; }
pre.status-text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid #e3e3e3; padding: 6px; }
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
.badge { white-space: nowrap; overflow-wrap: normal; display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; letter-spacing: 0.03em; text-transform: uppercase; border: 2px solid; }
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
.state-at-risk { color: #5c3b00; background: #fff; border-color: #9a6700; }
.state-unknown { color: #333; background: #e8e8e8; border-color: #666; }
.state-healthy { color: #145523; background: #e6f4ea; border-color: #1e7b34; }
.health-ok { color: #145523; background: #e6f4ea; border-color: #1e7b34; }
.health-degraded { color: #5c3b00; background: #ffe8a3; border-color: #9a6700; }
.health-late, .health-none { color: #fff; background: #b00020; border-color: #b00020; }
.summary a { color: #0b5cad; }
form.filter { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-end; margin: 8px 0; }
form.filter label { display: flex; flex-direction: column; font-size: 12px; color: #333; }
form.filter input, form.filter select, form.filter button { font: inherit; padding: 4px 6px; }
table.accounts { border-collapse: collapse; width: 100%; background: #fff; }
table.accounts th, table.accounts td { text-align: left; vertical-align: top; padding: 4px 10px; border-bottom: 1px solid #e3e3e3; overflow-wrap: anywhere; }
table.accounts th { background: #f0f0f0; }
table.durations { border-collapse: collapse; background: #fff; }
table.durations th, table.durations td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e3e3; }
svg.chart { max-width: 720px; display: block; margin: 8px 0; }
nav.windows a, nav.windows strong { margin-right: 12px; }
a { color: #0b5cad; }
@media (max-width: 700px) {
  body { padding: 8px; }
  table.incidents { table-layout: auto; }
  table.incidents th:nth-child(n) { width: auto; }
  /* A phone has no room for unbreakable cells: dates, ids and headers wrap rather than push the page sideways. */
  table.incidents td, table.accounts td, table.durations td { padding: 4px; overflow-wrap: anywhere; }
  table.accounts th, table.durations th { padding: 4px; overflow-wrap: normal; }
  /* Probe names, outcomes and cause titles are words: they wrap between words, not inside one as long ids must. */
  #evidence td:nth-child(-n + 2),
  table.durations td:first-child {
    overflow-wrap: break-word;
  }
  td small.utc, td time { white-space: normal; overflow-wrap: anywhere; }
  /* Six columns do not fit a phone: each incident becomes a card, its cells labelled (the header row stays for screen readers). */
  table.incidents thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  table.incidents, table.incidents tbody, table.incidents tr, table.incidents td { display: block; width: auto; }
  table.incidents tr.incident { border-top: 2px solid #d0d0d0; padding-top: 4px; }
  table.incidents td { border-bottom: none; }
  table.incidents td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
  table.incidents tr.timeline-row td { border-bottom: 1px solid #e3e3e3; }
  .summary { gap: 12px; }
}
`;

export interface DashboardOptions {
  nonce: string;
  refreshInSeconds?: number;
  /**
   * Carried into the page's own links and its filter form, so a page opened with a function key
   * (`?code=`) can follow them; empty when the key travels in a header or App Service Authentication is in front.
   */
  functionKey?: string;
}

/** A link to one of our own pages (`path` under /api/), with the function key the page was opened with. */
export function pageLink(path: string, query: Record<string, string | undefined>, functionKey: string | undefined, fragment = ""): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  if (functionKey) params.set("code", functionKey);
  const search = params.toString();
  return `${API_PREFIX}/${path}${search ? `?${search}` : ""}${fragment}`;
}

export function renderDashboard(report: StatusReport, options: DashboardOptions): SafeHtml {
  const now = new Date(report.generatedAt);
  const refresh = options.refreshInSeconds ?? DASHBOARD_REFRESH_IN_SECONDS;
  const open = report.counts.open;
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CMK health: ${open === 0 ? "all healthy" : `${open} open incident${open === 1 ? "" : "s"}`}</title>
<style nonce="${options.nonce}">${raw(PAGE_STYLE)}</style>
</head>
<body data-now="${report.generatedAt}" data-refresh="${refresh}">
<header>
<h1>Cosmos DB customer-managed key health</h1>
<p class="meta">As of ${formatUtc(report.generatedAt)}.<label id="auto-refresh-control" hidden> <input type="checkbox" id="auto-refresh" checked> Refresh every ${refresh} seconds</label></p>
<p class="meta" id="last-poll">${lastPoll(report, now)}</p>
<p class="meta">Jump to: <a href="#fleet">fleet</a> · <a href="#state-escalated">open incidents</a> · <a href="#accounts">accounts</a> · <a href="#history">history and trends</a> · <a href="${pageLink("status", {}, options.functionKey)}">JSON</a></p>
</header>
<main>
${open === 0 ? html`<p class="healthy" id="all-healthy">No open incidents: every watched account can use its key.</p>` : ""}
${fleetSection(report, options.functionKey)}
<section class="summary" aria-label="Open incidents by state and cause">
<table id="counts-by-state"><caption>Open incidents by state</caption><tbody>${OPEN_STATES.map(
    (state) => html`<tr><td>${badge(state)}</td><td>${report.counts.byState[state]}</td></tr>`,
  )}</tbody></table>
<table id="counts-by-cause"><caption>Open incidents by cause</caption><tbody>${
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
    options.functionKey,
  ),
)}
${accountsSection(report, options.functionKey)}
${historySection(report, options.functionKey)}
</main>
<script nonce="${options.nonce}">${raw(TICK_SCRIPT)}</script>
</body></html>
`;
}

function lastPoll(report: StatusReport, now: Date): SafeHtml {
  const cycle = report.lastCycle;
  if (!cycle) return html`Last completed poll: none recorded yet.`;
  return html`Last completed poll: <time datetime="${cycle.finishedAt}" data-since="${cycle.finishedAt}">${agoText(cycle.finishedAt, now)}</time>
 (${formatUtc(cycle.finishedAt)}), took ${cycle.durationInMs} ms: Azure reported ${cycle.revokedSeen} of ${cycle.accountsSeen} CMK account(s) revoked (open incidents by state below)${
   cycle.subscriptionsFailed > 0 ? html`, <strong>${cycle.subscriptionsFailed} subscription(s) could not be listed</strong>` : ""
 }${
   (cycle.subscriptionsPropagating ?? 0) > 0
     ? html`, ${cycle.subscriptionsPropagating} subscription(s) waiting for the monitor's role assignments to propagate`
     : ""
 }${
   cycle.subscriptionsInScope !== undefined
     ? html`; ${cycle.subscriptionsReadable ?? 0} of ${cycle.subscriptionsInScope} subscription(s) read, ${cycle.subscriptionsWithCmk ?? 0} holding CMK accounts; status from ${cycle.statusSource === "resource-graph" ? "Resource Graph (checked against ARM)" : "ARM"}`
     : ""
 }${cycle.statusSourceFallback ? html` (<strong>Resource Graph not trusted: ${cycle.statusSourceFallback}</strong>)` : ""}${
   cycle.statusSourceLagMinutes !== undefined ? html`; Resource Graph seen lagging ARM by up to ${cycle.statusSourceLagMinutes} min` : ""
 }.`;
}

export function badge(state: FleetState): SafeHtml {
  return html`<span class="badge state-${state}">${FLEET_STATE_LABELS[state]}</span>`;
}

function fleetSection(report: StatusReport, functionKey: string | undefined): SafeHtml {
  const { accounts, subscriptions, lastCycle } = report.fleet;
  const stateLink = (state: FleetState): string => pageLink("dashboard", { state }, functionKey, "#accounts");
  const warningKinds = Object.entries(accounts.byWarning) as Array<[WarningKind, number]>;
  return html`<section id="fleet" aria-labelledby="fleet-title">
<h2 id="fleet-title">Fleet: ${accounts.total} CMK account${accounts.total === 1 ? "" : "s"}</h2>
<p class="meta" id="cycle-health">Last cycle: <span class="badge health-${lastCycle.health}">${HEALTH_LABELS[lastCycle.health]}</span>${
    lastCycle.reasons.length > 0 ? html` ${lastCycle.reasons.join("; ")}` : lastCycle.finishedAt ? html` finished ${formatUtc(lastCycle.finishedAt)}` : ""
  }</p>
<div class="summary">
<table id="fleet-by-state"><caption>Accounts by state</caption><tbody>${FLEET_STATES.map(
    (state) =>
      html`<tr data-state="${state}"><td>${badge(state)}</td><td class="count"><a href="${stateLink(state)}">${accounts.byState[state]}</a></td><td><small>${FLEET_STATE_HINTS[state]}${
        state === "healthy" && accounts.notProbed > 0 ? html`; ${accounts.notProbed} known by status only (not probed yet, or probes off)` : ""
      }</small></td></tr>`,
  )}</tbody></table>
<table id="fleet-by-warning"><caption>At risk: what the daily checks found</caption><tbody>${
    warningKinds.length === 0
      ? html`<tr><td class="empty">nothing</td></tr>`
      : warningKinds.map(
          ([kind, count]) =>
            html`<tr data-warning="${kind}"><td>${WARNING_KIND_LABELS[kind]}</td><td><a href="${pageLink("dashboard", { cause: kind }, functionKey, "#accounts")}">${count}</a></td></tr>`,
        )
  }</tbody></table>
<table id="fleet-subscriptions"><caption>Subscriptions (last cycle)</caption><tbody>${
    subscriptions
      ? html`<tr><td>In scope</td><td>${subscriptions.inScope ?? "not reported"}</td></tr>
<tr><td>Read</td><td>${subscriptions.readable ?? "not reported"}</td></tr>
<tr><td>Holding CMK accounts</td><td>${subscriptions.withCmk ?? "not reported"}</td></tr>
<tr><td>${subscriptions.failed > 0 ? html`<strong>Could not be read</strong>` : "Could not be read"}</td><td>${subscriptions.failed}</td></tr>
<tr><td>Waiting for role assignments</td><td>${subscriptions.propagating}</td></tr>`
      : html`<tr><td class="empty">no cycle recorded yet</td></tr>`
  }</tbody></table>
</div>
</section>`;
}

function accountsSection(report: StatusReport, functionKey: string | undefined): SafeHtml {
  const filter = report.filter;
  const shown = report.accounts.slice(0, MAX_ACCOUNT_ROWS);
  const option = (value: string, label: string, selected: string | undefined): SafeHtml =>
    html`<option value="${value}"${selected === value ? html` selected` : ""}>${label}</option>`;
  return html`<section id="accounts" aria-labelledby="accounts-title">
<h2 id="accounts-title">Accounts${isFiltered(filter) ? html` matching the filter: ${report.accounts.length}` : html`: ${report.accounts.length} listed`}</h2>
<p class="meta">Accounts with an open incident or a daily check; accounts known by status only are counted above, not listed.</p>
<form class="filter" method="get" action="${API_PREFIX}/dashboard#accounts" role="search">
<label>Search<input type="search" name="q" value="${filter.q ?? ""}" placeholder="name, group, subscription, owner"></label>
<label>State<select name="state">${option("", "any", filter.state)}${FLEET_STATES.map((state) => option(state, FLEET_STATE_LABELS[state], filter.state))}</select></label>
<label>Cause or finding<select name="cause">${option("", "any", filter.cause)}${CAUSE_IDS.filter((cause) => cause !== "healthy").map((cause) =>
    option(cause, getCause(cause).title, filter.cause),
  )}${WARNING_KINDS.map((kind) => option(kind, `Finding: ${WARNING_KIND_LABELS[kind]}`, filter.cause))}</select></label>
<label>Subscription<input type="text" name="subscription" value="${filter.subscription ?? ""}"></label>
<label>Owner<input type="text" name="owner" value="${filter.owner ?? ""}"></label>
${functionKey ? html`<input type="hidden" name="code" value="${functionKey}">` : ""}${
    report.history.days !== DEFAULT_HISTORY_DAYS ? html`<input type="hidden" name="days" value="${report.history.days}">` : ""
  }
<button type="submit">Filter</button> ${isFiltered(filter) ? html`<a href="${pageLink("dashboard", {}, functionKey, "#accounts")}">Clear</a>` : ""}
</form>
<table class="accounts" id="account-list"><thead><tr><th scope="col">Account</th><th scope="col">State</th><th scope="col">Cause or findings</th><th scope="col">Owners</th><th scope="col">Last checked</th></tr></thead>
<tbody>${
    shown.length === 0
      ? html`<tr><td colspan="5" class="empty">No accounts${isFiltered(filter) ? " match the filter" : " listed yet"}.</td></tr>`
      : shown.map((account) => accountRow(account, functionKey))
  }</tbody></table>
${report.accounts.length > shown.length ? html`<p class="meta" id="accounts-truncated">Showing the first ${shown.length} of ${report.accounts.length}: narrow the filter, or read them all from <a href="${pageLink("status", { ...filter }, functionKey)}">the JSON</a>.</p>` : ""}
</section>`;
}

function accountRow(account: FleetAccount, functionKey: string | undefined): SafeHtml {
  const path = accountPath(account.accountId);
  const name = path
    ? html`<a class="account-name" href="${pageLink(`dashboard/accounts/${path}`, {}, functionKey)}">${account.accountName}</a>`
    : html`<span class="account-name">${account.accountName}</span>`;
  return html`<tr class="account" data-state="${account.state}">
<td>${name}<small>${account.subscriptionId} / ${account.resourceGroup}</small></td>
<td>${badge(account.state)}</td>
<td>${account.cause ? getCause(account.cause).title : ""}${account.warnings.map((w) => html`<small>${w.severity}: ${w.title}</small>`)}</td>
<td>${account.owners.map((owner) => html`<small>${owner}</small>`)}</td>
<td>${account.lastCheckedAt ? html`<small class="utc">${formatUtc(account.lastCheckedAt)}</small>` : html`<span class="empty">not probed</span>`}</td>
</tr>`;
}

function historySection(report: StatusReport, functionKey: string | undefined): SafeHtml {
  const { days, perDay, durationsByCause } = report.history;
  const minutes = (value: number | null): string => (value === null ? "–" : formatSpan(value * 60_000));
  return html`<section id="history" aria-labelledby="history-title">
<h2 id="history-title">History and trends</h2>
<nav class="windows" aria-label="History window">${HISTORY_WINDOWS.map((window) =>
    window === days
      ? html`<strong>last ${window} days</strong>`
      : html`<a href="${pageLink("dashboard", { ...report.filter, days: String(window) }, functionKey, "#history")}">last ${window} days</a>`,
  )} · <a href="${pageLink("incidents", { since: `${days}d` }, functionKey)}">incidents as JSON</a> · <a href="${pageLink("incidents", { since: `${days}d`, format: "csv" }, functionKey)}" download>as CSV</a></nav>
<h3>Incidents detected per day (escalated ones darker)</h3>
${perDayChart(perDay, "chart-per-day")}
<p class="meta">${perDay.reduce((n, d) => n + d.detected, 0)} detected, ${perDay.reduce((n, d) => n + d.escalated, 0)} escalated, ${perDay.reduce((n, d) => n + d.resolved, 0)} resolved in the last ${days} days.</p>
<h3>Emails sent per day</h3>
${emailsPerDayChart(perDay, "chart-emails")}
<h3>Time to fix and to recover by cause (incidents detected in the last ${days} days)</h3>
${durationsByCause.length === 0 ? html`<p class="empty">No incidents recorded yet.</p>` : durationChart(durationsByCause, "chart-durations")}
<table class="durations" id="durations-by-cause"><thead><tr><th scope="col">Cause</th><th scope="col">Incidents</th><th scope="col">Time to fix: median / p90</th><th scope="col">Time to recover: median / p90</th><th scope="col">Detection to resolution: median / p90</th></tr></thead>
<tbody>${durationsByCause.map(
    (row) =>
      html`<tr data-cause="${row.cause}"><td>${row.causeTitle}</td><td>${row.incidents}</td><td>${minutes(row.timeToFix.medianInMinutes)} / ${minutes(row.timeToFix.p90InMinutes)}</td><td>${minutes(row.timeToRecover.medianInMinutes)} / ${minutes(row.timeToRecover.p90InMinutes)}</td><td>${minutes(row.duration.medianInMinutes)} / ${minutes(row.duration.p90InMinutes)}</td></tr>`,
  )}</tbody></table>
<p class="meta">Time to detect is not measured: Azure's status does not say when access was lost; a revocation is seen by the first poll after it. Resolved incidents stay listed for good; their timelines and emails are pruned after the retention period (see docs/operator-api.md, Retention).</p>
</section>`;
}

function stateSection(state: OpenState, incidents: StatusIncident[], now: Date, functionKey: string | undefined): SafeHtml {
  return html`<section id="state-${state}" data-state="${state}">
<h2>${badge(state)} <span>${incidents.length} incident${incidents.length === 1 ? "" : "s"}</span></h2>
<p class="meta">${STATE_HINTS[state]}</p>
<table class="incidents"><thead><tr><th scope="col">Account</th><th scope="col">State</th><th scope="col">Cause</th><th scope="col">Detected</th><th scope="col">Fix</th><th scope="col">Next deadline</th></tr></thead>
<tbody>${
    incidents.length === 0
      ? html`<tr><td colspan="6" class="empty">No ${STATE_LABELS[state].toLowerCase()} incidents.</td></tr>`
      : incidents.map((incident) => incidentRows(incident, now, functionKey))
  }</tbody></table>
</section>
`;
}

function incidentRows(incident: StatusIncident, now: Date, functionKey: string | undefined): SafeHtml {
  const where = [incident.subscriptionId, incident.resourceGroup].filter(Boolean).join(" / ");
  const path = accountPath(incident.accountId);
  return html`<tr class="incident" data-incident-id="${incident.id}">
<td><strong class="account-name">${path ? html`<a href="${pageLink(`dashboard/accounts/${path}`, {}, functionKey)}">${incident.accountName}</a>` : incident.accountName}</strong><small>${where}</small><small>${incident.id}</small></td>
<td>${badge(incident.state)}</td>
<td data-label="Cause">${incident.causeTitle}${incident.code === null ? "" : ` (${incident.code})`}<small>${incident.statusText}</small></td>
<td data-label="Detected">${timeAgo(incident.detectedAt, now)}</td>
<td data-label="Fix">${fixCell(incident, now)}</td>
<td class="deadline" data-label="Next deadline">${deadlineCell(incident, now)}</td>
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
    return html`<small class="ticket">Support ticket ${ticket.ticketNumber ?? ticket.name}${ticket.status ? ` (${ticket.status})` : ""}</small>`;
  if (ticket.state === "creating") return html`<small class="ticket">Support ticket being filed</small>`;
  return html`<small class="ticket">Support ticket not filed: ${ticket.reason ?? "unknown reason"}</small>`;
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
