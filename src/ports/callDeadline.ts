/**
 * The invocation's deadline, carried with the async context so every SDK call made on its behalf
 * can be cut off when the time is up (the adapters' pipeline policy reads it), and so stages can
 * stop starting new work near the end. Wall-clock time, never the run's simulated `now`: the
 * Functions host kills an invocation after `functionTimeout` of real time.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface CallDeadline {
  /** Aborts at the deadline. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds (wall clock). */
  readonly expiresAt: number;
  /** Longest Retry-After a call may sleep on; a longer one fails the call so the work is deferred. */
  readonly maxRetryAfterInMs: number;
}

const current = new AsyncLocalStorage<CallDeadline>();

/** Default cap on a single Retry-After wait inside one invocation. */
export const DEFAULT_MAX_RETRY_AFTER_IN_MS = 30_000;

/**
 * Runs `work` with a deadline `budgetInMs` from now; inside an outer deadline, the earlier one
 * holds (a work batch run within a cycle cannot outlive the cycle).
 */
export async function withCallDeadline<T>(budgetInMs: number, work: () => Promise<T>, maxRetryAfterInMs = DEFAULT_MAX_RETRY_AFTER_IN_MS): Promise<T> {
  const outer = current.getStore();
  const expiresAt = Math.min(Date.now() + Math.max(0, budgetInMs), outer?.expiresAt ?? Infinity);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError()), Math.max(0, expiresAt - Date.now()));
  timer.unref?.();
  const signal = outer ? AbortSignal.any([outer.signal, controller.signal]) : controller.signal;
  try {
    return await current.run({ signal, expiresAt, maxRetryAfterInMs: Math.min(maxRetryAfterInMs, outer?.maxRetryAfterInMs ?? Infinity) }, work);
  } finally {
    clearTimeout(timer);
  }
}

export function currentCallDeadline(): CallDeadline | undefined {
  return current.getStore();
}

/** Milliseconds left before the deadline; Infinity outside any. */
export function remainingInMs(): number {
  const deadline = current.getStore();
  return deadline ? deadline.expiresAt - Date.now() : Infinity;
}

/** The call was cut off because the invocation's time was up; the work is picked up next cycle. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
  constructor() {
    super("The invocation's time budget ran out; the call was cancelled and the work is left for the next cycle.");
  }
}
