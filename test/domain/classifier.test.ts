import type { CauseId } from "../../src/domain/causes";
import { GUIDE_URL } from "../../src/domain/causes";
import { type Classification, type MatchedBy, SCAN_WINDOW_CHARS, classifyStatus, classifySubstatus, classifyText } from "../../src/domain/classifier";

/** The revoked values from cmk-status-facts.md, verbatim (the abridged part is rebuilt by `fullStatus`). */
interface StatusRow {
  code: number | null;
  text: string;
  /** Guide anchor without "#", or null when the service links the guide root. */
  anchor: string | null;
  cause: CauseId;
}

const STATUS_ROWS: StatusRow[] = [
  {
    code: 4000,
    text: "Access to your account is currently revoked because the Azure Cosmos DB service is unable to obtain the AAD authentication token for the account's default identity",
    anchor: "azure-active-directory-token-acquisition-error",
    cause: "aad-token-acquisition",
  },
  {
    code: 4002,
    text: "Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key",
    anchor: "default-identity-is-unauthorized-to-access-the-azure-key-vault-key",
    cause: "default-identity-unauthorized",
  },
  {
    code: 4003,
    text: "Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault",
    anchor: "azure-key-vault-resource-not-found",
    cause: "key-not-found",
  },
  {
    code: 4005,
    text: "Access to your account is currently revoked because the Azure Cosmos DB service is unable to wrap or unwrap the key",
    anchor: "internal-unwrapping-procedure-error",
    cause: "unwrap-failure",
  },
  {
    code: 4006,
    text: "Access to your account is currently revoked because the Azure Cosmos DB account's key vault key URI does not follow the expected format",
    anchor: "improper-syntax-detected-on-the-key-vault-uri-property",
    cause: "invalid-key-vault-uri",
  },
  {
    code: 4009,
    text: "Access to your account is currently revoked because the Azure Key Vault DNS name specified by the account's keyvaultkeyuri property could not be resolved",
    anchor: "unable-to-resolve-the-key-vaults-dns",
    cause: "key-vault-dns-unresolved",
  },
  {
    code: 4015,
    text: "Access to your account is currently revoked because the Azure Cosmos DB account has an undefined default identity",
    anchor: "invalid-azure-cosmos-db-default-identity",
    cause: "invalid-default-identity",
  },
  {
    code: 4016,
    text: "Access to your account is currently revoked because the access rules are blocking outbound requests to the Azure Key Vault service",
    anchor: null,
    cause: "key-vault-network-blocked",
  },
  {
    code: 4017,
    text: "Access to your account is currently revoked because the correspondent Azure Key Vault was not found",
    anchor: "azure-key-vault-resource-not-found",
    cause: "key-not-found",
  },
  { code: null, text: "Access to your account is currently revoked", anchor: null, cause: "unrecognized" },
];

const HEALTHY_STATUS = "Access to the configured customer managed key confirmed.";

function link(row: StatusRow): string {
  return row.anchor ? `${GUIDE_URL}#${row.anchor}` : GUIDE_URL;
}

/** The value exactly as the service sends it: text; guide sentence with link; "(code)." */
function fullStatus(row: StatusRow, code: number | null = row.code): string {
  const suffix = code === null ? "" : ` (${code})`;
  return `${row.text}; for more details about this error and how to restore access to your account please visit ${link(row)}${suffix}.`;
}

function expectClassification(actual: Classification, expected: Classification): void {
  expect(actual).toEqual(expected);
}

function revoked(cause: CauseId, code: number | null, matchedBy: MatchedBy): Classification {
  return { health: "revoked", cause, code, matchedBy };
}

const UNKNOWN: Classification = { health: "unknown", cause: "unrecognized", code: null, matchedBy: "none" };
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };

/** What the code, anchor or wording of a row should yield, given which of them survived. */
function expectedFor(row: StatusRow, code: number | null, codeIsKnown: boolean): Classification {
  if (code !== null && codeIsKnown) return revoked(row.cause, code, "code");
  if (row.cause === "unrecognized") return revoked("unrecognized", code, "none");
  return revoked(row.cause, code, row.anchor ? "anchor" : "wording");
}

interface StatusCase {
  name: string;
  input: string;
  expected: Classification;
}

/**
 * Each variant is one way the real value can drift; the comment says why that drift is plausible.
 * Every variant is generated for every row of the facts table.
 */
const VARIANTS: Array<{ variant: string; build: (row: StatusRow) => { input: string; expected: Classification } }> = [
  // The exact value the 2023-09-15 API returns: the baseline everything else is measured against.
  { variant: "full form", build: (row) => ({ input: fullStatus(row), expected: expectedFor(row, row.code, true) }) },
  // Newer APIs return a free string; casing is not part of the contract.
  { variant: "upper case", build: (row) => ({ input: fullStatus(row).toUpperCase(), expected: expectedFor(row, row.code, true) }) },
  // Same, the other way; also proves anchors are matched case-insensitively.
  { variant: "lower case", build: (row) => ({ input: fullStatus(row).toLowerCase(), expected: expectedFor(row, row.code, true) }) },
  // Portals, logs and JSON pretty-printers re-wrap long strings.
  {
    variant: "extra whitespace and newlines",
    build: (row) => ({
      input: `\n  ${fullStatus(row).replace(/ /g, "  \n\t ").replace(`(${row.code})`, `( ${row.code} )`)}  \n`,
      expected: expectedFor(row, row.code, true),
    }),
  },
  // A wording that drops the code must still be classified from the link.
  {
    variant: "missing code (anchor only)",
    build: (row) => ({ input: fullStatus(row, null), expected: expectedFor(row, null, false) }),
  },
  // A wording that drops the link and code must still be classified from the text.
  {
    variant: "missing link (wording only)",
    build: (row) => ({
      input: `${row.text}.`,
      expected: row.cause === "unrecognized" ? revoked("unrecognized", null, "none") : revoked(row.cause, null, "wording"),
    }),
  },
  // A code added after this table was written: revoked, code kept, and anchor/wording still explain it.
  { variant: "unknown code 4099", build: (row) => ({ input: fullStatus(row, 4099), expected: expectedFor(row, 4099, false) }) },
  // Quoted earlier errors put other codes first; the service's own code is the last one.
  {
    variant: "several codes (last wins)",
    build: (row) => ({
      input: `Previous status (4019) was superseded. ${fullStatus(row)}`,
      // The "none" row has no code of its own, so the quoted 4019 is the last one and wins.
      expected: row.code === null ? revoked("service-side-outage", 4019, "code") : expectedFor(row, row.code, true),
    }),
  },
  // "code 4002" instead of "(4002)", as some tools reformat it.
  {
    variant: "code written as 'code N'",
    build: (row) => ({
      input: row.code === null ? fullStatus(row) : `${fullStatus(row, null)} code ${row.code}`,
      expected: expectedFor(row, row.code, true),
    }),
  },
];

const STATUS_CASES: StatusCase[] = STATUS_ROWS.flatMap((row) =>
  VARIANTS.map(({ variant, build }) => ({ name: `${row.code ?? "none"} ${row.cause}: ${variant}`, ...build(row) })),
);

describe("classifyStatus: every status from the facts file, in every variant", () => {
  it.each(STATUS_CASES)("$name", ({ input, expected }) => {
    expectClassification(classifyStatus(input), expected);
  });

  // Guards the generator itself: 10 rows × 9 variants, so a refactor cannot silently drop cases.
  it("covers every row and variant", () => {
    expect(STATUS_CASES).toHaveLength(STATUS_ROWS.length * VARIANTS.length);
  });
});

function seededBytes(length: number, seed: number): string {
  // A fixed LCG keeps the "random" junk identical on every run, so a failure is reproducible.
  let state = seed;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    bytes[i] = state & 0xff;
  }
  return bytes.toString("latin1");
}

const MEGABYTE = 1024 * 1024;
const FULL_4002 = fullStatus(STATUS_ROWS[1]!);

describe("classifyStatus: edge cases", () => {
  it.each<{ name: string; input: string | null | undefined; expected: Classification }>([
    // ARM omits the property on older API versions: we cannot tell, so no alarm.
    { name: "undefined", input: undefined, expected: UNKNOWN },
    // JSON null from a REST response.
    { name: "null", input: null, expected: UNKNOWN },
    // An empty string is as uninformative as a missing one.
    { name: "empty", input: "", expected: UNKNOWN },
    // Whitespace-only must not be mistaken for a (blank) revoked status.
    { name: "whitespace", input: " \n\t  ", expected: UNKNOWN },
    // Punctuation-only carries no words either.
    { name: "punctuation only", input: "...;;--", expected: UNKNOWN },
    // The healthy value, verbatim.
    { name: "healthy, exact", input: HEALTHY_STATUS, expected: HEALTHY },
    // Casing drift must not turn a healthy account into "unknown".
    { name: "healthy, upper case", input: HEALTHY_STATUS.toUpperCase(), expected: HEALTHY },
    // Re-wrapped, no trailing full stop.
    { name: "healthy, spacing and no period", input: "  Access to the configured\n customer managed key   confirmed ", expected: HEALTHY },
    // Hyphenation drift ("customer-managed").
    { name: "healthy, hyphenated", input: "Access to the configured customer-managed key confirmed.", expected: HEALTHY },
    // A plausible new wording that still says "confirmed".
    { name: "healthy, new wording", input: "Access to the customer managed key has been confirmed.", expected: HEALTHY },
    // A negated "confirmed" is not a confirmation.
    { name: "not confirmed", input: "Access to the configured customer managed key could not be confirmed.", expected: UNKNOWN },
    // "Couldn't" splits into "couldn t": the apostrophe form of the same negation.
    { name: "couldn't be confirmed", input: "Access to the key couldn't be confirmed", expected: UNKNOWN },
    // "unconfirmed" is a different word from "confirmed".
    { name: "unconfirmed", input: "Key access unconfirmed", expected: UNKNOWN },
    // Revocation words beat "confirmed": a mixed message must not read as healthy.
    {
      name: "confirmed but revoked",
      input: "Access to the configured customer managed key confirmed earlier; access is now revoked.",
      expected: revoked("unrecognized", null, "none"),
    },
    // A transitional state from a future API: neither healthy nor revoked, so no alarm.
    { name: "unknown wording", input: "Customer managed key status is being evaluated.", expected: UNKNOWN },
    // Wording alone without any revocation signal is not enough for the ARM status (no false alarms).
    { name: "cause wording without revocation", input: "the key is not found", expected: UNKNOWN },
    // A bare code is still a revocation signal from the service.
    { name: "code only", input: "(4002)", expected: revoked("default-identity-unauthorized", 4002, "code") },
    // "(code 4003)" is a natural reformatting of the suffix.
    { name: "parenthesised 'code N'", input: "Access revoked (code 4003)", expected: revoked("key-not-found", 4003, "code") },
    // "ErrorCode: N" glues the label to another word; it is still the code.
    { name: "glued 'ErrorCode: N'", input: "Access revoked. ErrorCode: 4018", expected: revoked("key-disabled-or-expired", 4018, "code") },
    // A reworded DNS failure without the words "DNS name".
    {
      name: "DNS failure, new wording",
      input: "Access to your account is currently revoked because the Key Vault host name could not be resolved.",
      expected: revoked("key-vault-dns-unresolved", null, "wording"),
    },
    // Unknown code and nothing else: revoked, cause unknown, code kept for the email and support.
    { name: "unknown code only", input: "Access to your account is currently revoked (4099).", expected: revoked("unrecognized", 4099, "none") },
    // Codes outside the CMK block (an HTTP status, a year) are not CMK codes.
    {
      name: "non-CMK parenthesised number",
      input: "Access to your account is currently revoked (403) (2024).",
      expected: revoked("unrecognized", null, "none"),
    },
    // Two codes: the last parenthesised one wins (the service appends its code at the end).
    { name: "two codes, last wins", input: `${FULL_4002.slice(0, -1)} (4003).`, expected: revoked("key-not-found", 4003, "code") },
    // A known code beats a conflicting anchor: the code is the more precise signal.
    {
      name: "code beats anchor",
      input: `Access revoked; see ${GUIDE_URL}#customer-managed-key-does-not-exist (4016).`,
      expected: revoked("key-vault-network-blocked", 4016, "code"),
    },
    // A link to the guide's own heading (not the service's anchor) still identifies the cause.
    {
      name: "guide heading anchor only",
      input: `See ${GUIDE_URL}#customer-managed-key-does-not-exist`,
      expected: revoked("key-not-found", null, "anchor"),
    },
    // The page-title anchor says "revoked" without saying why.
    {
      name: "page title anchor",
      input: `${GUIDE_URL}#troubleshooting-revocation-scenarios-for-your-customer-managed-keys-configured-azure-cosmos-db-account`,
      expected: revoked("unrecognized", null, "none"),
    },
    // A gateway error page where a status was expected: no alarm.
    {
      name: "HTML error page",
      input: "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>",
      expected: UNKNOWN,
    },
    // A status wrapped in markup (an HTML email or portal scrape) is still classified.
    {
      name: "HTML-wrapped status",
      input: `<div class="status"><p>${FULL_4002.replace("'", "&#39;")}</p></div>`,
      expected: revoked("default-identity-unauthorized", 4002, "code"),
    },
    // Binary junk (seeded) must not throw and must not alarm.
    { name: "binary junk", input: seededBytes(4096, 42), expected: UNKNOWN },
    // NUL bytes and lone surrogates survive toLowerCase and the regexes.
    { name: "control characters", input: "\u0000\u0001\ud800\uffff\u0000", expected: UNKNOWN },
    // 1 MB of filler: bounded work, no alarm.
    { name: "1 MB of filler", input: "a".repeat(MEGABYTE), expected: UNKNOWN },
    // The status at the end of 1 MB (a log tail): the tail window sees the code.
    { name: "1 MB, status at the end", input: `${"x ".repeat(MEGABYTE / 2)}${FULL_4002}`, expected: revoked("default-identity-unauthorized", 4002, "code") },
    // The status at the start of 1 MB: the head window sees it.
    { name: "1 MB, status at the start", input: `${FULL_4002} ${"x ".repeat(MEGABYTE / 2)}`, expected: revoked("default-identity-unauthorized", 4002, "code") },
    // Documented limit: only the first and last SCAN_WINDOW_CHARS are read, so the middle is invisible.
    {
      name: "1 MB, status only in the middle",
      input: `${"x".repeat(MEGABYTE / 2)} ${FULL_4002} ${"x".repeat(MEGABYTE / 2)}`,
      expected: UNKNOWN,
    },
  ])("$name", ({ input, expected }) => {
    expectClassification(classifyStatus(input), expected);
  });

  // JavaScript callers (or a bad cast from ARM JSON) can hand us anything.
  it.each([[42], [{}], [[]], [Symbol("s")]])("never throws on non-string input %p", (input) => {
    expect(classifyStatus(input as unknown as string)).toEqual(UNKNOWN);
  });

  // Inputs shaped to make a backtracking regex explode; bounded scanning keeps them fast.
  it.each([
    ["open parenthesis and spaces", `(${" ".repeat(MEGABYTE)}`],
    ["repeated 'code'", "code ".repeat(MEGABYTE / 5)],
    ["repeated '(40'", "(40".repeat(MEGABYTE / 3)],
    ["repeated 'substatus'", "substatus ".repeat(MEGABYTE / 10)],
  ])("stays fast on %s", (_name, input) => {
    const started = Date.now();
    classifyStatus(input);
    classifyText(input);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  // The window constant is what the middle-of-1MB case relies on; keep the two in step.
  it("scans a window smaller than half the 1 MB cases", () => {
    expect(SCAN_WINDOW_CHARS * 2).toBeLessThan(MEGABYTE / 2);
  });
});

/** The mapping the brief fixes; written out here independently of the table under test. */
const EXPECTED_SUBSTATUS_CAUSES: Array<[code: number, name: string, cause: CauseId]> = [
  [4000, "AadClientCredentialsGrantFailure", "aad-token-acquisition"],
  [4001, "AadServiceUnavailable", "service-side-outage"],
  [4002, "KeyVaultAuthenticationFailure", "default-identity-unauthorized"],
  [4003, "KeyVaultKeyNotFound", "key-not-found"],
  [4004, "KeyVaultServiceUnavailable", "service-side-outage"],
  [4005, "KeyVaultWrapUnwrapFailure", "unwrap-failure"],
  [4006, "InvalidKeyVaultKeyURI", "invalid-key-vault-uri"],
  [4007, "InvalidInputBytes", "service-side-outage"],
  [4008, "KeyVaultInternalServerError", "service-side-outage"],
  [4009, "KeyVaultDNSNotResolved", "key-vault-dns-unresolved"],
  [4010, "InvalidKeyVaultCertURI", "invalid-key-vault-uri"],
  [4011, "InvalidKeyVaultKeyAndCertURI", "invalid-key-vault-uri"],
  [4012, "CustomerKeyRotated", "unwrap-failure"],
  [4013, "MissingRequestParameter", "service-side-outage"],
  [4014, "InvalidKeyVaultSecretURI", "invalid-key-vault-uri"],
  [4015, "UndefinedDefaultIdentity", "invalid-default-identity"],
  [4016, "NspOutboundDenied", "key-vault-network-blocked"],
  [4017, "KeyVaultNotFound", "key-not-found"],
  [4018, "KeyDisabledOrExpired", "key-disabled-or-expired"],
  [4019, "MasterServiceUnavailable", "service-side-outage"],
];

describe("classifySubstatus", () => {
  // Every code the SDKs can put in x-ms-substatus on a 403.
  it.each(EXPECTED_SUBSTATUS_CAUSES)("403/%i (%s) → %s", (code, _name, cause) => {
    expectClassification(classifySubstatus(403, code), revoked(cause, code, "substatus"));
  });

  it.each<[string, number, number, Classification]>([
    // A CMK code the table does not know yet: still a revocation, cause unknown.
    ["unknown CMK code", 403, 4099, revoked("unrecognized", 4099, "none")],
    // 403/5301 is missing data-plane RBAC for the caller, not the key: no alarm.
    ["non-CMK 403 sub-status", 403, 5301, UNKNOWN],
    // A plain 403 without sub-status says nothing about the key.
    ["403 without sub-status", 403, 0, UNKNOWN],
    // Only 403 carries CMK sub-statuses.
    ["404 with a CMK code", 404, 4003, UNKNOWN],
    // A server error is transient, not a revocation.
    ["503 with a CMK code", 503, 4004, UNKNOWN],
    // Garbage numbers from a malformed header.
    ["NaN sub-status", 403, Number.NaN, UNKNOWN],
    ["fractional sub-status", 403, 4002.5, UNKNOWN],
  ])("%s (%i/%d)", (_name, httpStatus, substatus, expected) => {
    expectClassification(classifySubstatus(httpStatus, substatus), expected);
  });
});

describe("classifyText: every sub-status code in every way users write it", () => {
  const FORMATS: Array<[format: string, render: (code: number, name: string) => string, matchedBy: MatchedBy]> = [
    // How people describe a data-plane failure in chat.
    ["403 substatus N", (code) => `403 substatus ${code}`, "substatus"],
    // Copied from a raw HTTP response.
    ["x-ms-substatus header", (code) => `x-ms-substatus: ${code}`, "substatus"],
    // The .NET SDK's diagnostics string.
    ["StatusCode/SubStatusCode", (code) => `StatusCode: Forbidden (403); SubStatusCode: ${code}`, "substatus"],
    // JSON from a log line.
    ["JSON substatus", (code) => `{"statusCode":403,"substatus":${code}}`, "substatus"],
    // The suffix of an ARM status.
    ["(N)", (code) => `revoked (${code})`, "code"],
    // Just the number, e.g. `cmk-monitor explain 4002`.
    ["bare N", (code) => `${code}`, "code"],
    // The SDK enum name from a stack trace.
    ["name", (_code, name) => `Error: ${name}`, "substatus"],
    // Names in whatever case the logger used.
    ["lower-case name", (_code, name) => name.toLowerCase(), "substatus"],
  ];
  const cases = EXPECTED_SUBSTATUS_CAUSES.flatMap(([code, name, cause]) =>
    FORMATS.map(([format, render, matchedBy]) => ({ code, format, input: render(code, name), expected: revoked(cause, code, matchedBy) })),
  );

  it.each(cases)("$code as $format", ({ input, expected }) => {
    expectClassification(classifyText(input), expected);
  });

  // 20 codes × 8 formats; guards the generator.
  it("covers every code in every format", () => {
    expect(cases).toHaveLength(20 * FORMATS.length);
  });
});

describe("classifyText: other input", () => {
  it.each<{ name: string; input: string; expected: Classification }>([
    // Users paste the ARM status too; it must agree with classifyStatus.
    { name: "full ARM status", input: FULL_4002, expected: revoked("default-identity-unauthorized", 4002, "code") },
    // The healthy value pasted to check it.
    { name: "healthy text", input: HEALTHY_STATUS, expected: HEALTHY },
    // Lower case healthy text.
    { name: "healthy text, lower case", input: HEALTHY_STATUS.toLowerCase(), expected: HEALTHY },
    // Nothing to go on.
    { name: "empty", input: "", expected: UNKNOWN },
    // Nothing to go on, visually blank.
    { name: "whitespace", input: "  \n ", expected: UNKNOWN },
    // An unrelated message must not be forced into a cause.
    { name: "unrelated text", input: "hello world", expected: UNKNOWN },
    // A bare 403 is any authorisation failure, not necessarily CMK.
    { name: "bare 403", input: "403 Forbidden", expected: UNKNOWN },
    // A non-CMK sub-status is labelled but is not about the key.
    { name: "non-CMK sub-status", input: "403 substatus 5301", expected: UNKNOWN },
    // A GUID group that looks like a code must not be read as one.
    { name: "GUID containing -4002-", input: "ActivityId: 0f8fad5b-d9cb-4002-a165-70867728950e", expected: UNKNOWN },
    // A bare code followed by a full stop ends a sentence; it is still a code.
    { name: "bare code ending a sentence", input: "The sub-status is 4018.", expected: revoked("key-disabled-or-expired", 4018, "code") },
    // A labelled substatus beats a parenthesised code elsewhere in the paste.
    {
      name: "substatus label beats (N)",
      input: "earlier (4003); now 403 substatus 4002",
      expected: revoked("default-identity-unauthorized", 4002, "substatus"),
    },
    // A name beats an unknown number: the name is specific, the number is not.
    { name: "name beats unknown code", input: "KeyVaultKeyNotFound (4099)", expected: revoked("key-not-found", 4003, "substatus") },
    // An unknown code on its own: revoked, cause unknown, code kept.
    { name: "unknown substatus", input: "403 substatus 4099", expected: revoked("unrecognized", 4099, "none") },
    // Wording alone is enough for pasted text (the user is asking about an error).
    { name: "wording only", input: "the key vault was not found", expected: revoked("key-not-found", null, "wording") },
    // A guide heading copied from the page.
    { name: "guide heading", input: "Unable to Resolve the Key Vault's DNS", expected: revoked("key-vault-dns-unresolved", null, "wording") },
    // Another heading, with the token-acquisition wording.
    { name: "AAD heading", input: "Azure Active Directory Token Acquisition error", expected: revoked("aad-token-acquisition", null, "wording") },
    // A bare guide anchor copied from the address bar.
    { name: "anchor only", input: "#internal-unwrapping-procedure-error", expected: revoked("unwrap-failure", null, "anchor") },
    // Key disabled has no service status text of its own; wording must still find it.
    { name: "key disabled wording", input: "Operation failed: the key is disabled", expected: revoked("key-disabled-or-expired", null, "wording") },
    // Outage wording, the vaguest rule, still lands somewhere useful.
    { name: "service unavailable wording", input: "Key Vault service unavailable", expected: revoked("service-side-outage", null, "wording") },
    // 1 MB of HTML with the error at the end: bounded and still found.
    {
      name: "1 MB HTML with error at the end",
      input: `<html>${"<p>x</p>".repeat(MEGABYTE / 8)}x-ms-substatus: 4016</html>`,
      expected: revoked("key-vault-network-blocked", 4016, "substatus"),
    },
    // Binary junk (seeded).
    { name: "binary junk", input: seededBytes(MEGABYTE, 7), expected: UNKNOWN },
  ])("$name", ({ input, expected }) => {
    expectClassification(classifyText(input), expected);
  });

  // Same contract as classifyStatus for JavaScript callers.
  it("never throws on non-string input", () => {
    expect(classifyText(undefined as unknown as string)).toEqual(UNKNOWN);
    expect(classifyText(12 as unknown as string)).toEqual(UNKNOWN);
  });
});

describe("classifier: long whitespace runs stay linear", () => {
  const run = (ws: string) => ws.repeat(SCAN_WINDOW_CHARS * 2 - 20);
  it.each<[string, string]>([
    // "code" then a window of spaces and no number: the old `\s*[:=#]?\s*` tried every split of the run.
    ["code + spaces", `code${run(" ")}x`],
    ["(code + spaces", `(code${run(" ")}x`],
    ["(code + tabs and newlines", `(code${run("\t\n")}x`],
    // Several such runs in the scanned window.
    ["many labels", `${"code      ".repeat(3000)}(code${run(" ").slice(0, 8000)}`],
  ])("%s: still classified (the patterns have no adjacent optional runs to backtrack over)", (_name, status) => {
    // Speed itself is not asserted here (benchmarks measure speed); the quadratic version made this suite take seconds per case.
    expect(classifyStatus(status).health).toBe("unknown");
    expect(classifyText(status).health).toBe("unknown");
  });

  it.each<[string, number]>([
    // The separators still work with spaces on either side.
    ["(code: 4002)", 4002],
    ["Error code = 4003 returned", 4003],
    ["( 4009 )", 4009],
    ["ErrorCode:4015", 4015],
  ])("%s still reads its code", (status, code) => {
    expect(classifyText(status).code).toBe(code);
  });
});

describe("classifyStatus: which evidence counts, and where", () => {
  it.each<{ name: string; input: string; expected: Classification }>([
    // Each parenthesised spelling is the service's own suffix: it beats a "code N" quoted later in the text.
    {
      name: "(code:N) before a later 'code N'",
      input: "Access revoked (code:4003); log says error code 4002",
      expected: revoked("key-not-found", 4003, "code"),
    },
    { name: "(code : N)", input: "Access revoked (code : 4003); log says error code 4002", expected: revoked("key-not-found", 4003, "code") },
    { name: "(code N)", input: "Access revoked (code 4003); log says error code 4002", expected: revoked("key-not-found", 4003, "code") },
    { name: "(code: N)", input: "Access revoked (code: 4003); log says error code 4002", expected: revoked("key-not-found", 4003, "code") },
    // "code N" spellings without parentheses, spaced or glued.
    { name: "'code : N'", input: "Access revoked. ErrorCode : 4018", expected: revoked("key-disabled-or-expired", 4018, "code") },
    { name: "'code=N'", input: "Access revoked. errorcode=4018", expected: revoked("key-disabled-or-expired", 4018, "code") },
    // The last link names the cause: a later guide anchor beats an earlier one, in either order.
    {
      name: "two anchors, DNS last",
      input: `Access revoked. Was ${GUIDE_URL}#customer-managed-key-does-not-exist, now ${GUIDE_URL}#unable-to-resolve-the-key-vaults-dns`,
      expected: revoked("key-vault-dns-unresolved", null, "anchor"),
    },
    {
      name: "two anchors, key not found last",
      input: `Access revoked. Was ${GUIDE_URL}#unable-to-resolve-the-key-vaults-dns, now ${GUIDE_URL}#customer-managed-key-does-not-exist`,
      expected: revoked("key-not-found", null, "anchor"),
    },
    // The page's title anchor last: the link names no cause, so the wording decides.
    {
      name: "cause anchor, then the page anchor",
      input: `Access revoked: token acquisition failed. ${GUIDE_URL}#customer-managed-key-does-not-exist then ${GUIDE_URL}#troubleshooting-revocation-scenarios-for-your-customer-managed-keys-configured-azure-cosmos-db-account`,
      expected: revoked("aad-token-acquisition", null, "wording"),
    },
  ])("$name", ({ input, expected }) => {
    expectClassification(classifyStatus(input), expected);
  });

  it("a status exactly twice the scan window is read whole, even a code at its middle", () => {
    // Head and tail are joined with a line break only when there is something between them to skip.
    const half = SCAN_WINDOW_CHARS;
    const input = `${"x".repeat(half - 3)}(4002)${"y".repeat(half - 3)}`;
    expect(input).toHaveLength(2 * SCAN_WINDOW_CHARS);
    expectClassification(classifyStatus(input), revoked("default-identity-unauthorized", 4002, "code"));
  });

  it.each<[string, string, Classification]>([
    // Every negation word within three words before "confirmed" makes it unconfirmed.
    ["no", "No key access confirmed", UNKNOWN],
    ["never", "Key access never confirmed", UNKNOWN],
    ["cannot", "Key access cannot be confirmed", UNKNOWN],
    ["unable", "Access unable to be confirmed", UNKNOWN],
    ["failed", "Key access failed to be confirmed", UNKNOWN],
    ["fails", "Key access fails to be confirmed", UNKNOWN],
    // "isn't" splits into "isn t".
    ["n't", "Key access isn't confirmed", UNKNOWN],
    // An apostrophe lost in a copy: "could nt".
    ["nt", "Key access could nt be confirmed", UNKNOWN],
    ["without", "Key access is without being confirmed", UNKNOWN],
    // A negation further back, or after "confirmed", is about something else.
    ["negation four words back", "Not applicable: access to the configured customer managed key confirmed.", HEALTHY],
    ["negation after", "Access to the configured customer managed key confirmed; no action needed.", HEALTHY],
  ])("healthy text and the negation %s", (_name, input, expected) => {
    expectClassification(classifyStatus(input), expected);
  });
});

describe("classifyText: spellings and precedence", () => {
  it.each<{ name: string; input: string; expected: Classification }>([
    // Sub-status labels as loggers spell them: with a hyphen, a space, an underscore, a "code" suffix.
    { name: "sub-status: N", input: "403 sub-status: 4003", expected: revoked("key-not-found", 4003, "substatus") },
    { name: "sub status N", input: "403 sub status 4003", expected: revoked("key-not-found", 4003, "substatus") },
    { name: "sub_status=N", input: "sub_status=4003", expected: revoked("key-not-found", 4003, "substatus") },
    { name: "substatus-code: N", input: "substatus-code: 4003", expected: revoked("key-not-found", 4003, "substatus") },
    { name: "SubStatus Code N", input: "SubStatus Code 4003", expected: revoked("key-not-found", 4003, "substatus") },
    // A number the table knows beats a name elsewhere in the paste.
    {
      name: "known number beats a name",
      input: "KeyVaultKeyNotFound earlier; now 403 substatus 4002",
      expected: revoked("default-identity-unauthorized", 4002, "substatus"),
    },
    // A bare code followed by a fraction is a version, not a code.
    { name: "4002.5 is a number, not a code", input: "client version 4002.5", expected: UNKNOWN },
    // A bare code ending a sentence in the middle of the paste.
    { name: "bare code ending a sentence mid-text", input: "The sub-status is 4018. Retry later", expected: revoked("key-disabled-or-expired", 4018, "code") },
    // Re-wrapped wording (several spaces, a line break) still matches the phrase.
    { name: "wording re-wrapped", input: "the key vault   was not\n  found", expected: revoked("key-not-found", null, "wording") },
    // A guide anchor pasted without its "#", at the very start of the text.
    { name: "anchor at the start", input: "azure-key-vault-resource-not-found", expected: revoked("key-not-found", null, "anchor") },
    // A bare anchor is enough to call pasted text revoked, even when its words name no cause.
    {
      name: "anchor whose words are no wording",
      input: "#unable-to-resolve-the-key-vaults-dns",
      expected: revoked("key-vault-dns-unresolved", null, "anchor"),
    },
  ])("$name", ({ input, expected }) => {
    expectClassification(classifyText(input), expected);
  });
});
