/**
 * `keyVaultKeyUri` is written by whoever configures the account and is exactly what is wrong
 * for code 4006, so the parser meets every malformed shape. It must never throw, must name the
 * vault and key when it can, and the commands built from what it returns must stay safe.
 */
import fc from "fast-check";
import { CAUSE_IDS } from "../../src/domain/causes";
import { formatKeyVaultKeyUri, parseKeyVaultKeyUri, type KeyVaultKeyReference } from "../../src/domain/keyVaultUri";
import { remediationSteps } from "../../src/domain/remediation";
import { makeAccount } from "../fixtures/incidents";
import { asShellSees, commandIntegrityProblems } from "./hostileAccounts";
import { binaryJunk, hostileText, propertyParameters } from "./hostileText";
import { createPasteSandbox, pasteIntoShell } from "./pasteIntoShell";

const paste = createPasteSandbox();
afterAll(() => paste.dispose());

const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f-\u009f]/;

/** What any successful parse must look like, whatever the input. */
function expectWellFormed(reference: KeyVaultKeyReference): void {
  expect(reference.vaultName.length).toBeGreaterThan(0);
  expect(reference.vaultHost.split(".")[0]).toBe(reference.vaultName);
  expect(reference.vaultHost).toBe(reference.vaultHost.toLowerCase());
  // A host comes out of the URL parser: no spaces or controls can survive in it.
  expect(reference.vaultHost).not.toMatch(CONTROL_OR_SPACE);
  expect(reference.keyName.length).toBeGreaterThan(0);
  if (reference.keyVersion !== undefined) expect(reference.keyVersion.length).toBeGreaterThan(0);
}

const vaultName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/);
const keyName = fc.stringMatching(/^[a-zA-Z0-9-]{1,127}$/);
const cloud = fc.constantFrom("vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net", "vault.microsoftazure.de");

describe("parseKeyVaultKeyUri on any text", () => {
  it("never throws, and whatever it returns is well formed", () => {
    // It runs inside every email render; a throw would lose the email.
    fc.assert(
      fc.property(fc.oneof(hostileText(), binaryJunk, fc.webUrl(), fc.string({ unit: "binary" })), (text) => {
        const reference = parseKeyVaultKeyUri(text);
        if (reference) expectWellFormed(reference);
      }),
      propertyParameters(500),
    );
  });

  it("finds the vault and key in hostile text after a real vault's /keys/ path", () => {
    // The key name is what an attacker controls most easily; it must come back intact.
    fc.assert(
      fc.property(hostileText(), (text) => {
        const key = asShellSees(text);
        fc.pre(key.trim() !== "" && key !== "." && key !== "..");
        const reference = parseKeyVaultKeyUri(`https://kv-orders.vault.azure.net/keys/${encodeURIComponent(key)}`);
        expect(reference).toBeDefined();
        expectWellFormed(reference!);
        expect(reference!.vaultName).toBe("kv-orders");
        expect(reference!.keyName).toBe(key);
      }),
      propertyParameters(300),
    );
  });
});

describe("parseKeyVaultKeyUri on the shapes people actually write", () => {
  it("reads vault and key from valid URIs with the usual variations, and formats them back", () => {
    // Case, a version, a trailing slash, :443, a missing scheme or stray spaces must not hide the names.
    fc.assert(
      fc.property(
        vaultName,
        keyName,
        cloud,
        fc.record({
          scheme: fc.constantFrom("https://", "HTTPS://", ""),
          version: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
          port: fc.boolean(),
          trailingSlash: fc.boolean(),
          space: fc.constantFrom("", " ", "\t", "\n"),
          upperHost: fc.boolean(),
        }),
        (vault, key, suffix, v) => {
          const host = `${vault}.${suffix}`;
          const uri = `${v.space}${v.scheme}${v.upperHost ? host.toUpperCase() : host}${v.port ? ":443" : ""}/keys/${key}${v.version ? `/${v.version}` : ""}${v.trailingSlash ? "/" : ""}${v.space}`;
          const reference = parseKeyVaultKeyUri(uri);
          expect(reference).toEqual({
            vaultName: vault.toLowerCase(),
            vaultHost: host.toLowerCase(),
            keyName: key,
            ...(v.version ? { keyVersion: v.version } : {}),
          });
          // The corrected URI is versionless and parses back to the same names.
          const corrected = formatKeyVaultKeyUri(reference!);
          expect(corrected).toBe(`https://${host.toLowerCase()}/keys/${key}`);
          expect(parseKeyVaultKeyUri(corrected)).toEqual({ vaultName: vault.toLowerCase(), vaultHost: host.toLowerCase(), keyName: key });
        },
      ),
      propertyParameters(300),
    );
  });
});

/** Every malformed shape we could think of, with what the parser should make of it. */
const MALFORMED: Array<[why: string, uri: string, expected: Partial<KeyVaultKeyReference> | undefined]> = [
  // Nothing, or only blanks.
  ["empty", "", undefined],
  ["blanks", " \t\r\n ", undefined],
  // A scheme and nothing else.
  ["scheme only", "https://", undefined],
  // No host.
  ["no host", "https:///keys/k", undefined],
  ["host is only dots", "https://./keys/k", undefined],
  // A vault and no key.
  ["vault only", "https://kv.vault.azure.net", undefined],
  ["keys without a name", "https://kv.vault.azure.net/keys/", undefined],
  // A secret or certificate where a key belongs (codes 4010, 4014).
  ["secret URI", "https://kv.vault.azure.net/secrets/k", undefined],
  ["certificate URI", "https://kv.vault.azure.net/certificates/k", undefined],
  // Not a URL at all, or a scheme that is not a web address.
  ["words", "the key is in the vault", undefined],
  ["javascript scheme", "javascript:alert(1)", undefined],
  ["data scheme", "data:text/html,<script>alert(1)</script>", undefined],
  ["file scheme", "file:///etc/passwd", undefined],
  // A port out of range makes it unparseable.
  ["bad port", "https://kv.vault.azure.net:99999/keys/k", undefined],
  // A dot-segment key is resolved away by the URL parser: nothing left to name.
  ["dot segments", "https://kv.vault.azure.net/keys/%2e%2e", undefined],
  // Extra path segments after the version are ignored, the names still found (4006 advice).
  ["extra segments", "https://kv.vault.azure.net/keys/k/v1/extra", { vaultName: "kv", keyName: "k", keyVersion: "v1" }],
  // Query strings and fragments are not part of the key.
  ["query string", "https://kv.vault.azure.net/keys/k?api-version=7.4", { vaultName: "kv", keyName: "k" }],
  ["fragment", "https://kv.vault.azure.net/keys/k#x", { vaultName: "kv", keyName: "k" }],
  // Credentials in the URI are dropped from what we use.
  ["credentials", "https://user:secret@kv.vault.azure.net/keys/k", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "k" }],
  // Plain http, backslashes and protocol-relative forms are read leniently.
  ["http", "http://kv.vault.azure.net/keys/k", { vaultName: "kv", keyName: "k" }],
  ["backslashes", "https://kv.vault.azure.net\\keys\\k", { vaultName: "kv", keyName: "k" }],
  ["protocol-relative", "//kv.vault.azure.net/keys/k", { vaultName: "kv", keyName: "k" }],
  // Odd hosts still give a first label.
  ["IPv6 host", "https://[::1]/keys/k", { vaultName: "[::1]", keyName: "k" }],
  ["IP host", "https://10.0.0.1/keys/k", { vaultName: "10", keyName: "k" }],
  ["empty label", "https://kv..vault.azure.net/keys/k", { vaultName: "kv", keyName: "k" }],
  ["unicode host", "https://kü.vault.azure.net/keys/k", { vaultName: "xn--k-eha", keyName: "k" }],
  // A host or key that starts with "-" would be an option to az and nslookup.
  ["dash host", "https://-kv.vault.azure.net/keys/k", { vaultName: "-kv", keyName: "k" }],
  ["dash key", "https://kv.vault.azure.net/keys/--debug", { vaultName: "kv", keyName: "--debug" }],
  ["NUL then dash key", "https://kv.vault.azure.net/keys/%00--debug", { vaultName: "kv", keyName: "\u0000--debug" }],
  // Encoded path tricks decode into the key name, never into the path we build.
  ["encoded traversal", "https://kv.vault.azure.net/keys/%2E%2E%2F%2E%2E%2F%2E%2E", { vaultName: "kv", keyName: "../../.." }],
  ["encoded slash", "https://kv.vault.azure.net/keys/a%2Fb", { vaultName: "kv", keyName: "a/b" }],
  // Broken percent-encoding is kept as written rather than throwing.
  ["lone percent", "https://kv.vault.azure.net/keys/%", { vaultName: "kv", keyName: "%" }],
  ["truncated escape", "https://kv.vault.azure.net/keys/%E0%A4%A", { vaultName: "kv", keyName: "%E0%A4%A" }],
  // Shell and markup payloads in the key name.
  ["command substitution", "https://kv.vault.azure.net/keys/$(touch%20x)", { vaultName: "kv", keyName: "$(touch x)" }],
  ["quote break-out", "https://kv.vault.azure.net/keys/'%3B%20touch%20x%3B'", { vaultName: "kv", keyName: "'; touch x;'" }],
  ["encoded newline", "https://kv.vault.azure.net/keys/k%0Atouch%20x", { vaultName: "kv", keyName: "k\ntouch x" }],
  // Markup: the "/" of the closing tag is a path separator, so part of it reads as a version.
  ["markup", "https://kv.vault.azure.net/keys/<script>alert(1)</script>", { vaultName: "kv", keyName: "<script>alert(1)<", keyVersion: "script>" }],
  // A megabyte of key name: slow or crashing parsers fail here.
  ["huge", `https://kv.vault.azure.net/keys/${"k".repeat(1_000_000)}`, { vaultName: "kv" }],
];

describe("parseKeyVaultKeyUri on every malformed shape", () => {
  it.each(MALFORMED)("%s", (_why, uri, expected) => {
    const reference = parseKeyVaultKeyUri(uri);
    if (expected === undefined) {
      expect(reference).toBeUndefined();
    } else {
      expect(reference).toMatchObject(expected);
      expectWellFormed(reference!);
    }
  });

  it.each(MALFORMED.filter(([why]) => why !== "huge"))("%s: every command rendered for it runs only az, with intact arguments", (_why, uri) => {
    // Whatever the parser made of the URI, a pasted command must not run anything else.
    const account = makeAccount({ keyVaultKeyUri: uri });
    const commands = CAUSE_IDS.flatMap((cause) => remediationSteps(cause, account).flatMap((step) => step.commands.map((c) => c.command)));
    const result = pasteIntoShell("bash", commands, paste.dir, paste.canary);
    expect(result.canaryTouched).toBe(false);
    expect(result.stderr).toBe("");
    expect(commandIntegrityProblems(account, account.id, result.calls)).toEqual([]);
  });

  it("formats a reference from any parse without throwing", () => {
    // The 4006 email proposes formatKeyVaultKeyUri(parse(current)); it must exist for every parse.
    for (const [, uri] of MALFORMED) {
      const reference = parseKeyVaultKeyUri(uri);
      if (reference) expect(formatKeyVaultKeyUri(reference)).toMatch(/^https:\/\/[^/]+\/keys\/[^/]+$/);
    }
  });
});
