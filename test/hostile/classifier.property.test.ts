/**
 * The classifier runs on every account in every cycle, on a string Azure may change at will and
 * anyone may paste into `explain`. Whatever arrives, it returns a well-formed classification,
 * quickly, and never hands any of the input back.
 */
import fc from "fast-check";
import { CAUSE_IDS, GUIDE_URL, type CauseId } from "../../src/domain/causes";
import { classifyStatus, classifyText, type Classification } from "../../src/domain/classifier";
import { binaryJunk, hostileText, markedHostileText, propertyParameters } from "./hostileText";

/** Azure's revoked values with a known code (cmk-status-facts.md), in full. */
const KNOWN: Array<[code: number, cause: CauseId, because: string]> = [
  [4000, "aad-token-acquisition", "unable to obtain the AAD authentication token for the account's default identity"],
  [4002, "default-identity-unauthorized", "the current default identity no longer has permission to the associated Key Vault key"],
  [4003, "key-not-found", "the correspondent key is not found on the specified Key Vault"],
  [4005, "unwrap-failure", "the Azure Cosmos DB service is unable to wrap or unwrap the key"],
  [4006, "invalid-key-vault-uri", "the Azure Cosmos DB account's key vault key URI does not follow the expected format"],
  [4009, "key-vault-dns-unresolved", "the Azure Key Vault DNS name specified by the account's keyvaultkeyuri property could not be resolved"],
  [4015, "invalid-default-identity", "the Azure Cosmos DB account has an undefined default identity"],
  [4016, "key-vault-network-blocked", "the access rules are blocking outbound requests to the Azure Key Vault service"],
  [4017, "key-not-found", "the correspondent Azure Key Vault was not found"],
];

function azureStatus(code: number, because: string): string {
  return `Access to your account is currently revoked because ${because}; for more details about this error and how to restore access to your account please visit ${GUIDE_URL} (${code}).`;
}

const knownStatus = fc.constantFrom(...KNOWN);

/** Anything at all: hostile fragments, random code points, raw bytes. */
const anyText = fc.oneof(hostileText(), binaryJunk, fc.string({ unit: "binary", maxLength: 200 }), fc.string({ maxLength: 200 }));

const HEALTH = new Set(["healthy", "revoked", "unknown"]);
const MATCHED_BY = new Set(["code", "anchor", "wording", "substatus", "healthy-text", "none"]);

/** What every classification must satisfy, whatever the input. */
function expectWellFormed(result: Classification): void {
  expect(HEALTH).toContain(result.health);
  expect(CAUSE_IDS).toContain(result.cause);
  expect(MATCHED_BY).toContain(result.matchedBy);
  expect(result.health === "healthy").toBe(result.cause === "healthy");
  if (result.cause === "unrecognized") expect(result.matchedBy).toBe("none");
  if (result.health === "unknown") expect(result).toEqual({ health: "unknown", cause: "unrecognized", code: null, matchedBy: "none" });
  if (result.code !== null) {
    expect(Number.isInteger(result.code)).toBe(true);
    expect(result.code).toBeGreaterThanOrEqual(4000);
    expect(result.code).toBeLessThanOrEqual(4099);
  }
  // Only enums and a number: nothing from the input can come back out.
  expect(Object.keys(result).sort()).toEqual(["cause", "code", "health", "matchedBy"]);
}

describe("classifyStatus and classifyText on any input", () => {
  it.each([
    ["classifyStatus", classifyStatus],
    ["classifyText", classifyText],
  ] as const)("%s returns a well-formed, deterministic classification and never throws", (_name, classify) => {
    // A crash here would stop the cycle for every account after this one.
    fc.assert(
      fc.property(anyText, (text) => {
        const result = classify(text);
        expectWellFormed(result);
        expect(classify(text)).toEqual(result);
      }),
      propertyParameters(500),
    );
  });

  it("never puts any of the input into its result", () => {
    // The result is shown in emails and the CLI; the status text itself is escaped separately.
    fc.assert(
      fc.property(markedHostileText("<x-evil-status>"), (text) => {
        expect(JSON.stringify(classifyStatus(text))).not.toContain("x-evil");
        expect(JSON.stringify(classifyText(text))).not.toContain("x-evil");
      }),
      propertyParameters(200),
    );
  });

  it.each<[string, unknown]>([
    // ARM omits the property on old API versions.
    ["undefined", undefined],
    // A null from a hand-written client.
    ["null", null],
    // A future API could return a number or an object; the type says string, the wire may not.
    ["a number", 4002],
    ["an object", { code: 4002 }],
    ["an array", ["(4002)"]],
  ])("treats %s as unknown instead of throwing", (_why, value) => {
    expect(classifyStatus(value as string)).toMatchObject({ health: "unknown", cause: "unrecognized" });
    expect(classifyText(value as string)).toMatchObject({ health: "unknown", cause: "unrecognized" });
  });
});

describe("classifyStatus: Azure's value keeps its meaning around junk", () => {
  it("junk before Azure's text does not change the cause or code", () => {
    // Azure appends its code at the very end, so whatever precedes it is quoted text at most.
    fc.assert(
      fc.property(anyText, knownStatus, (junk, [code, cause, because]) => {
        expect(classifyStatus(`${junk} ${azureStatus(code, because)}`)).toMatchObject({ health: "revoked", cause, code });
      }),
      propertyParameters(300),
    );
  });

  it("a megabyte of junk before Azure's text still finds the code at the end", () => {
    // Only the head and tail are scanned, so size does not hide the code nor cost time.
    fc.assert(
      fc.property(anyText, knownStatus, (junk, [code, cause, because]) => {
        const huge = `${junk.repeat(Math.ceil(1_000_000 / Math.max(1, junk.length))).slice(0, 1_000_000)} ${azureStatus(code, because)}`;
        expect(classifyStatus(huge)).toMatchObject({ health: "revoked", cause, code });
      }),
      propertyParameters(20),
    );
  });

  it("with several codes the last one counts", () => {
    // Quoted earlier errors must not outvote the code the service appended.
    fc.assert(
      fc.property(fc.array(knownStatus, { minLength: 2, maxLength: 5 }), (rows) => {
        const text = `Access to your account is currently revoked ${rows.map(([code]) => `(${code})`).join(" then ")}.`;
        const [code, cause] = rows.at(-1)!;
        expect(classifyStatus(text)).toMatchObject({ health: "revoked", cause, code });
      }),
      propertyParameters(100),
    );
  });

  it("an unknown code in the CMK range is a revocation we report but do not explain", () => {
    // New codes appear without notice; they must neither crash nor be mistaken for a known cause.
    const known = new Set(KNOWN.map(([code]) => code).concat([4001, 4004, 4007, 4008, 4010, 4011, 4012, 4013, 4014, 4018, 4019]));
    fc.assert(
      fc.property(
        fc.integer({ min: 4000, max: 4099 }).filter((code) => !known.has(code)),
        (code) => {
          expect(classifyStatus(`Access to your account is currently revoked (${code}).`)).toEqual({
            health: "revoked",
            cause: "unrecognized",
            code,
            matchedBy: "none",
          });
        },
      ),
      propertyParameters(100),
    );
  });
});

describe("classifyStatus: the hostile shapes from the issue", () => {
  it.each<[string, string, Partial<Classification>]>([
    // Empty and blank values say nothing: never an alarm.
    ["empty", "", { health: "unknown" }],
    ["whitespace only", " \t\r\n\u00a0\u2028 ", { health: "unknown" }],
    // Punctuation and markup without words say nothing either.
    ["markup without words", "<><></>&&;;", { health: "unknown" }],
    // Binary junk with no words is unknown.
    ["NUL bytes", "\u0000".repeat(1000), { health: "unknown" }],
    // A script tag around Azure's text: still the real cause, the tag is ignored.
    ["HTML around the status", `<script>alert(1)</script>${azureStatus(4002, KNOWN[1]![2])}<b>`, { cause: "default-identity-unauthorized", code: 4002 }],
    // Markup inside the words must not invent a cause.
    ["HTML with a healthy text", "<p>Access to the configured customer managed key confirmed.</p>", { health: "healthy" }],
    // An unknown code: revoked, explained as unrecognized.
    ["unknown code", "Access to your account is currently revoked (4099).", { health: "revoked", cause: "unrecognized", code: 4099 }],
    // Several codes: the last, as Azure appends its own at the end.
    ["several codes", "Access to your account is currently revoked (4003) (4002) (4017).", { cause: "key-not-found", code: 4017 }],
    // A number outside the CMK block is not a code.
    ["non-CMK number", "Access to your account is currently revoked (5301).", { health: "revoked", cause: "unrecognized", code: null }],
    // Digits in a GUID or version are not codes.
    ["code-like digits in ids", "revoked; request 3f2b6c1e-4002-4c2e-8f7b-1a2b3c4d5e6f api 1.4003", { code: null }],
    // Look-alike letters do not spell "revoked".
    ["Cyrillic look-alike", "Access to your account is currently r\u0435voked", { health: "unknown" }],
    // A negated "confirmed" is not healthy.
    ["negated confirmation", "Access to the configured customer managed key could not be confirmed.", { health: "unknown" }],
  ])("%s", (_why, status, expected) => {
    const result = classifyStatus(status);
    expect(result).toMatchObject(expected);
    expectWellFormed(result);
  });

  it.each<[string, string]>([
    // A megabyte of one letter: the worst case for a naive scan is the same cost as a short string.
    ["one letter", "a".repeat(1_000_000)],
    // Repeated opening parentheses and "code" labels: the patterns' worst case for backtracking.
    ["open parentheses", "(".repeat(1_000_000)],
    ["code labels", "code: ".repeat(200_000)],
    ["substatus labels", "sub status ".repeat(100_000)],
    // Digits everywhere: many candidate codes.
    ["digits", "(4002 ".repeat(200_000)],
    // Random binary, as a misdecoded payload would look.
    ["binary", Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 256)).toString("latin1")],
  ])("classifies 1 MB of %s in well under a second", (_why, text) => {
    const started = performance.now();
    expectWellFormed(classifyStatus(text));
    expectWellFormed(classifyText(text));
    expect(performance.now() - started).toBeLessThan(500);
  });
});
