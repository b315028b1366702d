/**
 * Pipeline policies that tie every SDK call to the invocation's deadline (src/ports/callDeadline):
 * the request's abort signal also fires at the deadline (so the SDK's retry sleeps end too), and a
 * Retry-After longer than the cap, or than the time left, is moved to DEFERRED_RETRY_AFTER_HEADER so
 * the SDK returns the throttling error at once instead of sleeping on it; the caller defers the work
 * for as long as the service asked.
 */
import type { PipelinePolicy, PipelineRequest } from "@azure/core-rest-pipeline";

type AbortSignalLike = NonNullable<PipelineRequest["abortSignal"]>;
import { currentCallDeadline } from "../ports/callDeadline";
import { DEFERRED_RETRY_AFTER_HEADER } from "../ports/failures";

export const DEADLINE_POLICY_NAME = "cmkDeadlinePolicy";
export const RETRY_AFTER_CAP_POLICY_NAME = "cmkRetryAfterCapPolicy";

/** Once per operation, before the SDK's retry policy: the deadline's signal joins the caller's. */
export function deadlinePolicy(): PipelinePolicy {
  return {
    name: DEADLINE_POLICY_NAME,
    sendRequest(request, next) {
      const deadline = currentCallDeadline();
      if (deadline) {
        if (deadline.signal.aborted) return Promise.reject(deadline.signal.reason);
        // A signal of its own per request: the HTTP client listens on it, and thousands of calls in a
        // cycle must not all hang listeners on the one deadline signal.
        request.abortSignal = AbortSignal.any(request.abortSignal ? [asAbortSignal(request.abortSignal), deadline.signal] : [deadline.signal]);
      }
      return next(request);
    },
  };
}

function asAbortSignal(signal: AbortSignalLike): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener("abort", () => controller.abort(), { once: true });
  return controller.signal;
}

const RETRY_AFTER_HEADERS = ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"];

/** On every attempt, after the response: a Retry-After the invocation cannot afford is removed. */
export function retryAfterCapPolicy(): PipelinePolicy {
  return {
    name: RETRY_AFTER_CAP_POLICY_NAME,
    async sendRequest(request, next) {
      const response = await next(request);
      const deadline = currentCallDeadline();
      if (!deadline || (response.status !== 429 && response.status !== 503)) return response;
      const waitInMs = retryAfterInMs(response.headers.get.bind(response.headers));
      const affordable = Math.min(deadline.maxRetryAfterInMs, deadline.expiresAt - Date.now());
      if (waitInMs !== undefined && waitInMs > affordable) {
        // The SDK must not sleep on it, but the caller still learns when to come back.
        response.headers.set(DEFERRED_RETRY_AFTER_HEADER, String(Math.ceil(waitInMs / 1000)));
        for (const name of RETRY_AFTER_HEADERS) response.headers.delete(name);
      }
      return response;
    },
  };
}

function retryAfterInMs(get: (name: string) => string | undefined): number | undefined {
  const ms = Number(get("retry-after-ms") ?? get("x-ms-retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && (get("retry-after-ms") ?? get("x-ms-retry-after-ms")) !== undefined) return ms;
  const value = get("retry-after");
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Both policies, positioned, for a client's `additionalPolicies`. */
export function deadlinePolicies(): Array<{ policy: PipelinePolicy; position: "perCall" | "perRetry" }> {
  return [
    { policy: deadlinePolicy(), position: "perCall" },
    { policy: retryAfterCapPolicy(), position: "perRetry" },
  ];
}
