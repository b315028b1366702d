export interface EmailRateLimits {
  perMinute: number;
  perHour: number;
}

/** ACS limits sends and status reads separately (docs/azure-behaviour.md "Service limits"): one budget each. */
export type EmailBudgetName = "send" | "status";

/** Port: the email budgets shared by every instance (one ETag-guarded row per budget). */
export interface SendBudget {
  /**
   * Takes up to `wanted` calls out of the rolling budget (per calendar minute, and over the last
   * 60 minutes) and returns how many it got; none while the budget is deferred. A reservation not
   * used is simply lost, so the limits are never exceeded.
   */
  reserveEmailSends(now: Date, wanted: number, limits: EmailRateLimits, budget?: EmailBudgetName): Promise<number>;
  /** Gives back sends reserved at `reservedAt` that provably never reached the email service. */
  releaseEmailSends(reservedAt: Date, count: number, budget?: EmailBudgetName): Promise<void>;
  /** ACS answered 429: no instance reserves from this budget before `until` (a later deferral wins). */
  deferEmailCalls(until: Date, budget?: EmailBudgetName): Promise<void>;
}
