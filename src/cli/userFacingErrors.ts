/**
 * The errors a user meets, each as one sentence with the fix. Stack traces only with --verbose.
 */
import { describeFailure } from "../ports/failures";
import { ConfigurationError } from "../config";

export function explainError(error: unknown, what: string): string {
  if (error instanceof ConfigurationError) return error.message;
  const name = (error as { name?: string })?.name ?? "";
  if (name === "CredentialUnavailableError" || name === "AggregateAuthenticationError" || name === "AuthenticationRequiredError") {
    return "No Azure credential found: sign in with `az login` (or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or run where a managed identity is available), then try again.";
  }
  const info = describeFailure(error);
  switch (info.reason) {
    case "auth":
      return `Access denied while ${what} (HTTP ${info.statusCode ?? "?"}): the signed-in identity needs the Reader role on the subscription (and data roles on storage/ACS for \`run\`). ${info.message}`;
    case "throttled":
      return `Azure throttled the request while ${what}; wait ${info.retryAfterInSeconds ?? 60} seconds and try again.`;
    case "transient":
      return `Could not reach Azure while ${what} (${info.statusCode ? `HTTP ${info.statusCode}` : info.message}); check the network and endpoint settings, then try again.`;
    case "not-found":
      return `Not found while ${what}: check the subscription id or endpoint. ${info.message}`;
    default:
      return `Failed while ${what}: ${info.message}`;
  }
}

/** Terminal-safe: untrusted Azure values must not smuggle escape sequences into a terminal. */
export function terminalText(value: string, maxLength = 120): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = value
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 1)}…` : cleaned;
}
