/**
 * The pages behind the email links: a confirmation page for GET (mail scanners pre-fetch
 * links, so a GET never changes anything), the result of the POST, and a clear page for every
 * way a link can be wrong. Pure rendering; all data is escaped by the `html` template.
 */
import type { LinkAction, LinkTokenProblem } from "../domain/linkTokens";
import type { Incident } from "../domain/incident";
import { getCause } from "../domain/causes";
import { MAX_TOTAL_SNOOZE_IN_HOURS } from "../domain/lifecycle";
import { html, raw, type SafeHtml } from "../email/html";
import { formatUtc } from "../email/templates";

const STYLE = `
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5; color: #1b1b1b; max-width: 680px; margin: 32px auto; padding: 0 16px; }
h1 { font-size: 20px; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { text-align: left; vertical-align: top; padding: 4px 12px 4px 0; border-bottom: 1px solid #e3e3e3; }
th { font-weight: 600; white-space: nowrap; }
td { word-break: break-word; }
form { margin: 20px 0; }
label { display: block; margin: 8px 0 4px 0; }
input[type=text] { font-size: 15px; padding: 6px; width: 100%; max-width: 360px; }
button { display: block; font-size: 16px; padding: 8px 18px; margin-top: 12px; background: #0b5cad; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
.note { color: #444; }
.problem { border-left: 4px solid #b00020; padding-left: 12px; }
.done { border-left: 4px solid #1e7b34; padding-left: 12px; }
`;

export interface LinkPageContext {
  nonce: string;
}

function page(ctx: LinkPageContext, title: string, body: SafeHtml): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style nonce="${ctx.nonce}">${raw(STYLE)}</style>
</head>
<body>
<h1>${title}</h1>
${body}
</body></html>
`;
}

function incidentFacts(incident: Incident): SafeHtml {
  return html`<table>
<tr><th>Account</th><td id="account-name">${incident.account?.name ?? incident.accountId}</td></tr>
<tr><th>Resource id</th><td>${incident.accountId}</td></tr>
<tr><th>Cause</th><td>${getCause(incident.cause).title}${incident.code === null ? "" : ` (${incident.code})`}</td></tr>
<tr><th>State</th><td id="incident-state">${incident.state}</td></tr>
<tr><th>Detected</th><td>${formatUtc(incident.detectedAt)}</td></tr>
${incident.expectedRecoveryBy ? html`<tr><th>Expected recovery by</th><td>${formatUtc(incident.expectedRecoveryBy)}</td></tr>` : ""}
${incident.escalateAt ? html`<tr><th>Escalation to support</th><td>${formatUtc(incident.escalateAt)}</td></tr>` : ""}
<tr><th>Incident</th><td>${incident.id}</td></tr>
</table>`;
}

const NAME_FIELD = html`<label for="name">Your name or email (optional, shown in the incident timeline)</label>
<input type="text" id="name" name="name" maxlength="80" autocomplete="email">`;

/** GET: what will happen, and a button that POSTs it. */
export function confirmationPage(
  ctx: LinkPageContext,
  request: { action: LinkAction; token: string; hours?: number; formAction: string },
  incident: Incident,
  until?: string,
): SafeHtml {
  if (request.action === "ack") {
    return page(
      ctx,
      "Confirm: the cause is fixed",
      html`<p>You are about to tell the monitor that the cause of this revocation is fixed. It then starts the recovery clock and stops sending reminders.
Azure usually restores access within about an hour of the fix; if the account is still revoked at the escalation time, the monitor contacts support.</p>
${incidentFacts(incident)}
<form method="post" action="${request.formAction}">
<input type="hidden" name="token" value="${request.token}">
${NAME_FIELD}
<button type="submit" id="confirm">Yes, I have fixed it</button>
</form>
<p class="note">Nothing has been recorded yet: this page only asks you to confirm.</p>`,
    );
  }
  return page(
    ctx,
    `Confirm: pause reminders for ${request.hours} hours`,
    html`<p>Reminder emails about this incident will pause until ${formatUtc(until)}. Escalation to support is <strong>not</strong> paused.</p>
${incidentFacts(incident)}
<form method="post" action="${request.formAction}">
<input type="hidden" name="token" value="${request.token}">
<input type="hidden" name="hours" value="${String(request.hours)}">
${NAME_FIELD}
<button type="submit" id="confirm">Pause reminders for ${request.hours} hours</button>
</form>
<p class="note">Nothing has been recorded yet: this page only asks you to confirm.</p>`,
  );
}

/** POST succeeded. */
export function appliedPage(ctx: LinkPageContext, action: LinkAction, incident: Incident): SafeHtml {
  if (action === "ack") {
    return page(
      ctx,
      "Thank you: the fix is recorded",
      html`<div class="done"><p>The incident is now <strong id="result-state">${incident.state}</strong>. The recovery clock started at ${formatUtc(incident.clockStartedAt ?? incident.fixObservedAt)}:
expect the account to recover by ${formatUtc(incident.expectedRecoveryBy)}. If it is still revoked at ${formatUtc(incident.escalateAt)}, the monitor contacts support with the full timeline.</p></div>
${incidentFacts(incident)}
<p class="note">You and the other owners also get an email confirming this. You can close this page.</p>`,
    );
  }
  return page(
    ctx,
    "Reminders paused",
    html`<div class="done"><p>Reminders about this incident are paused until <strong id="snoozed-until">${formatUtc(incident.remindersSnoozedUntil)}</strong>.
${incident.escalateAt ? html`Escalation to support at ${formatUtc(incident.escalateAt)} is not affected.` : "Escalation to support is not affected."}</p></div>
${incidentFacts(incident)}`,
  );
}

/** A valid link with nothing left to do (e.g. the fix was already recorded). */
export function nothingToDoPage(ctx: LinkPageContext, action: LinkAction, incident: Incident): SafeHtml {
  const why =
    action !== "ack"
      ? (incident.snoozedInMinutes ?? 0) >= MAX_TOTAL_SNOOZE_IN_HOURS * 60
        ? `This incident's reminders have already been paused for ${MAX_TOTAL_SNOOZE_IN_HOURS} hours in all, the most one incident may be.`
        : `Reminders are already paused until ${formatUtc(incident.remindersSnoozedUntil)}.`
      : incident.state === "escalated"
        ? "The incident has already been escalated to support; everyone notified hears when the account recovers."
        : incident.fixSource === "acknowledged"
          ? `A fix is already recorded${incident.fixAcknowledgedBy ? ` by ${incident.fixAcknowledgedBy}` : ""}: the incident is ${incident.state}.`
          : `The monitor already saw the fix: the incident is ${incident.state}.`;
  return page(ctx, "Nothing to change", html`<p>${why} Nothing changed.</p>${incidentFacts(incident)}`);
}

export type LinkProblem = LinkTokenProblem | "reused" | "incident-closed" | "wrong-hours" | "links-unavailable" | "failed";

const PROBLEMS: Record<LinkProblem, { status: number; title: string; text: string }> = {
  malformed: {
    status: 400,
    title: "This link is not valid",
    text: "The link is incomplete or damaged. Copy the whole link from the email, or use the command in the email instead.",
  },
  "bad-signature": { status: 403, title: "This link is not valid", text: "The link was changed after it was sent, or was not made by this monitor." },
  "wrong-action": { status: 400, title: "This link is not valid here", text: "The link was made for another action. Use the link from the email as it is." },
  "wrong-incident": {
    status: 400,
    title: "This link is not valid here",
    text: "The link was made for another incident. Use the link from the email as it is.",
  },
  "wrong-hours": {
    status: 400,
    title: "This link is not valid here",
    text: "The snooze length in the link was changed. Use the link from the email as it is.",
  },
  expired: {
    status: 410,
    title: "This link has expired",
    text: "Links in emails work for a limited time. Use the link in the latest reminder, or the command in the email.",
  },
  reused: {
    status: 409,
    title: "This link was already used",
    text: "Each link works once, and this one has been used. Check the incident's latest email for its current state.",
  },
  "incident-closed": {
    status: 410,
    title: "This incident is closed",
    text: "The incident this link was made for is over (the account recovered, or a newer incident replaced it).",
  },
  "links-unavailable": {
    status: 503,
    title: "Links are not available",
    text: "The monitor cannot check links right now. Use the command in the email, or try again later.",
  },
  failed: {
    status: 503,
    title: "Nothing was recorded",
    text: "The monitor could not record this right now. Try again in a few minutes, or use the command in the email.",
  },
};

export function problemPage(ctx: LinkPageContext, problem: LinkProblem): { status: number; page: SafeHtml } {
  const { status, title, text } = PROBLEMS[problem];
  return {
    status,
    page: page(ctx, title, html`<div class="problem" data-problem="${problem}"><p>${text}</p><p><strong>Nothing changed.</strong></p></div>`),
  };
}
