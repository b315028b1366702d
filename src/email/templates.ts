/**
 * One email per MessageKind, rendered purely from MessageFacts. Each template builds a short
 * list of blocks once; the plain-text and HTML bodies are both rendered from that list, so
 * they always carry the same facts.
 */
import { parseAccountResourceId } from "../domain/account";
import { getCause, type CauseInfo } from "../domain/causes";
import type { Incident, IncidentEvent, MessageFacts } from "../domain/incident";
import { PROBE_LABELS, type EvidenceLine } from "../domain/probeFindings";
import type { AtRiskFacts } from "../domain/atRisk";
import type { WarningDigestFacts } from "../domain/warnings";
import type { WeeklyReportFacts, WeeklyReportIncident } from "../domain/weeklyReport";
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
import { DAILY_CHART_LAYOUT, dailyChartAlt, dailyChartPng, WEEKLY_CHART_LAYOUT, weeklyChartAlt, weeklyChartPng } from "./pngCharts";

/** An inline image as the email port carries it (src/ports/emailSender.ts EmailAttachment, same shape; email code may not import ports). */
export interface EmailAttachment {
  name: string;
  contentType: "image/png";
  contentInBase64: string;
  contentId: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** Inline images the HTML references as `cid:`; only the weekly report has them (it is never grouped into a digest). */
  attachments?: EmailAttachment[];
}

export interface RenderEmailOptions {
  /** Shown in the footer, e.g. "Contoso CMK monitor". */
  monitorName?: string;
  /** One-click links for owners, minted when the message is sent; the CLI line stays as the fallback. */
  ownerLinks?: OwnerLinks;
  /** Escalation emails with CMK_SUPPORT_TICKETS on: the ticket filed, or the draft to file. */
  supportTicket?: SupportTicketView;
  /**
   * The time relative deadlines count from ("in 3 hours"): the outbox passes when the message was
   * recorded, so a resend says the same. Without it deadlines show in UTC only.
   */
  asOf?: string;
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

/** "2026-11-29 11:15 UTC (in 4 hours)", or "(2 hours ago)"; UTC only without a reference time. */
export function formatDeadline(atIso: string, asOfIso: string | undefined): string {
  const utc = formatUtc(atIso);
  if (!asOfIso) return utc;
  const ahead = formatDuration(asOfIso, atIso);
  if (ahead !== undefined) return ahead === "0 minutes" ? `${utc} (now)` : `${utc} (in ${ahead})`;
  const ago = formatDuration(atIso, asOfIso);
  return ago === undefined ? utc : `${utc} (${ago} ago)`;
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
  | { type: "table"; headers: string[]; rows: string[][] }
  | { type: "lead"; lead: Lead }
  | { type: "bars"; caption: string; legend: BarLegend[]; rows: Array<{ label: string; values: number[] }>; image?: ChartImage };

/** A PNG of the same bars, shown above the table-cell fallback (which stays for clients that block images). */
interface ChartImage {
  contentId: string;
  width: number;
  height: number;
  alt: string;
}

/**
 * A bar chart drawn with table cells: it renders in Gmail and Outlook, which show no SVG, and
 * needs no image (blocked by default in many clients). The numbers are written beside each bar.
 */
interface BarLegend {
  name: string;
  /** A colour of ours ("#rrggbb"), never from data. */
  color: string;
  /** The plain-text bar character. */
  mark: string;
}

/**
 * The first screen of an incident email, read on a phone at 3 a.m.: what happened, the deadline
 * that matters next, and the one thing to do first (a command from the guarded builders, or a link).
 */
interface Lead {
  what: string;
  deadline?: string;
  action?: string;
  command?: string;
  link?: { label: string; url: string };
}

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
      case "bars":
        return {
          ...block,
          caption: n(block.caption),
          legend: block.legend.map((entry) => ({ ...entry, name: n(entry.name) })),
          rows: block.rows.map((row) => ({ ...row, label: n(row.label) })),
        };
      case "lead": {
        const { what, deadline, action, link } = block.lead;
        return {
          type: "lead",
          lead: {
            ...block.lead,
            what: n(what),
            ...(deadline !== undefined ? { deadline: n(deadline) } : {}),
            ...(action !== undefined ? { action: n(action) } : {}),
            ...(link ? { link: { ...link, label: n(link.label) } } : {}),
          },
        };
      }
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
      case "bars": {
        const max = Math.max(1, ...block.rows.map((row) => row.values.reduce((sum, value) => sum + value, 0)));
        const width = Math.max(...block.rows.map((row) => row.label.length));
        const scale = (value: number) => Math.round((value / max) * TEXT_BAR_WIDTH);
        const legend = block.legend.map((entry) => `${entry.mark} ${entry.name}`).join(", ");
        return [
          `${block.caption} (${legend})`,
          ...block.rows.map(
            (row) =>
              `${row.label.padEnd(width)} | ${row.values.map((value, i) => block.legend[i]!.mark.repeat(scale(value))).join("")} ${row.values.join(" / ")}`,
          ),
        ].join("\n");
      }
      case "lead": {
        const { what, deadline, action, command, link } = block.lead;
        const lines = [what];
        if (deadline) lines.push("", `Next deadline: ${deadline}`);
        if (action) lines.push("", `Do this first: ${action}`);
        if (command) lines.push(`    ${command}`);
        if (link) lines.push(`${link.label}: ${link.url}`);
        return `${lines.join("\n")}\n${"=".repeat(72)}`;
      }
    }
  });
  return `${parts.join("\n\n")}\n`;
}

/** Characters of the longest bar in plain text, pixels in HTML. */
const TEXT_BAR_WIDTH = 40;
const HTML_BAR_WIDTH = 240;

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
  lead: "border-left:4px solid #c50f1f;background:#fdf3f4;padding:4px 12px;margin:0 0 16px 0;",
  leadWhat: "margin:8px 0;font-size:16px;font-weight:600;",
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
    case "bars": {
      const max = Math.max(1, ...block.rows.map((row) => row.values.reduce((sum, value) => sum + value, 0)));
      const px = (value: number) => Math.round((value / max) * HTML_BAR_WIDTH);
      const image = block.image
        ? html`<p style="${STYLE.p}"><img src="cid:${block.image.contentId}" width="${String(block.image.width)}" height="${String(block.image.height)}" alt="${block.image.alt}" style="display:block;max-width:100%;height:auto;border:0;"></p><p style="${STYLE.p}">The same numbers as bars, for mail clients that block images:</p>`
        : html``;
      return html`${image}<table style="${STYLE.table}" role="img" aria-label="${block.caption}"><caption style="text-align:left;font-weight:600;padding:0 0 4px 0;">${block.caption}</caption>${block.rows.map(
        (row) =>
          html`<tr><td style="${STYLE.td}white-space:nowrap;">${row.label}</td><td style="padding:2px 0;"><table style="border-collapse:collapse;"><tr>${row.values.map(
            (value, i) =>
              value > 0
                ? html`<td style="background:${block.legend[i]!.color};width:${px(value)}px;height:14px;padding:0;font-size:1px;line-height:1px;">&nbsp;</td>`
                : "",
          )}<td style="padding:0 0 0 6px;font-size:12px;">${row.values.join(" / ")}</td></tr></table></td></tr>`,
      )}<tr><td></td><td style="font-size:12px;padding:4px 0;">${block.legend.map(
        (entry) => html`<span style="display:inline-block;width:10px;height:10px;background:${entry.color};"></span> ${entry.name}&nbsp;&nbsp; `,
      )}</td></tr></table>`;
    }
    case "lead": {
      const { what, deadline, action, command, link } = block.lead;
      return html`<div style="${STYLE.lead}" data-lead="lead"><p style="${STYLE.leadWhat}" data-lead="what">${what}</p>${
        deadline ? html`<p style="${STYLE.p}" data-lead="deadline"><strong>Next deadline:</strong> ${deadline}</p>` : ""
      }${action ? html`<p style="${STYLE.p}" data-lead="action"><strong>Do this first:</strong> ${action}</p>` : ""}${
        command ? html`<div data-lead="command"><pre style="${STYLE.pre}">${command}</pre></div>` : ""
      }${link ? html`<p style="${STYLE.p}" data-lead="link"><a style="${STYLE.a}" href="${safeHref(link.url)}">${link.label}</a></p>` : ""}</div>`;
    }
  }
}

function renderHtml(subject: string, blocks: Block[]): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${subject}</title></head>
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
  asOf: string | undefined;
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
    // The at-risk warning this revocation followed: the owners were told before Azure acted.
    ...(incident.priorWarning ? [["We warned at", `${formatUtc(incident.priorWarning.at)}: ${incident.priorWarning.title}`] as [string, string]] : []),
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
// The first screen

/** "Grant the key permissions" plus the sentence asking to fill in a value the monitor refused to print. */
function actionWithHelp(action: string, command: string): Pick<Lead, "action" | "command"> {
  return { action: withPlaceholderHelp({ text: action, commands: [{ command }] }).text, command };
}

/** `az <group> [<subgroup>...] show|list ...`: our own builders' read-only commands. */
const READ_ONLY_COMMAND = /^az(?: [a-z-]+){1,3} (?:show|list)(?: |$)/;

/**
 * The single most likely fix: the probes' first problem that comes with a command (filled in with
 * what they found), else the cause's first step with a command; never a command built here.
 */
function mostLikelyFix(ctx: Context): Pick<Lead, "action" | "command"> | undefined {
  return probeFix(ctx) ?? causeFix(ctx);
}

/** The probes' first problem that comes with a command. */
function probeFix(ctx: Context): Pick<Lead, "action" | "command"> | undefined {
  const found = ctx.facts.evidence?.find((line) => line.outcome === "problem" && line.commands && line.commands.length > 0);
  const first = found?.commands?.[0];
  return found && first ? actionWithHelp(`${first.label ?? "Fix what the checks found"}. What we checked: ${found.text}`, first.command) : undefined;
}

/** The cause's first step that changes something, for causes the owner fixes. */
function causeFix(ctx: Context): Pick<Lead, "action" | "command"> | undefined {
  if (ctx.cause.fixableBy !== "owner") return undefined;
  const steps = remediationSteps(ctx.incident.cause, ctx.incident.account).filter((candidate) => candidate.commands.length > 0);
  // A step that changes something is the fix; the ones that only show or list come first in the list to confirm it.
  const step = steps.find((candidate) => !candidate.commands.every((command) => READ_ONLY_COMMAND.test(command.command))) ?? steps[0];
  const command = step?.commands.find((candidate) => !READ_ONLY_COMMAND.test(candidate.command)) ?? step?.commands[0];
  return step && command ? actionWithHelp(command.label ? `${step.text} (${command.label})` : step.text, command.command) : undefined;
}

/** The fix for a revoked account, or, when nobody on the account has to act, how to watch it. */
function revokedAction(ctx: Context): Pick<Lead, "action" | "command"> {
  return (
    mostLikelyFix(ctx) ??
    actionWithHelp(
      "Nothing on the account is known to be wrong, so there is nothing to fix; watch the status (the monitor escalates to support if the account does not recover).",
      statusCheckCommand(ctx.incident.account),
    )
  );
}

/**
 * The deadline that matters next: a purge the probes saw (after it the fix is gone for good), else
 * the earliest of the incident's own deadlines still ahead of `asOf`, in the order given.
 */
function nextDeadline(ctx: Context, candidates: Array<[at: string | undefined, what: string]>): string | undefined {
  const purge = (ctx.facts.evidence ?? [])
    .map((line) => line.deadline)
    .filter((deadline): deadline is { at: string; what: string } => deadline !== undefined)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
  if (purge) return `${formatDeadline(purge.at, ctx.asOf)}: ${purge.what}; recover it before then.`;
  const asOf = ctx.asOf ? Date.parse(ctx.asOf) : undefined;
  const ahead = candidates.filter(
    (candidate): candidate is [string, string] => candidate[0] !== undefined && (asOf === undefined || !(Date.parse(candidate[0]) < asOf)),
  );
  const next = asOf !== undefined ? ahead.sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]))[0] : ahead[0];
  return next ? `${formatDeadline(next[0], ctx.asOf)}: ${next[1]}.` : undefined;
}

/** Deadlines of an incident still waiting for a fix. */
function revokedDeadline(ctx: Context): string | undefined {
  const { incident } = ctx;
  return nextDeadline(ctx, [
    [incident.escalateAt, "the monitor escalates to support if the account has not recovered"],
    [incident.nextReminderAt, "the next reminder goes out if the account is still revoked"],
  ]);
}

function leadBlock(lead: Lead): Block {
  return { type: "lead", lead };
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
      leadBlock({
        what: `The Azure Cosmos DB account ${ctx.name} lost access to its customer-managed key (${ctx.cause.title}): reads and writes of its data fail until access is restored.`,
        deadline: revokedDeadline(ctx),
        ...revokedAction(ctx),
      }),
      {
        type: "paragraph",
        text: "Azure only allows account updates that repair the identity, or deleting the account, until access is restored.",
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
      leadBlock({
        what:
          `Reminder ${n}: the Azure Cosmos DB account ${ctx.name} is still revoked, as it has been since ${formatUtc(ctx.incident.detectedAt)} (${ctx.cause.title}); ` +
          "its data cannot be read or written until access to the key is restored.",
        deadline: revokedDeadline(ctx),
        ...revokedAction(ctx),
      }),
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
      leadBlock({
        what: `The reason the Azure Cosmos DB account ${ctx.name} is revoked has changed: it was ${from}, it is now "${ctx.cause.title}" (${ctx.cause.id}).`,
        deadline: revokedDeadline(ctx),
        ...revokedAction(ctx),
      }),
      { type: "paragraph", text: "Follow the steps below; they replace the ones sent earlier." },
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
      leadBlock({
        what:
          incident.fixSource === "detection"
            ? `The monitor is waiting for the Azure Cosmos DB account ${ctx.name} to recover (${ctx.cause.title}); nobody needs to fix anything.`
            : `Thank you: a fix for the Azure Cosmos DB account ${ctx.name} is recorded, and the monitor is waiting for Azure to restore access.`,
        deadline: nextDeadline(ctx, [
          [incident.expectedRecoveryBy, "Azure usually restores access by then"],
          [incident.escalateAt, "the monitor escalates to support if the account has not recovered"],
        ]),
        ...actionWithHelp("Nothing more to fix; check whether it has recovered", statusCheckCommand(incident.account)),
      }),
      { type: "paragraph", text: fixDescription(incident) },
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
      leadBlock({
        what: `The fix recorded for the Azure Cosmos DB account ${ctx.name} no longer holds: the monitor's checks show "${ctx.cause.title}" again.`,
        deadline: revokedDeadline(ctx),
        ...revokedAction(ctx),
      }),
      { type: "paragraph", text: "The recovery clock has stopped and reminders resume. Follow the steps below again." + refixNotice(ctx) },
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
      leadBlock({
        what:
          `The Azure Cosmos DB account ${ctx.name} has been revoked since ${formatUtc(incident.detectedAt)} (${ctx.cause.title}) ` +
          `and did not recover in the expected time (escalation was due at ${formatUtc(incident.escalateAt)}).`,
        deadline: nextDeadline(ctx, []),
        ...escalationAction(ctx),
      }),
      {
        type: "paragraph",
        text: "Support case summary. Please open a Microsoft support case for Azure Cosmos DB (customer-managed keys) with the details below.",
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

/** First thing for the escalation contact: the probes' fix if they still see one, else the support ticket. */
function escalationAction(ctx: Context): Pick<Lead, "action" | "command" | "link"> {
  const fix = probeFix(ctx);
  if (fix) return fix;
  const view = ctx.supportTicket;
  if (view?.outcome.kind === "filed") {
    return {
      action: `Follow support ticket ${view.outcome.ticketNumber}, which the monitor filed.`,
      link: { label: `Support ticket ${view.outcome.ticketNumber} in the Azure portal`, url: view.outcome.portalUrl },
    };
  }
  if (view) return actionWithHelp("File the Microsoft support ticket (details below)", view.command);
  return { action: "Open a Microsoft support case for Azure Cosmos DB (customer-managed keys) with the case summary below." };
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
      leadBlock({ what: `${opening} Nothing more is needed: the monitor has closed the incident.` }),
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
export function renderEmail(facts: MessageFacts | AtRiskFacts | WarningDigestFacts | WeeklyReportFacts, options: RenderEmailOptions = {}): RenderedEmail {
  if (facts.kind === "warning-digest") return renderWarningDigest(facts, options);
  if (facts.kind === "weekly-report") return renderWeeklyReport(facts, options);
  if (facts.kind === "at-risk") return renderAtRisk(facts, options);
  const incident = facts.incident;
  const ctx: Context = {
    facts,
    incident,
    cause: getCause(incident.cause),
    name: accountName(incident),
    monitorName: options.monitorName?.trim() || DEFAULT_MONITOR_NAME,
    links: options.ownerLinks,
    supportTicket: options.supportTicket,
    asOf: options.asOf,
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

// ---------------------------------------------------------------------------------------------
// The weekly report (escalation contacts)

const OPENED = { name: "opened", color: "#c50f1f", mark: "#" };
const ESCALATED = { name: "escalated", color: "#8a3ffc", mark: "!" };
const RESOLVED = { name: "resolved", color: "#107c10", mark: "=" };
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function incidentRow(incident: WeeklyReportIncident): string[] {
  const cause = getCause(incident.cause);
  return [
    incident.accountName,
    `${cause.title}${incident.code === null ? "" : ` (${incident.code})`}`,
    formatUtc(incident.detectedAt),
    incident.resolvedAt ? formatUtc(incident.resolvedAt) : `open (${incident.state})`,
    incident.resolvedAt ? (formatDuration(incident.detectedAt, incident.resolvedAt) ?? "unknown") : "",
  ];
}

function omittedBlock(count: number, what: string): Block[] {
  return count > 0 ? [{ type: "paragraph", text: `${count} more ${what} not listed; the dashboard has them all.` }] : [];
}

/** The weekly report: totals first, then the trend charts, the incidents, escalations, slowest recoveries and at-risk accounts. Pure. */
export function renderWeeklyReport(facts: WeeklyReportFacts, options: RenderEmailOptions = {}): RenderedEmail {
  const monitorName = options.monitorName?.trim() || DEFAULT_MONITOR_NAME;
  const { totals } = facts;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const subjectLine = sanitizeHeaderText(
    `[CMK weekly] ${facts.week}: ${plural(totals.opened, "incident")}, ${totals.escalated} escalated, ${totals.openAtEnd} still open, ${plural(totals.atRiskAccounts, "account")} at risk`,
  );
  const headers = ["Account", "Cause", "Detected", "Resolved", "Lasted"];
  const blocks: Block[] = [
    {
      type: "paragraph",
      text:
        `Week ${facts.week} (${formatUtc(facts.from)} to ${formatUtc(facts.to)}): ${plural(totals.opened, "new incident")}, ${totals.resolved} resolved, ` +
        `${totals.escalated} escalated to support, ${totals.openAtEnd} open at the end of the week; ${plural(totals.atRiskAccounts, "healthy account")} with warnings.`,
    },
    { type: "heading", text: "Trends" },
    {
      type: "bars",
      caption: "Incidents per day (opened / escalated / resolved)",
      legend: [OPENED, ESCALATED, RESOLVED],
      rows: facts.daily.map((day, index) => ({ label: `${WEEKDAYS[index] ?? ""} ${day.day.slice(5)}`, values: [day.opened, day.escalated, day.resolved] })),
      image: { contentId: DAILY_CHART_CID, width: DAILY_CHART_LAYOUT.width, height: DAILY_CHART_LAYOUT.height, alt: dailyChartAlt(facts) },
    },
    {
      type: "bars",
      caption: "Incidents opened per week",
      legend: [OPENED],
      rows: facts.weekly.map((week) => ({ label: week.week, values: [week.opened] })),
      image: { contentId: WEEKLY_CHART_CID, width: WEEKLY_CHART_LAYOUT.width, height: WEEKLY_CHART_LAYOUT.height, alt: weeklyChartAlt(facts) },
    },
    { type: "heading", text: "Incidents this week" },
    ...(facts.incidents.length > 0
      ? ([{ type: "table", headers, rows: facts.incidents.map(incidentRow) }] satisfies Block[])
      : ([{ type: "paragraph", text: "No incidents this week." }] satisfies Block[])),
    ...omittedBlock(facts.omitted.incidents, "incidents"),
    { type: "heading", text: "Escalations" },
    ...(facts.escalations.length > 0
      ? ([
          {
            type: "table",
            headers: ["Account", "Cause", "Detected", "Escalated", "Now"],
            rows: facts.escalations.map((incident) => {
              const [account, cause, detected] = incidentRow(incident);
              return [
                account!,
                cause!,
                detected!,
                formatUtc(incident.escalatedAt),
                incident.resolvedAt ? `resolved ${formatUtc(incident.resolvedAt)}` : incident.state,
              ];
            }),
          },
        ] satisfies Block[])
      : ([{ type: "paragraph", text: "No escalations this week." }] satisfies Block[])),
    ...omittedBlock(facts.omitted.escalations, "escalations"),
    { type: "heading", text: "Slowest recoveries" },
    ...(facts.slowestRecoveries.length > 0
      ? ([{ type: "table", headers, rows: facts.slowestRecoveries.map(incidentRow) }] satisfies Block[])
      : ([{ type: "paragraph", text: "No incident was resolved this week." }] satisfies Block[])),
    { type: "heading", text: "At risk (warnings on healthy accounts)" },
    ...(facts.atRisk.length > 0
      ? ([
          {
            type: "table",
            headers: ["Severity", "Account", "Finding"],
            rows: facts.atRisk.map((finding) => [SEVERITY_TEXT[finding.severity] ?? finding.severity, finding.accountName, finding.title]),
          },
        ] satisfies Block[])
      : ([{ type: "paragraph", text: "The daily checks found nothing that can revoke a healthy account." }] satisfies Block[])),
    ...omittedBlock(facts.omitted.atRisk, "findings"),
    {
      type: "paragraph",
      text: `Sent by ${monitorName} once a week, after Monday 00:00 UTC. You receive this as an escalation contact for customer-managed key incidents.`,
    },
  ];
  const safeBlocks = neutralizeBlocks(blocks);
  return { subject: subjectLine, text: renderText(safeBlocks), html: renderHtml(subjectLine, safeBlocks), attachments: weeklyChartAttachments(facts) };
}

export const DAILY_CHART_CID = "cmk-weekly-daily.png";
export const WEEKLY_CHART_CID = "cmk-weekly-weeks.png";

/** The two trend PNGs as inline attachments; deterministic, so a retried send carries the same bytes. */
export function weeklyChartAttachments(facts: WeeklyReportFacts): EmailAttachment[] {
  return [
    { name: DAILY_CHART_CID, contentType: "image/png", contentInBase64: dailyChartPng(facts).toString("base64"), contentId: DAILY_CHART_CID },
    { name: WEEKLY_CHART_CID, contentType: "image/png", contentInBase64: weeklyChartPng(facts).toString("base64"), contentId: WEEKLY_CHART_CID },
  ];
}

// ---------------------------------------------------------------------------------------------
// An urgent warning on a healthy account (src/domain/atRisk.ts), one finding per email

/** "Will be revoked" (the finding, its evidence and the fix), or "resolved by itself". Pure, like the others. */
export function renderAtRisk(facts: AtRiskFacts, options: RenderEmailOptions = {}): RenderedEmail {
  const monitorName = options.monitorName?.trim() || DEFAULT_MONITOR_NAME;
  const account = facts.account;
  const name = sanitizeHeaderText(account.name, 80);
  const finding = facts.finding;
  const found = facts.change === "found";
  const subjectLine = sanitizeHeaderText(found ? `[CMK at risk] ${name}: ${finding.title}` : `[CMK at risk, resolved] ${name}: ${finding.title}`);
  const accountRows: Array<[string, string]> = [
    ["Account", account.name],
    ["Resource id", account.id],
    ["Subscription", account.subscriptionId],
    ["Resource group", account.resourceGroup],
    ["First seen at", formatUtc(facts.firstSeenAt)],
    ...(facts.resolvedAt ? [["Gone at", formatUtc(facts.resolvedAt)] as [string, string]] : []),
  ];
  const blocks: Block[] = found
    ? [
        {
          type: "paragraph",
          text:
            `The Azure Cosmos DB account ${account.name} can still use its customer-managed key, but this change will get it revoked: ` +
            "Cosmos DB checks the key periodically and, when it cannot use it, blocks reads and writes. Fix it now to avoid the outage.",
        },
        { type: "heading", text: finding.title },
        { type: "paragraph", text: finding.detail },
        ...(finding.commands.length > 0 ? [{ type: "steps", steps: [withPlaceholderHelp({ text: "Start here", commands: finding.commands })] } as Block] : []),
        { type: "heading", text: "Account" },
        { type: "facts", rows: accountRows },
      ]
    : [
        {
          type: "paragraph",
          text: `The finding the monitor warned you about on ${account.name} is gone: the latest check no longer sees it. Nothing more to do for it.`,
        },
        { type: "heading", text: "Account" },
        { type: "facts", rows: accountRows },
      ];
  blocks.push({
    type: "paragraph",
    text: `Sent by ${monitorName}, once per finding. You receive this because you are listed as an owner or contact of this Cosmos DB account.`,
  });
  const safeBlocks = neutralizeBlocks(blocks);
  return { subject: subjectLine, text: renderText(safeBlocks), html: renderHtml(subjectLine, safeBlocks) };
}
