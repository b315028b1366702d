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
 * The email service definitely did not accept the send: the send request itself got an error
 * answer (429, 5xx, 4xx) or never reached it. It does not count against the service's sending
 * limits. Its status code, code and message are those of the underlying error (`cause`).
 */
export class EmailNotAcceptedError extends Error {
  override readonly name = "EmailNotAcceptedError";
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  readonly response: unknown;
  constructor(cause: unknown) {
    const err = (cause ?? {}) as { message?: unknown; statusCode?: unknown; code?: unknown; response?: unknown };
    super(typeof err.message === "string" ? err.message : String(cause));
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
