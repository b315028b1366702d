/** The shared email budgets in memory, with the meta table's windows (src/adapters/monitorMetaTable.ts). */
import type { EmailBudgetName, EmailRateLimits, SendBudget } from "../../src/ports/sendBudget";
import { FaultPlan } from "./faultPlan";

const MINUTE_IN_MS = 60_000;

export class MemorySendBudget implements SendBudget {
  /** Sends reserved per calendar minute (minutes since the epoch). */
  readonly buckets = new Map<number, number>();
  /** Status reads reserved per calendar minute. */
  readonly statusBuckets = new Map<number, number>();
  /** Deferrals after a 429, per budget. */
  readonly deferredUntil: Partial<Record<EmailBudgetName, Date>> = {};
  readonly faults = new FaultPlan<keyof SendBudget>();

  async reserveEmailSends(now: Date, wanted: number, limits: EmailRateLimits, budget: EmailBudgetName = "send"): Promise<number> {
    this.faults.throwIfPlanned("reserveEmailSends");
    if (wanted <= 0) return 0;
    const deferred = this.deferredUntil[budget];
    if (deferred && deferred > now) return 0;
    const buckets = this.bucketsOf(budget);
    const minute = Math.floor(now.getTime() / MINUTE_IN_MS);
    // Only the last hour counts.
    for (const key of [...buckets.keys()]) if (key <= minute - 60) buckets.delete(key);
    const thisMinute = buckets.get(minute) ?? 0;
    const lastHour = [...buckets.values()].reduce((sum, count) => sum + count, 0);
    const grant = Math.max(0, Math.min(wanted, limits.perMinute - thisMinute, limits.perHour - lastHour));
    if (grant > 0) buckets.set(minute, thisMinute + grant);
    return grant;
  }

  async releaseEmailSends(reservedAt: Date, count: number, budget: EmailBudgetName = "send"): Promise<void> {
    this.faults.throwIfPlanned("releaseEmailSends");
    if (count <= 0) return;
    const buckets = this.bucketsOf(budget);
    const minute = Math.floor(reservedAt.getTime() / MINUTE_IN_MS);
    const held = buckets.get(minute);
    if (held === undefined) return;
    // Never below zero: the minute may already have fallen out of the window.
    const kept = Math.max(0, held - count);
    if (kept === 0) buckets.delete(minute);
    else buckets.set(minute, kept);
  }

  async deferEmailCalls(until: Date, budget: EmailBudgetName = "send"): Promise<void> {
    this.faults.throwIfPlanned("deferEmailCalls");
    const current = this.deferredUntil[budget];
    if (!current || current < until) this.deferredUntil[budget] = until;
  }

  /** Sends reserved in the calendar minute of `at`. */
  reservedIn(at: Date, budget: EmailBudgetName = "send"): number {
    return this.bucketsOf(budget).get(Math.floor(at.getTime() / MINUTE_IN_MS)) ?? 0;
  }

  private bucketsOf(budget: EmailBudgetName): Map<number, number> {
    return budget === "send" ? this.buckets : this.statusBuckets;
  }
}
