/**
 * Renders and sends each claimed unit, then records the outcome on its rows. Sending happens only
 * from stored rows this instance holds a lease on, so concurrent monitors never send one twice.
 */
import { createHash } from "node:crypto";
import { EmailNotAcceptedError, EmailOperationFailedError } from "../ports/errors";
import { describeFailure, isRetryable } from "../ports/failures";
import { mapWithConcurrency } from "./concurrency";
import type { CycleContext } from "./cycleContext";
import { renderUnit } from "./renderOutboxEmail";
import type { Stage } from "./stage";
import type { SendTally, SendUnit } from "./sendUnit";

// Never wait longer than one default poll interval: after an outage, mail goes out on the next poll.
const MAX_BACKOFF_IN_MINUTES = 5;
/** A digest's rows are each their own partition: their outcomes are recorded this many at a time. */
const MARK_CONCURRENCY = 8;

export interface SendOutcome {
  unit: SendUnit;
  status: "sent" | "retrying" | "dead";
}

export function sendStage(tally: SendTally): Stage<SendUnit, SendOutcome> {
  return {
    name: "send",
    async run(ctx, units) {
      const outcomes: SendOutcome[] = [];
      for (const unit of units) outcomes.push(await sendOne(ctx, unit, tally));
      return outcomes;
    },
  };
}

async function sendOne(ctx: CycleContext, unit: SendUnit, tally: SendTally): Promise<SendOutcome> {
  const { store, email, log } = ctx.deps;
  const first = unit.members[0]!.message;
  const key = unit.digestId ?? first.key;
  const generation = Math.max(...unit.members.map((stored) => stored.generation));
  try {
    const rendered = await renderUnit(ctx, unit);
    // From here the attempt counts against ACS's limits unless ACS says it did not accept it.
    tally.used += 1;
    const result = await email.send({
      operationId: operationIdFor(key, generation),
      from: ctx.settings.emailSender,
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
        await store.markFailed(
          stored,
          `${info.reason}: ${info.message}`,
          retryAt,
          unit.digestId ? { releaseDigest: notDelivered, newOperation: notDelivered } : { newOperation: notDelivered },
        );
      } catch (markError) {
        // The lease expires and the message is picked up again: nothing is lost.
        log.warn(`cmk-monitor: could not record the failed send [${stored.message.key}]: ${describeFailure(markError).message}`);
      }
    });
    if (retryAt) ctx.stats.emailsRetrying += 1;
    else ctx.stats.emailsDead += 1;
    if (error instanceof EmailNotAcceptedError) tally.used -= 1;
    return { unit, status: retryAt ? "retrying" : "dead" };
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
  const hex = createHash("sha256")
    .update(`cmk-monitor:${key}${generation > 0 ? `#${generation}` : ""}`)
    .digest("hex");
  // Shape it as an RFC 4122 version-5-style UUID (ACS validates the Operation-Id format).
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
