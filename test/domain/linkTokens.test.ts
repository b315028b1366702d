import { createHmac } from "node:crypto";
import { linkActor, linkClaims, linkUrl, recipientsLabel, signLinkToken, verifyLinkToken, type LinkTokenCheck } from "../../src/domain/linkTokens";

const KEY = Buffer.from("k".repeat(32));
const OTHER_KEY = Buffer.from("o".repeat(32));
const NOW = new Date("2026-11-29T07:15:00.000Z");
const INCIDENT = {
  id: "orders-db-20261129T0715Z-1a2b3c4d",
  accountId: "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/orders-db",
};
const HOUR = 3_600_000;

const ack = signLinkToken(linkClaims(INCIDENT, "ack", NOW, { nonce: "AAAAAAAAAAAAAAAAAAAAAA" }), KEY);
const [payload, signature] = ack.split(".") as [string, string];
/** Re-encodes the claims with one field changed, keeping the original signature. */
function withClaim(field: string, value: unknown): string {
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  claims[field] = value;
  return `${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

describe("link tokens", () => {
  it.each<[string, string | undefined, Date, { action: "ack" | "snooze"; incidentId: string }, Buffer, LinkTokenCheck["ok"] | string]>([
    // The token as minted, checked where it was meant to be used.
    ["valid", ack, NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, true],
    // One second before the 7-day expiry it still works.
    ["valid until just before expiry", ack, new Date(NOW.getTime() + 7 * 24 * HOUR - 1000), { action: "ack", incidentId: INCIDENT.id }, KEY, true],
    // At the expiry it does not.
    ["expired", ack, new Date(NOW.getTime() + 7 * 24 * HOUR), { action: "ack", incidentId: INCIDENT.id }, KEY, "expired"],
    // The incident id in the payload changed: the signature no longer matches.
    ["tampered incident", withClaim("i", "other-incident"), NOW, { action: "ack", incidentId: "other-incident" }, KEY, "bad-signature"],
    // Extending the expiry by hand is tampering too.
    ["tampered expiry", withClaim("e", 9_999_999_999), NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, "bad-signature"],
    // A flipped signature character.
    [
      "tampered signature",
      `${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`,
      NOW,
      { action: "ack", incidentId: INCIDENT.id },
      KEY,
      "bad-signature",
    ],
    // Made with another deployment's key.
    ["other key", ack, NOW, { action: "ack", incidentId: INCIDENT.id }, OTHER_KEY, "bad-signature"],
    // An ack token presented to the snooze endpoint.
    ["wrong action", ack, NOW, { action: "snooze", incidentId: INCIDENT.id }, KEY, "wrong-action"],
    // A genuine token pasted under another incident's path.
    ["wrong incident", ack, NOW, { action: "ack", incidentId: "billing-db-20261129T0715Z-99999999" }, KEY, "wrong-incident"],
    // Missing, truncated, or junk.
    ["missing", undefined, NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, "malformed"],
    ["no signature", payload, NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, "malformed"],
    ["not base64url", "a+b.c/d", NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, "malformed"],
    ["three parts", `${ack}.x`, NOW, { action: "ack", incidentId: INCIDENT.id }, KEY, "malformed"],
  ])("%s", (_name, token, now, expected, key, outcome) => {
    const check = verifyLinkToken(token, key, now, expected);
    if (outcome === true) expect(check).toMatchObject({ ok: true, claims: { incidentId: INCIDENT.id, accountId: INCIDENT.accountId, action: "ack" } });
    else expect(check).toEqual({ ok: false, problem: outcome });
  });

  it("a correctly signed payload that is not our JSON is malformed, not trusted", () => {
    // Defence in depth: even with the key, claims must have the expected shape.
    const junk = Buffer.from(JSON.stringify({ v: 1, i: 42 })).toString("base64url");
    const sig = createHmac("sha256", KEY).update("cmk-link.v1.").update(junk).digest("base64url");
    expect(verifyLinkToken(`${junk}.${sig}`, KEY, NOW, { action: "ack", incidentId: INCIDENT.id })).toEqual({ ok: false, problem: "malformed" });
  });

  it("every minted token has its own nonce, so each can be used once", () => {
    const nonces = new Set(Array.from({ length: 50 }, () => linkClaims(INCIDENT, "ack", NOW).nonce));
    expect(nonces.size).toBe(50);
  });

  it("snooze tokens carry their hours, and the URL says the same", () => {
    // The hours in the URL are informative; the signed ones are what counts.
    const claims = linkClaims(INCIDENT, "snooze", NOW, { hours: 4 });
    const url = new URL(linkUrl("https://func-cmk.azurewebsites.net/", claims, signLinkToken(claims, KEY)));
    expect(url.pathname).toBe(`/api/incidents/${INCIDENT.id}/snooze`);
    expect(url.searchParams.get("hours")).toBe("4");
    const check = verifyLinkToken(url.searchParams.get("token"), KEY, NOW, { action: "snooze", incidentId: INCIDENT.id });
    expect(check).toMatchObject({ ok: true, claims: { hours: 4 } });
  });
});

describe("who acted through a link", () => {
  it("the recipients are signed into the claims: changing them breaks the signature", () => {
    // Otherwise a holder could name someone else as the one who acknowledged.
    const token = signLinkToken(linkClaims(INCIDENT, "ack", NOW, { sentTo: ["alice@contoso.com"] }), KEY);
    expect(verifyLinkToken(token, KEY, NOW, { action: "ack", incidentId: INCIDENT.id })).toMatchObject({ ok: true, claims: { sentTo: "alice@contoso.com" } });
    const [body, mac] = token.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    claims.r = "ceo@contoso.com";
    const forged = `${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${mac}`;
    expect(verifyLinkToken(forged, KEY, NOW, { action: "ack", incidentId: INCIDENT.id })).toEqual({ ok: false, problem: "bad-signature" });
  });

  it.each<[string, string[], string]>([
    // One recipient: named.
    ["one", ["alice@contoso.com"], "alice@contoso.com"],
    // Up to three: all named.
    ["three", ["a@contoso.com", "b@contoso.com", "c@contoso.com"], "a@contoso.com, b@contoso.com, c@contoso.com"],
    // More: the first three and a count, so a 50-recipient email still makes a short link.
    ["five", ["a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com", "e@contoso.com"], "a@contoso.com, b@contoso.com, c@contoso.com and 2 more"],
  ])("recipientsLabel: %s", (_name, recipients, expected) => {
    expect(recipientsLabel(recipients)).toBe(expected);
  });

  it.each<[string, string | null, string | undefined, string]>([
    // The typed name, and whom the link went to.
    ["name and recipient", "Alice", "alice@contoso.com", "Alice (email link sent to alice@contoso.com)"],
    // No name typed: still says whose link it was.
    ["no name", null, "alice@contoso.com", "an owner (email link sent to alice@contoso.com)"],
    // A link minted before recipients were signed in.
    ["old link", "Alice", undefined, "Alice (email link)"],
    // Right-to-left override: "Alice‮moc.liava" would render reversed and fake another name.
    ["bidi override", "Alice\u202eevil", "a@contoso.com", "Alice evil (email link sent to a@contoso.com)"],
    // Isolates, marks and the Arabic letter mark.
    ["bidi isolates and marks", "\u2067Bob\u2069\u200f\u061c", "a@contoso.com", "Bob (email link sent to a@contoso.com)"],
    // Zero-width space, joiner, word joiner and BOM: invisible, so "admin" and "ad\u200bmin" would look alike.
    ["zero-width", "ad\u200bmi\u200dn\u2060\ufeff", "a@contoso.com", "ad mi n (email link sent to a@contoso.com)"],
    // Newlines cannot forge a second timeline line.
    ["newline", "Alice\nFix observed: all good", "a@contoso.com", "Alice Fix observed: all good (email link sent to a@contoso.com)"],
    // Only invisible characters: no name.
    ["only invisible", "\u200b\u200b\u202e", "a@contoso.com", "an owner (email link sent to a@contoso.com)"],
  ])("linkActor: %s", (_name, name, sentTo, expected) => {
    expect(linkActor(name, sentTo === undefined ? {} : { sentTo })).toBe(expected);
  });

  it("linkActor keeps at most 80 characters of a name and never splits a surrogate pair", () => {
    const actor = linkActor("😀".repeat(100), { sentTo: "a@contoso.com" });
    expect(actor).toBe(`${"😀".repeat(80)} (email link sent to a@contoso.com)`);
  });
});

describe("claims the key signed but we did not mint", () => {
  // A leaked key, or a bug in another minting path, must still not get odd claims believed.
  const NONCE = "AAAAAAAAAAAAAAAAAAAAAA";
  const GOOD = { v: 1, i: INCIDENT.id, a: INCIDENT.accountId, x: "snooze", e: NOW.getTime() / 1000 + 3600, n: NONCE, h: 4, r: "a@contoso.com" };
  /** Signs any JSON value with the deployment's key, as only a key holder could. */
  const signed = (wire: unknown) => {
    const body = Buffer.from(JSON.stringify(wire)).toString("base64url");
    return `${body}.${createHmac("sha256", KEY).update("cmk-link.v1.").update(body).digest("base64url")}`;
  };
  const check = (wire: unknown) => verifyLinkToken(signed(wire), KEY, NOW, { action: "snooze", incidentId: INCIDENT.id });

  it("the well-formed claims are accepted, every field read back", () => {
    expect(check(GOOD)).toEqual({
      ok: true,
      claims: { incidentId: INCIDENT.id, accountId: INCIDENT.accountId, action: "snooze", expiresAt: GOOD.e, nonce: NONCE, hours: 4, sentTo: "a@contoso.com" },
    });
  });

  it("optional fields left out stay out", () => {
    // An ack link has no hours; links minted before recipients were signed have no sentTo.
    const { h: _h, r: _r, ...bare } = GOOD;
    expect(check(bare)).toEqual({
      ok: true,
      claims: { incidentId: INCIDENT.id, accountId: INCIDENT.accountId, action: "snooze", expiresAt: GOOD.e, nonce: NONCE },
    });
  });

  it.each<[string, unknown]>([
    // Not an object at all.
    ["null", null],
    ["a string", "claims"],
    // Another format version.
    ["version 2", { ...GOOD, v: 2 }],
    ["version as text", { ...GOOD, v: "1" }],
    // Ids that are not text.
    ["numeric incident id", { ...GOOD, i: 7 }],
    ["missing account id", { ...GOOD, a: undefined }],
    // An action we do not serve.
    ["unknown action", { ...GOOD, x: "delete" }],
    // An expiry that is not a number cannot be compared.
    ["expiry as text", { ...GOOD, e: String(GOOD.e) }],
    // The nonce is what makes a link single-use: it must be a real one.
    ["numeric nonce", { ...GOOD, n: 12345678901234567 }],
    ["short nonce", { ...GOOD, n: "A".repeat(15) }],
    ["long nonce", { ...GOOD, n: "A".repeat(65) }],
    ["nonce with a dot", { ...GOOD, n: `${"A".repeat(16)}.` }],
    // Snooze hours: whole and at least one.
    ["zero hours", { ...GOOD, h: 0 }],
    ["fractional hours", { ...GOOD, h: 1.5 }],
    ["hours as text", { ...GOOD, h: "4" }],
    // Recipients are text.
    ["recipients as a list", { ...GOOD, r: ["a@contoso.com"] }],
  ])("%s is malformed", (_case, wire) => {
    expect(check(wire)).toEqual({ ok: false, problem: "malformed" });
  });

  it.each<[string, unknown]>([
    // The nonce's edges: 16 and 64 base64url characters.
    ["16-character nonce", { ...GOOD, n: "A".repeat(16) }],
    ["64-character nonce", { ...GOOD, n: `${"a".repeat(31)}_-${"Z9".repeat(15)}9` }],
    // One hour is the shortest snooze.
    ["one hour", { ...GOOD, h: 1 }],
  ])("%s is accepted", (_case, wire) => {
    expect(check(wire)).toMatchObject({ ok: true });
  });
});

describe("linkClaims", () => {
  it("expires LINK_LIFETIME_IN_HOURS after minting unless told otherwise, in whole seconds", () => {
    // Seven days: a reminder read after a weekend still works.
    expect(linkClaims(INCIDENT, "ack", new Date(NOW.getTime() + 999), { nonce: "n" }).expiresAt).toBe(NOW.getTime() / 1000 + 7 * 24 * 3600);
    expect(linkClaims(INCIDENT, "ack", NOW, { nonce: "n", lifetimeInHours: 2 }).expiresAt).toBe(NOW.getTime() / 1000 + 2 * 3600);
  });

  it("signs the recipients only when there are some", () => {
    // An empty list would sign an empty label, and the timeline would say "sent to ".
    expect(linkClaims(INCIDENT, "ack", NOW, { nonce: "n", sentTo: [] })).not.toHaveProperty("sentTo");
    expect(linkClaims(INCIDENT, "ack", NOW, { nonce: "n" })).not.toHaveProperty("hours");
    expect(linkClaims(INCIDENT, "ack", NOW, { nonce: "n", sentTo: ["a@contoso.com"] }).sentTo).toBe("a@contoso.com");
  });

  it("mints 128-bit base64url nonces the verifier accepts", () => {
    expect(linkClaims(INCIDENT, "ack", NOW).nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("linkUrl", () => {
  it.each([
    // Trailing slashes on the configured base are not doubled.
    ["https://func-cmk.azurewebsites.net//", "https://func-cmk.azurewebsites.net/api/incidents/inc%2F1/ack?token=t"],
    // A base with a path keeps it.
    ["http://localhost:7071/local", "http://localhost:7071/local/api/incidents/inc%2F1/ack?token=t"],
  ])("%s", (base, expected) => {
    // The incident id is encoded: a "/" in it cannot reach another route.
    expect(linkUrl(base, { ...linkClaims({ id: "inc/1", accountId: "a" }, "ack", NOW, { nonce: "n" }) }, "t")).toBe(expected);
  });
});

describe("token length", () => {
  it("refuses a token over 4096 characters before checking it, even one we signed", () => {
    // The bound keeps a hostile query string from costing a base64 decode and an HMAC; our links are far shorter.
    const long = signLinkToken(linkClaims({ id: INCIDENT.id, accountId: "a".repeat(3100) }, "ack", NOW, { nonce: "AAAAAAAAAAAAAAAAAAAAAA" }), KEY);
    expect(long.length).toBeGreaterThan(4096);
    expect(verifyLinkToken(long, KEY, NOW, { action: "ack", incidentId: INCIDENT.id })).toEqual({ ok: false, problem: "malformed" });
    // The same claims with a short account id are fine, so it is the length that is refused.
    const short = signLinkToken(linkClaims(INCIDENT, "ack", NOW, { nonce: "AAAAAAAAAAAAAAAAAAAAAA" }), KEY);
    expect(verifyLinkToken(short, KEY, NOW, { action: "ack", incidentId: INCIDENT.id })).toMatchObject({ ok: true });
  });
});
