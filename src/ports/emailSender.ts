/**
 * Port: the email service as it is documented, nothing more. A send is one POST; ACS's 202 is the
 * commit point (accepted, not delivered). A repeated operation id is NOT assumed to be
 * de-duplicated (docs/azure-behaviour.md "Email send protocol"), so the caller never re-sends an
 * attempt whose outcome is unknown without first reading its status.
 */

/** An inline attachment as ACS takes it (`EmailAttachment` in @azure/communication-email 1.1.0). */
export interface EmailAttachment {
  name: string;
  contentType: "image/png";
  /** The file, base64-encoded. */
  contentInBase64: string;
  /** Referenced from the HTML as `cid:<contentId>`; makes the attachment inline. */
  contentId: string;
}

export interface OutgoingEmail {
  /** Deterministic UUID from the idempotency key and the attempt's generation. */
  operationId: string;
  from: string;
  to: readonly string[];
  cc: readonly string[];
  subject: string;
  text: string;
  html: string;
  /** Inline images; only the weekly report carries any. */
  attachments?: readonly EmailAttachment[];
  /** The monitor's idempotency key, sent as a header so recipients' tooling can de-duplicate too. */
  idempotencyKey: string;
}

export interface SendResult {
  operationId: string;
}

/** What `GET /emails/operations/{id}` reports; `Succeeded` means accepted for delivery. */
export type EmailOperationStatus = "NotStarted" | "Running" | "Succeeded" | "Failed" | "Canceled";

export interface EmailSender {
  /**
   * One POST, never retried by the client. Resolves when ACS answered 202 (accepted). Throws
   * EmailNotAcceptedError when ACS provably did not accept it (it answered with an error status,
   * or the request never left this process); anything else leaves the outcome unknown.
   */
  send(email: OutgoingEmail): Promise<SendResult>;
  /** One status read, never retried by the client; undefined when ACS does not know the operation (404). */
  readOperationStatus(operationId: string): Promise<EmailOperationStatus | undefined>;
}
