/**
 * What every stage of one run (a poll cycle, a work batch, an acknowledgment) reads: built once by
 * startCycle and never reassigned. Data a stage produces is its output; state for one part of a run
 * (an outbox scope, a send budget, whether to confirm with ARM) is a stage's constructor argument
 * (src/pipeline/pipelineBuilder.ts). The one thing stages write is `stats`, the run's counters.
 */
import type { MonitorSettings } from "../config";
import type { LifecycleContext } from "../domain/lifecycle";
import type { CallLimiter, ProbeSession } from "../ports/accountProber";
import { remainingInMs } from "../ports/callDeadline";
import { newStats, type CycleStats } from "./cycleStats";
import { lifecycleContext } from "./lifecycleContext";
import type { MonitorDeps } from "./monitorDeps";

export interface CycleContext {
  readonly deps: MonitorDeps;
  readonly settings: MonitorSettings;
  /** The run's "now": every decision of the run is made for this instant. */
  readonly now: Date;
  /** The run's counters (the report and the heartbeat are made from them). */
  readonly stats: CycleStats;
  /** Every probe and confirmation GET takes one: decisions and daily checks run side by side within PROBE_CONCURRENCY. */
  readonly slots: CallLimiter;
  /** One probe cache per run, shared by the revoked-account and the daily warning probes; absent with probes off. */
  readonly probeSession: ProbeSession | undefined;
  /** The settings as the lifecycle reads them. */
  readonly lifecycle: LifecycleContext;
}

/**
 * Real time one invocation may use: host.json's functionTimeout (10 minutes) less a minute to
 * record what was done and log it. SDK calls are cut off at this deadline (src/ports/callDeadline).
 */
export const INVOCATION_BUDGET_IN_MS = 9 * 60_000;

/** Below this much time left, stages start no new optional work (probes, daily checks, sends). */
export const STOP_STARTING_WORK_IN_MS = 90_000;

/** True when the invocation is too close to its deadline to start more optional work. */
export function nearDeadline(): boolean {
  return remainingInMs() < STOP_STARTING_WORK_IN_MS;
}

/** Near the deadline: counts one piece of work left for the next cycle and says so; the caller does not start it. */
export function deferForDeadline(ctx: Pick<CycleContext, "stats">): boolean {
  if (!nearDeadline()) return false;
  ctx.stats.deferredForDeadline += 1;
  return true;
}

export function startCycle(deps: MonitorDeps, now: Date, stats: CycleStats = newStats()): CycleContext {
  return Object.freeze({
    deps,
    settings: deps.settings,
    now,
    stats,
    slots: deps.callSlots,
    probeSession: deps.probes?.session({ callSlots: deps.callSlots }),
    lifecycle: lifecycleContext(deps.settings),
  });
}
