/**
 * Stages that drain the outbox: due → group → pace → claim → send. Sending happens only from
 * stored messages this instance holds a lease on, so concurrent monitors never send twice.
 *
 * Digests. When at least CMK_DIGEST_THRESHOLD due messages share a kind and a recipient set (one
 * shared vault revoking hundreds of accounts), they go out as one email. The grouping is made
 * durable before anything is sent: each row is claimed with the digest's id written on it (its
 * ETag-guarded claim), the ACS operation id is derived from the digest id, and a row bound to a
 * digest is only ever sent again together with every other unsent row of that digest. So a crash
 * mid-digest re-sends the same digest under the same operation id (which ACS does not deliver
 * twice), never a second, different digest of the same rows. Rows are claimed in key order and a
 * digest is sent only when all its rows are held, so two instances cannot each send half of one.
 *
 * Pacing. ACS allows so many emails a minute and an hour (CMK_EMAIL_RATE_PER_MINUTE/_PER_HOUR);
 * each drain reserves what it sends from a budget shared by every instance and leaves the rest
 * pending (not failed), escalations first, then oldest first.
 */
import { createHash } from "node:crypto";
import { EmailOperationFailedError, wasNotAccepted } from "../adapters/acsEmail";
import { describeFailure, isRetryable } from "../adapters/azureErrors";
import type { StoredMessage } from "../adapters/tableStore";
import type { IncidentMessageKind, MessageFacts, OutboxMessage } from "../domain/incident";
import { renderIncidentDigest } from "../email/incidentDigest";
import { renderEmail, type RenderedEmail } from "../email/templates";
import { ownerLinksFor } from "./ownerLinks";
import { chain, mapWithConcurrency, type CycleContext, type OutboxScope, type Stage } from "./stage";

// Never wait longer than one default poll interval: after an outage, mail goes out on the next poll.
const MAX_BACKOFF_IN_MINUTES = 5;
export const DEFAULT_DIGEST_THRESHOLD = 5;
/** ACS's default limits on a custom domain (an Azure-managed domain allows 5 a minute, 10 an hour). */
export const DEFAULT_EMAIL_RATE_PER_MINUTE = 30;
export const DEFAULT_EMAIL_RATE_PER_HOUR = 100;
/** A digest's rows are each their own partition: their outcomes are recorded this many at a time. */
const MARK_CONCURRENCY = 8;
/** Keeps one digest well inside ACS's message size limit; a bigger group becomes several digests. */
export const MAX_DIGEST_MEMBERS = 100;

/** What one email carries: one outbox row, or the rows of one digest. */
export interface SendUnit {
  /** Set for a digest: its rows are bound to it when claimed, and it names the ACS operation. */
  digestId?: string;
  members: StoredMessage[];
}

/** Rows a drain may consider: every row due now, plus every unsent row bound to a digest. */
export const dueMessagesStage: Stage<Date, StoredMessage> = {
  name: "due",
  async run(ctx, [now]) {
    const scope = ctx.outbox;
    if (scope?.only) return scope.only.filter((stored) => stored.status === "pending" || stored.status === "sending");
    const rows = await ctx.deps.store.listDueMessages(now ?? ctx.now, { withDigestMembers: true });
    const cutoff = scope?.createdUpTo;
    // Rows a running work batch just recorded are its own to send (with their digest); older ones are fair game.
    return cutoff ? rows.filter((stored) => stored.digestId || stored.message.createdAt <= cutoff) : rows;
  },
};

/** Turns due rows into emails: existing digests whole, new digests above the threshold, the rest one by one. */
export const groupStage: Stage<StoredMessage, SendUnit> = {
  name: "group",
  async run(ctx, rows) {
    const now = ctx.now.getTime();
    const units: SendUnit[] = [];
    const bound = new Map<string, StoredMessage[]>();
    const free: StoredMessage[] = [];
    for (const stored of rows) {
      if (stored.digestId) pushTo(bound, stored.digestId, stored);
      else if (isDue(stored, now)) free.push(stored);
    }
    for (const [digestId, members] of bound) {
      // Half a digest under the digest's operation id could be the half ACS keeps: wait for all of it.
      if (members.every((stored) => isDue(stored, now))) units.push({ digestId, members: byKey(members) });
    }
    const threshold = ctx.deps.settings.digestThreshold ?? DEFAULT_DIGEST_THRESHOLD;
    const groups = new Map<string, StoredMessage[]>();
    for (const stored of free) {
      const key = digestKey(stored.message);
      if (key === undefined) units.push({ members: [stored] });
      else pushTo(groups, key, stored);
    }
    for (const members of groups.values()) {
      if (members.length < threshold) {
        for (const stored of members) units.push({ members: [stored] });
        continue;
      }
      const ordered = byAge(members);
      for (let i = 0; i < ordered.length; i += MAX_DIGEST_MEMBERS) {
        const chunk = byKey(ordered.slice(i, i + MAX_DIGEST_MEMBERS));
        units.push({ digestId: newDigestId(chunk), members: chunk });
      }
    }
    return units.sort(
      (a, b) => Number(!isEscalation(a)) - Number(!isEscalation(b)) || oldest(a).localeCompare(oldest(b)) || firstKey(a).localeCompare(firstKey(b)),
    );
  },
};

/** Keeps to the ACS sending limits: reserves what it sends, leaves the rest pending for a later drain. */
export const paceStage: Stage<SendUnit, SendUnit> = {
  name: "pace",
  async run(ctx, units) {
    const { meta, settings, log } = ctx.deps;
    if (!meta?.reserveEmailSends) return [...units];
    const limits = {
      perMinute: settings.emailRatePerMinute ?? DEFAULT_EMAIL_RATE_PER_MINUTE,
      perHour: settings.emailRatePerHour ?? DEFAULT_EMAIL_RATE_PER_HOUR,
    };
    let granted: number;
    try {
      granted = await meta.reserveEmailSends(ctx.now, units.length, limits);
    } catch (error) {
      // Without the shared budget, sending could overrun ACS's limits: hold everything for the next drain.
      log.warn(`cmk-monitor: could not reserve email sends, holding ${units.length} email(s): ${describeFailure(error).message}`);
      granted = 0;
    }
    const held = units.slice(granted);
    if (held.length > 0) {
      ctx.stats.emailsDeferred += held.length;
      log.info(
        `cmk-monitor: ${held.length} email(s) held back by the send rate (${limits.perMinute}/minute, ${limits.perHour}/hour); they stay queued`,
      );
    }
    if (ctx.sendBudget) ctx.sendBudget.reserved += granted;
    return units.slice(0, granted);
  },
};

/**
 * Takes a lease on each unit's rows, in key order. A new digest's rows are bound to it by the
 * claim; it goes out with the rows this instance got. An existing digest goes out only whole.
 */
export const claimStage: Stage<SendUnit, SendUnit> = {
  name: "claim",
  async run(ctx, units) {
    const { store, settings } = ctx.deps;
    const claimed: SendUnit[] = [];
    for (const unit of units) {
      const held: StoredMessage[] = [];
      for (const stored of unit.members) {
        const bindNow = unit.digestId !== undefined && stored.digestId === undefined;
        const lease = await store.claimMessage(stored, ctx.now, settings.sendLeaseInSeconds, bindNow ? { digestId: unit.digestId! } : {});
        if (!lease) {
          ctx.stats.emailsSkippedByOtherInstance += 1;
          // Another instance holds this row: the rest is its digest (or its to bind), not ours.
          break;
        }
        held.push(lease);
      }
      const existingDigest = unit.digestId !== undefined && unit.members.every((stored) => stored.digestId === unit.digestId);
      if (held.length === 0 || (existingDigest && held.length < unit.members.length)) continue; // leases run out; retried whole
      claimed.push({ ...unit, members: held });
    }
    return claimed;
  },
};

export interface SendOutcome {
  unit: SendUnit;
  status: "sent" | "retrying" | "dead";
}

/** Renders and sends each claimed unit, then records the outcome on its rows. */
export const sendStage: Stage<SendUnit, SendOutcome> = {
  name: "send",
  async run(ctx, units) {
    const outcomes: SendOutcome[] = [];
    for (const unit of units) outcomes.push(await sendOne(ctx, unit));
    return outcomes;
  },
};

async function sendOne(ctx: CycleContext, unit: SendUnit): Promise<SendOutcome> {
  const { store, email, log, settings } = ctx.deps;
  const first = unit.members[0]!.message;
  const key = unit.digestId ?? first.key;
  const generation = Math.max(...unit.members.map((stored) => stored.generation));
  try {
    const rendered = unit.digestId ? await renderDigest(ctx, unit) : await renderOne(ctx, first);
    // From here the attempt counts against ACS's limits unless ACS says it did not accept it.
    if (ctx.sendBudget) ctx.sendBudget.used += 1;
    const result = await email.send({
      operationId: operationIdFor(key, generation),
      from: settings.emailSender,
      to: first.to,
      cc: first.cc,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      idempotencyKey: key,
    });
    await mapWithConcurrency(unit.members, MARK_CONCURRENCY, async (stored) => {
      try {
        await store.markSent(stored, ctx.now, result.operationId);
      } catch (markError) {
        // The lease expires and the row is sent again under the same operation id: ACS keeps one.
        log.warn(`cmk-monitor: could not record the sent email [${stored.message.key}]: ${describeFailure(markError).message}`);
      }
    });
    ctx.stats.emailsSent += 1;
    if (unit.digestId) {
      ctx.stats.digestsSent += 1;
      ctx.stats.messagesInDigests += unit.members.length;
      log.info(`cmk-monitor: sent a digest of ${unit.members.length} ${first.kind} message(s) to ${first.to.length + first.cc.length} recipient(s) [${key}]`);
    } else {
      log.info(`cmk-monitor: sent ${first.kind} for ${first.accountId} to ${first.to.length + first.cc.length} recipient(s) [${key}]`);
    }
    return { unit, status: "sent" };
  } catch (error) {
    const info = describeFailure(error);
    const retryable = isRetryable(info) || info.reason === "auth";
    const attempts = Math.max(...unit.members.map((stored) => stored.attempts));
    const retryAt = retryable ? nextAttemptAt(ctx.now, attempts, info.retryAfterInSeconds) : undefined;
    const notDelivered = error instanceof EmailOperationFailedError;
    log.error(
      `cmk-monitor: send failed for ${first.kind}${unit.digestId ? ` digest of ${unit.members.length}` : ""} [${key}] (${info.reason}${info.statusCode ? ` ${info.statusCode}` : ""}): ${info.message}; ${
        retryAt ? `retrying at ${retryAt.toISOString()}` : "not retried: needs a person"
      }`,
    );
    await mapWithConcurrency(unit.members, MARK_CONCURRENCY, async (stored) => {
      try {
        // Only a definite "Failed" from ACS may use a new operation id (or free a digest's rows to be
        // grouped anew); anything else might have been accepted, and reusing the id is what keeps a
        // retry from delivering twice.
        await store.markFailed(stored, `${info.reason}: ${info.message}`, retryAt, unit.digestId ? { releaseDigest: notDelivered, newOperation: notDelivered } : { newOperation: notDelivered });
      } catch (markError) {
        // The lease expires and the message is picked up again: nothing is lost.
        log.warn(`cmk-monitor: could not record the failed send [${stored.message.key}]: ${describeFailure(markError).message}`);
      }
    });
    if (retryAt) ctx.stats.emailsRetrying += 1;
    else ctx.stats.emailsDead += 1;
    if (ctx.sendBudget && wasNotAccepted(error)) ctx.sendBudget.used -= 1;
    return { unit, status: retryAt ? "retrying" : "dead" };
  }
}

function renderOne(ctx: CycleContext, message: OutboxMessage): Promise<RenderedEmail> {
  return message.facts.kind === "warning-digest" ? Promise.resolve(renderEmail(message.facts)) : renderIncidentEmail(ctx, message, message.facts);
}

async function renderDigest(ctx: CycleContext, unit: SendUnit): Promise<RenderedEmail> {
  const parts = [];
  for (const stored of byAge(unit.members)) {
    const facts = stored.message.facts as MessageFacts;
    parts.push({ facts, rendered: await renderIncidentEmail(ctx, stored.message, facts) });
  }
  return renderIncidentDigest(unit.members[0]!.message.kind as IncidentMessageKind, parts);
}

async function renderIncidentEmail(ctx: CycleContext, message: OutboxMessage, stored: MessageFacts): Promise<RenderedEmail> {
  const facts = { ...stored };
  if (message.kind === "escalation") {
    // The support case carries the whole timeline up to the escalation itself.
    const events = await ctx.deps.store.listEvents(message.accountId, message.incidentId);
    facts.timeline = events.filter((event) => event.seq <= stored.incident.eventCount);
  }
  const ownerLinks = await ownerLinksFor(ctx.deps, facts, ctx.now);
  return renderEmail(facts, ownerLinks ? { ownerLinks } : {});
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function isDue(stored: StoredMessage, now: number): boolean {
  if (stored.status === "pending") return Date.parse(stored.nextAttemptAt) <= now || stored.nextAttemptAt === "";
  if (stored.status === "sending") return stored.leaseUntil === undefined || Date.parse(stored.leaseUntil) <= now;
  return false;
}

/** Incident emails of one kind to exactly the same people can share one email; warning digests already are one. */
function digestKey(message: OutboxMessage): string | undefined {
  if (message.facts.kind === "warning-digest") return undefined;
  const list = (addresses: readonly string[]) => [...new Set(addresses.map((a) => a.toLowerCase()))].sort().join(",");
  return `${message.kind}|${list(message.to)}|${list(message.cc)}`;
}

/**
 * Deterministic from the rows and their attempt counts: only a name (the binding on the rows is
 * what counts), but never the name of a digest those rows were already sent in.
 */
function newDigestId(members: readonly StoredMessage[]): string {
  const hash = createHash("sha256");
  for (const stored of members) hash.update(`${stored.message.key}#${stored.generation}#${stored.attempts}\n`);
  return `digest.${members[0]!.message.kind}.${hash.digest("hex").slice(0, 32)}`;
}

function byKey(members: readonly StoredMessage[]): StoredMessage[] {
  return [...members].sort((a, b) => a.message.key.localeCompare(b.message.key));
}

function byAge(members: readonly StoredMessage[]): StoredMessage[] {
  return [...members].sort((a, b) => a.message.createdAt.localeCompare(b.message.createdAt) || a.message.key.localeCompare(b.message.key));
}

function isEscalation(unit: SendUnit): boolean {
  return unit.members[0]!.message.kind === "escalation";
}

function oldest(unit: SendUnit): string {
  return unit.members.reduce((min, stored) => (stored.message.createdAt < min ? stored.message.createdAt : min), unit.members[0]!.message.createdAt);
}

function firstKey(unit: SendUnit): string {
  return unit.members[0]!.message.key;
}

const sendPipeline = chain(chain(chain(chain(dueMessagesStage, groupStage), paceStage), claimStage), sendStage);

/** Sends whatever is due (within `scope`); also used right after an acknowledgment so owners hear at once. */
export async function drainOutbox(ctx: CycleContext, scope?: OutboxScope): Promise<void> {
  const previous = ctx.outbox;
  if (scope) ctx.outbox = scope;
  const budget = { reserved: 0, used: 0 };
  ctx.sendBudget = budget;
  try {
    await sendPipeline.run(ctx, [ctx.now]);
  } finally {
    ctx.outbox = previous;
    ctx.sendBudget = undefined;
    await giveBackUnused(ctx, budget.reserved - budget.used);
  }
}

/**
 * Gives back reserved sends that never reached ACS: units another instance claimed first, and
 * sends ACS answered with an error (an outage's 503s, its own 429s). They do not count against its
 * limits, and kept reserved they would hold back real mail for up to an hour once an outage is
 * over. An attempt that may have been accepted (a timeout, a failed poll) keeps its reservation.
 */
async function giveBackUnused(ctx: CycleContext, unused: number): Promise<void> {
  const meta = ctx.deps.meta;
  if (unused <= 0 || !meta?.releaseEmailSends) return;
  try {
    await meta.releaseEmailSends(ctx.now, unused);
  } catch (error) {
    // Only pacing is affected: the reservation falls out of the window within the hour.
    ctx.deps.log.warn(`cmk-monitor: could not give back ${unused} unused email send(s) to the budget: ${describeFailure(error).message}`);
  }
}

/** Exponential backoff from one minute, capped, never sooner than the service asked. */
export function nextAttemptAt(now: Date, attempts: number, retryAfterInSeconds?: number): Date {
  const backoffInMinutes = Math.min(2 ** Math.max(0, attempts - 1), MAX_BACKOFF_IN_MINUTES);
  const waitInMs = Math.max(backoffInMinutes * 60_000, (retryAfterInSeconds ?? 0) * 1000);
  return new Date(now.getTime() + waitInMs);
}

/** A UUID derived from the idempotency key (or digest id), so a re-send reuses the ACS operation id. */
export function operationIdFor(key: string, generation = 0): string {
  const hex = createHash("sha256").update(`cmk-monitor:${key}${generation > 0 ? `#${generation}` : ""}`).digest("hex");
  // Shape it as an RFC 4122 version-5-style UUID (ACS validates the Operation-Id format).
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
