/**
 * Port: something that delivers an email or throws: EmailNotAcceptedError when the service
 * definitely did not accept it, EmailOperationFailedError when it accepted but did not deliver it
 * (./errors); anything else may or may not have been accepted.
 */

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
