/** The drill's human-readable output: a header, the timeline, and the summary. */
import { CAUSE_IDS, getCause, type CauseId } from "../domain/causes";
import type { DrillResult, SandboxChangeRecord, StatusChange } from "./runScenario";
import { describeSandboxChange } from "./sandboxEvents";
import { MESSAGE_KINDS, type AtRiskFigures, type DrillIncident, type DrillSummary, type TimelineEntry } from "./timeline";

const WIDTH = 100;
const LABEL_WIDTH = 11;

export interface ReportContext {
  /** How the scenario file was named on the command line (or the default's path). */
  scenarioLabel: string;
  /** Absolute outbox folder, when emails were written. */
  outboxDir?: string;
}

interface Row {
  minute: number;
  account: string;
  label: string;
  text: string;
  /** Scenario rows: the event's place in the file (-1 for an account's status at minute 0). */
  order?: number;
}

export function renderReport(result: DrillResult, context: ReportContext): string {
  return [...header(result, context), "", ...timeline(result), "", ...summary(result, context)].join("\n");
}

function header(result: DrillResult, context: ReportContext): string[] {
  const { scenario, summary } = result;
  const subscriptions = new Set(scenario.accounts.map((account) => account.subscriptionId.toLowerCase())).size;
  const end = new Date(result.start.getTime() + scenario.durationMinutes * 60_000);
  const title = "Cosmos DB CMK monitor drill";
  return [
    title,
    "=".repeat(title.length),
    ...field("Scenario", context.scenarioLabel),
    ...(scenario.description ? field("", scenario.description) : []),
    ...field("Fleet", `${plural(scenario.accounts.length, "account")} in ${plural(subscriptions, "subscription")}`),
    ...field(
      "Time",
      `${span(result.start, end)} simulated (${duration(scenario.durationMinutes)}), ` +
        `a poll every ${plural(scenario.pollIntervalMinutes, "minute")} (${summary.polls} polls)`,
    ),
    ...field(
      "Engine",
      "the monitor's real poll cycle and Azure SDK clients, with its Key Vault, identity, DNS and permission probes, " +
        "against a local stand-in for Azure Resource Manager, Key Vault and Communication Services Email, with state in Azurite; " +
        "only the clock is simulated",
    ),
  ];
}

function timeline(result: DrillResult): string[] {
  // Scenario changes come first within a minute (they happen before the poll), in file order, then the
  // monitor's entries in the order they happened; rows for one account are kept together.
  const changes = [...result.statusChanges.filter((change) => showStatusChange(change)).map(statusRow), ...result.sandboxChanges.map(sandboxRow)];
  const rows = [...changes.sort((a, b) => a.minute - b.minute || a.order! - b.order!), ...result.timeline.map((entry) => entryRow(entry, result))];
  const byMinute = new Map<number, Row[]>();
  for (const row of rows) byMinute.set(row.minute, [...(byMinute.get(row.minute) ?? []), row]);
  const accountWidth = Math.max(DIGEST_ROW.length, ...result.scenario.accounts.map((account) => account.name.length));
  const indent = " ".repeat(4 + 2 + 5 + 2 + accountWidth + 2);
  const lines = [
    "Timeline: what Azure reported, what the monitor did, and who was emailed",
    ...wrap(
      "(azure: the account's status changed in Azure; sandbox: the facts behind it changed (key, vault, permission, " +
        "DNS, firewall, identity, key URI), which the probes see but the status does not yet show; " +
        "ack: an owner ran `cmk-monitor ack --fixed`; the other entries are the monitor's own, seen at its next poll)",
      WIDTH,
    ),
    "",
    `${"min".padStart(4)}  ${"UTC".padEnd(5)}  ${"account".padEnd(accountWidth)}  what happened`,
    `${"-".repeat(4)}  ${"-".repeat(5)}  ${"-".repeat(accountWidth)}  ${"-".repeat(WIDTH - indent.length)}`,
  ];
  for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) {
    const group = groupByAccount(byMinute.get(minute)!);
    group.forEach((row, index) => {
      const first = index === 0;
      const newAccount = first || group[index - 1]!.account !== row.account;
      const lead =
        `${first ? String(minute).padStart(4) : "    "}  ${first ? hhmm(result.start, minute) : "     "}  ` +
        `${(newAccount ? row.account : "").padEnd(accountWidth)}  `;
      const body = wrap(`${row.label.padEnd(LABEL_WIDTH)}${row.text}`, WIDTH - lead.length, " ".repeat(LABEL_WIDTH));
      lines.push(`${lead}${body[0]}`, ...body.slice(1).map((line) => `${indent}${line}`));
    });
  }
  return lines;
}

/** Initial healthy statuses are the quiet background; every later change is news. */
function showStatusChange(change: StatusChange): boolean {
  return change.atMinute > 0 || change.health !== "healthy";
}

function statusRow(change: StatusChange): Row {
  const what =
    change.health === "healthy"
      ? "key access confirmed"
      : change.health === "revoked"
        ? `revoked${change.code === null ? "" : ` (${change.code})`}${change.atMinute === 0 && !change.note ? " when the drill starts" : ""}`
        : "status unclear";
  return {
    minute: change.atMinute,
    account: change.account,
    label: "azure",
    text: `${what}${change.note ? `: ${change.note}` : ""}`,
    order: change.eventIndex ?? -1,
  };
}

function sandboxRow(change: SandboxChangeRecord): Row {
  return {
    minute: change.atMinute,
    account: change.account,
    label: "sandbox",
    text: `${describeSandboxChange(change.change)}${change.note ? `: ${change.note}` : ""}`,
    order: change.eventIndex,
  };
}

function entryRow(entry: TimelineEntry, result: DrillResult): Row {
  const base = { minute: entry.atMinute, account: entry.account };
  const cause = entry.cause ? causeText(entry.cause, entry.code) : "";
  switch (entry.type) {
    case "detected": {
      const incident = incidentOf(entry, result);
      const delay = incident ? entry.atMinute - incident.revokedAtMinute : 0;
      return { ...base, label: "DETECTED", text: `${cause}${delay > 0 ? ` (${delay} min after Azure reported it)` : ""}` };
    }
    case "cause-changed":
      return { ...base, label: "CAUSE", text: `changed to ${cause}; the recovery clock restarts` };
    case "fix-acknowledged":
      return { ...base, label: "ack", text: `${entry.by ?? "an owner"} says it is fixed${entry.note ? `: ${entry.note}` : ""}` };
    case "fix-observed": {
      const expected = entry.expectedRecoveryAtMinute === undefined ? "" : `; recovery expected by ${hhmm(result.start, entry.expectedRecoveryAtMinute)}`;
      return { ...base, label: "FIX SEEN", text: `${(entry.detail ?? cause).replace(/\.$/, "")} (no ack needed)${expected}` };
    }
    case "fix-undone":
      return { ...base, label: "FIX UNDONE", text: `${(entry.detail ?? cause).replace(/\.$/, "")}; back to waiting for a fix` };
    case "warning":
      return { ...base, label: "warning", text: `${entry.title ?? entry.finding} (${entry.severity})` };
    case "warning-resolved":
      return { ...base, label: "warning", text: `gone: ${entry.title ?? entry.finding}` };
    case "escalated":
      return { ...base, label: "ESCALATED", text: `${escalationReason(entry, result)}: support contacted` };
    case "support-ticket":
      return { ...base, label: "TICKET", text: `support ticket ${entry.ticketNumber ?? "?"} filed (${entry.ticketName ?? "?"})` };
    case "resolved": {
      const incident = incidentOf(entry, result);
      const lasted = incident ? ` after ${entry.atMinute - incident.detectedAtMinute} min` : "";
      return { ...base, label: "RESOLVED", text: `recovered, incident closed${lasted}` };
    }
    case "email": {
      const cc = entry.cc && entry.cc.length > 0 ? `, cc ${entry.cc.join(", ")}` : "";
      const about = entry.accounts && entry.accounts.length > 0 ? ` (${entry.accounts.join(", ")})` : "";
      // A digest is about several accounts: it gets a row of its own rather than one account's.
      const account = entry.kind === "warning-digest" ? DIGEST_ROW : entry.account;
      return { ...base, account, label: "email", text: `${entry.kind ?? "message"} -> ${(entry.to ?? []).join(", ")}${cc}${about}` };
    }
  }
}

const DIGEST_ROW = "(digest)";

/** The incident an entry belongs to: the account's latest one detected at or before the entry. */
function incidentOf(entry: TimelineEntry, result: DrillResult): DrillIncident | undefined {
  return result.incidents.filter((i) => i.account === entry.account && i.detectedAtMinute <= entry.atMinute).at(-1);
}

/** Says which deadline passed, so the policy (fix + 120 or detection + 120) is visible. */
function escalationReason(entry: TimelineEntry, result: DrillResult): string {
  const policy = entry.cause ? getCause(entry.cause).policy : undefined;
  const incident = incidentOf(entry, result);
  if (!policy || !incident) return "still revoked at the deadline";
  const after = `still revoked ${policy.escalateAfterInMinutes} min after`;
  if (policy.clockStartsAt === "detection") return `${after} detection`;
  const before = (minutes: number[]) => minutes.filter((minute) => minute <= entry.atMinute).at(-1) ?? -1;
  const acknowledged = before(incident.fixAcknowledgedAtMinutes);
  const observed = before(incident.fixObservedAtMinutes);
  if (acknowledged < 0 && observed < 0) return `${after} the fix`;
  return acknowledged >= observed
    ? `${after} the fix acknowledged at ${hhmm(result.start, acknowledged)}`
    : `${after} the fix the probes saw at ${hhmm(result.start, observed)}`;
}

function groupByAccount(rows: Row[]): Row[] {
  const order: string[] = [];
  for (const row of rows) if (!order.includes(row.account)) order.push(row.account);
  return [...rows].sort((a, b) => order.indexOf(a.account) - order.indexOf(b.account));
}

function summary(result: DrillResult, context: ReportContext): string[] {
  const { summary: s } = result;
  const revokedCauses = CAUSE_IDS.filter((id) => id !== "healthy");
  const escalations = result.incidents
    .filter((incident) => incident.escalatedAtMinute !== undefined)
    .sort((a, b) => a.escalatedAtMinute! - b.escalatedAtMinute!)
    .map((incident) => `${incident.account} at ${hhmm(result.start, incident.escalatedAtMinute!)}`);
  const kinds = MESSAGE_KINDS.filter((kind) => s.emailsByKind[kind] > 0)
    .map((kind) => `${s.emailsByKind[kind]} ${kind}`)
    .join(", ");
  const open = s.openAtEnd.length > 0 ? `, ${s.openAtEnd.length} still open at the end (${s.openAtEnd.join(", ")})` : "";
  const lines = [
    "Summary",
    "-------",
    ...field("Incidents", `${s.incidents} opened, ${s.incidentsResolved} resolved${open}`),
    ...field("Causes", `${s.causesSeen.length} of ${revokedCauses.length} revocation causes seen: ${s.causesSeen.join(", ")}`),
    ...field("Emails", s.emails === 0 ? "none sent" : `${s.emails} sent: ${kinds}`),
    ...field(
      "Fixes",
      `${s.fixesObserved} seen by the probes without an ack, ${s.fixesAcknowledged} acknowledged` + (s.fixesUndone > 0 ? `, ${s.fixesUndone} undone` : ""),
    ),
    ...field("Escalations", s.escalations === 0 ? "none" : `${s.escalations}: ${escalations.join(", ")}`),
    ...field(
      "Warnings",
      s.warningFindings === 0
        ? "no finding on healthy accounts"
        : `${plural(s.warningFindings, "finding")} on healthy accounts (${s.warnedAccounts.join(", ")}), ${s.warningFindingsResolved} since resolved; ` +
            `${plural(s.emailsByKind["warning-digest"], "daily digest")} sent`,
    ),
    ...field("At risk", atRiskLine(s)),
    ...field(
      "Detection",
      s.meanTimeToDetectMinutes === null
        ? "nothing to detect"
        : `${s.meanTimeToDetectMinutes} min on average from Azure reporting a revocation to the monitor detecting it ` +
            `(at most ${s.maxTimeToDetectMinutes}; it polls every ${result.scenario.pollIntervalMinutes} min)`,
    ),
    ...field(
      "Resolution",
      s.meanTimeToResolveMinutes === null ? "no incident resolved" : `${s.meanTimeToResolveMinutes} min on average from detection to recovery`,
    ),
    ...field("Quiet", s.neverEmailed.length === 0 ? "every account was emailed" : `never emailed: ${s.neverEmailed.join(", ")}`),
  ];
  if (result.warnings.length > 0) {
    lines.push(...field("Drill notes", `${result.warnings.length} (engine warnings and scenario events that could not apply):`));
    for (const warning of result.warnings) lines.push(...wrap(`- ${warning}`, WIDTH - 15, "  ").map((line) => `${" ".repeat(15)}${line}`));
  }
  lines.push("");
  if (context.outboxDir) {
    lines.push(
      ...field("Outbox", `${plural(result.emails.length, "email")} written to ${context.outboxDir}`),
      ...field("", "open a .eml in any mail client, or the matching .html in a browser"),
    );
  }
  lines.push(
    ...field("Real time", `${(result.realTimeInMs / 1000).toFixed(1)} s`),
    ...field("Next", "write your own scenario (docs/scenarios.md) and run it with: cmk-monitor drill --scenario FILE"),
  );
  return lines;
}

/** "label          value", wrapped under the value column. */
function field(label: string, value: string): string[] {
  const lead = 15;
  const lines = wrap(value, WIDTH - lead);
  return lines.map((line, index) => `${(index === 0 ? label : "").padEnd(lead)}${line}`);
}

function causeText(cause: CauseId, code: number | undefined): string {
  return `${getCause(cause).title}${code === undefined ? "" : ` (${code})`}`;
}

/** Greedy word wrap; continuation lines start with `hang`. */
function wrap(text: string, width: number, hang = ""): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const limit = lines.length === 0 ? width : width - hang.length;
    if (line !== "" && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.map((l, index) => (index === 0 ? l : `${hang}${l}`));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function duration(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return plural(rest, "minute");
  return rest === 0 ? plural(hours, "hour") : `${plural(hours, "hour")} ${plural(rest, "minute")}`;
}

/** "2026-03-02 08:00 to 13:00 UTC", with the end's date only when it differs. */
function span(start: Date, end: Date): string {
  const from = start.toISOString();
  const to = end.toISOString();
  const endText = from.slice(0, 10) === to.slice(0, 10) ? to.slice(11, 16) : to.slice(0, 16).replace("T", " ");
  return `${from.slice(0, 16).replace("T", " ")} to ${endText} UTC`;
}

function hhmm(start: Date, minute: number): string {
  return new Date(start.getTime() + minute * 60_000).toISOString().slice(11, 16);
}

/** How long after the change each at-risk warning went out: pushed by a change event, found by the catch-up, or by a poll. */
function atRiskLine(s: DrillSummary): string {
  const { push, poll } = s.atRiskWarnings;
  const catchUp = s.atRiskWarnings["catch-up"];
  if (push.count + catchUp.count + poll.count === 0) return "no at-risk warning";
  const part = (figures: AtRiskFigures, how: string): string =>
    `${figures.count} ${how}, ${figures.meanMinutesAfterChange} min after the change on average (at most ${figures.maxMinutesAfterChange})`;
  return [
    push.count > 0 ? part(push, "pushed by Azure's change events") : "",
    catchUp.count > 0 ? part(catchUp, "found by catch-up (resourcechanges or the key re-read)") : "",
    poll.count > 0 ? part(poll, "found by a poll") : "",
  ]
    .filter(Boolean)
    .join("; ");
}
