import { ANY_DOMAIN, EMAIL_ADDRESS, isAllowedDomain, OWNER_LOCAL_PART, splitList } from "../../src/domain/emailAddress";

describe("splitList", () => {
  it.each<[string | undefined, string[]]>([
    // Nothing configured: no entries.
    [undefined, []],
    ["", []],
    // Commas, semicolons and any whitespace separate; runs of them make no empty entries.
    ["a@x.com, b@x.com;c@x.com d@x.com", ["a@x.com", "b@x.com", "c@x.com", "d@x.com"]],
    [" ,; a@x.com \t\n;; ", ["a@x.com"]],
    // A single entry is kept as it is.
    ["a@x.com", ["a@x.com"]],
  ])("%j → %j", (value, expected) => {
    expect(splitList(value)).toEqual(expected);
  });
});

describe("isAllowedDomain", () => {
  it.each<[string, string[], boolean]>([
    // An empty list (settings built in code) and "*" allow any domain.
    ["a@anywhere.org", [], true],
    ["a@anywhere.org", ["contoso.com", ANY_DOMAIN], true],
    // An exact entry matches the domain, case-insensitively on both sides.
    ["a@Contoso.COM", ["contoso.com"], true],
    ["a@contoso.com", ["CONTOSO.com"], true],
    // An exact entry does not cover subdomains, nor a domain that merely ends the same way.
    ["a@mail.contoso.com", ["contoso.com"], false],
    ["a@evilcontoso.com", ["contoso.com"], false],
    // "*.contoso.com" covers subdomains, not the bare domain and not look-alikes.
    ["a@mail.contoso.com", ["*.contoso.com"], true],
    ["a@contoso.com", ["*.contoso.com"], false],
    ["a@evilcontoso.com", ["*.contoso.com"], false],
    // The domain is what follows the last "@", so an "@" in a quoted local part cannot smuggle one.
    ["contoso.com@evil.org", ["contoso.com"], false],
    ['"a@contoso.com"@evil.org', ["contoso.com"], false],
    // Any one matching entry is enough.
    ["a@fabrikam.com", ["contoso.com", "fabrikam.com"], true],
  ])("%s with %j → %s", (address, allowed, expected) => {
    expect(isAllowedDomain(address, allowed)).toBe(expected);
  });
});

describe("the address patterns", () => {
  it.each<[string, boolean]>([
    // Plain addresses and subdomains.
    ["owner@contoso.com", true],
    ["first.last+tag@mail.contoso.co.uk", true],
    // A domain needs a dot; labels may not start or end with a dash.
    ["owner@localhost", false],
    ["owner@-contoso.com", false],
    ["owner@contoso-.com", false],
    // No spaces, brackets or CR/LF: addresses go into headers.
    ["owner @contoso.com", false],
    ["<owner@contoso.com>", false],
    ["owner@contoso.com\r\nBcc: x@evil.org", false],
    // The local part is at most 64 characters.
    [`${"a".repeat(64)}@contoso.com`, true],
    [`${"a".repeat(65)}@contoso.com`, false],
  ])("EMAIL_ADDRESS %j → %s", (address, expected) => {
    expect(EMAIL_ADDRESS.test(address)).toBe(expected);
  });

  it.each<[string, boolean]>([
    // Letters, digits and . _ + - only, 1-64 of them.
    ["first.last_1+tag-x", true],
    ["a".repeat(64), true],
    ["a".repeat(65), false],
    ["", false],
    // Relay forms and quotes are legal in RFC 5322 but never needed for a real mailbox.
    ["user%relay", false],
    ["user!relay", false],
    ['"quoted"', false],
  ])("OWNER_LOCAL_PART %j → %s", (local, expected) => {
    expect(OWNER_LOCAL_PART.test(local)).toBe(expected);
  });
});
