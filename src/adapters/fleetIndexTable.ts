/**
 * The fleet index in the state table (`@azure/data-tables`):
 *   - "fleet-accounts": one row per indexed account (its vault name and ARM id), read whole only
 *     for a role assignment above a vault (a rare event);
 *   - "fleet-vault-<name>" and "fleet-identity-<hash>": one row per dependent account, so a vault's
 *     or identity's event costs one partition query;
 *   - a "recheck" row in the account's own partition: when its last event re-check started;
 *   - "fleet-roles": one row per account whose RBAC role assignments the catch-up watches (the
 *     fingerprint of its default identity's assignments), read whole once per catch-up run.
 */
import { createHash } from "node:crypto";
import { odata, type TableClient, type TableEntity } from "@azure/data-tables";
import { normalizeResourceId } from "../domain/account";
import type { ChangeTarget } from "../domain/changeEvents";
import type { StoredRoleFingerprint, WatchedPrincipal } from "../domain/roleAssignmentChanges";
import type { FleetIndex, FleetIndexEntry } from "../ports/fleetIndex";
import { statusCodeOf } from "../ports/failures";
import { createOrReplaceOver } from "./guardedWrite";
import { partitionKeyFor, type TableIncidentStore } from "./tableStore";

const ACCOUNTS_PARTITION = "fleet-accounts";
const RECHECK_ROW = "recheck";
const ROLES_PARTITION = "fleet-roles";

function vaultPartition(vaultName: string): string {
  return `fleet-vault-${vaultName.toLowerCase()}`;
}

function identityPartition(identityId: string): string {
  return `fleet-identity-${createHash("sha256").update(normalizeResourceId(identityId)).digest("hex").slice(0, 40)}`;
}

export class TableFleetIndex implements FleetIndex {
  /** The store creates the table; the index shares it. */
  constructor(
    private readonly table: TableClient,
    private readonly store: Pick<TableIncidentStore, "ensureTable">,
  ) {}

  async record(entry: FleetIndexEntry): Promise<void> {
    await this.store.ensureTable();
    const rowKey = partitionKeyFor(entry.accountId);
    const accountId = normalizeResourceId(entry.accountId);
    const writes: TableEntity[] = [
      {
        partitionKey: ACCOUNTS_PARTITION,
        rowKey,
        accountId,
        vaultName: entry.vaultName ?? "",
        vaultId: entry.vaultId ?? "",
        rolePrincipalId: entry.rolePrincipalId?.toLowerCase() ?? "",
      },
    ];
    if (entry.vaultName) writes.push({ partitionKey: vaultPartition(entry.vaultName), rowKey, accountId });
    for (const identityId of entry.identityIds) writes.push({ partitionKey: identityPartition(identityId), rowKey, accountId });
    // Different partitions: no transaction, and none needed (each upsert is idempotent).
    await Promise.all(writes.map((row) => this.table.upsertEntity(row, "Replace")));
  }

  async watchedResourceIds(): Promise<string[]> {
    await this.store.ensureTable();
    const ids = new Set<string>();
    // One partition query; a fleet of thousands is a few pages.
    for await (const row of this.table.listEntities<TableEntity<{ accountId: string; vaultId: string }>>({
      queryOptions: { filter: odata`PartitionKey eq ${ACCOUNTS_PARTITION}` },
    })) {
      if (row.accountId) ids.add(normalizeResourceId(row.accountId));
      if (row.vaultId) ids.add(normalizeResourceId(row.vaultId));
    }
    return [...ids].sort();
  }

  async vaults(): Promise<Array<{ vaultName: string; accountIds: string[] }>> {
    await this.store.ensureTable();
    const byVault = new Map<string, string[]>();
    for await (const row of this.table.listEntities<TableEntity<{ accountId: string; vaultName: string }>>({
      queryOptions: { filter: odata`PartitionKey eq ${ACCOUNTS_PARTITION}` },
    })) {
      if (!row.vaultName || !row.accountId) continue;
      const name = row.vaultName.toLowerCase();
      byVault.set(name, [...(byVault.get(name) ?? []), normalizeResourceId(row.accountId)]);
    }
    return [...byVault].sort(([a], [b]) => a.localeCompare(b)).map(([vaultName, ids]) => ({ vaultName, accountIds: ids.sort() }));
  }

  async accountsFor(targets: readonly ChangeTarget[]): Promise<string[]> {
    await this.store.ensureTable();
    const found = new Set<string>();
    for (const target of targets) {
      switch (target.kind) {
        case "account":
          if (await this.exists(ACCOUNTS_PARTITION, partitionKeyFor(target.accountId))) found.add(normalizeResourceId(target.accountId));
          break;
        case "vault":
          for (const id of await this.accountsIn(vaultPartition(target.vaultName))) found.add(id);
          break;
        case "identity":
          for (const id of await this.accountsIn(identityPartition(target.identityId))) found.add(id);
          break;
        case "scope": {
          const scope = `${normalizeResourceId(target.scope)}/`;
          for await (const row of this.table.listEntities<TableEntity<{ accountId: string; vaultId: string }>>({
            queryOptions: { filter: odata`PartitionKey eq ${ACCOUNTS_PARTITION}` },
          })) {
            if (row.vaultId && `${normalizeResourceId(row.vaultId)}/`.startsWith(scope)) found.add(row.accountId);
          }
          break;
        }
      }
    }
    return [...found];
  }

  async claimRecheck(accountId: string, changedAt: string, now: Date): Promise<boolean> {
    await this.store.ensureTable();
    const partitionKey = partitionKeyFor(accountId);
    const entity = { partitionKey, rowKey: RECHECK_ROW, startedAt: now.toISOString() };
    const row = await this.get(partitionKey, RECHECK_ROW);
    if (row && String(row.startedAt) >= changedAt) return false;
    // Refused when another caller claimed it first, after this change: its re-check sees it.
    return createOrReplaceOver(this.table, entity, row?.etag);
  }

  async releaseRecheck(accountId: string, claimedAt: Date): Promise<void> {
    await this.store.ensureTable();
    const partitionKey = partitionKeyFor(accountId);
    const row = await this.get(partitionKey, RECHECK_ROW);
    if (!row || String(row.startedAt) !== claimedAt.toISOString()) return;
    try {
      await this.table.deleteEntity(partitionKey, RECHECK_ROW, { etag: row.etag });
    } catch (error) {
      // Someone claimed it meanwhile (412) or released it (404): theirs stands.
      const status = statusCodeOf(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }

  async rolePrincipals(): Promise<WatchedPrincipal[]> {
    await this.store.ensureTable();
    const watched: WatchedPrincipal[] = [];
    for await (const row of this.table.listEntities<TableEntity<{ accountId: string; rolePrincipalId?: string }>>({
      queryOptions: { filter: odata`PartitionKey eq ${ACCOUNTS_PARTITION}` },
    })) {
      // Rows written before principals were indexed have none: the next daily check re-records them.
      if (row.accountId && row.rolePrincipalId) watched.push({ accountId: normalizeResourceId(row.accountId), principalId: row.rolePrincipalId.toLowerCase() });
    }
    return watched.sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  async roleFingerprints(): Promise<StoredRoleFingerprint[]> {
    await this.store.ensureTable();
    const stored: StoredRoleFingerprint[] = [];
    for await (const row of this.table.listEntities<TableEntity<{ accountId: string; principalId: string; fingerprint: string }>>({
      queryOptions: { filter: odata`PartitionKey eq ${ROLES_PARTITION}` },
    })) {
      if (row.accountId && row.principalId && row.fingerprint) {
        stored.push({ accountId: row.accountId, principalId: row.principalId, fingerprint: row.fingerprint, ...(row.etag ? { etag: row.etag } : {}) });
      }
    }
    return stored;
  }

  async recordRoleFingerprint(next: Omit<StoredRoleFingerprint, "etag">, previous?: StoredRoleFingerprint): Promise<boolean> {
    await this.store.ensureTable();
    const entity = {
      partitionKey: ROLES_PARTITION,
      rowKey: partitionKeyFor(next.accountId),
      accountId: normalizeResourceId(next.accountId),
      principalId: next.principalId.toLowerCase(),
      fingerprint: next.fingerprint,
    };
    // Refused when another instance recorded it since this run read it: it saw the same assignments.
    return createOrReplaceOver(this.table, entity, previous?.etag);
  }

  private async accountsIn(partition: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const row of this.table.listEntities<TableEntity<{ accountId: string }>>({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } })) {
      ids.push(row.accountId);
    }
    return ids;
  }

  private async exists(partitionKey: string, rowKey: string): Promise<boolean> {
    return (await this.get(partitionKey, rowKey)) !== undefined;
  }

  private async get(partitionKey: string, rowKey: string): Promise<(TableEntity & { etag: string; startedAt?: string }) | undefined> {
    try {
      return await this.table.getEntity<TableEntity & { startedAt?: string }>(partitionKey, rowKey);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }
}
