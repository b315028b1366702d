/**
 * Renders and sends each claimed unit, then records the outcome on its rows. Sending happens only
 * from stored rows this instance holds a lease on, so concurrent monitors never send one twice.
 *
 * ACS is not assumed to de-duplicate a repeated operation id (docs/azure-behaviour.md, "Email send
 * protocol"): each attempt is one POST; its 202 is recorded at once as "sent" (accepted); an
 * attempt whose outcome is unknown is never re-sent before a status read says ACS does not have it.
 */
import type { CycleContext } from "./cycleContext";
import { reportedOutcome } from "../domain/deliveryReport";
import { EmailNotAcceptedError } from "../ports/errors";
import { describeFailure, isRetryable, type FailureInfo } from "../ports/failures";
import type { EmailOperationStatus } from "../ports/emailSender";
import type { StoredMessage } from "../ports/incidentStore";
import { mapWithConcurrency } from "./concurrency";
import { renderUnit } from "./renderOutboxEmail";
import type { Stage } from "./stage";
import { operationIdFor, type SendTally, type SendUnit } from "./sendUnit";

export { operationIdFor };

// Never wait longer than one default poll interval: after an outage, mail goes out on the next poll.
const MAX_BACKOFF_IN_MINUTES = 5;
/** A digest's rows are each their own partition: their outcomes are recorded this many at a time. */
const MARK_CONCURRENCY = 8;
/** When the one final-status read of an accepted email is due: late enough that ACS has usually decided. */
export const OUTCOME_CHECK_DELAY_IN_MINUTES = 5;
/**
 * With delivery reports wired (CMK_DELIVERY_REPORTS=on), how long after the 202 the final-status
 * read waits for a report that makes it unnecessary. Reports follow the delivery attempt, usually
 * within minutes; Event Grid may delay one (retries for up to 24 hours) or drop it, so after this
 * the status is read after all: a Failed operation is then re-sent at most this late.
 */
export const DELIVERY_REPORT_WAIT_IN_MINUTES = 30;
/** A 429 without Retry-After still holds the outbox this long. */
const DEFAULT_THROTTLE_IN_SECONDS = 60;

export interface SendOutcome {
  unit: SendUnit;
  status: "sent" | "retrying" | "dead";
}

export function sendStage(tally: SendTally): Stage<SendUnit, SendOutcome> {
  return {
    name: "send",
    async run(ctx, units) {
      const outcomes: SendOutcome[] = [];
      for (const unit of units) {
        // After a 429 nothing more is sent this drain: the claimed rest waits for the Retry-After.
        // After a 5xx neither: the rest waits a minute unsent, so it is not in doubt (no status read before its send).
        if (tally.throttledUntil) outcomes.push(await holdBack(ctx, unit, tally.throttledUntil, "ACS throttled the drain"));
        else if (tally.unavailableUntil)
          outcomes.push(await holdBack(ctx, unit, tally.unavailableUntil, "ACS answered an earlier send of the drain with a server error"));
        else outcomes.push(await sendOne(ctx, unit, tally));
      }
      return outcomes;
    },
  };
}

/** Which statuses mean ACS has the operation (so it must not be sent again). */
export function isAccepted(status: EmailOperationStatus): boolean {
  return status === "NotStarted" || status === "Running" || status === "Succeeded";
}

/** When a 429 lets the next call through; the drain never waits for it, it records it. */
export function throttledUntil(now: Date, info: FailureInfo): Date {
  return new Date(now.getTime() + (info.retryAfterInSeconds ?? DEFAULT_THROTTLE_IN_SECONDS) * 1000);
}

async function sendOne(ctx: CycleContext, unit: SendUnit, tally: SendTally): Promise<SendOutcome> {
  if (unit.inDoubt !== undefined) {
    const verdict = await verifyInDoubt(ctx, unit, unit.inDoubt, tally);
    if (verdict) return verdict;
  }
  const { email, log } = ctx.deps;
  const first = unit.members[0]!.message;
  const key = unit.digestId ?? first.key;
  const generation = Math.max(...unit.members.map((stored) => stored.generation));
  const operationId = operationIdFor(key, generation);
  try {
    const rendered = await renderUnit(ctx, unit);
    // "POST started", on the unit's rows just before the request leaves: a crash from here
    // leaves the unit in doubt (read back before any re-send); before it, nothing was sent.
    if (!(await markPostStarting(ctx, unit, operationId))) return { unit, status: "retrying" };
    // From here the attempt counts against ACS's limits unless it provably never left this process.
    tally.used += 1;
    const result = await email.send({
      operationId,
      from: ctx.settings.emailSender,
      to: first.to,
      cc: first.cc,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      ...(rendered.attachments ? { attachments: rendered.attachments } : {}),
      idempotencyKey: key,
    });
    await recordAccepted(ctx, unit, result.operationId, "Running");
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
    const refused = error instanceof EmailNotAcceptedError;
    if (refused && error.neverSent) tally.used -= 1;
    if (refused && info.reason === "throttled") {
      tally.throttledUntil = throttledUntil(ctx.now, info);
      await deferBudget(ctx, tally.throttledUntil, "send");
    }
    if (!refused && info.statusCode !== undefined && info.statusCode >= 500) {
      // Every drain (other instances, work batches) holds its sends back too: one attempt in doubt per outage minute, not one per row.
      tally.unavailableUntil = nextAttemptAt(ctx.now, 1, info.retryAfterInSeconds);
      await deferBudget(ctx, tally.unavailableUntil, "send");
    }
    const retryable = isRetryable(info) || info.reason === "auth";
    const attempts = Math.max(...unit.members.map((stored) => stored.attempts));
    // In doubt: wait until ACS has usually decided, so the one status read before the retry sees the final state.
    const earliest = refused ? tally.throttledUntil : laterOf(new Date(ctx.now.getTime() + OUTCOME_CHECK_DELAY_IN_MINUTES * 60_000), tally.throttledUntil);
    const retryAt = retryable ? laterOf(nextAttemptAt(ctx.now, attempts, info.retryAfterInSeconds), earliest) : undefined;
    log.error(
      `cmk-monitor: send failed for ${first.kind}${unit.digestId ? ` digest of ${unit.members.length}` : ""} [${key}] (${info.reason}${info.statusCode ? ` ${info.statusCode}` : ""}): ${info.message}; ${
        refused ? "not accepted" : "may have been accepted, its status is read before any re-send"
      }; ${retryAt ? `retrying at ${retryAt.toISOString()}` : "not retried: needs a person"}`,
    );
    // Refused: ACS does not have it, the retry may POST straight away. Anything else keeps the
    // unverifiedOperationId written just before the POST, so the retry reads the status first.
    await markEach(ctx, unit.members, (stored) =>
      ctx.deps.store.markFailed(stored, `${info.reason}: ${info.message}`, retryAt, refused ? { verified: true } : {}),
    );
    if (retryAt) ctx.stats.emailsRetrying += 1;
    else ctx.stats.emailsDead += 1;
    return { unit, status: retryAt ? "retrying" : "dead" };
  }
}

/**
 * Writes "POST started" on every row of the unit (as the claim used to: a digest row whose outcome
 * could not be recorded must still say "ask ACS first"). False when the POST must not leave: a
 * lease was lost to another instance, or a mark could not be written (the lease runs out, the unit
 * is claimed again; a row already marked is read back first, which finds nothing and sends).
 */
async function markPostStarting(ctx: CycleContext, unit: SendUnit, operationId: string): Promise<boolean> {
  const key = unit.digestId ?? unit.members[0]!.message.key;
  const marked = await mapWithConcurrency(unit.members, MARK_CONCURRENCY, async (stored) => {
    try {
      return await ctx.deps.store.markPostStarting(stored, operationId);
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: could not record that the send of [${key}] is starting: ${describeFailure(error).message}`);
      return null;
    }
  });
  if (marked.some((row) => row === undefined)) {
    // Another instance claimed a row after this lease ran out: the unit is that instance's to send.
    ctx.stats.emailsSkippedByOtherInstance += 1;
    return false;
  }
  if (marked.some((row) => row === null)) {
    ctx.stats.emailsDeferred += 1;
    return false;
  }
  marked.forEach((row, i) => (unit.members[i] = row!));
  return true;
}

/**
 * An earlier attempt of this unit may have reached ACS: reads its status once (on the status
 * budget). Accepted → recorded as sent, no POST; Failed/Canceled → a new operation, sent by the
 * next drain; unknown to ACS (404) → undefined: the caller POSTs under the same id. No budget, or a
 * failed read → the rows wait, still in doubt.
 */
async function verifyInDoubt(ctx: CycleContext, unit: SendUnit, operationId: string, tally: SendTally): Promise<SendOutcome | undefined> {
  const { log, store } = ctx.deps;
  const key = unit.digestId ?? unit.members[0]!.message.key;
  if (unit.members.some((stored) => reportedOutcome(stored.deliveryResults, operationId) === "processed")) {
    // A delivery report for this attempt's operation: ACS accepted and processed it; no read needed, before or after.
    log.info(`cmk-monitor: a delivery report shows the earlier attempt of [${key}] reached ACS: recorded as sent, not sent again`);
    ctx.stats.statusReadsSkipped += 1;
    await recordAccepted(ctx, unit, operationId, "Succeeded");
    return { unit, status: "sent" };
  }
  const status = await readStatus(ctx, operationId);
  if (status === "not-found") return undefined;
  if (status === "no-budget" || status === "failed") {
    // Not a send attempt: the reservation goes back, the rows wait for the next drain.
    const retryAt = laterOf(new Date(ctx.now.getTime() + 60_000), tally.throttledUntil);
    await markEach(ctx, unit.members, (stored) => store.markFailed(stored, "waiting to read the status of the earlier attempt", retryAt));
    ctx.stats.emailsDeferred += 1;
    return { unit, status: "retrying" };
  }
  if (isAccepted(status)) {
    log.info(`cmk-monitor: the earlier attempt of [${key}] reached ACS (${status}): recorded as sent, not sent again`);
    await recordAccepted(ctx, unit, operationId, status);
    return { unit, status: "sent" };
  }
  log.warn(`cmk-monitor: the earlier attempt of [${key}] ended ${status} at ACS: it goes out again under a new operation id`);
  await markEach(ctx, unit.members, (stored) =>
    store.markFailed(stored, `ACS operation ${operationId} ended ${status}`, ctx.now, { newOperation: true, releaseDigest: unit.digestId !== undefined }),
  );
  ctx.stats.emailsRetrying += 1;
  return { unit, status: "retrying" };
}

/** One status read within the shared status budget; a 429 defers every instance's reads. */
export async function readStatus(ctx: CycleContext, operationId: string): Promise<EmailOperationStatus | "not-found" | "no-budget" | "failed"> {
  const { email, log, sendBudget } = ctx.deps;
  const limits = { perMinute: ctx.settings.emailStatusRatePerMinute, perHour: ctx.settings.emailStatusRatePerHour };
  let granted = 0;
  try {
    granted = await sendBudget.reserveEmailSends(ctx.now, 1, limits, "status");
  } catch (error) {
    log.warn(`cmk-monitor: could not reserve an email status read: ${describeFailure(error).message}`);
  }
  if (granted === 0) return "no-budget";
  try {
    return (await email.readOperationStatus(operationId)) ?? "not-found";
  } catch (error) {
    const info = describeFailure(error);
    log.warn(
      `cmk-monitor: could not read the status of ACS operation ${operationId} (${info.reason}${info.statusCode ? ` ${info.statusCode}` : ""}): ${info.message}`,
    );
    if (info.reason === "throttled") await deferBudget(ctx, throttledUntil(ctx.now, info), "status");
    return "failed";
  }
}

/** ACS has the operation: every row is sent; the final status is read once later unless already known. */
async function recordAccepted(ctx: CycleContext, unit: SendUnit, operationId: string, status: EmailOperationStatus): Promise<void> {
  const outcomeCheckAt = status === "Succeeded" ? undefined : new Date(ctx.now.getTime() + OUTCOME_CHECK_DELAY_IN_MINUTES * 60_000);
  await markEach(ctx, unit.members, (stored) => ctx.deps.store.markSent(stored, ctx.now, operationId, outcomeCheckAt ? { outcomeCheckAt } : {}));
  ctx.stats.emailsSent += 1;
}

/**
 * What the due final-status check of one accepted operation (all rows sent under it) does now.
 * Without delivery reports: read. With them: a report proving ACS processed the operation makes
 * the read unnecessary (`skip`); a Failed or unknown report means read now (only the operation's
 * status says whether to send again); no report yet: wait for one until
 * DELIVERY_REPORT_WAIT_IN_MINUTES after the 202, then read.
 */
export function finalReadAction(
  members: readonly StoredMessage[],
  operationId: string,
  now: Date,
  deliveryReports: boolean,
): { action: "read" } | { action: "skip" } | { action: "wait"; until: Date } {
  if (!deliveryReports) return { action: "read" };
  const outcomes = members.map((stored) => reportedOutcome(stored.deliveryResults, operationId));
  if (outcomes.includes("processed")) return { action: "skip" };
  if (outcomes.includes("inconclusive")) return { action: "read" };
  const sentAt = Math.min(...members.map((stored) => Date.parse(stored.sentAt ?? "")).filter((ms) => !Number.isNaN(ms)));
  // A row without a send time (should not happen) is read as before rather than waited on for good.
  if (!Number.isFinite(sentAt)) return { action: "read" };
  const until = new Date(sentAt + DELIVERY_REPORT_WAIT_IN_MINUTES * 60_000);
  return until > now ? { action: "wait", until } : { action: "read" };
}

/** Holds a claimed unit back unsent (ACS throttled or failed this drain); an earlier attempt's doubt is kept. */
async function holdBack(ctx: CycleContext, unit: SendUnit, until: Date, why: string): Promise<SendOutcome> {
  await markEach(ctx, unit.members, (stored) =>
    ctx.deps.store.markFailed(stored, `held back: ${why}`, until, unit.inDoubt === undefined ? { verified: true } : {}),
  );
  ctx.stats.emailsDeferred += 1;
  return { unit, status: "retrying" };
}

async function deferBudget(ctx: CycleContext, until: Date, budget: "send" | "status"): Promise<void> {
  try {
    await ctx.deps.sendBudget.deferEmailCalls(until, budget);
  } catch (error) {
    // This instance still stops for the drain; other instances find out from their own 429.
    ctx.deps.log.warn(`cmk-monitor: could not record the ACS ${budget} throttle: ${describeFailure(error).message}`);
  }
}

async function markEach(ctx: CycleContext, members: readonly StoredMessage[], mark: (stored: StoredMessage) => Promise<void>): Promise<void> {
  await mapWithConcurrency(members, MARK_CONCURRENCY, async (stored) => {
    try {
      await mark(stored);
    } catch (markError) {
      // The lease expires and the row is picked up again; its unverifiedOperationId makes that retry ask ACS first.
      ctx.deps.log.warn(`cmk-monitor: could not record the send outcome [${stored.message.key}]: ${describeFailure(markError).message}`);
    }
  });
}

function laterOf(a: Date, b: Date | undefined): Date {
  return b && b > a ? b : a;
}

/** Exponential backoff from one minute, capped, never sooner than the service asked. */
export function nextAttemptAt(now: Date, attempts: number, retryAfterInSeconds?: number): Date {
  const backoffInMinutes = Math.min(2 ** Math.max(0, attempts - 1), MAX_BACKOFF_IN_MINUTES);
  const waitInMs = Math.max(backoffInMinutes * 60_000, (retryAfterInSeconds ?? 0) * 1000);
  return new Date(now.getTime() + waitInMs);
}
