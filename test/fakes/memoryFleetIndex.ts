/** The whole FleetIndex port in memory, with the table adapter's rules (scope prefix match, ETag-like claim). */
import { normalizeResourceId } from "../../src/domain/account";
import type { ChangeTarget } from "../../src/domain/changeEvents";
import type { StoredRoleFingerprint, WatchedPrincipal } from "../../src/domain/roleAssignmentChanges";
import type { FleetIndex, FleetIndexEntry } from "../../src/ports/fleetIndex";

export class MemoryFleetIndex implements FleetIndex {
  readonly entries = new Map<string, FleetIndexEntry>();
  private readonly rechecks = new Map<string, string>();
  /** Role fingerprints by normalized account id, with a version counter standing in for the ETag. */
  readonly roles = new Map<string, StoredRoleFingerprint>();
  private roleVersion = 0;
  claims = 0;

  async record(entry: FleetIndexEntry): Promise<void> {
    this.entries.set(normalizeResourceId(entry.accountId), structuredClone(entry));
  }

  async watchedResourceIds(): Promise<string[]> {
    const ids = new Set<string>();
    for (const [id, entry] of this.entries) {
      ids.add(id);
      if (entry.vaultId) ids.add(normalizeResourceId(entry.vaultId));
    }
    return [...ids].sort();
  }

  async vaults(): Promise<Array<{ vaultName: string; accountIds: string[] }>> {
    const byVault = new Map<string, string[]>();
    for (const [id, entry] of this.entries) {
      if (!entry.vaultName) continue;
      const name = entry.vaultName.toLowerCase();
      byVault.set(name, [...(byVault.get(name) ?? []), id]);
    }
    return [...byVault].sort(([a], [b]) => a.localeCompare(b)).map(([vaultName, ids]) => ({ vaultName, accountIds: ids.sort() }));
  }

  async accountsFor(targets: readonly ChangeTarget[]): Promise<string[]> {
    const found = new Set<string>();
    for (const [id, entry] of this.entries) {
      for (const target of targets) {
        const hit =
          (target.kind === "account" && normalizeResourceId(target.accountId) === id) ||
          (target.kind === "vault" && entry.vaultName?.toLowerCase() === target.vaultName.toLowerCase()) ||
          (target.kind === "identity" && entry.identityIds.some((i) => normalizeResourceId(i) === normalizeResourceId(target.identityId))) ||
          (target.kind === "scope" &&
            entry.vaultId !== undefined &&
            `${normalizeResourceId(entry.vaultId)}/`.startsWith(`${normalizeResourceId(target.scope)}/`));
        if (hit) found.add(id);
      }
    }
    return [...found];
  }

  async releaseRecheck(accountId: string, claimedAt: Date): Promise<void> {
    const key = normalizeResourceId(accountId);
    if (this.rechecks.get(key) === claimedAt.toISOString()) this.rechecks.delete(key);
  }

  async claimRecheck(accountId: string, changedAt: string, now: Date): Promise<boolean> {
    const key = normalizeResourceId(accountId);
    const started = this.rechecks.get(key);
    if (started !== undefined && started >= changedAt) return false;
    this.rechecks.set(key, now.toISOString());
    this.claims += 1;
    return true;
  }

  async rolePrincipals(): Promise<WatchedPrincipal[]> {
    return [...this.entries]
      .filter(([, entry]) => entry.rolePrincipalId)
      .map(([accountId, entry]) => ({ accountId, principalId: entry.rolePrincipalId!.toLowerCase() }))
      .sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  async roleFingerprints(): Promise<StoredRoleFingerprint[]> {
    return [...this.roles.values()].map((entry) => ({ ...entry }));
  }

  async recordRoleFingerprint(next: Omit<StoredRoleFingerprint, "etag">, previous?: StoredRoleFingerprint): Promise<boolean> {
    const key = normalizeResourceId(next.accountId);
    const current = this.roles.get(key);
    if ((current?.etag ?? undefined) !== (previous?.etag ?? undefined)) return false;
    this.roles.set(key, { ...next, accountId: key, principalId: next.principalId.toLowerCase(), etag: String(++this.roleVersion) });
    return true;
  }
}
