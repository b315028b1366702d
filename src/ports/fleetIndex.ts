/** The fleet index's contract: see FleetIndex. */
import type { ChangeTarget } from "../domain/changeEvents";
import type { StoredRoleFingerprint, WatchedPrincipal } from "../domain/roleAssignmentChanges";

/** What an account depends on, as the daily check last saw it. */
export interface FleetIndexEntry {
  accountId: string;
  /** The key's vault, by (lowercase) name: what both ARM ids and Key Vault events carry. */
  vaultName?: string;
  /** The vault's ARM id, when the probes found it: a role assignment above the vault finds the account through it. */
  vaultId?: string;
  /** Attached user-assigned identities (normalized ids): deleting one can revoke the account. */
  identityIds: string[];
  /**
   * The default identity's principal id when the vault grants by RBAC: its role assignments are the
   * permission, and `resourcechanges` does not show them, so the catch-up watches them by principal.
   */
  rolePrincipalId?: string;
}

/**
 * Port: the durable map from what a change event names (a vault, an identity, an account, a scope)
 * to the accounts it can affect, kept by the daily checks from what they already read; and the
 * per-account claim that coalesces a flood of events into one re-check.
 */
export interface FleetIndex {
  /** Records (upserts) one account's dependencies; idempotent. */
  record(entry: FleetIndexEntry): Promise<void>;
  /**
   * The ARM ids the pull catch-up asks Resource Graph about: every indexed account and each vault
   * whose id the probes found (normalized, each once).
   */
  watchedResourceIds(): Promise<string[]>;
  /** Each indexed vault (by lowercase name) with its accounts' normalized ids, sorted: the per-vault key re-read's work list. */
  vaults(): Promise<Array<{ vaultName: string; accountIds: string[] }>>;
  /** Normalized ids of the indexed accounts the targets can affect. */
  accountsFor(targets: readonly ChangeTarget[]): Promise<string[]>;
  /**
   * Whether this caller should re-check the account for a change made at `changedAt`: false when a
   * re-check started at or after the change (it sees it), or another caller just claimed it. ETag-guarded.
   */
  claimRecheck(accountId: string, changedAt: string, now: Date): Promise<boolean>;
  /**
   * Gives back a claim whose re-check could not read the account (the claim made at `claimedAt`), so a
   * later event or the catch-up's next window may claim it again; a newer claim is left alone.
   */
  releaseRecheck(accountId: string, claimedAt: Date): Promise<void>;
  /** Each indexed account with a `rolePrincipalId` (normalized account id, lowercase principal), sorted by account. */
  rolePrincipals(): Promise<WatchedPrincipal[]>;
  /** Every stored role-assignment fingerprint, with its version. */
  roleFingerprints(): Promise<StoredRoleFingerprint[]>;
  /**
   * Stores an account's fingerprint if nobody wrote it since `previous` was read (absent: if none
   * exists); false (nothing written) when another instance did: its run saw the same change.
   */
  recordRoleFingerprint(next: Omit<StoredRoleFingerprint, "etag">, previous?: StoredRoleFingerprint): Promise<boolean>;
}
