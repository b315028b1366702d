/**
 * Errors a caller of a port acts on differently: each is thrown by an adapter and branched on by
 * the pipeline (by class, never by message text). Everything else is described by failures.ts.
 */

/** Another writer changed the account's partition (or a row) first: reload and decide again. */
export class StateConflictError extends Error {
  override readonly name = "StateConflictError";
  constructor(
    readonly accountId: string,
    cause?: unknown,
  ) {
    super(`State of ${accountId} changed concurrently`);
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * The email service definitely did not accept the send: the send request itself got a 4xx answer
 * (a 429 too) or never reached it. A 5xx or a timeout is not this: ACS may have accepted it. Its
 * status code, code and message are those of the underlying error (`cause`).
 */
export class EmailNotAcceptedError extends Error {
  override readonly name = "EmailNotAcceptedError";
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  readonly response: unknown;
  /**
   * True only when the request provably never reached ACS (refused connection, unresolved host):
   * only then does it not count against ACS's limits. An error answer from ACS still counts.
   */
  readonly neverSent: boolean;
  constructor(cause: unknown, options: { neverSent?: boolean } = {}) {
    const err = (cause ?? {}) as { message?: unknown; statusCode?: unknown; code?: unknown; response?: unknown };
    super(typeof err.message === "string" ? err.message : String(cause));
    this.neverSent = options.neverSent === true;
    this.statusCode = typeof err.statusCode === "number" ? err.statusCode : undefined;
    this.code = typeof err.code === "string" ? err.code : undefined;
    this.response = err.response;
    (this as { cause?: unknown }).cause = cause;
  }
}

/** The email service accepted the message but reports the operation did not succeed: definitely not delivered. */
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
