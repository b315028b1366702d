/**
 * Arbitraries for the hostile-input suite: text an attacker who can write tags (or a changed
 * Azure API) could put in front of the monitor. Shared by the property tests in this folder.
 */
import fc from "fast-check";

/**
 * Fixed seeds make a failure reproducible from the log alone; fast-check prints the seed and
 * the shrunk counterexample when a property fails. Runs are sized to keep the suite fast; for a
 * deeper local search set CMK_PROPERTY_SEED (another seed) and CMK_PROPERTY_RUNS_FACTOR (e.g. 20).
 */
export const PROPERTY_SEED = Number(process.env.CMK_PROPERTY_SEED) || 20261129;
const RUNS_FACTOR = Number(process.env.CMK_PROPERTY_RUNS_FACTOR) || 1;

export function propertyParameters(numRuns: number): fc.Parameters<unknown> {
  return { seed: PROPERTY_SEED, numRuns: Math.ceil(numRuns * RUNS_FACTOR), verbose: 1 };
}

/** Pieces that have broken real parsers, templates, headers and shells. */
export function attackFragments(canary = "/tmp/cmk-monitor-canary"): string[] {
  return [
    // Markup and attribute break-outs.
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</pre><h1>phish</h1>",
    "<!--",
    "]]>",
    "&lt;already-escaped&gt;",
    "&#60;x&#62;",
    "javascript:alert(1)",
    // Header injection and other line breaks.
    "\r\n",
    "\r\nBcc: mallory@evil.example\r\n",
    "\n",
    "\r",
    "\u0085",
    "\u2028",
    "\u2029",
    "%0d%0aBcc:x@evil.example",
    // Terminal and bidi tricks.
    "\u001b[31m",
    "\u001b]0;title\u0007",
    "\u202e",
    "\u200f",
    "\u2066",
    "\u0000",
    "\u007f",
    // Shell: substitution, quoting break-outs, operators, expansions, options.
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `'; touch ${canary}; echo '`,
    `"; touch ${canary}; echo "`,
    `\ntouch ${canary}\n`,
    `| touch ${canary}`,
    `&& touch ${canary}`,
    `> ${canary}`,
    "'\\''",
    "\\",
    "${HOME}",
    "$PATH",
    "*",
    "~",
    "!!",
    "=ls",
    "-",
    "--debug",
    "<principal-id>",
    // Classifier bait: codes, anchors and words in odd places.
    "(4002)",
    "(4099)",
    "(code 4003)",
    "substatus: 4017",
    "revoked",
    "confirmed",
    "#azure-key-vault-resource-not-found",
    // Email and URI bait.
    "@",
    "evil.example",
    "contoso.com",
    "UserAssignedIdentity=",
    "&FederatedClientId=",
    "%",
    "%2F",
    "%00",
    "/keys/",
    "https://",
    // Unicode look-alikes and wide characters.
    "\u0430",
    "\uff20",
    "名前",
    "🚀",
  ];
}

/** A lone UTF-16 surrogate: not valid Unicode, but a JavaScript string can hold it. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

/** Any text: attack fragments mixed with random printable, binary and control characters. */
export function hostileText(options: { canary?: string; maxParts?: number } = {}): fc.Arbitrary<string> {
  const part = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...attackFragments(options.canary)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 8 }) },
    { weight: 1, arbitrary: loneSurrogate },
  );
  return fc.array(part, { maxLength: options.maxParts ?? 10 }).map((parts) => parts.join(""));
}

/** Hostile text that always carries `marker` somewhere, so a test can look for it raw. */
export function markedHostileText(marker: string, options: { canary?: string } = {}): fc.Arbitrary<string> {
  return fc.tuple(hostileText(options), hostileText(options)).map(([before, after]) => `${before}${marker}${after}`);
}

/** Bytes from anywhere, read the way a careless decoder would. */
export const binaryJunk: fc.Arbitrary<string> = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("latin1"));

/** Every C0/C1 control, DEL, line/paragraph separator and bidi control: none may reach a header. */
export const HEADER_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
