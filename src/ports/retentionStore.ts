/** Port: what the retention sweep reads and deletes in the state table (src/pipeline/retention.ts). */
import type { RetainedIncident, RetentionBatch, RetentionRow } from "../domain/retention";

export interface RetentionStore {
  /**
   * Every incident (open and resolved) and the rows the sweep might delete: events, sent outbox
   * rows, used link tokens, and daily checks older than `cutoff` (a few columns each).
   */
  listRetentionRows(cutoff: Date): Promise<{ incidents: RetainedIncident[]; rows: RetentionRow[] }>;
  /**
   * One table transaction: the summaries (ETag-guarded), then the deletes. False when it was
   * refused because another instance changed or deleted a row first (the next sweep replans).
   */
  applyRetentionBatch(batch: RetentionBatch): Promise<boolean>;
}
