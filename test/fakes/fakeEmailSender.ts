/**
 * ACS email as documented, pessimistically: every accepted POST is delivered, a repeated operation
 * id included (nothing promises de-duplication); an operation's status can be read back; and the
 * next sends can be told to fail the ways ACS fails.
 */
import type { EmailOperationStatus, EmailSender, OutgoingEmail, SendResult } from "../../src/ports/emailSender";
import { EmailNotAcceptedError } from "../../src/ports/errors";

/**
 * not-accepted: ACS answered the send with a 4xx (here a 429; not delivered); server-error: a 503
 * (not delivered, but the monitor cannot know that); timeout: accepted and delivered, the answer
 * lost on the way back; operation-failed: accepted (202), and the operation then ends Failed (not delivered);
 * refused-connection: the request never left (ECONNREFUSED): not accepted, and it cost ACS nothing.
 */
export type SendFailure = "not-accepted" | "refused-connection" | "server-error" | "timeout" | "operation-failed";

export class FakeEmailSender implements EmailSender {
  /** Every send call, in order, including the ones that failed. */
  readonly attempts: OutgoingEmail[] = [];
  /** Emails delivered: every accepted POST whose operation did not fail, repeats included. */
  readonly delivered: OutgoingEmail[] = [];
  /** Accepted POSTs that reused an operation id already accepted (delivered again all the same). */
  repeats = 0;
  /** Every status read, by operation id. */
  readonly statusReads: string[] = [];
  /** The next status reads fail with this error (one each). */
  readonly statusFailures: Error[] = [];
  private readonly operations = new Map<string, EmailOperationStatus>();
  private readonly failures: SendFailure[] = [];

  /** The next `count` sends fail with `failure`. */
  failNext(count: number, failure: SendFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  async send(email: OutgoingEmail): Promise<SendResult> {
    this.attempts.push(email);
    const failure = this.failures.shift();
    if (failure === "not-accepted") {
      throw new EmailNotAcceptedError(Object.assign(new Error("Too Many Requests"), { statusCode: 429 }));
    }
    if (failure === "refused-connection") {
      throw new EmailNotAcceptedError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { neverSent: true });
    }
    if (failure === "server-error") throw Object.assign(new Error("Service Unavailable"), { statusCode: 503 });
    if (this.operations.has(email.operationId)) this.repeats += 1;
    if (failure === "operation-failed") {
      this.operations.set(email.operationId, "Failed");
      return { operationId: email.operationId };
    }
    this.operations.set(email.operationId, "Succeeded");
    this.delivered.push(email);
    if (failure === "timeout") throw Object.assign(new Error("The send did not answer within 30 s"), { name: "TimeoutError" });
    return { operationId: email.operationId };
  }

  async readOperationStatus(operationId: string): Promise<EmailOperationStatus | undefined> {
    this.statusReads.push(operationId);
    const failure = this.statusFailures.shift();
    if (failure) throw failure;
    return this.operations.get(operationId);
  }

  /** What ACS will report for `operationId` from now on (an accepted operation that later ends Failed, say). */
  setOperationStatus(operationId: string, status: EmailOperationStatus): void {
    this.operations.set(operationId, status);
  }

  /** Delivered emails whose subject contains `text`. */
  deliveredAbout(text: string): OutgoingEmail[] {
    return this.delivered.filter((email) => email.subject.includes(text));
  }
}
