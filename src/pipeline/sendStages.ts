/**
 * Stages that drain the outbox: due → claim → send. Sending happens only from a stored
 * message that this instance holds a lease on, so concurrent monitors never send twice.
 */
import { createHash } from "node:crypto";
import { EmailOperationFailedError } from "../adapters/acsEmail";
import { describeFailure, isRetryable } from "../adapters/azureErrors";
import type { StoredMessage } from "../adapters/tableStore";
import type { MessageFacts, OutboxMessage } from "../domain/incident";
import { renderEmail, type RenderedEmail } from "../email/templates";
import { ownerLinksFor } from "./ownerLinks";
import type { CycleContext, Stage } from "./stage";

// Never wait longer than one default poll interval: after an outage, mail goes out on the next poll.
const MAX_BACKOFF_IN_MINUTES = 5;

/** Messages whose time has come (new, retry due, or abandoned mid-send by a crashed instance). */
export const dueMessagesStage: Stage<Date, StoredMessage> = {
  name: "due",
  async run(ctx, [now]) {
    return ctx.deps.store.listDueMessages(now ?? ctx.now);
  },
};

/** Takes a lease on each message; one that another instance holds is skipped. */
export const claimStage: Stage<StoredMessage, StoredMessage> = {
  name: "claim",
  async run(ctx, messages) {
    const claimed: StoredMessage[] = [];
    for (const stored of messages) {
      const lease = await ctx.deps.store.claimMessage(stored, ctx.now, ctx.deps.settings.sendLeaseInSeconds);
      if (lease) claimed.push(lease);
      else ctx.stats.emailsSkippedByOtherInstance += 1;
    }
    return claimed;
  },
};

export interface SendOutcome {
  stored: StoredMessage;
  status: "sent" | "retrying" | "dead";
}

/** Renders and sends each claimed message, then records the outcome on its row. */
export const sendStage: Stage<StoredMessage, SendOutcome> = {
  name: "send",
  async run(ctx, messages) {
    const outcomes: SendOutcome[] = [];
    for (const stored of messages) outcomes.push(await sendOne(ctx, stored));
    return outcomes;
  },
};

async function sendOne(ctx: CycleContext, stored: StoredMessage): Promise<SendOutcome> {
  const { store, email, log, settings } = ctx.deps;
  const { message } = stored;
  try {
    const rendered = message.facts.kind === "warning-digest" ? renderEmail(message.facts) : await renderIncidentEmail(ctx, message, message.facts);
    const result = await email.send({
      operationId: operationIdFor(message.key, stored.generation),
      from: settings.emailSender,
      to: message.to,
      cc: message.cc,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      idempotencyKey: message.key,
    });
    await store.markSent(stored, ctx.now, result.operationId);
    ctx.stats.emailsSent += 1;
    log.info(`cmk-monitor: sent ${message.kind} for ${message.accountId} to ${message.to.length + message.cc.length} recipient(s) [${message.key}]`);
    return { stored, status: "sent" };
  } catch (error) {
    const info = describeFailure(error);
    const retryable = isRetryable(info) || info.reason === "auth";
    const retryAt = retryable ? nextAttemptAt(ctx.now, stored.attempts, info.retryAfterInSeconds) : undefined;
    log.error(
      `cmk-monitor: send failed for ${message.kind} [${message.key}] (${info.reason}${info.statusCode ? ` ${info.statusCode}` : ""}): ${info.message}; ${
        retryAt ? `retrying at ${retryAt.toISOString()}` : "not retried: needs a person"
      }`,
    );
    try {
      // Only a definite "Failed" from ACS may use a new operation id; anything else might have
      // been accepted, and reusing the id is what keeps a retry from delivering twice.
      await store.markFailed(stored, `${info.reason}: ${info.message}`, retryAt, {
        newOperation: error instanceof EmailOperationFailedError,
      });
    } catch (markError) {
      // The lease expires and the message is picked up again: nothing is lost.
      log.warn(`cmk-monitor: could not record the failed send [${message.key}]: ${describeFailure(markError).message}`);
    }
    if (retryAt) ctx.stats.emailsRetrying += 1;
    else ctx.stats.emailsDead += 1;
    return { stored, status: retryAt ? "retrying" : "dead" };
  }
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

/** Exponential backoff from one minute, capped, never sooner than the service asked. */
export function nextAttemptAt(now: Date, attempts: number, retryAfterInSeconds?: number): Date {
  const backoffInMinutes = Math.min(2 ** Math.max(0, attempts - 1), MAX_BACKOFF_IN_MINUTES);
  const waitInMs = Math.max(backoffInMinutes * 60_000, (retryAfterInSeconds ?? 0) * 1000);
  return new Date(now.getTime() + waitInMs);
}

/** A UUID derived from the idempotency key, so a re-send reuses the ACS operation id. */
export function operationIdFor(key: string, generation = 0): string {
  const hex = createHash("sha256").update(`cmk-monitor:${key}${generation > 0 ? `#${generation}` : ""}`).digest("hex");
  // Shape it as an RFC 4122 version-5-style UUID (ACS validates the Operation-Id format).
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
