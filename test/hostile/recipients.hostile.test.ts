/**
 * Owner tags are writable by anyone who can edit the account. Whatever they hold, only valid
 * addresses in the allowed domains are emailed, no more than the cap, and everything dropped is
 * reported in a form that is safe to log and show.
 */
import fc from "fast-check";
import { isAllowedDomain } from "../../src/config";
import { isValidEmailAddress, MAX_RECIPIENTS, resolveOwnerRecipients, sanitizeHeaderText } from "../../src/domain/recipients";
import { HEADER_UNSAFE, hostileText, propertyParameters } from "./hostileText";

const ALLOWED = ["contoso.com", "*.fabrikam.com"];
const OPTIONS = { ownerTag: "cmk-owner", defaultRecipients: ["ops@contoso.com"], allowedRecipientDomains: ALLOWED };

/** Tokens that look like addresses: real ones, look-alikes and broken ones. */
const addressLike = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((address) => address.replace(/@.*/, "@contoso.com")),
  fc.emailAddress().map((address) => address.replace(/@.*/, "@eu.fabrikam.com")),
  fc.constantFrom(
    "alice@contoso.com.evil.example",
    "alice@evilcontoso.com",
    "alice@c\u043entoso.com",
    "alice@contoso.com@evil.example",
    "alice@evil.example#@contoso.com",
    "@contoso.com:alice@evil.example",
    "alice%contoso.com@evil.example",
    "alice@contoso.com\u200b",
    "alice@fabrikam.com",
    "<alice@contoso.com>",
  ),
  hostileText(),
);

/** A tag value: address-like tokens joined by the separators people use, plus junk. */
const ownerTagValue = fc
  .array(fc.tuple(addressLike, fc.constantFrom(",", ";", " ", "\r\n", "\t", ", ")), { maxLength: 20 })
  .map((parts) => parts.map(([token, separator]) => `${token}${separator}`).join(""));

const tags = fc.dictionary(fc.oneof(fc.constantFrom("cmk-owner", "CMK-OWNER", " cmk-owner ", "cmk-owners"), hostileText()), ownerTagValue, {
  maxKeys: 4,
});

describe("resolveOwnerRecipients on any tags", () => {
  it("emails only valid, allowed, unique addresses, at most the cap, defaults always included", () => {
    // These addresses become email headers and decide who learns about the account.
    fc.assert(
      fc.property(tags, (accountTags) => {
        const { recipients } = resolveOwnerRecipients(accountTags, OPTIONS);
        expect(recipients.length).toBeLessThanOrEqual(MAX_RECIPIENTS);
        expect(recipients).toContain("ops@contoso.com");
        expect(new Set(recipients.map((r) => r.toLowerCase())).size).toBe(recipients.length);
        for (const address of recipients) {
          expect(isValidEmailAddress(address)).toBe(true);
          expect(isAllowedDomain(address, ALLOWED)).toBe(true);
          expect(address).not.toMatch(HEADER_UNSAFE);
          expect(address).not.toMatch(/[\s<>"(),;:\\[\]]/);
        }
      }),
      propertyParameters(400),
    );
  });

  it("reports every dropped token, display-safe and bounded, with a reason", () => {
    // Dropped recipients go on the incident timeline, which reaches emails and logs.
    fc.assert(
      fc.property(tags, (accountTags) => {
        const { rejected } = resolveOwnerRecipients(accountTags, OPTIONS);
        for (const entry of rejected) {
          expect(["invalid", "domain-not-allowed", "too-many"]).toContain(entry.reason);
          expect(entry.address).not.toMatch(HEADER_UNSAFE);
          expect(Array.from(entry.address).length).toBeLessThanOrEqual(254);
        }
      }),
      propertyParameters(400),
    );
  });

  it("accounts for every owner token: emailed, a duplicate of one emailed, or reported", () => {
    // Nothing may vanish silently: an owner who is not emailed must show up on the timeline.
    fc.assert(
      fc.property(ownerTagValue, (value) => {
        const { recipients, rejected } = resolveOwnerRecipients({ "cmk-owner": value }, { ...OPTIONS, defaultRecipients: [] });
        const emailed = new Set(recipients.map((r) => r.toLowerCase()));
        const reported = new Set(rejected.map((r) => r.address));
        for (const token of value.split(/[,;\s]+/).filter(Boolean)) {
          // Invalid tokens are reported in their display-safe form.
          const accounted = emailed.has(token.toLowerCase()) || reported.has(token) || reported.has(sanitizeHeaderText(token, 254));
          expect(accounted).toBe(true);
        }
      }),
      propertyParameters(300),
    );
  });

  it("500 owners: the cap holds, the defaults stay, and the rest are reported as too many", () => {
    // A huge tag must neither flood the email service nor crowd out the operations team.
    fc.assert(
      fc.property(
        fc.shuffledSubarray(
          Array.from({ length: 500 }, (_, i) => `owner${i}@contoso.com`),
          { minLength: 500 },
        ),
        (owners) => {
          const { recipients, rejected } = resolveOwnerRecipients({ "cmk-owner": owners.join(";") }, OPTIONS);
          expect(recipients).toHaveLength(MAX_RECIPIENTS);
          expect(recipients).toContain("ops@contoso.com");
          expect(rejected).toHaveLength(500 - (MAX_RECIPIENTS - 1));
          expect(rejected.every((r) => r.reason === "too-many")).toBe(true);
        },
      ),
      propertyParameters(10),
    );
  });
});

describe("resolveOwnerRecipients: header injection and look-alikes", () => {
  it.each<[string, string, string[]]>([
    // CRLF followed by a header: the header name is not an address, the injected one is off-domain.
    ["CRLF Bcc", "alice@contoso.com\r\nBcc: mallory@evil.example", ["alice@contoso.com"]],
    // A bare LF or CR does the same in lenient mail software.
    ["LF To", "alice@contoso.com\nTo: mallory@evil.example", ["alice@contoso.com"]],
    ["CR Cc", "alice@contoso.com\rCc: mallory@evil.example", ["alice@contoso.com"]],
    // Encoded CRLF is never decoded.
    ["encoded CRLF", "alice@contoso.com%0d%0abcc:mallory@evil.example", []],
    // Unicode line separators split like any whitespace; the second address is off-domain.
    ["Unicode line separator", "alice@contoso.com\u2028mallory@evil.example", ["alice@contoso.com"]],
    // Two at signs: which domain would a mail server use? Neither; it is invalid.
    ["two at signs", "alice@contoso.com@evil.example", []],
    // Fragment and query tricks make the real domain evil.example.
    ["fragment trick", "alice@evil.example#@contoso.com", []],
    // Source routes are obsolete syntax that some servers still honour.
    ["source route", "@contoso.com:alice@evil.example", []],
    // The percent hack relays through the domain after the last @.
    ["percent hack", "alice%contoso.com@evil.example", []],
    // A zero-width space hides in an otherwise allowed address.
    ["zero-width space", "alice@contoso.com\u200b", []],
    // Cyrillic "о" in the domain.
    ["homoglyph domain", "alice@c\u043entoso.com", []],
    // The allowed domain as a subdomain of the attacker's.
    ["allowed domain as prefix", "alice@contoso.com.evil.example", []],
    // No dot boundary before the allowed suffix.
    ["suffix without boundary", "alice@evilcontoso.com", []],
    // A wildcard entry allows subdomains, not the bare domain or look-alikes of it.
    ["wildcard bare domain", "alice@fabrikam.com", []],
    ["wildcard look-alike", "alice@evil-fabrikam.com", []],
    ["wildcard subdomain", "alice@eu.fabrikam.com", ["alice@eu.fabrikam.com"]],
    // Display-name syntax is refused rather than parsed.
    ["display name", '"Alice" <alice@contoso.com>', []],
    // A trailing dot is a different (fully-qualified) spelling we do not accept.
    ["trailing dot", "alice@contoso.com.", []],
    // Markup in a tag is just an invalid token.
    ["markup", "<script>alert(1)</script>", []],
  ])("%s", (_why, value, emailed) => {
    const { recipients, rejected } = resolveOwnerRecipients({ "cmk-owner": value }, { ...OPTIONS, defaultRecipients: [] });
    expect(recipients).toEqual(emailed);
    for (const entry of rejected) expect(entry.address).not.toMatch(HEADER_UNSAFE);
    if (emailed.length === 0) expect(rejected.length).toBeGreaterThan(0);
  });
});
