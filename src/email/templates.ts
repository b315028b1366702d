/**
 * One email per MessageKind, rendered purely from MessageFacts. Each template builds a short
 * list of blocks once; the plain-text and HTML bodies are both rendered from that list, so
 * they always carry the same facts.
 */
import { parseAccountResourceId } from "../domain/account";
import { getCause, type CauseInfo } from "../domain/causes";
import type { Incident, IncidentEvent, MessageFacts } from "../domain/incident";
import { PROBE_LABELS, type EvidenceLine } from "../domain/probeFindings";
import type { WarningDigestFacts } from "../domain/warnings";
import { displayValue, neutralizeText } from "../domain/displayText";
import { sanitizeHeaderText } from "../domain/recipients";
import {
  acknowledgeFixCommand,
  describeMinutes,
  remediationSteps,
  resolveDefaultIdentity,
  statusCheckCommand,
  withPlaceholderHelp,
  type RemediationStep,
} from "../domain/remediation";
import type { SupportTicketDraft } from "../domain/supportTicket";
import { html, safeHref, type SafeHtml } from "./html";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface RenderEmailOptions {
  /** Shown in the footer, e.g. "Contoso CMK monitor". */
  monitorName?: string;
  /** One-click links for owners, minted when the message is sent; the CLI line stays as the fallback. */
  ownerLinks?: OwnerLinks;
  /** Escalation emails with CMK_SUPPORT_TICKETS on: the ticket filed, or the draft to file. */
  supportTicket?: SupportTicketView;
}

/** What an escalation email says about the Microsoft support ticket (src/domain/supportTicketCommand.ts builds it). */
export interface SupportTicketView {
  draft: SupportTicketDraft;
  /** The `az support in-subscription tickets create` command, built from checked values only. */
  command: string;
  /** How to find the problem classification when the command carries its placeholder. */
  lookupCommand?: string;
  outcome: { kind: "draft" } | { kind: "filed"; ticketNumber: string; portalUrl: string } | { kind: "not-filed"; reason: string };
}

/** Signed links to the app's confirmation pages (src/web); each token works once. */
export interface OwnerLinks {
  acknowledgeUrl: string;
  snooze: Array<{ hours: number; url: string }>;
}

const DEFAULT_MONITOR_NAME = "Cosmos DB CMK monitor";

// ---------------------------------------------------------------------------------------------
// Formatting

/** "2026-11-29 07:15 UTC"; text that is not a time is returned as it is. */
export function formatUtc(iso: string | undefined): string {
  if (!iso) return "not set";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "45 minutes", "2 hours 5 minutes", "3 days 4 hours"; undefined when a time is missing. */
export function formatDuration(fromIso: string | undefined, toIso: string | undefined): string | undefined {
  if (!fromIso || !toIso) return undefined;
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const totalMinutes = Math.round(ms / 60_000);
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (days > 0) return hours > 0 ? `${unit(days, "day")} ${unit(hours, "hour")}` : unit(days, "day");
  if (hours > 0) return minutes > 0 ? `${unit(hours, "hour")} ${unit(minutes, "minute")}` : unit(hours, "hour");
  return unit(minutes, "minute");
}

// ---------------------------------------------------------------------------------------------
// Blocks: what an email says, independent of text or HTML

type Block =
  | { type: "heading"; text: string }
  | { type: "paragraph"; text: string }
  | { type: "facts"; rows: Array<[label: string, value: string]> }
  | { type: "steps"; steps: RemediationStep[] }
  | { type: "command"; command: string }
  | { type: "link"; label: string; url: string }
  | { type: "table"; headers: string[]; rows: string[][] };

/**
 * Every text in the blocks on one line and without invisible characters, commands aside (built
 * from checked values only, and copied byte for byte): a value with a newline or a bidi override
 * cannot forge a paragraph in the plain text, nor reorder what the HTML shows.
 */
function neutralizeBlocks(blocks: Block[]): Block[] {
  const n = neutralizeText;
  return blocks.map((block): Block => {
    switch (block.type) {
      case "heading":
      case "paragraph":
        return { ...block, text: n(block.text) };
      case "facts":
        return { ...block, rows: block.rows.map(([label, value]): [string, string] => [n(label), n(value)]) };
      case "steps":
        return {
          ...block,
          steps: block.steps.map((step) => ({
            text: n(step.text),
            commands: step.commands.map((command) => (command.label ? { ...command, label: n(command.label) } : command)),
          })),
        };
      case "command":
        return block;
      case "link":
        return { ...block, label: n(block.label) };
      case "table":
        return { ...block, headers: block.headers.map(n), rows: block.rows.map((row) => row.map(n)) };
    }
  });
}

/** The status text as Azure reported it, bounded like the stored copy. */
const STATUS_TEXT_MAX_CHARS = 4000;

function renderText(blocks: Block[]): string {
  const parts = blocks.map((block): string => {
    switch (block.type) {
      case "heading":
        return `${block.text}\n${"-".repeat(Math.min(block.text.length, 72))}`;
      case "paragraph":
        return block.text;
      case "facts": {
        const width = Math.max(...block.rows.map(([label]) => label.length));
        return block.rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join("\n");
      }
      case "steps":
        return block.steps
          .map((step, index) => {
            const lines = [`${index + 1}. ${step.text}`];
            for (const command of step.commands) {
              if (command.label) lines.push(`   ${command.label}:`);
              // Only the first line is indented: a quoted value may span lines and must stay exact.
              lines.push(`      ${command.command}`);
            }
            return lines.join("\n");
          })
          .join("\n\n");
      case "command":
        return `    ${block.command}`;
      case "link":
        return `${block.label}: ${block.url}`;
      case "table":
        return [block.headers.join(" | "), ...block.rows.map((row) => row.join(" | "))].join("\n");
    }
  });
  return `${parts.join("\n\n")}\n`;
}

const STYLE = {
  body: "font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1b1b1b;max-width:760px;margin:0;padding:16px;",
  h2: "font-size:16px;margin:20px 0 8px 0;color:#1b1b1b;",
  p: "margin:8px 0;",
  table: "border-collapse:collapse;margin:8px 0;",
  th: "text-align:left;vertical-align:top;padding:4px 10px 4px 0;font-weight:600;border-bottom:1px solid #ddd;white-space:nowrap;",
  td: "text-align:left;vertical-align:top;padding:4px 10px 4px 0;border-bottom:1px solid #eee;word-break:break-word;",
  pre: "background:#f4f4f4;border:1px solid #ddd;border-radius:4px;padding:8px;margin:4px 0 8px 0;font-family:Consolas,Menlo,monospace;font-size:13px;white-space:pre-wrap;word-break:break-all;",
  label: "margin:6px 0 2px 0;font-style:italic;",
  a: "color:#0b5cad;",
};

function renderHtmlBlock(block: Block): SafeHtml {
  switch (block.type) {
    case "heading":
      return html`<h2 style="${STYLE.h2}">${block.text}</h2>`;
    case "paragraph":
      return html`<p style="${STYLE.p}">${block.text}</p>`;
    case "facts":
      return html`<table style="${STYLE.table}">${block.rows.map(
        ([label, value]) => html`<tr><th style="${STYLE.th}">${label}</th><td style="${STYLE.td}">${value}</td></tr>`,
      )}</table>`;
    case "steps":
      return html`<ol>${block.steps.map(
        (step) =>
          html`<li style="margin:0 0 12px 0;"><p style="${STYLE.p}">${step.text}</p>${step.commands.map(
            (command) => html`${command.label ? html`<p style="${STYLE.label}">${command.label}:</p>` : ""}<pre style="${STYLE.pre}">${command.command}</pre>`,
          )}</li>`,
      )}</ol>`;
    case "command":
      return html`<pre style="${STYLE.pre}">${block.command}</pre>`;
    case "link":
      return html`<p style="${STYLE.p}"><a style="${STYLE.a}" href="${safeHref(block.url)}">${block.label}</a></p>`;
    case "table":
      return html`<table style="${STYLE.table}"><thead><tr>${block.headers.map(
        (header) => html`<th style="${STYLE.th}">${header}</th>`,
      )}</tr></thead><tbody>${block.rows.map((row) => html`<tr>${row.map((cell) => html`<td style="${STYLE.td}">${cell}</td>`)}</tr>`)}</tbody></table>`;
  }
}

function renderHtml(subject: string, blocks: Block[]): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="${STYLE.body}">
${blocks.map((block) => html`${renderHtmlBlock(block)}\n`)}</body></html>
`.html;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

interface Context {
  facts: MessageFacts;
  incident: Incident;
  cause: CauseInfo;
  /** Account name for prose, untrusted: fine in bodies (escaped), sanitized again for subjects. */
  name: string;
  monitorName: string;
  links: OwnerLinks | undefined;
  supportTicket: SupportTicketView | undefined;
}

function accountName(incident: Incident): string {
  const name = incident.account?.name?.trim() || parseAccountResourceId(incident.accountId)?.name || incident.accountId;
  return name;
}

function codeText(code: number | null): string {
  return code === null ? "none reported" : String(code);
}

function subject(ctx: Context, state: string, tail?: string): string {
  const code = ctx.incident.code === null ? "" : ` (${ctx.incident.code})`;
  const name = sanitizeHeaderText(ctx.name, 80);
  return sanitizeHeaderText(`[CMK ${state}] ${name}: ${tail ?? `${ctx.cause.title}${code}`}`);
}

function accountFacts(incident: Incident): Array<[string, string]> {
  const account = incident.account;
  return [
    ["Account", accountName(incident)],
    ["Resource id", incident.accountId],
    ["Subscription", account?.subscriptionId ?? "unknown"],
    ["Resource group", account?.resourceGroup ?? "unknown"],
    ["Key URI", account?.keyVaultKeyUri ? displayValue(account.keyVaultKeyUri) : "not set"],
    ["Default identity", account?.defaultIdentity ? displayValue(account.defaultIdentity) : "not set"],
    ["Status from Azure", incident.statusText ? displayValue(incident.statusText, STATUS_TEXT_MAX_CHARS) : "not reported"],
    ["Code", codeText(incident.code)],
    ["Cause", `${getCause(incident.cause).title} (${incident.cause})`],
    ["Detected at", formatUtc(incident.detectedAt)],
  ];
}

function whoCanFix(cause: CauseInfo): string {
  switch (cause.fixableBy) {
    case "owner":
      return "You, the account's owners: someone who can manage the key vault's access (access policies or role assignments) and update the Cosmos DB account.";
    case "microsoft":
      return "Most likely Microsoft: nothing on the account is known to be wrong. Check the steps below in case something did change; otherwise the monitor escalates to support if the account does not recover.";
    case "none":
      return "Nobody needs to act.";
  }
}

function fixBlocks(ctx: Context, stepsHeading = "How to fix it"): Block[] {
  const { incident, cause } = ctx;
  const blocks: Block[] = [
    { type: "heading", text: "What went wrong" },
    { type: "paragraph", text: `${cause.title}. ${cause.explanation}` },
    { type: "heading", text: "Who can fix it" },
    { type: "paragraph", text: whoCanFix(cause) },
    ...evidenceBlocks(ctx.facts.evidence),
    { type: "heading", text: stepsHeading },
    { type: "steps", steps: [...startHereSteps(ctx.facts.evidence), ...remediationSteps(incident.cause, incident.account)] },
    { type: "link", label: "Microsoft's troubleshooting guide for this error", url: cause.docsUrl },
    { type: "heading", text: "When you have fixed it" },
    ...(ctx.links
      ? ([
          {
            type: "paragraph",
            text: "Tell the monitor with one click, so it starts the recovery clock and stops sending reminders (the page asks you to confirm):",
          },
          { type: "link", label: "I have fixed it", url: ctx.links.acknowledgeUrl },
          { type: "paragraph", text: "Or from a shell:" },
        ] satisfies Block[])
      : ([{ type: "paragraph", text: "Tell the monitor, so it starts the recovery clock and stops sending reminders:" }] satisfies Block[])),
    ...commandWithHelp(acknowledgeFixCommand(incident.accountId)),
  ];
  if (incident.nextReminderAt) {
    blocks.push({
      type: "paragraph",
      text: `Until then, the next reminder goes out at ${formatUtc(incident.nextReminderAt)} if the account is still revoked.`,
    });
  }
  if (ctx.links && ctx.links.snooze.length > 0) {
    blocks.push({ type: "paragraph", text: "Need more time? Pause the reminders (escalation to support is never paused):" });
    for (const { hours, url } of ctx.links.snooze) blocks.push({ type: "link", label: `Snooze reminders for ${hours} hours`, url });
  }
  return blocks;
}

function footer(ctx: Context, why: string): Block {
  return { type: "paragraph", text: `Sent by ${ctx.monitorName} about incident ${ctx.incident.id}. ${why}` };
}

const OWNER_WHY = "You receive this because you are listed as an owner or contact of this Cosmos DB account.";

const OUTCOME_TEXT: Record<EvidenceLine["outcome"], string> = { ok: "OK", problem: "PROBLEM", "could-not-check": "COULD NOT CHECK" };

/** "What we checked": one row per probe with the fact it found (escaped like every other value). */
function evidenceBlocks(evidence: EvidenceLine[] | undefined): Block[] {
  if (!evidence || evidence.length === 0) return [];
  return [
    { type: "heading", text: "What we checked" },
    {
      type: "table",
      headers: ["Check", "Result", "What we found"],
      rows: evidence.map((line) => [PROBE_LABELS[line.probe] ?? line.probe, OUTCOME_TEXT[line.outcome] ?? line.outcome, line.text]),
    },
  ];
}

/** A command on its own, after the sentence asking the reader to fill in any value the monitor refused to print. */
function commandWithHelp(command: string): Block[] {
  const help = withPlaceholderHelp({ text: "", commands: [{ command }] }).text;
  return help
    ? [
        { type: "paragraph", text: help },
        { type: "command", command },
      ]
    : [{ type: "command", command }];
}

/** The exact fixes the probes point at, as the first steps, before the general ones. */
function startHereSteps(evidence: EvidenceLine[] | undefined): RemediationStep[] {
  return (evidence ?? [])
    .filter((line) => line.outcome === "problem" && line.commands && line.commands.length > 0)
    .map((line) => withPlaceholderHelp({ text: `Start here (from what we checked): ${line.text}`, commands: line.commands! }));
}

// ---------------------------------------------------------------------------------------------
// The templates

interface Template {
  subject: string;
  blocks: Block[];
}

function revoked(ctx: Context): Template {
  return {
    subject: subject(ctx, "revoked"),
    blocks: [
      {
        type: "paragraph",
        text:
          `The Azure Cosmos DB account ${ctx.name} has lost access to its customer-managed key. ` +
          "Until access is restored, reads and writes of its data fail; Azure only allows account updates that repair the identity, or deleting the account.",
      },
      { type: "heading", text: "Account" },
      { type: "facts", rows: accountFacts(ctx.incident) },
      ...fixBlocks(ctx),
      footer(ctx, OWNER_WHY),
    ],
  };
}

function reminder(ctx: Context): Template {
  const n = ctx.facts.reminderNumber ?? Math.max(1, ctx.incident.reminderCount);
  return {
    subject: subject(ctx, `still revoked, reminder ${n}`),
    blocks: [
      {
        type: "paragraph",
        text:
          `Reminder ${n}: the Azure Cosmos DB account ${ctx.name} is still revoked, as it has been since ${formatUtc(ctx.incident.detectedAt)}. ` +
          "Its data cannot be read or written until access to the key is restored.",
      },
      { type: "heading", text: "Account" },
      { type: "facts", rows: accountFacts(ctx.incident) },
      ...fixBlocks(ctx),
      footer(ctx, OWNER_WHY),
    ],
  };
}

function causeChanged(ctx: Context): Template {
  const previous = ctx.facts.previousCause ? getCause(ctx.facts.previousCause) : undefined;
  const from = previous ? `"${previous.title}" (${previous.id})` : "an earlier cause";
  return {
    subject: subject(ctx, "revoked, cause changed"),
    blocks: [
      {
        type: "paragraph",
        text:
          `The reason the Azure Cosmos DB account ${ctx.name} is revoked has changed: it was ${from}, it is now "${ctx.cause.title}" (${ctx.cause.id}). ` +
          "Follow the steps below; they replace the ones sent earlier.",
      },
      { type: "heading", text: "Account" },
      { type: "facts", rows: accountFacts(ctx.incident) },
      ...fixBlocks(ctx, "How to fix the new cause"),
      footer(ctx, OWNER_WHY),
    ],
  };
}

function fixDescription(incident: Incident): string {
  switch (incident.fixSource) {
    case "acknowledged":
      return `${incident.fixAcknowledgedBy ? `${incident.fixAcknowledgedBy} acknowledged` : "An owner acknowledged"} the fix at ${formatUtc(incident.fixObservedAt)}.`;
    case "observed":
      return `The monitor's own checks confirmed the cause is gone at ${formatUtc(incident.fixObservedAt)}; no acknowledgment was needed.`;
    case "detection":
      return `Nobody needs to fix this cause, so the recovery clock started when it was detected (${formatUtc(incident.detectedAt)}).`;
    default:
      return incident.fixObservedAt ? `A fix was recorded at ${formatUtc(incident.fixObservedAt)}.` : "No fix has been recorded.";
  }
}

function fixAcknowledged(ctx: Context): Template {
  const { incident } = ctx;
  return {
    subject: subject(ctx, incident.fixSource === "observed" ? "recovering, fix confirmed" : "recovering"),
    blocks: [
      {
        type: "paragraph",
        text:
          incident.fixSource === "detection"
            ? `The monitor is waiting for the Azure Cosmos DB account ${ctx.name} to recover. ${fixDescription(incident)}`
            : `Thank you: a fix for the Azure Cosmos DB account ${ctx.name} is recorded. ${fixDescription(incident)}`,
      },
      { type: "heading", text: "What happens next" },
      {
        type: "facts",
        rows: [
          ["Recovery clock started", formatUtc(incident.clockStartedAt ?? incident.fixObservedAt)],
          ["Expected recovery by", formatUtc(incident.expectedRecoveryBy)],
          ["Escalation to support at", formatUtc(incident.escalateAt)],
        ],
      },
      {
        type: "paragraph",
        text:
          `Azure usually restores access within about ${describeMinutes(ctx.cause.policy.expectedRecoveryInMinutes)} of the fix, so expect the account to recover by ${formatUtc(incident.expectedRecoveryBy)}. ` +
          `If it is still revoked at ${formatUtc(incident.escalateAt)}, the monitor sends the case to support with the full timeline. You can check the status yourself:`,
      },
      ...commandWithHelp(statusCheckCommand(incident.account)),
      ...evidenceBlocks(ctx.facts.evidence),
      { type: "heading", text: "Account" },
      { type: "facts", rows: accountFacts(incident) },
      footer(ctx, OWNER_WHY),
    ],
  };
}

/**
 * Owners get one fix-undone email per incident (a flapping probe would send one per flap), so it
 * says once what a fix seen again does: no new email, and no new clock.
 */
function refixNotice(ctx: Context): string {
  const first = ctx.incident.firstFixObservedAt;
  if (first === undefined) return "";
  const escalateAt = new Date(Date.parse(first) + ctx.cause.policy.escalateAfterFirstFixWhenFlappingInMinutes * 60_000).toISOString();
  return (
    " If the checks see the fix again, they record it without another email (and further flaps likewise), and the escalation deadline is not restarted: " +
    `if the account is still revoked at ${formatUtc(escalateAt)}, ${describeMinutes(ctx.cause.policy.escalateAfterFirstFixWhenFlappingInMinutes)} after the first fix seen at ${formatUtc(first)}, the monitor sends the case to support.`
  );
}

function fixUndone(ctx: Context): Template {
  return {
    subject: subject(ctx, "revoked again, fix undone"),
    blocks: [
      {
        type: "paragraph",
        text:
          `The fix recorded for the Azure Cosmos DB account ${ctx.name} no longer holds: the monitor's checks show "${ctx.cause.title}" again, ` +
          "so the recovery clock has stopped and reminders resume. Follow the steps below again." +
          refixNotice(ctx),
      },
      { type: "heading", text: "Account" },
      { type: "facts", rows: accountFacts(ctx.incident) },
      ...fixBlocks(ctx),
      footer(ctx, OWNER_WHY),
    ],
  };
}

const EVENT_NAMES: Record<IncidentEvent["type"], string> = {
  "fix-undone": "Fix undone",
  snoozed: "Reminders snoozed",
  detected: "Revocation detected",
  reminded: "Reminder sent",
  "cause-changed": "Cause changed",
  "fix-acknowledged": "Fix acknowledged",
  "fix-observed": "Fix observed",
  escalated: "Escalated",
  resolved: "Resolved",
  "recipients-dropped": "Recipients dropped",
  "support-ticket": "Support ticket",
};

function ownerActions(incident: Incident, timeline: IncidentEvent[]): string[] {
  const lines = [fixDescription(incident)];
  const fixEvents = timeline.filter((event) => event.type === "fix-acknowledged" || event.type === "fix-observed").length;
  if (fixEvents > 1) lines.push(`A fix was reported ${fixEvents} times (see the timeline).`);
  lines.push(`Owners were sent the first notice and ${incident.reminderCount} reminder${incident.reminderCount === 1 ? "" : "s"} with the steps listed below.`);
  if (incident.notified.length > 0) lines.push(`Notified so far: ${incident.notified.join(", ")}.`);
  return lines;
}

function escalation(ctx: Context): Template {
  const { incident, facts } = ctx;
  const account = incident.account;
  const identity = account ? resolveDefaultIdentity(account) : undefined;
  const fixAt = incident.fixObservedAt ? formatUtc(incident.fixObservedAt) : "no fix recorded";
  return {
    subject: subject(
      ctx,
      "escalation",
      `revoked since ${formatUtc(incident.detectedAt)}: ${ctx.cause.title}${incident.code === null ? "" : ` (${incident.code})`}`,
    ),
    blocks: [
      {
        type: "paragraph",
        text:
          `Support case summary. The Azure Cosmos DB account ${ctx.name} has been revoked since ${formatUtc(incident.detectedAt)} ` +
          `and did not recover in the expected time (escalation was due at ${formatUtc(incident.escalateAt)}). ` +
          "Please open a Microsoft support case for Azure Cosmos DB (customer-managed keys) with the details below.",
      },
      { type: "heading", text: "Case summary" },
      {
        type: "facts",
        rows: [
          ["Resource id", incident.accountId],
          ["Subscription", account?.subscriptionId ?? "unknown"],
          ["Resource group", account?.resourceGroup ?? "unknown"],
          ["Account name", accountName(incident)],
          ["Location", account?.location ?? "unknown"],
          ["Key URI", account?.keyVaultKeyUri ? displayValue(account.keyVaultKeyUri) : "not set"],
          ["Default identity", account?.defaultIdentity ? displayValue(account.defaultIdentity) : "not set"],
          ["Default identity (resolved)", identity?.description ?? "unknown"],
          ["Status from Azure", incident.statusText ? displayValue(incident.statusText, STATUS_TEXT_MAX_CHARS) : "not reported"],
          ["Code", codeText(incident.code)],
          ["Cause", `${ctx.cause.title} (${ctx.cause.id})`],
          ["Detected at", formatUtc(incident.detectedAt)],
          ["Fix at", fixAt],
          ["Recovery clock started", formatUtc(incident.clockStartedAt)],
          ["Expected recovery by", formatUtc(incident.expectedRecoveryBy)],
          ["Escalate at", formatUtc(incident.escalateAt)],
          ["Incident id", incident.id],
        ],
      },
      { type: "heading", text: "What the owner has done" },
      ...ownerActions(incident, facts.timeline).map((text): Block => ({ type: "paragraph", text })),
      ...evidenceBlocks(facts.evidence),
      { type: "heading", text: "Timeline" },
      {
        type: "table",
        headers: ["Time (UTC)", "Event", "Cause", "Detail"],
        rows: [...facts.timeline]
          .sort((a, b) => a.seq - b.seq)
          .map((event) => [formatUtc(event.at), EVENT_NAMES[event.type] ?? event.type, event.cause, event.detail]),
      },
      { type: "heading", text: "Steps the owner was given" },
      { type: "steps", steps: remediationSteps(incident.cause, account) },
      { type: "link", label: "Microsoft's troubleshooting guide for this error", url: ctx.cause.docsUrl },
      ...supportTicketBlocks(ctx.supportTicket),
      footer(ctx, "You receive this as an escalation contact for customer-managed key incidents."),
    ],
  };
}

/** The ticket filed (number and link), or why not, then the draft and the command to file it by hand. */
function supportTicketBlocks(view: SupportTicketView | undefined): Block[] {
  if (!view) return [];
  const { draft, outcome } = view;
  const blocks: Block[] = [{ type: "heading", text: "Microsoft support ticket" }];
  if (outcome.kind === "filed") {
    blocks.push({ type: "paragraph", text: `The monitor filed support ticket ${outcome.ticketNumber} (name ${draft.name}) for this incident.` });
    blocks.push({ type: "link", label: `Support ticket ${outcome.ticketNumber} in the Azure portal`, url: outcome.portalUrl });
  } else if (outcome.kind === "not-filed") {
    blocks.push({
      type: "paragraph",
      text: `The monitor could not file the support ticket: ${outcome.reason}. File it with the command below, or in the portal with these details.`,
    });
  } else {
    blocks.push({
      type: "paragraph",
      text: "The ticket the monitor would file (CMK_SUPPORT_TICKETS=draft). File it with the command below, or in the portal with these details.",
    });
  }
  blocks.push({
    type: "facts",
    rows: [
      ["Ticket name", draft.name],
      ["Title", draft.title],
      ["Severity", draft.severity],
      ["Service", `${draft.serviceDisplayName} (resource type ${draft.serviceResourceType})`],
      ["Problem classification", draft.problemClassificationId ?? "not chosen: see the command below to list them"],
      ["Resource id", draft.resourceId],
      ["Problem start", formatUtc(draft.problemStartTime)],
    ],
  });
  if (outcome.kind === "filed") return blocks;
  blocks.push({ type: "paragraph", text: "Description:" });
  blocks.push({ type: "command", command: draft.description });
  blocks.push({
    type: "paragraph",
    text: "Command (Azure CLI with the support extension; needs the Support Request Contributor role on the subscription; replace any <placeholder>; consent to diagnostics is No until you change it):",
  });
  blocks.push({ type: "command", command: view.command });
  if (view.lookupCommand) {
    blocks.push({ type: "paragraph", text: "Problem classifications of Azure Cosmos DB, for --problem-classification:" });
    blocks.push({ type: "command", command: view.lookupCommand });
  }
  return blocks;
}

function resolved(ctx: Context): Template {
  const { incident } = ctx;
  const lasted = formatDuration(incident.detectedAt, incident.resolvedAt);
  const lastedText = lasted ? ` after ${lasted}` : "";
  const removed = incident.resolution === "account-removed";
  const opening = removed
    ? `The Azure Cosmos DB account ${ctx.name} is no longer monitored: at ${formatUtc(incident.resolvedAt)} it was deleted or stopped using a customer-managed key. The incident was open${lastedText}.`
    : `The Azure Cosmos DB account ${ctx.name} can use its customer-managed key again: access was confirmed at ${formatUtc(incident.resolvedAt)}, ending a revocation that lasted ${lasted ?? "an unknown time"}.`;
  return {
    subject: subject(
      ctx,
      removed ? "resolved" : "recovered",
      removed ? `account removed${lastedText}` : `access restored${lastedText} (was: ${ctx.cause.title})`,
    ),
    blocks: [
      { type: "paragraph", text: opening },
      { type: "paragraph", text: "Nothing more is needed. The monitor has closed the incident." },
      ...(incident.supportTicket?.state === "filed"
        ? [
            {
              type: "paragraph" as const,
              text: `Microsoft support ticket ${incident.supportTicket.ticketNumber} (name ${incident.supportTicket.name}) was filed for this incident; it may be closed now.`,
            },
          ]
        : []),
      { type: "heading", text: "Summary" },
      {
        type: "facts",
        rows: [
          ["Account", ctx.name],
          ["Resource id", incident.accountId],
          ["Last cause", `${ctx.cause.title} (${ctx.cause.id})`],
          ["Code", codeText(incident.code)],
          ["Detected at", formatUtc(incident.detectedAt)],
          ["Fix at", incident.fixObservedAt ? formatUtc(incident.fixObservedAt) : "no fix recorded"],
          [removed ? "Removed at" : "Recovered at", formatUtc(incident.resolvedAt)],
          ["Duration", lasted ?? "unknown"],
        ],
      },
      footer(ctx, "You receive this because you were notified about this incident."),
    ],
  };
}

const TEMPLATES: Record<MessageFacts["kind"], (ctx: Context) => Template> = {
  revoked,
  reminder,
  "cause-changed": causeChanged,
  "fix-acknowledged": fixAcknowledged,
  "fix-observed": fixAcknowledged,
  "fix-undone": fixUndone,
  escalation,
  resolved,
};

/** Subject, plain text and HTML for one message. Pure: the same facts give the same email. */
export function renderEmail(facts: MessageFacts | WarningDigestFacts, options: RenderEmailOptions = {}): RenderedEmail {
  if (facts.kind === "warning-digest") return renderWarningDigest(facts, options);
  const incident = facts.incident;
  const ctx: Context = {
    facts,
    incident,
    cause: getCause(incident.cause),
    name: accountName(incident),
    monitorName: options.monitorName?.trim() || DEFAULT_MONITOR_NAME,
    links: options.ownerLinks,
    supportTicket: options.supportTicket,
  };
  const template = TEMPLATES[facts.kind](ctx);
  const blocks = neutralizeBlocks(template.blocks);
  return { subject: template.subject, text: renderText(blocks), html: renderHtml(template.subject, blocks) };
}

// ---------------------------------------------------------------------------------------------
// The daily warning digest (healthy accounts)

const SEVERITY_TEXT: Record<string, string> = { critical: "CRITICAL", high: "HIGH", medium: "MEDIUM" };

/** One recipient's daily digest of warnings for their healthy accounts. Pure, like the others. */
export function renderWarningDigest(facts: WarningDigestFacts, options: RenderEmailOptions = {}): RenderedEmail {
  const monitorName = options.monitorName?.trim() || DEFAULT_MONITOR_NAME;
  const findings = facts.accounts.flatMap((account) => account.findings);
  const fresh = findings.filter((finding) => finding.isNew).length;
  const critical = findings.filter((finding) => finding.severity === "critical").length;
  const headline =
    findings.length === 0
      ? `${facts.resolved.length} warning${facts.resolved.length === 1 ? "" : "s"} resolved`
      : `${findings.length} warning${findings.length === 1 ? "" : "s"} on ${facts.accounts.length} account${facts.accounts.length === 1 ? "" : "s"}` +
        `${critical > 0 ? `, ${critical} critical` : ""}${fresh > 0 && fresh < findings.length ? ` (${fresh} new)` : ""}`;
  const subjectLine = sanitizeHeaderText(`[CMK warnings] ${facts.date}: ${headline}`);
  const blocks: Block[] = [
    {
      type: "paragraph",
      text:
        findings.length === 0
          ? "Nothing the monitor warned you about remains: the findings below are resolved."
          : "These Azure Cosmos DB accounts can still use their customer-managed keys, but the monitor's checks found something that can revoke them. Fixing it now avoids an outage.",
    },
  ];
  for (const account of facts.accounts) {
    blocks.push({ type: "heading", text: `${account.accountName} (resource group ${account.resourceGroup}, subscription ${account.subscriptionId})` });
    blocks.push({
      type: "table",
      headers: ["Severity", "Finding", "Details"],
      rows: account.findings.map((finding) => [
        SEVERITY_TEXT[finding.severity] ?? finding.severity,
        `${finding.title}${finding.isNew ? " (new)" : ""}`,
        finding.detail,
      ]),
    });
    const steps = account.findings
      .filter((finding) => finding.commands.length > 0)
      .map((finding): RemediationStep => withPlaceholderHelp({ text: `${finding.title}: ${finding.detail}`, commands: finding.commands }));
    if (steps.length > 0) blocks.push({ type: "steps", steps });
  }
  if (facts.resolved.length > 0) {
    blocks.push({ type: "heading", text: "Resolved since the last digest" });
    blocks.push({
      type: "table",
      headers: ["Account", "Finding"],
      rows: facts.resolved.map((item) => [item.accountName, item.title]),
    });
  }
  blocks.push({
    type: "paragraph",
    text:
      `Sent by ${monitorName}, at most once a day and only when something changed. ` +
      "You receive this because you are listed as an owner or contact of these Cosmos DB accounts.",
  });
  const safeBlocks = neutralizeBlocks(blocks);
  return { subject: subjectLine, text: renderText(safeBlocks), html: renderHtml(subjectLine, safeBlocks) };
}
