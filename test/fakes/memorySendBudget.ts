/** The shared email send budget in memory, with the meta table's windows (src/adapters/monitorMetaTable.ts). */
import type { EmailRateLimits, SendBudget } from "../../src/ports/sendBudget";
import { FaultPlan } from "./faultPlan";

const MINUTE_IN_MS = 60_000;

export class MemorySendBudget implements SendBudget {
  /** Sends reserved per calendar minute (minutes since the epoch). */
  readonly buckets = new Map<number, number>();
  readonly faults = new FaultPlan<keyof SendBudget>();

  async reserveEmailSends(now: Date, wanted: number, limits: EmailRateLimits): Promise<number> {
    this.faults.throwIfPlanned("reserveEmailSends");
    if (wanted <= 0) return 0;
    const minute = Math.floor(now.getTime() / MINUTE_IN_MS);
    // Only the last hour counts.
    for (const key of [...this.buckets.keys()]) if (key <= minute - 60) this.buckets.delete(key);
    const thisMinute = this.buckets.get(minute) ?? 0;
    const lastHour = [...this.buckets.values()].reduce((sum, count) => sum + count, 0);
    const grant = Math.max(0, Math.min(wanted, limits.perMinute - thisMinute, limits.perHour - lastHour));
    if (grant > 0) this.buckets.set(minute, thisMinute + grant);
    return grant;
  }

  async releaseEmailSends(reservedAt: Date, count: number): Promise<void> {
    this.faults.throwIfPlanned("releaseEmailSends");
    if (count <= 0) return;
    const minute = Math.floor(reservedAt.getTime() / MINUTE_IN_MS);
    const held = this.buckets.get(minute);
    if (held === undefined) return;
    // Never below zero: the minute may already have fallen out of the window.
    const kept = Math.max(0, held - count);
    if (kept === 0) this.buckets.delete(minute);
    else this.buckets.set(minute, kept);
  }

  /** Sends reserved in the calendar minute of `at`. */
  reservedIn(at: Date): number {
    return this.buckets.get(Math.floor(at.getTime() / MINUTE_IN_MS)) ?? 0;
  }
}
