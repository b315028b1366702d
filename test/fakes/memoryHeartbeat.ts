/** The heartbeat and poison count in memory, as the meta table keeps them. */
import type { CycleHeartbeat, Heartbeat, PoisonRecord } from "../../src/ports/heartbeat";
import { FaultPlan } from "./faultPlan";

export class MemoryHeartbeat implements Heartbeat {
  private last: CycleHeartbeat | undefined;
  private poison: PoisonRecord | undefined;
  private since: Date | undefined;
  readonly faults = new FaultPlan<keyof Heartbeat>();

  async recordCycle(heartbeat: CycleHeartbeat): Promise<void> {
    this.faults.throwIfPlanned("recordCycle");
    // As the meta table: the poison count rides along unless the caller gave one.
    this.last = heartbeat.poisonWorkItems === undefined && this.poison ? { ...heartbeat, poisonWorkItems: this.poison.count } : { ...heartbeat };
  }

  async monitoringSince(now: Date): Promise<Date> {
    this.faults.throwIfPlanned("monitoringSince");
    this.since ??= now;
    return this.since;
  }

  async lastCycle(): Promise<CycleHeartbeat | undefined> {
    this.faults.throwIfPlanned("lastCycle");
    return this.last ? { ...this.last } : undefined;
  }

  async recordPoisonWorkItem(at: Date, summary: string): Promise<PoisonRecord> {
    this.faults.throwIfPlanned("recordPoisonWorkItem");
    this.poison = { count: (this.poison?.count ?? 0) + 1, lastAt: at.toISOString(), lastSummary: summary.slice(0, 1000) };
    return { ...this.poison };
  }
}
