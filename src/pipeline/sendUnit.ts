/**
 * What one email carries — one outbox row, or the rows of one digest — and the rules that group
 * and order rows. Shared by the send stages (due → group → pace → claim → send).
 *
 * Digests. When at least CMK_DIGEST_THRESHOLD due messages share a kind and a recipient set (one
 * shared vault revoking hundreds of accounts), they go out as one email. The grouping is made
 * durable before anything is sent: each row is claimed with the digest's id written on it (its
 * ETag-guarded claim), the ACS operation id is derived from the digest id, and a row bound to a
 * digest is only ever sent again together with every other unsent row of that digest. So a crash
 * mid-digest re-sends the same digest under the same operation id, never a second, different
 * digest of the same rows. Rows are claimed in key order and a digest is sent only when all its
 * rows are held, so two instances cannot each send half of one.
 */
import { createHash } from "node:crypto";
import { isIncidentFacts, type MessageKind, type OutboxMessage } from "../domain/incident";
import type { StoredMessage } from "../ports/incidentStore";

/** Keeps one digest well inside ACS's message size limit; a bigger group becomes several digests. */
export const MAX_DIGEST_MEMBERS = 100;

export interface SendUnit {
  /** Set for a digest: its rows are bound to it when claimed, and it names the ACS operation. */
  digestId?: string;
  members: StoredMessage[];
  /**
   * Set by the claim when an earlier attempt of this email may have reached ACS (its rows carried
   * `unverifiedOperationId`): that operation's status is read before anything is sent again.
   */
  inDoubt?: string;
}

/** Which outbox rows a drain may send (all due rows when empty). */
export interface OutboxScope {
  /** Only these rows (a work batch sends what it recorded). */
  only?: readonly StoredMessage[];
  /** Only rows created up to this time (the timer leaves this cycle's batches to their workers). */
  createdUpTo?: string;
}

/** Sends one drain reserved from the shared budget, and how many of them may have reached ACS. */
export interface SendTally {
  reserved: number;
  used: number;
  /** Set after ACS answered a send with 429: nothing more is sent this drain. */
  throttledUntil?: Date;
  /**
   * Set after ACS answered a send with a 5xx: nothing more is sent this drain either. That attempt
   * is in doubt and costs a status read before its retry; POSTing the rest into the same failure
   * would put each of them in doubt too (one read each), and spend sends ACS counts.
   */
  unavailableUntil?: Date;
}

/**
 * Budget priority, most urgent first: escalations; revoked, cause-changed and fix-undone;
 * at-risk warnings (the revocation they announce is not there yet); reminders; fix and resolved
 * notices; warning digests; the weekly report last (it must never hold back incident mail).
 */
const PRIORITY: Readonly<Record<MessageKind, number>> = {
  escalation: 0,
  revoked: 1,
  "cause-changed": 1,
  "fix-undone": 1,
  "at-risk": 2,
  reminder: 3,
  "fix-acknowledged": 4,
  "fix-observed": 4,
  resolved: 4,
  "warning-digest": 5,
  "weekly-report": 6,
};

export function priorityOf(unit: SendUnit): number {
  return PRIORITY[unit.members[0]!.message.kind];
}

/** Warning digests and the weekly report: the class that may not use the hourly share kept for incident mail. */
export function isWarningDigest(unit: SendUnit): boolean {
  const kind = unit.members[0]!.message.kind;
  return kind === "warning-digest" || kind === "weekly-report";
}

/** The share of each hour's sends (and of each minute's) warning digests can never take. */
export const INCIDENT_RESERVED_SHARE = 0.5;

export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function isDue(stored: StoredMessage, now: number): boolean {
  if (stored.status === "pending") return Date.parse(stored.nextAttemptAt) <= now || stored.nextAttemptAt === "";
  if (stored.status === "sending") return stored.leaseUntil === undefined || Date.parse(stored.leaseUntil) <= now;
  return false;
}

/** Incident emails of one kind to exactly the same people can share one email; warning digests already are one. */
export function digestKey(message: OutboxMessage): string | undefined {
  // A digest and the weekly report already are one email; an at-risk warning is one finding, sent on its own.
  if (!isIncidentFacts(message.facts)) return undefined;
  const list = (addresses: readonly string[]) => [...new Set(addresses.map((a) => a.toLowerCase()))].sort().join(",");
  return `${message.kind}|${list(message.to)}|${list(message.cc)}`;
}

/**
 * Deterministic from the rows and their attempt counts: only a name (the binding on the rows is
 * what counts), but never the name of a digest those rows were already sent in.
 */
export function newDigestId(members: readonly StoredMessage[]): string {
  const hash = createHash("sha256");
  for (const stored of members) hash.update(`${stored.message.key}#${stored.generation}#${stored.attempts}\n`);
  return `digest.${members[0]!.message.kind}.${hash.digest("hex").slice(0, 32)}`;
}

export function byKey(members: readonly StoredMessage[]): StoredMessage[] {
  return [...members].sort((a, b) => a.message.key.localeCompare(b.message.key));
}

export function byAge(members: readonly StoredMessage[]): StoredMessage[] {
  return [...members].sort((a, b) => a.message.createdAt.localeCompare(b.message.createdAt) || a.message.key.localeCompare(b.message.key));
}

export function isEscalation(unit: SendUnit): boolean {
  return unit.members[0]!.message.kind === "escalation";
}

export function oldest(unit: SendUnit): string {
  return unit.members.reduce((min, stored) => (stored.message.createdAt < min ? stored.message.createdAt : min), unit.members[0]!.message.createdAt);
}

export function firstKey(unit: SendUnit): string {
  return unit.members[0]!.message.key;
}

/**
 * A UUID from the idempotency key (or digest id) and the generation: the same attempt always has
 * the same operation id, and a generation bumped after a Failed/Canceled operation gives a new one.
 */
export function operationIdFor(key: string, generation = 0): string {
  const hex = createHash("sha256")
    .update(`cmk-monitor:${key}${generation > 0 ? `#${generation}` : ""}`)
    .digest("hex");
  // Shape it as an RFC 4122 version-5-style UUID (ACS validates the Operation-Id format).
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
