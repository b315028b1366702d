/**
 * Signed tokens for the one-click links in owner emails ("I have fixed it", "snooze").
 *
 *   token = base64url(JSON claims) "." base64url(HMAC-SHA256(key, "cmk-link.v1." + payload))
 *
 * The claims bind the token to one incident (and the account whose partition holds it), one
 * action, an expiry and a random nonce; the nonce is what the store records to make a token
 * single-use. Pure: no clock, no I/O; the key and `now` are passed in.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type LinkAction = "ack" | "snooze";

export interface LinkClaims {
  /** Incident id, as in the link's path. */
  incidentId: string;
  /** Account resource id: finds the partition that holds the incident. */
  accountId: string;
  action: LinkAction;
  /** Expiry, epoch seconds. */
  expiresAt: number;
  /** Random token id; recorded when used, so the token works once. */
  nonce: string;
  /** Snooze only: how many hours the link pauses reminders for. */
  hours?: number;
  /**
   * Who the email carrying the link went to (recipientsLabel), signed so the timeline can say
   * whose link was used; the name typed on the page is only a claim. Absent in links minted
   * before it was added.
   */
  sentTo?: string;
}

export type LinkTokenProblem =
  /** Not a token we could have made (cut short, not base64url, not our JSON). */
  | "malformed"
  /** Signed with another key, or changed after signing. */
  | "bad-signature"
  /** A valid token for another action (e.g. an ack token on the snooze endpoint). */
  | "wrong-action"
  /** A valid token for another incident than the one in the link's path. */
  | "wrong-incident"
  | "expired";

export type LinkTokenCheck = { ok: true; claims: LinkClaims } | { ok: false; problem: LinkTokenProblem };

/** Long enough to act on a reminder after a weekend; the incident id binding ends it sooner. */
export const LINK_LIFETIME_IN_HOURS = 7 * 24;
const SIGNATURE_CONTEXT = "cmk-link.v1.";
const MAX_TOKEN_LENGTH = 4096;

interface WireClaims {
  v: 1;
  i: string;
  a: string;
  x: LinkAction;
  e: number;
  n: string;
  h?: number;
  r?: string;
}

export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}

/** Claims for a link minted at `now`, valid for LINK_LIFETIME_IN_HOURS. */
export function linkClaims(
  incident: { id: string; accountId: string },
  action: LinkAction,
  now: Date,
  extra: { hours?: number; nonce?: string; lifetimeInHours?: number; sentTo?: readonly string[] } = {},
): LinkClaims {
  return {
    incidentId: incident.id,
    accountId: incident.accountId,
    action,
    expiresAt: Math.floor(now.getTime() / 1000) + (extra.lifetimeInHours ?? LINK_LIFETIME_IN_HOURS) * 3600,
    nonce: extra.nonce ?? newNonce(),
    ...(extra.hours !== undefined ? { hours: extra.hours } : {}),
    ...(extra.sentTo && extra.sentTo.length > 0 ? { sentTo: recipientsLabel(extra.sentTo) } : {}),
  };
}

/** Addresses named in a link's claims: enough to tell who had it, short enough for a URL. */
const LABELLED_RECIPIENTS = 3;

/** "a@x, b@y, c@z and 4 more": the first few recipients of the email a link went out in. */
export function recipientsLabel(recipients: readonly string[]): string {
  const named = recipients.slice(0, LABELLED_RECIPIENTS).join(", ");
  const more = recipients.length - LABELLED_RECIPIENTS;
  return more > 0 ? `${named} and ${more} more` : named;
}

// Controls, line and paragraph separators, bidi controls and marks, zero-width and invisible
// formatting characters: each can make a timeline line read differently from what it says.
const INVISIBLE_OR_CONTROL =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;
const MAX_NAME_LENGTH = 80;

/**
 * Who acted through a link, for the timeline: the name typed on the page (a claim, cleaned to one
 * short line of visible text) and whom the link was sent to (signed).
 */
export function linkActor(name: string | null | undefined, claims: Pick<LinkClaims, "sentTo">): string {
  const clean = Array.from((name ?? "").replace(INVISIBLE_OR_CONTROL, " ").replace(/\s+/g, " ").trim())
    .slice(0, MAX_NAME_LENGTH)
    .join("")
    .trim();
  const via = claims.sentTo ? `email link sent to ${claims.sentTo}` : "email link";
  return `${clean || "an owner"} (${via})`;
}

export function signLinkToken(claims: LinkClaims, key: Buffer): string {
  const wire: WireClaims = {
    v: 1,
    i: claims.incidentId,
    a: claims.accountId,
    x: claims.action,
    e: claims.expiresAt,
    n: claims.nonce,
    ...(claims.hours !== undefined ? { h: claims.hours } : {}),
    ...(claims.sentTo !== undefined ? { r: claims.sentTo } : {}),
  };
  const payload = Buffer.from(JSON.stringify(wire), "utf8").toString("base64url");
  return `${payload}.${signature(payload, key)}`;
}

/**
 * Checks a token for `expected.action` on `expected.incidentId`. The signature is checked
 * before any claim is believed; then action, incident and expiry, in that order.
 */
export function verifyLinkToken(
  token: string | null | undefined,
  key: Buffer,
  now: Date,
  expected: { action: LinkAction; incidentId: string },
): LinkTokenCheck {
  if (!token || token.length > MAX_TOKEN_LENGTH) return { ok: false, problem: "malformed" };
  const parts = token.split(".");
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) {
    return { ok: false, problem: "malformed" };
  }
  const [payload, given] = parts as [string, string];
  const expectedSignature = Buffer.from(signature(payload, key), "base64url");
  const givenSignature = Buffer.from(given, "base64url");
  if (givenSignature.length !== expectedSignature.length || !timingSafeEqual(givenSignature, expectedSignature)) {
    return { ok: false, problem: "bad-signature" };
  }
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, problem: "malformed" };
  if (claims.action !== expected.action) return { ok: false, problem: "wrong-action" };
  if (claims.incidentId !== expected.incidentId) return { ok: false, problem: "wrong-incident" };
  if (now.getTime() >= claims.expiresAt * 1000) return { ok: false, problem: "expired" };
  return { ok: true, claims };
}

function signature(payload: string, key: Buffer): string {
  return createHmac("sha256", key).update(SIGNATURE_CONTEXT).update(payload).digest("base64url");
}

function parseClaims(payload: string): LinkClaims | undefined {
  let wire: Partial<WireClaims>;
  try {
    wire = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<WireClaims>;
  } catch {
    return undefined;
  }
  if (
    wire === null ||
    typeof wire !== "object" ||
    wire.v !== 1 ||
    typeof wire.i !== "string" ||
    typeof wire.a !== "string" ||
    (wire.x !== "ack" && wire.x !== "snooze") ||
    typeof wire.e !== "number" ||
    typeof wire.n !== "string" ||
    !/^[A-Za-z0-9_-]{16,64}$/.test(wire.n) ||
    (wire.h !== undefined && (!Number.isInteger(wire.h) || wire.h < 1)) ||
    (wire.r !== undefined && typeof wire.r !== "string")
  ) {
    return undefined;
  }
  return {
    incidentId: wire.i,
    accountId: wire.a,
    action: wire.x,
    expiresAt: wire.e,
    nonce: wire.n,
    ...(wire.h !== undefined ? { hours: wire.h } : {}),
    ...(wire.r !== undefined ? { sentTo: wire.r } : {}),
  };
}

/** The Functions host serves HTTP triggers under /api (host.json keeps the default prefix). */
export const API_PREFIX = "/api";

/** `<base>/api/incidents/<id>/<action>?[hours=N&]token=…`, for the email and the local server alike. */
export function linkUrl(publicBaseUrl: string, claims: LinkClaims, token: string): string {
  const base = publicBaseUrl.replace(/\/+$/, "");
  const query = new URLSearchParams();
  if (claims.hours !== undefined) query.set("hours", String(claims.hours));
  query.set("token", token);
  return `${base}${API_PREFIX}/incidents/${encodeURIComponent(claims.incidentId)}/${claims.action}?${query.toString()}`;
}
