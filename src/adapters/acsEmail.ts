/** Email sender over Azure Communication Services (`@azure/communication-email`). */
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { statusCodeOf } from "../ports/failures";
import type { EmailSender, OutgoingEmail, SendResult } from "../ports/emailSender";
import { EmailNotAcceptedError, EmailOperationFailedError } from "../ports/errors";

const LRO_FAILED = /^The long-running operation has failed/;

/** Network failures that happen before a request is on the wire: ACS never saw it. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * True when ACS definitely did not accept the send: the send request itself got an error answer
 * (429, 5xx, 4xx) or never reached it. A timeout or a failure while polling is not such a case:
 * the email may have been accepted.
 */
function sendWasRefused(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  const statusCode = statusCodeOf(error);
  return (statusCode !== undefined && statusCode >= 400) || (typeof code === "string" && NEVER_SENT.has(code));
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
        throw sendWasRefused(error) ? new EmailNotAcceptedError(error) : error;
      }
      result = await poller.pollUntilDone();
    } catch (error) {
      // core-lro reports an operation that ended "Failed" as a plain Error with this text and no
      // status code; it is the one definite "not delivered", so give it a type callers can test.
      if (error instanceof Error && statusCodeOf(error) === undefined && LRO_FAILED.test(error.message)) {
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
