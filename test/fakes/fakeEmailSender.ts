/**
 * ACS email as the monitor sees it: a send with an operation id ACS has seen before is the same
 * operation (delivered once), and the next sends can be told to fail the ways ACS fails.
 */
import type { EmailSender, OutgoingEmail, SendResult } from "../../src/ports/emailSender";
import { EmailNotAcceptedError, EmailOperationFailedError } from "../../src/ports/errors";

/**
 * not-accepted: ACS answered the send with an error (here a 503); operation-failed: it accepted and
 * reports the operation Failed; timeout: no answer in time (it may or may not have been accepted).
 */
export type SendFailure = "not-accepted" | "operation-failed" | "timeout";

export class FakeEmailSender implements EmailSender {
  /** Every send call, in order, including the ones that failed. */
  readonly attempts: OutgoingEmail[] = [];
  /** Emails delivered, once per operation id. */
  readonly delivered: OutgoingEmail[] = [];
  /** Sends that reused an operation id ACS had already delivered (deduplicated, not delivered again). */
  repeats = 0;
  private readonly failures: SendFailure[] = [];

  /** The next `count` sends fail with `failure`. */
  failNext(count: number, failure: SendFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  async send(email: OutgoingEmail): Promise<SendResult> {
    this.attempts.push(email);
    const failure = this.failures.shift();
    if (failure) throw sendError(failure, email.operationId);
    if (this.delivered.some((sent) => sent.operationId === email.operationId)) this.repeats += 1;
    else this.delivered.push(email);
    return { operationId: email.operationId };
  }

  /** Delivered emails whose subject contains `text`. */
  deliveredAbout(text: string): OutgoingEmail[] {
    return this.delivered.filter((email) => email.subject.includes(text));
  }
}

function sendError(failure: SendFailure, operationId: string): Error {
  switch (failure) {
    case "not-accepted":
      return new EmailNotAcceptedError(Object.assign(new Error("Service Unavailable"), { statusCode: 503 }));
    case "operation-failed":
      return new EmailOperationFailedError(operationId, "Failed", "recipient mailbox unavailable");
    case "timeout":
      return Object.assign(new Error("The send did not answer within 30 s"), { name: "TimeoutError" });
  }
}
