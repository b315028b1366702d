/**
 * Turns what Azure says about a CMK account (the ARM `customerManagedKeyStatus`, a data-plane
 * 403 sub-status, or text a user pastes) into a health and a catalogued cause. Pure, and total:
 * it never throws, because it runs inside every poll cycle on strings Azure may change at will.
 *
 * Evidence is weighed in a fixed order and the first kind that names a cause wins:
 *   1. the numeric code, e.g. "(4002)" — the most precise thing Azure gives us;
 *   2. the troubleshooting-guide anchor in the link, e.g. "#customer-managed-key-does-not-exist";
 *   3. the wording of the status text.
 * An unknown code (e.g. 4099) names no cause, so the anchor and wording still get their say; the
 * code is reported either way. When nothing names a cause the result is `unrecognized`.
 */
import { REVOKED_CAUSE_DEFINITIONS, WORDING_PRECEDENCE, type CauseId, type RevokedCauseId } from "./causes";
import { SUBSTATUS_CODES, findSubstatusCode, findSubstatusName, isCmkCode } from "./substatusCodes";

export type Health = "healthy" | "revoked" | "unknown";
export type MatchedBy = "code" | "anchor" | "wording" | "substatus" | "healthy-text" | "none";

export interface Classification {
  health: Health;
  cause: CauseId;
  /** The CMK code (4000-4099) found, known or not; null when there was none. */
  code: number | null;
  /** Which evidence picked the cause; "none" whenever the cause is `unrecognized`. */
  matchedBy: MatchedBy;
}

/**
 * Only this many characters from each end are read. Status values are a few hundred characters
 * and Azure puts the code at the very end, so head + tail sees everything that matters while a
 * megabyte of pasted HTML costs no more than a short string.
 */
export const SCAN_WINDOW_CHARS = 8 * 1024;

const UNKNOWN: Classification = Object.freeze({ health: "unknown", cause: "unrecognized", code: null, matchedBy: "none" });
const HEALTHY: Classification = Object.freeze({ health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" });

/**
 * The title anchor of the guide's revocation page: it proves the text is about a revocation, it
 * just does not say why.
 */
const GUIDE_PAGE_ANCHOR = "troubleshooting-revocation-scenarios-for-your-customer-managed-keys-configured-azure-cosmos-db-account";

/**
 * Guide anchors → cause: each cause's anchors (the ones the service links to and the guide's own
 * heading anchors, which users copy from the page), and the page anchor with no cause.
 */
const ANCHORS: ReadonlyArray<readonly [slug: string, cause: RevokedCauseId | null]> = [
  ...REVOKED_CAUSE_DEFINITIONS.flatMap((definition) => definition.guideAnchors.map((slug) => [slug, definition.id] as const)),
  [GUIDE_PAGE_ANCHOR, null],
];

/** Each cause's key phrases, in the catalogue's order of precedence (see WORDING_PRECEDENCE). */
const WORDING: ReadonlyArray<readonly [cause: RevokedCauseId, phrases: readonly string[]]> = WORDING_PRECEDENCE.map(
  (definition) => [definition.id, definition.wordings] as const,
);

/** Words that, just before "confirmed", turn it into its opposite ("could not be confirmed"). */
const NEGATORS = new Set(["not", "no", "never", "cannot", "unable", "failed", "fails", "t", "nt", "without"]);
const NEGATION_LOOKBEHIND_WORDS = 3;

// All patterns below are linear: each quantified run is delimited by a character the next part
// cannot start with, so no input makes them backtrack. (`\s*[:=#]?\s*` is not: with no separator
// the two runs can split a long run of spaces every way, quadratic in its length; the separator
// is therefore part of an optional group that must start with it.)
const PARENTHESISED_CODE = /\(\s*(?:code\s*(?:[:=#]\s*)?)?(\d{1,6})\s*\)/g;
// No \b before "code", so "ErrorCode: 4002" counts too.
const LABELLED_CODE = /code\s*(?:[:=#]\s*)?(\d{1,6})\b/g;
const SUBSTATUS_LABELLED_CODE = /sub[\s_-]?status(?:[\s_-]?code)?["'\s:=]*(\d{1,6})/g;
// A bare "4002": not part of a GUID ("-4002-"), a version ("1.4002") or a longer number.
const BARE_CODE = /(?<![\w.-])(40\d\d)(?![\w-]|\.\d)/g;
const REVOCATION_WORD = /\brevo(?:ke|ked|kes|king|cation)\b/;
const SUBSTATUS_NAME = new RegExp(`\\b(?:${SUBSTATUS_CODES.map((entry) => entry.name).join("|")})\\b`, "gi");

/** The parts of the input the rules look at, computed once. */
interface Evidence {
  /** Lower-cased head and tail of the input. */
  lower: string;
  /** `lower` with every run of non-alphanumerics turned into one space, padded with spaces. */
  words: string;
}

function gatherEvidence(input: string): Evidence {
  const bounded = input.length <= 2 * SCAN_WINDOW_CHARS ? input : `${input.slice(0, SCAN_WINDOW_CHARS)}\n${input.slice(input.length - SCAN_WINDOW_CHARS)}`;
  const lower = bounded.toLowerCase();
  // Stryker disable next-line MethodExpression: equivalent, spaces at the ends only pad the padded word string (phrases are matched between spaces)
  const normalised = lower.replace(/[^a-z0-9]+/g, " ").trim();
  return { lower, words: normalised === "" ? "" : ` ${normalised} ` };
}

/** The last CMK-range match of `pattern`; "last" because Azure appends its own code at the end. */
function lastCmkCode(pattern: RegExp, text: string): number | null {
  let found: number | null = null;
  for (const match of text.matchAll(pattern)) {
    const code = Number(match[1]);
    if (isCmkCode(code)) found = code;
  }
  return found;
}

/** The cause of the anchor that appears last in the text; undefined when there is none. */
function findAnchor(evidence: Evidence): { cause: RevokedCauseId | null } | undefined {
  let best: { cause: RevokedCauseId | null; at: number } | undefined;
  for (const [slug, cause] of ANCHORS) {
    const at = evidence.lower.lastIndexOf(slug);
    if (at >= 0 && (best === undefined || at > best.at)) best = { cause, at };
  }
  return best;
}

function findWording(evidence: Evidence): RevokedCauseId | undefined {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, both callers already return for blank input; the loop would find nothing anyway
  if (evidence.words === "") return undefined;
  for (const [cause, phrases] of WORDING) {
    if (phrases.some((phrase) => evidence.words.includes(` ${phrase} `))) return cause;
  }
  return undefined;
}

function mentionsRevocation(evidence: Evidence): boolean {
  return REVOCATION_WORD.test(evidence.words);
}

/** True when "confirmed" appears without a negation shortly before it. */
function soundsHealthy(evidence: Evidence): boolean {
  // Stryker disable next-line MethodExpression: equivalent, untrimmed the list only gains empty words at its ends, which are no negation
  const words = evidence.words.trim().split(" ");
  return words.some(
    (word, index) => word === "confirmed" && !words.slice(Math.max(0, index - NEGATION_LOOKBEHIND_WORDS), index).some((before) => NEGATORS.has(before)),
  );
}

function revoked(cause: RevokedCauseId, code: number | null, matchedBy: MatchedBy): Classification {
  return { health: "revoked", cause, code, matchedBy };
}

interface CodeEvidence {
  code: number;
  /** "substatus" when the text labelled it as one, "code" otherwise. */
  matchedBy: "code" | "substatus";
}

/** Code first, then anchor, then wording; see the file comment. */
function decideRevokedCause(evidence: Evidence, code: CodeEvidence | null): Classification {
  const codeValue = code?.code ?? null;
  const known = code ? findSubstatusCode(code.code) : undefined;
  if (code && known) return revoked(known.cause, code.code, code.matchedBy);
  const anchorCause = findAnchor(evidence)?.cause;
  if (anchorCause) return revoked(anchorCause, codeValue, "anchor");
  const wordingCause = findWording(evidence);
  if (wordingCause) return revoked(wordingCause, codeValue, "wording");
  return revoked("unrecognized", codeValue, "none");
}

function statusCode(evidence: Evidence): CodeEvidence | null {
  const code = lastCmkCode(PARENTHESISED_CODE, evidence.lower) ?? lastCmkCode(LABELLED_CODE, evidence.lower);
  return code === null ? null : { code, matchedBy: "code" };
}

function classifyStatusUnsafe(status: string): Classification {
  const evidence = gatherEvidence(status);
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent short-cut, blank input has no code, anchor or word and ends unknown by the rules below
  if (evidence.words === "") return UNKNOWN;
  const code = statusCode(evidence);
  const isRevoked = code !== null || findAnchor(evidence) !== undefined || mentionsRevocation(evidence);
  if (!isRevoked) return soundsHealthy(evidence) ? HEALTHY : UNKNOWN;
  return decideRevokedCause(evidence, code);
}

/**
 * Classifies the ARM `customerManagedKeyStatus`. Absent, empty or unrecognisable values are
 * `unknown`, never `revoked`: we must not raise an alarm we cannot justify. A value is revoked
 * only if it says so ("revoked"/"revocation"), carries a 40xx code, or links a guide anchor.
 * With several parenthesised codes the last one counts, because the service appends its code
 * at the end and anything earlier is quoted text.
 */
export function classifyStatus(status: string | null | undefined): Classification {
  // Stryker disable next-line ConditionalExpression: equivalent, a non-string throws inside and the catch answers unknown; the check only says so first
  if (typeof status !== "string") return UNKNOWN;
  try {
    return classifyStatusUnsafe(status);
  } catch {
    // Unreachable by design; if a bug gets here, "unknown" keeps the poll cycle alive and silent.
    return UNKNOWN;
  }
}

/**
 * Classifies a data-plane failure. Only HTTP 403 carries CMK sub-statuses: a known code gives
 * its cause, and an unknown code in the CMK block (4000-4099) is a revocation we cannot explain.
 * Other 403 sub-statuses (e.g. 5301, missing data-plane RBAC) are not about the key, so they are
 * `unknown` rather than an alarm; so is any other HTTP status.
 */
export function classifySubstatus(httpStatus: number, substatus: number): Classification {
  if (httpStatus !== 403 || typeof substatus !== "number" || !isCmkCode(substatus)) return UNKNOWN;
  const known = findSubstatusCode(substatus);
  return known ? revoked(known.cause, substatus, "substatus") : revoked("unrecognized", substatus, "none");
}

function textCode(evidence: Evidence): CodeEvidence | null {
  const labelled = lastCmkCode(SUBSTATUS_LABELLED_CODE, evidence.lower);
  if (labelled !== null) return { code: labelled, matchedBy: "substatus" };
  const code = statusCode(evidence)?.code ?? lastCmkCode(BARE_CODE, evidence.lower);
  return code === null ? null : { code, matchedBy: "code" };
}

/** The sub-status named last in the text (e.g. "KeyVaultKeyNotFound"), case-insensitively. */
function findNamedSubstatus(evidence: Evidence): CodeEvidence | null {
  let found: CodeEvidence | null = null;
  for (const match of evidence.lower.matchAll(SUBSTATUS_NAME)) {
    const entry = findSubstatusName(match[0]);
    // Stryker disable next-line ConditionalExpression: equivalent, the pattern is built from the table's names, so every match has an entry
    if (entry) found = { code: entry.code, matchedBy: "substatus" };
  }
  return found;
}

function classifyTextUnsafe(text: string): Classification {
  const evidence = gatherEvidence(text);
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent short-cut, blank input has no code, name, anchor or word and ends unknown by the rules below
  if (evidence.words === "") return UNKNOWN;
  const code = textCode(evidence);
  const named = findNamedSubstatus(evidence);
  // A number the table knows beats a name; a name beats a number it does not know.
  const best = code && findSubstatusCode(code.code) ? code : (named ?? code);
  const wording = findWording(evidence);
  const isRevoked = best !== null || findAnchor(evidence) !== undefined || mentionsRevocation(evidence) || wording !== undefined;
  if (!isRevoked) return soundsHealthy(evidence) ? HEALTHY : UNKNOWN;
  return decideRevokedCause(evidence, best);
}

/**
 * Classifies free text a user pastes: an error message, a status value, "403 substatus 4002",
 * "x-ms-substatus: 4002", "(4002)", a bare "4002", a sub-status name such as
 * "KeyVaultKeyNotFound", a guide link or heading. Unlike the ARM status, wording alone is enough
 * to call it revoked here: the user is asking about an error, not reporting an account's state.
 * A labelled sub-status or a sub-status name reports matchedBy "substatus"; a parenthesised,
 * "code N" or bare number reports "code". Within one kind the last occurrence wins.
 */
export function classifyText(text: string): Classification {
  // Stryker disable next-line ConditionalExpression: equivalent, a non-string throws inside and the catch answers unknown; the check only says so first
  if (typeof text !== "string") return UNKNOWN;
  try {
    return classifyTextUnsafe(text);
  } catch {
    // Same reasoning as classifyStatus: a classifier bug must not crash the caller.
    return UNKNOWN;
  }
}
