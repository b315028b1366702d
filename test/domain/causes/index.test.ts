import {
  CAUSE_DEFINITIONS,
  CAUSE_IDS,
  GUIDE_URL,
  WORDING_PRECEDENCE,
  getCause,
  getCauseDefinition,
  isCauseId,
  type CauseDefinition,
} from "../../../src/domain/causes";
import { classifyStatus, classifySubstatus, classifyText } from "../../../src/domain/classifier";
import { commandTarget } from "../../../src/domain/commandTarget";
import { CMK_CODE_MAX, CMK_CODE_MIN } from "../../../src/domain/substatusCodes";
import { healthyFacts, NOW } from "../../fixtures/probes";

const nonEmpty = (text: unknown) => typeof text === "string" && text.trim() !== "";
// The classifier compares phrases with text lower-cased and every run of punctuation made one space.
const normalised = (phrase: string) =>
  phrase ===
    phrase
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim() && phrase !== "";

/** Each part a cause module must define, and what "defined" means for it. */
const PARTS: Array<[part: string, defines: (cause: CauseDefinition) => boolean]> = [
  // The id is the catalogue key and public contract; a module under the wrong key would answer for another cause.
  ["id", (cause) => getCauseDefinition(cause.id) === cause],
  // Emails, the CLI and the dashboard show these as they are.
  ["title", (cause) => nonEmpty(cause.title)],
  ["explanation", (cause) => nonEmpty(cause.explanation)],
  ["fixableBy", (cause) => ["owner", "microsoft", "none"].includes(cause.fixableBy)],
  // The lifecycle sets its deadlines from these; escalating before recovery is expected would be noise.
  [
    "policy",
    (cause) =>
      ["fix", "detection"].includes(cause.policy.clockStartsAt) &&
      cause.policy.expectedRecoveryInMinutes > 0 &&
      cause.policy.escalateAfterInMinutes >= cause.policy.expectedRecoveryInMinutes,
  ],
  // Anchors are matched in lower-cased text and appended to the guide's URL.
  ["guideAnchors", (cause) => Array.isArray(cause.guideAnchors) && cause.guideAnchors.every((anchor) => /^[a-z0-9-]+$/.test(anchor))],
  // Codes outside the CMK block would never be looked up; names are how users paste them.
  [
    "codes",
    (cause) =>
      Array.isArray(cause.codes) &&
      cause.codes.every(({ code, name }) => Number.isInteger(code) && code >= CMK_CODE_MIN && code <= CMK_CODE_MAX && /^[A-Za-z]+$/.test(name)),
  ],
  // A phrase not in normalised form can never match.
  ["wordings", (cause) => Array.isArray(cause.wordings) && cause.wordings.every(normalised)],
  // Rendered without an account, as `explain` does: a revoked cause always gives the owner something to do.
  [
    "remediation",
    (cause) => {
      const steps = cause.remediation(commandTarget());
      return (cause.id === "healthy" ? steps.length === 0 : steps.length > 0) && steps.every((step) => nonEmpty(step.text));
    },
  ],
  [
    "recoveryWording",
    (cause) =>
      cause.recoveryWording === "from-policy" ||
      cause.recoveryWording === "nothing-to-recover" ||
      (typeof cause.recoveryWording === "function" && nonEmpty(cause.recoveryWording({ expected: "one hour", escalate: "two hours" }))),
  ],
  // The timeline shows the detail, so even "unknown" says why.
  [
    "verdict",
    (cause) => {
      const verdict = cause.verdict(healthyFacts(), NOW);
      return ["present", "gone", "unknown"].includes(verdict.verdict) && typeof verdict.detail === "string";
    },
  ],
];

describe("every cause module", () => {
  // Completeness both ways: a module for every id, in the contract's order, and no module without an id.
  it("exists for every cause id, in CAUSE_IDS order", () => {
    expect(CAUSE_DEFINITIONS.map((cause) => cause.id)).toEqual([...CAUSE_IDS]);
  });

  it.each(CAUSE_DEFINITIONS.flatMap((cause) => PARTS.map(([part, defines]) => [cause.id, part, defines] as const)))("%s defines %s", (id, _part, defines) => {
    expect(defines(getCauseDefinition(id))).toBe(true);
  });

  // The emails link the cause's own section when the guide has one.
  it.each(CAUSE_DEFINITIONS.map((cause) => [cause.id, cause.guideAnchors[0]] as const))("%s links its first guide anchor (%s)", (id, anchor) => {
    expect(getCause(id).docsUrl).toBe(anchor === undefined ? GUIDE_URL : `${GUIDE_URL}#${anchor}`);
  });
});

describe("evidence the classifier reads", () => {
  const claims = (part: "codes" | "guideAnchors" | "wordings") =>
    CAUSE_DEFINITIONS.flatMap((cause) =>
      part === "codes" ? cause.codes.map(({ code }) => [String(code), cause.id]) : cause[part].map((value) => [value, cause.id]),
    );

  // Two causes claiming one code, anchor or phrase would make the classifier's answer depend on module order.
  it.each(["codes", "guideAnchors", "wordings"] as const)("%s are claimed by one cause each", (part) => {
    const owners = new Map<string, string[]>();
    for (const [value, id] of claims(part)) owners.set(value!, [...(owners.get(value!) ?? []), id!]);
    expect([...owners].filter(([, ids]) => ids.length > 1)).toEqual([]);
  });

  // Sub-status names are looked up case-insensitively, so names differing only in case would collide too.
  it("code names are claimed by one cause each, in any case", () => {
    const names = CAUSE_DEFINITIONS.flatMap((cause) => cause.codes.map(({ name }) => name.toLowerCase()));
    expect(new Set(names).size).toBe(names.length);
  });

  // The last anchor in the text wins; one anchor starting another would tie, and then list order would decide.
  it("no guide anchor is the start of another", () => {
    const anchors = claims("guideAnchors").map(([anchor]) => anchor!);
    expect(anchors.filter((a) => anchors.some((b) => b !== a && b.startsWith(a)))).toEqual([]);
  });

  // Evidence for healthy would turn a revoked status healthy; unrecognized is what is left when nothing matches.
  it.each(["healthy", "unrecognized"] as const)("%s claims no code, anchor or wording", (id) => {
    const cause = getCauseDefinition(id);
    expect([cause.codes, cause.guideAnchors, cause.wordings]).toEqual([[], [], []]);
  });

  // A cause missing from the precedence list would have its wordings silently ignored.
  it("WORDING_PRECEDENCE lists exactly the causes with wordings, once each", () => {
    const listed = WORDING_PRECEDENCE.map((cause) => cause.id);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(
      CAUSE_DEFINITIONS.filter((cause) => cause.wordings.length > 0)
        .map((cause) => cause.id)
        .sort(),
    );
  });
});

describe("the classifier reaches every piece of evidence a cause claims", () => {
  // A phrase an earlier cause's phrase shadows (precedence) would never name its own cause.
  it.each(CAUSE_DEFINITIONS.flatMap((cause) => cause.wordings.map((phrase) => [cause.id, phrase] as const)))("%s: wording %j", (id, phrase) => {
    expect(classifyText(phrase)).toMatchObject({ health: "revoked", cause: id, matchedBy: "wording" });
  });

  // The service's and the guide's links, as they end a status.
  it.each(CAUSE_DEFINITIONS.flatMap((cause) => cause.guideAnchors.map((anchor) => [cause.id, anchor] as const)))("%s: anchor %s", (id, anchor) => {
    expect(classifyStatus(`Access revoked; see ${GUIDE_URL}#${anchor}`)).toMatchObject({ health: "revoked", cause: id, matchedBy: "anchor" });
  });

  // A 403 sub-status and its SDK name both name the cause.
  it.each(CAUSE_DEFINITIONS.flatMap((cause) => cause.codes.map(({ code, name }) => [cause.id, code, name] as const)))("%s: code %i (%s)", (id, code, name) => {
    expect(classifySubstatus(403, code)).toEqual({ health: "revoked", cause: id, code, matchedBy: "substatus" });
    expect(classifyText(name)).toEqual({ health: "revoked", cause: id, code, matchedBy: "substatus" });
  });
});

describe("isCauseId: what stored rows and query strings may name", () => {
  it.each<[unknown, boolean]>([
    // Every catalogue id, healthy included.
    ...CAUSE_IDS.map((id): [unknown, boolean] => [id, true]),
    // Ids are exact: a stored row or query with another spelling names no cause.
    ["Key-Not-Found", false],
    ["key-not-found ", false],
    ["", false],
    // Not text at all (a corrupted row).
    [undefined, false],
    [null, false],
    [4002, false],
    [["key-not-found"], false],
  ])("%j is a cause id: %s", (value, expected) => {
    expect(isCauseId(value)).toBe(expected);
  });
});
