/**
 * The retention sweep (CMK_RETENTION_DAYS), run by the poll cycle after the outbox drain: it reads
 * the candidate rows, plans with src/domain/retention.ts and deletes at most
 * RETENTION_WRITES_PER_CYCLE rows, one table transaction per partition batch; what is left waits for
 * the next cycle. Once a sweep finds nothing left, this process rests until the next UTC day, so
 * idle cycles neither read nor write for it (rows age by days, not by cycles).
 */
import { planRetention } from "../domain/retention";
import { describeFailure } from "../ports/failures";
import type { RetentionStore } from "../ports/retentionStore";
import { deferForDeadline, type CycleContext } from "./cycleContext";

/** Writes (summaries and deletes) one cycle may spend on retention: five full transactions. */
export const RETENTION_WRITES_PER_CYCLE = 500;

const DAY_IN_MS = 86_400_000;

/** Per store (one per process): the instant before which a sweep would find nothing new. */
const restingUntil = new WeakMap<RetentionStore, number>();

export interface RetentionReport {
  /** False when the sweep did not run (no store, or resting until tomorrow). */
  swept: boolean;
  written: number;
  remaining: number;
}

export async function sweepRetention(ctx: CycleContext, maxWrites = RETENTION_WRITES_PER_CYCLE): Promise<RetentionReport> {
  const store = ctx.deps.retention;
  const now = ctx.now.getTime();
  if (!store || (restingUntil.get(store) ?? 0) > now) return { swept: false, written: 0, remaining: 0 };
  const cutoff = new Date(now - ctx.settings.retentionDays * DAY_IN_MS);
  const { incidents, rows } = await store.listRetentionRows(cutoff);
  const plan = planRetention({ incidents, rows, cutoff: cutoff.toISOString(), maxWrites });
  let written = 0;
  let refused = 0;
  for (const batch of plan.batches) {
    if (deferForDeadline(ctx)) break;
    try {
      if (await store.applyRetentionBatch(batch)) written += batch.summaries.length + batch.rowKeys.length;
      else refused += 1;
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: retention: could not prune ${batch.rowKeys.length} row(s) in one partition: ${describeFailure(error).message}`);
      refused += 1;
    }
  }
  const remaining = plan.writes + plan.remaining - written;
  if (remaining === 0 && refused === 0) restingUntil.set(store, Date.UTC(ctx.now.getUTCFullYear(), ctx.now.getUTCMonth(), ctx.now.getUTCDate()) + DAY_IN_MS);
  if (written > 0 || remaining > 0) {
    ctx.deps.log.info(
      `cmk-monitor: retention (${ctx.settings.retentionDays} days): ${written} row(s) pruned or summarised, ${remaining} left for later cycles`,
    );
  }
  return { swept: true, written, remaining };
}
