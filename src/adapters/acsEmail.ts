/** Email sender over Azure Communication Services (`@azure/communication-email`). */
import { EmailClient, type EmailMessage } from "@azure/communication-email";

export interface OutgoingEmail {
  /** Deterministic UUID from the idempotency key: a repeated send is the same ACS operation. */
  operationId: string;
  from: string;
  to: readonly string[];
  cc: readonly string[];
  subject: string;
  text: string;
  html: string;
  /** The monitor's idempotency key, sent as a header so recipients' tooling can de-duplicate too. */
  idempotencyKey: string;
}

export interface SendResult {
  operationId: string;
}

/** Port: something that delivers an email or throws. */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<SendResult>;
}

/** Thrown when ACS accepted the message but reports the operation did not succeed. */
export class EmailOperationFailedError extends Error {
  override readonly name = "EmailOperationFailedError";
  constructor(
    readonly operationId: string,
    readonly status: string,
    detail: string,
  ) {
    super(`ACS email operation ${operationId} ended ${status}${detail ? `: ${detail}` : ""}`);
  }
}

const LRO_FAILED = /^The long-running operation has failed/;

/** Network failures that happen before a request is on the wire: ACS never saw it. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);
const notAccepted = new WeakSet<object>();

/**
 * True when ACS definitely did not accept the send: the send request itself got an error answer
 * (429, 5xx, 4xx) or never reached it. Such an attempt does not count against ACS's sending
 * limits, so the outbox gives back the budget it reserved for it. A timeout or a failure while
 * polling is not such a case: the email may have been accepted.
 */
export function wasNotAccepted(error: unknown): boolean {
  return typeof error === "object" && error !== null && notAccepted.has(error);
}

export interface AcsEmailSenderOptions {
  /** How often to poll the send operation; ACS suggests seconds, tests use 0. */
  pollIntervalInMs?: number;
}

export class AcsEmailSender implements EmailSender {
  constructor(
    private readonly client: EmailClient,
    private readonly options: AcsEmailSenderOptions = {},
  ) {}

  async send(email: OutgoingEmail): Promise<SendResult> {
    const message: EmailMessage = {
      senderAddress: email.from,
      content: { subject: email.subject, plainText: email.text, html: email.html },
      recipients: {
        to: email.to.map((address) => ({ address })),
        ...(email.cc.length > 0 ? { cc: email.cc.map((address) => ({ address })) } : {}),
      },
      headers: { "X-CMK-Monitor-Key": email.idempotencyKey },
      disableUserEngagementTracking: true,
    };
    let result;
    try {
      let poller;
      try {
        poller = await this.client.beginSend(message, {
          operationId: email.operationId,
          updateIntervalInMs: this.options.pollIntervalInMs ?? 2000,
        });
      } catch (error) {
        const { statusCode, code } = (error ?? {}) as { statusCode?: number; code?: string };
        if (typeof error === "object" && error !== null && ((statusCode !== undefined && statusCode >= 400) || (code !== undefined && NEVER_SENT.has(code)))) {
          notAccepted.add(error);
        }
        throw error;
      }
      result = await poller.pollUntilDone();
    } catch (error) {
      // core-lro reports an operation that ended "Failed" as a plain Error with this text and no
      // status code; it is the one definite "not delivered", so give it a type callers can test.
      if (error instanceof Error && (error as { statusCode?: number }).statusCode === undefined && LRO_FAILED.test(error.message)) {
        throw new EmailOperationFailedError(email.operationId, "Failed", error.message);
      }
      throw error;
    }
    // A poller can stop early (e.g. no operation-location); only "Succeeded" means delivered.
    if (result.status !== "Succeeded") {
      throw new EmailOperationFailedError(email.operationId, result.status, result.error?.message ?? "");
    }
    return { operationId: result.id || email.operationId };
  }
}
