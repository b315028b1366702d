export interface EmailRateLimits {
  perMinute: number;
  perHour: number;
}

/** Port: the email send budget shared by every instance (one ETag-guarded row). */
export interface SendBudget {
  /**
   * Takes up to `wanted` sends out of the rolling budget (per calendar minute, and over the last
   * 60 minutes) and returns how many it got. A reservation not used is simply lost, so the limits
   * are never exceeded.
   */
  reserveEmailSends(now: Date, wanted: number, limits: EmailRateLimits): Promise<number>;
  /** Gives back sends reserved at `reservedAt` that the email service never accepted (they do not count against its limits). */
  releaseEmailSends(reservedAt: Date, count: number): Promise<void>;
}
