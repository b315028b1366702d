/**
 * One account's page, rendered from an AccountReport: its state now and the evidence, each incident
 * as a strip (revoked → recovering → escalated) with its full timeline, the daily check's warnings,
 * every email recorded for it, and portal links. Self-contained like the dashboard (same style,
 * same escaping `html` template, no script), so it works with JavaScript off.
 */
import { getCause } from "../domain/causes";
import { html, raw, type SafeHtml } from "../email/html";
import { formatUtc } from "../email/templates";
import { PROBE_LABELS } from "../domain/probeFindings";
import type { AccountIncident, AccountReport } from "./accountReport";
import { incidentStrip, stripSegments } from "./charts";
import { badge, EVENT_LABELS, PAGE_STYLE, pageLink } from "./dashboardPage";
import { accountPath } from "./accountReport";
import { formatSpan } from "./timeText";

export function renderAccountPage(report: AccountReport, options: { nonce: string; functionKey?: string }): SafeHtml {
  const now = new Date(report.generatedAt);
  const open = report.incidents.find((incident) => incident.state !== "resolved");
  const path = accountPath(report.accountId);
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${report.accountName}: CMK ${report.state}</title>
<style nonce="${options.nonce}">${raw(PAGE_STYLE)}</style>
</head>
<body>
<header>
<p class="meta"><a href="${pageLink("dashboard", {}, options.functionKey)}">← Dashboard</a>${
    path ? html` · <a href="${pageLink(`accounts/${path}`, {}, options.functionKey)}">JSON</a>` : ""
  }</p>
<h1><span id="account-name">${report.accountName}</span> ${badge(report.state)}</h1>
<p class="meta">Subscription ${report.subscriptionId}, resource group ${report.resourceGroup}</p>
<p class="meta" id="portal-links">${
    report.links.account ? html`<a href="${report.links.account}" rel="noreferrer" target="_blank">The account in the Azure portal</a>` : ""
  }${
    report.links.vaults && report.links.vaultName
      ? html` · <a href="${report.links.vaults}" rel="noreferrer" target="_blank">Key vaults in the portal</a> (look for <strong>${report.links.vaultName}</strong>)`
      : ""
  }${report.keyVaultKeyUri ? html`<br>Key: <code>${report.keyVaultKeyUri}</code>` : ""}</p>
</header>
<main>
<section id="now" aria-labelledby="now-title">
<h2 id="now-title">Now</h2>
${
  open
    ? html`<p><strong>${open.causeTitle}</strong>${open.code === null ? "" : ` (${open.code})`}: detected ${formatUtc(open.detectedAt)}.</p>
<p class="meta">Azure's status text:</p><pre class="status-text">${open.statusText}</pre>
${open.probe ? html`<p>The monitor's probes: ${getCause(open.probe.cause).title} ${open.probe.verdict === "present" ? "still present" : "gone"} (${formatUtc(open.probe.at)}): ${open.probe.detail}</p>` : ""}
${evidence(open)}`
    : html`<p>No open incident.</p>`
}
</section>
<section id="warnings" aria-labelledby="warnings-title">
<h2 id="warnings-title">Daily check</h2>
${
  report.warnings
    ? report.warnings.findings.length === 0
      ? html`<p>Checked ${formatUtc(report.warnings.checkedAt)}: nothing found.</p>`
      : html`<p class="meta">Checked ${formatUtc(report.warnings.checkedAt)}.</p><ul class="findings">${report.warnings.findings.map(
          (finding) =>
            html`<li data-kind="${finding.kind}"><strong>${finding.severity}: ${finding.title}</strong>. ${finding.detail}${finding.commands.map(
              (command) => html`<br>${command.label ? html`${command.label}: ` : ""}<code>${command.command}</code>`,
            )}</li>`,
        )}</ul>`
    : html`<p class="empty">Never checked (probes off, or the account had an open incident since it was first seen).</p>`
}
</section>
<section id="incidents" aria-labelledby="incidents-title">
<h2 id="incidents-title">Incidents (${report.incidents.length})</h2>
${report.incidents.length === 0 ? html`<p class="empty">None recorded.</p>` : report.incidents.map((incident, i) => incidentBlock(incident, i, now))}
</section>
<section id="emails" aria-labelledby="emails-title">
<h2 id="emails-title">Emails (${report.emails.length})</h2>
<table class="accounts" id="email-list"><thead><tr><th scope="col">Kind</th><th scope="col">Recipients</th><th scope="col">Recorded</th><th scope="col">Delivery</th></tr></thead>
<tbody>${
    report.emails.length === 0
      ? html`<tr><td colspan="4" class="empty">No emails recorded for this account.</td></tr>`
      : report.emails.map(
          (email) => html`<tr class="email" data-kind="${email.kind}" data-status="${email.status}">
<td>${email.kind}<small>${email.incidentId}</small></td>
<td>${email.to.map((to) => html`<small>to ${to}</small>`)}${email.cc.map((cc) => html`<small>cc ${cc}</small>`)}</td>
<td><small class="utc">${formatUtc(email.createdAt)}</small></td>
<td>${deliveryText(email)}${email.lastError ? html`<small>${email.lastError}</small>` : ""}${email.deliveryReports.map(
            (r) =>
              html`<small class="delivery-report" data-delivery="${r.status}">${r.recipient}: ${r.status} ${formatUtc(r.at)}${r.details && r.status !== "Delivered" ? html` (${r.details})` : ""}</small>`,
          )}</td>
</tr>`,
        )
  }</tbody></table>
<p class="meta">"Handed to Azure Communication Services" is as far as the send goes; where ACS delivery reports are wired (Event Grid), each recipient's latest report follows it (Delivered, or Bounced, Suppressed, Quarantined, FilteredSpam, Failed).</p>
</section>
</main>
</body></html>
`;
}

function deliveryText(email: AccountReport["emails"][number]): string {
  switch (email.status) {
    case "sent":
      return `Handed to Azure Communication Services ${formatUtc(email.sentAt ?? undefined)}`;
    case "pending":
      return email.attempts === 0 ? "Waiting to be sent" : `Retrying (${email.attempts} attempt${email.attempts === 1 ? "" : "s"} so far)`;
    case "sending":
      return "Being sent";
    case "dead":
      return `Given up after ${email.attempts} attempt${email.attempts === 1 ? "" : "s"}`;
  }
}

function evidence(incident: AccountIncident): SafeHtml {
  if (incident.evidence.length === 0) return html``;
  return html`<table class="accounts" id="evidence"><caption>What the probes found (as carried by the latest email)</caption><tbody>${incident.evidence.map(
    (line) =>
      html`<tr data-probe="${line.probe}" data-outcome="${line.outcome}"><td>${PROBE_LABELS[line.probe]}</td><td>${line.outcome}</td><td>${line.text}${(
        line.commands ?? []
      ).map((command) => html`<br><code>${command.command}</code>`)}</td></tr>`,
  )}</tbody></table>`;
}

function incidentBlock(incident: AccountIncident, index: number, now: Date): SafeHtml {
  const span = (minutes: number | null): string => (minutes === null ? "–" : formatSpan(minutes * 60_000));
  return html`<article class="incident" data-incident-id="${incident.id}" data-state="${incident.state}">
<h3>${incident.causeTitle}${incident.code === null ? "" : ` (${incident.code})`}: ${incident.state}</h3>
${incidentStrip(stripSegments(incident, now), `strip-${index}`, `Incident ${incident.id}: revoked from ${formatUtc(incident.detectedAt)}${incident.resolvedAt ? ` to ${formatUtc(incident.resolvedAt)}` : ", still open"}`)}
<p class="meta">Detected ${formatUtc(incident.detectedAt)}${incident.fixObservedAt ? html`; fix ${incident.fixSource === "acknowledged" ? `acknowledged${incident.fixAcknowledgedBy ? ` by ${incident.fixAcknowledgedBy}` : ""}` : "observed"} ${formatUtc(incident.fixObservedAt)}` : ""}${
    incident.escalatedAt ? html`; escalated ${formatUtc(incident.escalatedAt)}` : ""
  }${incident.resolvedAt ? html`; resolved ${formatUtc(incident.resolvedAt)} (${incident.resolution ?? "recovered"})` : ""}.</p>
<p class="meta">Time to fix ${span(incident.timeToFixInMinutes)}, to recover ${span(incident.timeToRecoverInMinutes)}, detection to resolution ${span(incident.durationInMinutes)}; ${incident.reminderCount} reminder(s). <small>${incident.id}</small></p>
${
  incident.emailsSent === null
    ? ""
    : html`<p class="meta pruned">Pruned after the retention period: ${incident.emailsSent} email(s) were sent; the timeline and the emails themselves are no longer kept.</p>`
}
<ol class="timeline">${incident.timeline.map(
    (event) =>
      html`<li><time datetime="${event.at}">${formatUtc(event.at)}</time>: <strong>${EVENT_LABELS[event.type] ?? event.type}</strong>: ${event.detail}</li>`,
  )}</ol>
</article>`;
}
