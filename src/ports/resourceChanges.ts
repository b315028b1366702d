/**
 * Ports of the pull catch-up (issue 18 item 2): Resource Graph's `resourcechanges` rows for a query
 * the domain built (src/domain/resourceChanges.ts), and the watermark that says up to when they
 * have been acted on, shared by every instance.
 */
import type { ResourceChangeRow } from "../domain/resourceChanges";
import type { RoleAssignmentRow } from "../domain/roleAssignmentChanges";

export interface ResourceChangeScope {
  subscriptionIds: readonly string[];
  managementGroups: readonly string[];
}

/** Port: every row of one `resourcechanges` query over the scope, all pages; throws rather than answer in part. */
export interface ResourceChangeSource {
  queryChanges(query: string, scope: ResourceChangeScope): Promise<{ rows: ResourceChangeRow[]; calls: number }>;
  /** Every row of one `authorizationresources` role-assignment query (src/domain/roleAssignmentChanges.ts), all pages; throws likewise. */
  queryRoleAssignments(query: string, scope: ResourceChangeScope): Promise<{ rows: RoleAssignmentRow[]; calls: number }>;
}

/** The stored watermark and the version it was read at. */
export interface ChangeWatermarkRead {
  /** End of the last window whose changes were all acted on (ISO 8601); absent before the first run. */
  watermark?: string;
  /** Opaque version for the guarded advance; absent when no row exists yet. */
  etag?: string;
  /** Set when the last window had to be clamped to the retention: changes before it were never read. */
  gapBefore?: string;
}

/** Port: the catch-up's watermark, advanced only from the version that was read. */
export interface ChangeWatermark {
  readChangeWatermark(): Promise<ChangeWatermarkRead>;
  /**
   * Moves the watermark to `to` if nobody moved it since `read`; false (nothing written) when another
   * instance did: its window ran meanwhile, and the next run starts from whatever it stored.
   */
  advanceChangeWatermark(read: ChangeWatermarkRead, to: string, gapBefore?: string): Promise<boolean>;
  /** When the per-vault key re-read last ran (`watermark`), with the version for the guarded record. */
  readKeyRiskCheck(): Promise<ChangeWatermarkRead>;
  /** Records a key re-read started at `at`, if nobody recorded one since `read`; false when another instance did (it covers this interval). */
  recordKeyRiskCheck(read: ChangeWatermarkRead, at: string): Promise<boolean>;
}
