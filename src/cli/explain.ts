/**
 * `cmk-monitor explain`: tells a user what a CMK error or status means, who can fix it, how
 * long recovery takes and what to run. Offline and pure apart from writing to `io`.
 */
import { type Classification, classifySubstatus, classifyText } from "../domain/classifier";
import { type CauseId, type FixableBy, type RecoveryPolicy, getCause } from "../domain/causes";
import { type RemediationStep, remediationSteps } from "../domain/remediation";
import { findSubstatusCode } from "../domain/substatusCodes";
import type { CliIo } from "./io";

export const EXPLAIN_USAGE = "usage: cmk-monitor explain [--substatus N [--status HTTP]] [--json] TEXT...";

const EXPLAIN_HELP = `${EXPLAIN_USAGE}

Explains a Cosmos DB customer-managed-key error: the cause, who can fix it, how long recovery
takes, and the commands to run. TEXT is anything you have: the account's status, an error
message, "403 substatus 4002", a sub-status name such as KeyVaultKeyNotFound, or a bare 4002.

  --substatus N   a data-plane sub-status code (x-ms-substatus)
  --status HTTP   the HTTP status that came with --substatus (default 403)
  --json          print one JSON object instead of text
  --              treat everything after it as TEXT`;

interface ExplainOptions {
  text: string;
  substatus?: number;
  httpStatus?: number;
  json: boolean;
}

type ParsedArgs = { kind: "options"; options: ExplainOptions } | { kind: "help" } | { kind: "error"; message: string };

/** The JSON contract of `explain --json`; field names are public, so only add to it. */
export interface Explanation {
  health: Classification["health"];
  cause: CauseId;
  code: number | null;
  /** The SDK name of `code`, when the table knows it. */
  codeName: string | null;
  matchedBy: Classification["matchedBy"];
  title: string;
  explanation: string;
  fixableBy: FixableBy;
  policy: RecoveryPolicy;
  docsUrl: string;
  steps: RemediationStep[];
}

const WHOLE_NUMBER = /^\d{1,9}$/;

function parseArgs(args: readonly string[]): ParsedArgs {
  const words: string[] = [];
  let substatus: number | undefined;
  let httpStatus: number | undefined;
  let json = false;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      words.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "--json") {
      json = true;
      continue;
    }
    // Accept both "--substatus 4002" and "--substatus=4002".
    const [flag, inlineValue] = arg.startsWith("--") && arg.includes("=") ? splitOnce(arg, "=") : [arg, undefined];
    if (flag === "--substatus" || flag === "--status") {
      const value = inlineValue ?? args[++i];
      if (value === undefined || !WHOLE_NUMBER.test(value)) return { kind: "error", message: `${flag} needs a whole number` };
      if (flag === "--substatus") {
        if (substatus !== undefined) return { kind: "error", message: "--substatus given twice" };
        substatus = Number(value);
      } else {
        if (httpStatus !== undefined) return { kind: "error", message: "--status given twice" };
        httpStatus = Number(value);
      }
      continue;
    }
    // A lone "-" is text; anything else dash-led is a flag we do not know (use "--" for such text).
    if (arg.startsWith("-") && arg !== "-") return { kind: "error", message: `unknown option ${arg}` };
    words.push(arg);
  }

  const text = words.join(" ").trim();
  if (httpStatus !== undefined && substatus === undefined) return { kind: "error", message: "--status only applies with --substatus" };
  if (text === "" && substatus === undefined) return { kind: "error", message: "nothing to explain: give TEXT or --substatus N" };
  return {
    kind: "options",
    options: { text, json, ...(substatus !== undefined ? { substatus } : {}), ...(httpStatus !== undefined ? { httpStatus } : {}) },
  };
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return [value.slice(0, at), value.slice(at + separator.length)];
}

/**
 * An explicit sub-status is the most precise input, so it decides when the table knows it; when it
 * does not, any TEXT given alongside gets its chance.
 */
function classify(options: ExplainOptions): Classification {
  if (options.substatus === undefined) return classifyText(options.text);
  const fromSubstatus = classifySubstatus(options.httpStatus ?? 403, options.substatus);
  if (fromSubstatus.cause !== "unrecognized" || options.text === "") return fromSubstatus;
  const fromText = classifyText(options.text);
  return fromText.health === "unknown" ? fromSubstatus : fromText;
}

export function explainClassification(classification: Classification): Explanation {
  const cause = getCause(classification.cause);
  return {
    health: classification.health,
    cause: cause.id,
    code: classification.code,
    codeName: classification.code === null ? null : (findSubstatusCode(classification.code)?.name ?? null),
    matchedBy: classification.matchedBy,
    title: cause.title,
    explanation: cause.explanation,
    fixableBy: cause.fixableBy,
    policy: { ...cause.policy },
    docsUrl: cause.docsUrl,
    // No account here, so the commands carry <placeholders> for the user to fill in.
    steps: remediationSteps(cause.id),
  };
}

const FIXABLE_BY_TEXT: Record<FixableBy, string> = {
  owner: "the account owner (whoever can change the account, its identities or the Key Vault)",
  microsoft: "Microsoft; nothing on the account should need to change, but contact Azure support if it lasts",
  none: "nobody needs to act",
};

const MATCHED_BY_TEXT: Record<Classification["matchedBy"], string> = {
  code: "the numeric code",
  substatus: "the sub-status",
  anchor: "the troubleshooting-guide link",
  wording: "the wording",
  "healthy-text": "the healthy status text",
  none: "nothing specific",
};

function recoveryText(explanation: Explanation): string {
  if (explanation.health === "healthy") return "nothing to recover.";
  const { clockStartsAt, expectedRecoveryInMinutes, escalateAfterInMinutes } = explanation.policy;
  const start = clockStartsAt === "fix" ? "when the fix is made" : "when the revocation is first detected";
  return (
    `the clock starts ${start}: expect the account to leave the revoked state within ${expectedRecoveryInMinutes} minutes, ` +
    `and contact Azure support if it is still revoked after ${escalateAfterInMinutes} minutes.`
  );
}

function renderHuman(explanation: Explanation): string[] {
  const code = explanation.code === null ? "none" : `${explanation.code}${explanation.codeName ? ` (${explanation.codeName})` : ""}`;
  const lines = [`${explanation.cause}: ${explanation.title}`];
  if (explanation.health === "unknown") {
    lines.push("  Nothing here says the account is revoked. If it is, this is what applies to a revocation we cannot explain:");
  }
  lines.push(
    `  Health:     ${explanation.health}`,
    `  Code:       ${code}`,
    `  Matched by: ${MATCHED_BY_TEXT[explanation.matchedBy]}`,
    "",
    `Why: ${explanation.explanation}`,
    `Who can fix it: ${FIXABLE_BY_TEXT[explanation.fixableBy]}.`,
    `Recovery: ${recoveryText(explanation)}`,
    `Docs: ${explanation.docsUrl}`,
    "",
  );
  if (explanation.steps.length === 0) {
    lines.push("What to do: nothing.");
    return lines;
  }
  lines.push("What to do:");
  explanation.steps.forEach((step, index) => {
    lines.push(`  ${index + 1}. ${step.text}`);
    for (const command of step.commands) {
      if (command.label) lines.push(`     ${command.label}:`);
      lines.push(`       ${command.command}`);
    }
  });
  return lines;
}

/** Runs `explain`; 0 for anything classified (even unrecognised), 1 for bad usage. */
export async function runExplain(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.kind === "help") {
    io.stdout(EXPLAIN_HELP);
    return 0;
  }
  if (parsed.kind === "error") {
    io.stderr(`cmk-monitor explain: ${parsed.message}. ${EXPLAIN_USAGE}`);
    return 1;
  }
  const explanation = explainClassification(classify(parsed.options));
  io.stdout(parsed.options.json ? JSON.stringify(explanation, null, 2) : renderHuman(explanation).join("\n"));
  return 0;
}
