/**
 * One place that turns what a port's adapter threw (SDK/HTTP errors) into the few reasons callers
 * act on. Callers branch on `reason`, never on message text; nothing else reads an error's fields.
 */
/**
 * Where the deadline policy (src/adapters/deadlinePolicy.ts) puts a Retry-After the invocation
 * cannot afford to sleep on, so the SDK does not retry but the caller still knows when to come back.
 */
export const DEFERRED_RETRY_AFTER_HEADER = "x-cmk-deferred-retry-after";

export type FailureReason = "auth" | "throttled" | "transient" | "not-found" | "conflict" | "invalid" | "unknown";

export interface FailureInfo {
  reason: FailureReason;
  statusCode?: number;
  retryAfterInSeconds?: number;
  /** One line, safe to log. */
  message: string;
}

const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "ESOCKETTIMEDOUT", "REQUEST_SEND_ERROR"]);

export function describeFailure(error: unknown): FailureInfo {
  const err = (error ?? {}) as {
    statusCode?: unknown;
    code?: unknown;
    name?: unknown;
    message?: unknown;
    response?: { headers?: { get?(name: string): string | undefined } };
  };
  const statusCode = typeof err.statusCode === "number" ? err.statusCode : undefined;
  const code = typeof err.code === "string" ? err.code : undefined;
  const message = oneLine(typeof err.message === "string" ? err.message : String(error));
  const headers = err.response?.headers;
  const retryAfter = parseRetryAfter(headers?.get?.("retry-after") ?? headers?.get?.(DEFERRED_RETRY_AFTER_HEADER));
  const base = { message, ...(statusCode !== undefined ? { statusCode } : {}), ...(retryAfter !== undefined ? { retryAfterInSeconds: retryAfter } : {}) };

  if (statusCode === 401 || statusCode === 403 || err.name === "CredentialUnavailableError" || err.name === "AuthenticationError") {
    return { reason: "auth", ...base };
  }
  if (statusCode === 429) return { reason: "throttled", ...base };
  if (statusCode === 404) return { reason: "not-found", ...base };
  if (statusCode === 409 || statusCode === 412) return { reason: "conflict", ...base };
  if (statusCode !== undefined && statusCode >= 500) return { reason: "transient", ...base };
  if (statusCode === 408) return { reason: "transient", ...base };
  if (statusCode !== undefined && statusCode >= 400) return { reason: "invalid", ...base };
  if ((code && TRANSIENT_CODES.has(code)) || err.name === "AbortError" || err.name === "TimeoutError") {
    return { reason: "transient", ...base };
  }
  return { reason: "unknown", ...base };
}

/** The HTTP status an SDK error carries, if any. */
export function statusCodeOf(error: unknown): number | undefined {
  const statusCode = (error as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof statusCode === "number" ? statusCode : undefined;
}

/** A failure worth trying again later (as opposed to one that needs a person). */
export function isRetryable(info: FailureInfo): boolean {
  return info.reason === "throttled" || info.reason === "transient" || info.reason === "unknown" || info.reason === "conflict";
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat;
}

/** Connection failures: the address, port and route stay out of the words (they go to owners by email). */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ESOCKETTIMEDOUT",
  "REQUEST_SEND_ERROR",
]);
/** TLS and certificate failures (Node's and OpenSSL's codes): the certificate's names stay out too. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|EPROTO$)/;
/** An error code as a word we may repeat: a server's or a library's code, never free text. */
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

/**
 * Why a probe could not run, in words for the "What we checked" section: which service, which
 * HTTP status and error code, and for the forbidden cases what the monitor's identity lacks.
 * Only categories (could not connect, TLS error, HTTP status, timed out) and error codes: never
 * an error's message, which may carry addresses, ports or certificate names.
 */
export function describeProbeFailure(error: unknown, service: string): string {
  const err = (error ?? {}) as { name?: unknown; code?: unknown; statusCode?: unknown; message?: unknown; details?: unknown };
  if (err.name === "TimeoutError" && typeof err.message === "string") return err.message;
  const statusCode = typeof err.statusCode === "number" ? err.statusCode : undefined;
  const safe = (value: unknown): string | undefined => (typeof value === "string" && SAFE_CODE.test(value) ? value : undefined);
  const code = safe(innerErrorCode(err.details)) ?? safe(err.code);
  const status = `HTTP ${statusCode}${code ? ` ${code}` : ""}`;
  if (statusCode === 403) {
    switch (code) {
      case "ForbiddenByFirewall":
        return `the vault's firewall blocks the monitor (${status})`;
      case "ForbiddenByConnection":
        return `public network access to the vault is disabled, so the monitor cannot reach it (${status})`;
      case "ForbiddenByRbac":
        return `the monitor's identity may not read key metadata in this vault; it needs Key Vault Reader (${status})`;
      case "ForbiddenByPolicy":
        return `the monitor's identity has no access policy to read keys in this vault; it needs key permissions get and list (${status})`;
      default:
        return `the monitor's identity may not read ${service}; it needs Reader (${status})`;
    }
  }
  if (statusCode === 401) return `${service} did not accept the monitor's credential (${status})`;
  if (statusCode !== undefined) return `${service} answered ${status}`;
  const networkCode = safe(err.code);
  if (networkCode === "ENOTFOUND") return `the host name does not resolve (${networkCode})`;
  if (err.name === "AbortError" || networkCode === "ECANCELLED") return `${service} call was cancelled`;
  if (networkCode && TLS_CODE.test(networkCode)) return `TLS error talking to ${service} (${networkCode})`;
  if (networkCode && CONNECT_CODES.has(networkCode)) return `could not connect to ${service} (${networkCode})`;
  const name = safe(err.name);
  return `${service} failed (${networkCode ?? (name && name !== "Error" ? name : "no error code")})`;
}

function innerErrorCode(details: unknown): string | undefined {
  // The service writes "innererror"; the Key Vault SDK's deserializer renames it "innerError".
  const body = details as { error?: { code?: unknown; innererror?: { code?: unknown }; innerError?: { code?: unknown } } } | undefined;
  const inner = body?.error?.innerError?.code ?? body?.error?.innererror?.code;
  return typeof inner === "string" ? inner : undefined;
}
