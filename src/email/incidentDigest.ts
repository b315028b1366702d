/**
 * One email for many incident emails of the same kind to the same people: when one shared vault
 * revokes hundreds of accounts, each owner gets one digest listing every affected account, with
 * each account's own details and fix below the list. Pure, like the single templates it reuses.
 */
import { getCause } from "../domain/causes";
import type { IncidentMessageKind, MessageFacts } from "../domain/incident";
import { displayValue } from "../domain/displayText";
import { sanitizeHeaderText } from "../domain/recipients";
import { html, raw } from "./html";
import { formatUtc, type RenderedEmail } from "./templates";

export interface DigestPart {
  facts: MessageFacts;
  /** The email this account would have had on its own (links and evidence included). */
  rendered: RenderedEmail;
}

const STATE_WORDS: Record<IncidentMessageKind, string> = {
  revoked: "revoked",
  reminder: "still revoked",
  "cause-changed": "cause changed",
  "fix-acknowledged": "fix acknowledged",
  "fix-observed": "fix observed",
  "fix-undone": "fix undone",
  escalation: "escalated",
  resolved: "resolved",
};

const STYLE = {
  body: "font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1b1b1b;max-width:760px;margin:0;padding:16px;",
  p: "margin:8px 0;",
  table: "border-collapse:collapse;margin:8px 0;",
  th: "text-align:left;vertical-align:top;padding:4px 10px 4px 0;font-weight:600;border-bottom:1px solid #ddd;white-space:nowrap;",
  td: "text-align:left;vertical-align:top;padding:4px 10px 4px 0;border-bottom:1px solid #eee;word-break:break-word;",
  h2: "font-size:16px;margin:28px 0 8px 0;color:#1b1b1b;border-top:2px solid #ddd;padding-top:12px;",
};

export function renderIncidentDigest(kind: IncidentMessageKind, parts: readonly DigestPart[], options: { monitorName?: string } = {}): RenderedEmail {
  const count = parts.length;
  const causes = new Map<string, number>();
  for (const { facts } of parts) {
    const label = `${getCause(facts.incident.cause).title}${facts.incident.code === null ? "" : ` (${facts.incident.code})`}`;
    causes.set(label, (causes.get(label) ?? 0) + 1);
  }
  const causeText = causes.size === 1 ? [...causes.keys()][0]! : `${causes.size} causes`;
  const subject = sanitizeHeaderText(`[CMK ${STATE_WORDS[kind]}] ${count} Cosmos DB account${count === 1 ? "" : "s"}: ${causeText}`);
  const intro =
    `${count} Azure Cosmos DB account${count === 1 ? " is" : "s are"} in the same situation (${STATE_WORDS[kind]}). ` +
    `This is one email for all of them instead of ${count}; the list comes first, then each account's own details and fix.`;
  const headers = ["Account", "Subscription", "Resource group", "Cause", "Detected"];
  const rows = parts.map(({ facts }) => {
    const incident = facts.incident;
    const code = incident.code === null ? "" : ` (${incident.code})`;
    // One line each, like the single templates' text: a newline in a name must not forge a row.
    return [
      incident.account?.name ?? incident.accountId,
      incident.account?.subscriptionId ?? "unknown",
      incident.account?.resourceGroup ?? "unknown",
      `${getCause(incident.cause).title}${code}`,
      formatUtc(incident.detectedAt),
    ].map((cell) => displayValue(cell));
  });
  const footer = `Sent by ${options.monitorName?.trim() || "Cosmos DB CMK monitor"} as one digest of ${count} messages.`;

  const text = [
    intro,
    [headers.join(" | "), ...rows.map((row) => row.join(" | "))].join("\n"),
    ...parts.map(({ rendered }, index) => `${"=".repeat(72)}\n${index + 1}/${count}: ${rendered.subject}\n${"=".repeat(72)}\n\n${rendered.text.trimEnd()}`),
    footer,
  ].join("\n\n");

  const body = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="${STYLE.body}">
<p style="${STYLE.p}">${intro}</p>
<table style="${STYLE.table}"><thead><tr>${headers.map((header) => html`<th style="${STYLE.th}">${header}</th>`)}</tr></thead><tbody>${rows.map(
    (row) => html`<tr>${row.map((cell) => html`<td style="${STYLE.td}">${cell}</td>`)}</tr>`,
  )}</tbody></table>
${parts.map(
  ({ rendered }, index) => html`<h2 style="${STYLE.h2}">${index + 1}/${count}: ${rendered.subject}</h2>
${raw(innerBody(rendered.html))}
`,
)}<p style="${STYLE.p}">${footer}</p>
</body></html>
`.html;
  return { subject, text: `${text}\n`, html: body };
}

/** The markup inside a rendered email's <body>: already escaped by the single template. */
function innerBody(document: string): string {
  const match = /<body[^>]*>([\s\S]*)<\/body>/i.exec(document);
  return match ? match[1]! : "";
}
