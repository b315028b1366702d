import { isValidEmailAddress, MAX_RECIPIENTS, resolveOwnerRecipients, sanitizeHeaderText } from "../../src/domain/recipients";

const OPEN = { ownerTag: "cmk-owner", defaultRecipients: [] as string[], allowedRecipientDomains: [] as string[] };

describe("resolveOwnerRecipients: finding the owners", () => {
  it.each([
    // The configured spelling.
    [{ "cmk-owner": "alice@contoso.com" }],
    // ARM tag names are case-insensitive, and people type them every which way.
    [{ "CMK-Owner": "alice@contoso.com" }],
    [{ "CMK-OWNER": "alice@contoso.com" }],
    // Other tags are ignored even when they hold addresses.
    [{ "cmk-owner": "alice@contoso.com", owner: "bob@contoso.com", "cmk-owners": "carol@contoso.com" }],
  ])("reads the owner tag from %j", (tags) => {
    expect(resolveOwnerRecipients(tags, OPEN).recipients).toEqual(["alice@contoso.com"]);
  });

  it.each([
    // Comma, semicolon, space, tab and newline separated lists are all in use.
    ["a@contoso.com,b@contoso.com", ["a@contoso.com", "b@contoso.com"]],
    ["a@contoso.com; b@contoso.com", ["a@contoso.com", "b@contoso.com"]],
    ["a@contoso.com b@contoso.com\tc@contoso.com\nd@contoso.com", ["a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com"]],
    // Stray separators produce no empty entries.
    [" ,;a@contoso.com,, ;", ["a@contoso.com"]],
  ])("splits %j", (value, expected) => {
    expect(resolveOwnerRecipients({ "cmk-owner": value }, OPEN).recipients).toEqual(expected);
  });

  it.each([
    // A configured tag name with stray spaces still finds the tag.
    [" cmk-owner ", { "cmk-owner": "alice@contoso.com" }],
    // Nor do stray spaces in the tag's own name hide it.
    ["cmk-owner", { " cmk-owner ": "alice@contoso.com" }],
  ])("matches owner tag %j against the account's tags %j", (ownerTag, tags) => {
    expect(resolveOwnerRecipients(tags, { ...OPEN, ownerTag }).recipients).toEqual(["alice@contoso.com"]);
  });

  it("ignores an owner tag whose value is not text", () => {
    // Tags come from ARM JSON; a number or null there must not break resolution for the account.
    const tags = { "cmk-owner": 42, "CMK-OWNER": "alice@contoso.com" } as unknown as Record<string, string>;
    expect(resolveOwnerRecipients(tags, OPEN)).toEqual({ recipients: ["alice@contoso.com"], rejected: [] });
  });

  it("falls back to the defaults when the tag is missing", () => {
    // No owner tag must still reach someone.
    const result = resolveOwnerRecipients({ env: "prod" }, { ...OPEN, defaultRecipients: ["ops@contoso.com"] });
    expect(result).toEqual({ recipients: ["ops@contoso.com"], rejected: [] });
  });

  it("returns nobody, without failing, when there is neither tag nor default", () => {
    expect(resolveOwnerRecipients({}, OPEN)).toEqual({ recipients: [], rejected: [] });
  });
});

describe("resolveOwnerRecipients: owners per account", () => {
  it("keeps at most maxOwnerRecipients tag addresses, and the defaults on top", () => {
    // A tag of many addresses must not spend the email budget; the defaults are configured, not tag-written.
    const tag = ["a", "b", "c", "d", "e"].map((n) => `${n}@contoso.com`).join(",");
    const result = resolveOwnerRecipients({ "cmk-owner": tag }, { ...OPEN, defaultRecipients: ["ops@contoso.com"], maxOwnerRecipients: 3 });
    expect(result.recipients).toEqual(["a@contoso.com", "b@contoso.com", "c@contoso.com", "ops@contoso.com"]);
    expect(result.rejected).toEqual([
      { address: "d@contoso.com", reason: "too-many" },
      { address: "e@contoso.com", reason: "too-many" },
    ]);
  });
});

describe("resolveOwnerRecipients: owner-tag local parts", () => {
  it.each<[string, string]>([
    // Percent relay: "user%evil.example@contoso.com" asks contoso's server to forward to evil.example.
    ["percent relay", "mallory%evil.example@contoso.com"],
    // Bang path: a UUCP-style relay some servers still honour.
    ["bang path", "evil.example!mallory@contoso.com"],
    // Shell and MIME oddities RFC 5322 allows in a local part, never needed by a real mailbox.
    ["ampersand", "a&b@contoso.com"],
    ["pipe", "a|b@contoso.com"],
    ["backtick", "a`id`@contoso.com"],
    ["dollar", "$HOME@contoso.com"],
    ["equals", "=?utf-8?q?x?=@contoso.com"],
    ["apostrophe", "o'brien@contoso.com"],
    ["slash", "a/b@contoso.com"],
    ["braces", "{a}@contoso.com"],
    ["hash", "#a@contoso.com"],
  ])("drops %s even inside the allowed domain", (_name, address) => {
    const result = resolveOwnerRecipients({ "cmk-owner": address }, { ...OPEN, allowedRecipientDomains: ["contoso.com"] });
    expect(result).toEqual({ recipients: [], rejected: [{ address, reason: "invalid" }] });
  });

  it.each([
    // Letters, digits, dot, underscore, plus (sub-addressing) and dash are every real mailbox's.
    ["first.last@contoso.com"],
    ["first_last+cmk@contoso.com"],
    ["ops-team2@contoso.com"],
  ])("keeps %s", (address) => {
    expect(resolveOwnerRecipients({ "cmk-owner": address }, { ...OPEN, allowedRecipientDomains: ["contoso.com"] }).recipients).toEqual([address]);
  });
});

describe("resolveOwnerRecipients: hostile and malformed values", () => {
  it("turns a CRLF header-injection attempt into separate, validated tokens", () => {
    // Splitting consumes the CR/LF, "Bcc:" is not an address, and nothing with CR/LF survives.
    const result = resolveOwnerRecipients(
      { "cmk-owner": "alice@contoso.com\r\nBcc: mallory@evil.example\r\nSubject: hi" },
      { ...OPEN, allowedRecipientDomains: ["contoso.com"] },
    );
    expect(result.recipients).toEqual(["alice@contoso.com"]);
    expect(result.rejected).toEqual(
      expect.arrayContaining([
        { address: "Bcc:", reason: "invalid" },
        { address: "mallory@evil.example", reason: "domain-not-allowed" },
      ]),
    );
    for (const entry of [...result.recipients, ...result.rejected.map((r) => r.address)]) expect(entry).not.toMatch(/[\r\n]/);
  });

  it.each([
    // Display names and angle brackets are not allowed: we send to bare addresses only.
    ["Alice <alice@contoso.com>"],
    ["<alice@contoso.com>"],
    ['"alice"@contoso.com'],
    // Cyrillic "а" and "о" look like Latin letters: a classic look-alike trick.
    ["\u0430lice@contoso.com"],
    ["alice@c\u043entoso.com"],
    // Full-width at sign.
    ["alice\uff20contoso.com"],
    // Encoded CRLF is not decoded, and not valid either.
    ["alice@contoso.com%0d%0abcc:x@evil.example"],
    // Structural mistakes.
    ["alice"],
    ["alice@"],
    ["@contoso.com"],
    ["alice@contoso"],
    [".alice@contoso.com"],
    ["alice.@contoso.com"],
    ["al..ice@contoso.com"],
    ["alice@-contoso.com"],
    ["alice@1.2.3.4"],
    [`${"a".repeat(65)}@contoso.com`],
  ])("rejects %j as invalid", (value) => {
    const result = resolveOwnerRecipients({ "cmk-owner": value }, OPEN);
    expect(result.recipients).toEqual([]);
    expect(result.rejected.map((r) => r.reason)).toContain("invalid");
  });

  it("reports rejected text with control characters removed and its length bounded", () => {
    // The rejected list is logged and shown in timelines, so it must be display-safe too.
    const result = resolveOwnerRecipients({ "cmk-owner": `x\u0007${"y".repeat(400)}` }, OPEN);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.address).not.toMatch(/[\u0000-\u001f]/);
    expect(Array.from(result.rejected[0]!.address).length).toBeLessThanOrEqual(254);
  });
});

describe("resolveOwnerRecipients: allowed domains", () => {
  const ALLOWED = { ...OPEN, allowedRecipientDomains: ["contoso.com", "*.fabrikam.com"] };

  it.each([
    // Exact domain match.
    ["alice@contoso.com", true],
    // Domains are case-insensitive.
    ["alice@Contoso.COM", true],
    // Wildcard entries allow subdomains.
    ["alice@eu.fabrikam.com", true],
    ["alice@a.b.fabrikam.com", true],
    // A wildcard does not allow the bare domain: it says "subdomains of".
    ["alice@fabrikam.com", false],
    // The allowed domain as a prefix of an attacker's domain.
    ["alice@contoso.com.evil.example", false],
    // The allowed domain as a suffix without the dot boundary.
    ["alice@evilcontoso.com", false],
    ["alice@evilfabrikam.com", false],
    // A subdomain is not allowed by an exact entry.
    ["alice@mail.contoso.com", false],
    // Typosquats and punycode look-alikes.
    ["alice@contoso.co", false],
    ["alice@xn--cntoso-7ve.com", false],
  ])("%s allowed: %s", (address, allowed) => {
    const result = resolveOwnerRecipients({ "cmk-owner": address }, ALLOWED);
    expect(result.recipients).toEqual(allowed ? [address] : []);
    if (!allowed) expect(result.rejected).toEqual([{ address, reason: "domain-not-allowed" }]);
  });
});

describe("resolveOwnerRecipients: de-duplication and the cap", () => {
  it("de-duplicates case-insensitively and keeps the first spelling and position", () => {
    // The same person listed twice, once as a default, must get one email.
    const result = resolveOwnerRecipients(
      { "cmk-owner": "Alice@Contoso.com, bob@contoso.com, alice@contoso.com" },
      { ...OPEN, defaultRecipients: ["ops@contoso.com", "ALICE@contoso.com"] },
    );
    expect(result).toEqual({ recipients: ["Alice@Contoso.com", "bob@contoso.com", "ops@contoso.com"], rejected: [] });
  });

  it("caps 500 tag recipients at the limit and keeps the defaults", () => {
    // A huge tag must neither flood the email service nor push the operations team out.
    const owners = Array.from({ length: 500 }, (_, i) => `owner${i}@contoso.com`).join(",");
    const result = resolveOwnerRecipients({ "cmk-owner": owners }, { ...OPEN, defaultRecipients: ["ops@contoso.com", "sre@contoso.com"] });
    expect(result.recipients).toHaveLength(MAX_RECIPIENTS);
    expect(result.recipients.slice(-2)).toEqual(["ops@contoso.com", "sre@contoso.com"]);
    expect(result.recipients[0]).toBe("owner0@contoso.com");
    expect(result.rejected).toHaveLength(500 - (MAX_RECIPIENTS - 2));
    expect(result.rejected.every((r) => r.reason === "too-many")).toBe(true);
    expect(result.rejected[0]!.address).toBe(`owner${MAX_RECIPIENTS - 2}@contoso.com`);
  });

  it("caps the configured defaults too", () => {
    // A misconfigured default list must not exceed what one message may carry.
    const defaults = Array.from({ length: 60 }, (_, i) => `ops${i}@contoso.com`);
    const result = resolveOwnerRecipients({}, { ...OPEN, defaultRecipients: defaults });
    expect(result.recipients).toEqual(defaults.slice(0, MAX_RECIPIENTS));
  });

  it("does not count duplicates against the cap", () => {
    // 60 copies of one address is one recipient.
    const result = resolveOwnerRecipients({ "cmk-owner": Array(60).fill("a@contoso.com").join(";") }, OPEN);
    expect(result).toEqual({ recipients: ["a@contoso.com"], rejected: [] });
  });
});

describe("isValidEmailAddress", () => {
  it.each([
    ["first.last+tag@sub.contoso.com", true],
    ["o'brien@contoso.com", true],
    ["a@xn--bcher-kva.example", true],
    ["a b@contoso.com", false],
    ["a@contoso.com\n", false],
    // 254 characters is the longest address SMTP carries; one more is refused even when well formed.
    [`${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`, true],
    [`${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(58)}.com`, false],
    // An all-digit top-level domain is an IP address, not a mail domain.
    ["a@10.0.0.12", false],
    ["a@contoso.123", false],
    // Digits beside letters in a TLD are not an IP address.
    ["a@contoso.com1", true],
    ["a@contoso.1com", true],
  ])("%j → %s", (address, valid) => {
    expect(isValidEmailAddress(address)).toBe(valid);
  });
});

describe("sanitizeHeaderText", () => {
  it.each([
    // CR/LF in a subject would start a new header.
    ["orders\r\nBcc: x@evil.example", "orders Bcc: x@evil.example"],
    // A lone CR or LF is just as dangerous.
    ["a\rb\nc", "a b c"],
    // Other C0/C1 controls and DEL.
    ["a\u0000b\u0007c\u007fd\u0085e\u009bf", "a b c d e f"],
    // Unicode line and paragraph separators.
    ["a\u2028b\u2029c", "a b c"],
    // Bidi overrides can make a subject read differently from what it says.
    ["invoice\u202Efdp.exe", "invoice fdp.exe"],
    // Runs of whitespace collapse, ends are trimmed.
    ["  a \t\t b  ", "a b"],
    // Half a surrogate pair cannot be encoded in a header: it becomes the replacement character.
    ["a\ud800b", "a\ufffdb"],
    // Ordinary unicode is kept.
    ["Größe – 名前 🚀", "Größe – 名前 🚀"],
  ])("%j → %j", (input, expected) => {
    expect(sanitizeHeaderText(input)).toBe(expected);
  });

  it.each([
    // Over the limit: cut and marked, total length within the limit.
    ["a".repeat(300), 200, `${"a".repeat(199)}…`],
    // Exactly at the limit: unchanged.
    ["a".repeat(200), 200, "a".repeat(200)],
    // A custom limit.
    ["hello world", 6, "hello…"],
    // The cut does not leave a space before the ellipsis.
    ["abc def", 5, "abc…"],
    // Room for one character: only the ellipsis; for none: nothing.
    ["hello", 1, "…"],
    ["hello", 0, ""],
    // Emoji are one character each; a surrogate pair is never split.
    ["🚀🚀🚀🚀", 3, "🚀🚀…"],
  ])("truncates %j to %d characters", (input, max, expected) => {
    const out = sanitizeHeaderText(input, max);
    expect(out).toBe(expected);
    expect(Array.from(out).length).toBeLessThanOrEqual(max);
  });
});
