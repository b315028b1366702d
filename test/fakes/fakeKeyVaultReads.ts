/** Vaults and keys as ARM and Key Vault show them; a missing key is undefined (404), a planned fault throws. */
import type { ActiveKeyFacts, ActiveVaultFacts, DeletedKeyFacts, DeletedVaultFacts } from "../../src/domain/probeFacts";
import type { KeyMetadataReader, VaultDirectory, VaultSummary } from "../../src/ports/keyVaultReads";
import { FaultPlan, restError } from "./faultPlan";

export class FakeVaultDirectory implements VaultDirectory {
  readonly vaults: ActiveVaultFacts[] = [];
  readonly deletedVaults: DeletedVaultFacts[] = [];
  readonly faults = new FaultPlan<keyof VaultDirectory>();

  async listVaults(subscriptionId: string): Promise<VaultSummary[]> {
    this.faults.throwIfPlanned("listVaults");
    return this.vaults.filter((vault) => same(vault.subscriptionId, subscriptionId)).map(({ id, name, resourceGroup }) => ({ id, name, resourceGroup }));
  }

  async getVault(subscriptionId: string, resourceGroup: string, name: string): Promise<ActiveVaultFacts> {
    this.faults.throwIfPlanned("getVault");
    const vault = this.vaults.find((v) => same(v.subscriptionId, subscriptionId) && same(v.resourceGroup, resourceGroup) && same(v.name, name));
    if (!vault) throw restError(404, `Vault ${name} not found`);
    return structuredClone(vault);
  }

  async listDeletedVaults(subscriptionId: string): Promise<DeletedVaultFacts[]> {
    this.faults.throwIfPlanned("listDeletedVaults");
    return structuredClone(this.deletedVaults.filter((vault) => same(vault.subscriptionId ?? "", subscriptionId)));
  }
}

export class FakeKeyMetadataReader implements KeyMetadataReader {
  /** Keyed by `${vaultUrl}|${keyName}`. */
  readonly keys = new Map<string, ActiveKeyFacts>();
  readonly deletedKeys = new Map<string, DeletedKeyFacts>();
  readonly faults = new FaultPlan<keyof KeyMetadataReader>();

  async getKey(vaultUrl: string, keyName: string): Promise<ActiveKeyFacts | undefined> {
    this.faults.throwIfPlanned("getKey");
    const key = this.keys.get(keyId(vaultUrl, keyName));
    return key ? structuredClone(key) : undefined;
  }

  async getDeletedKey(vaultUrl: string, keyName: string): Promise<DeletedKeyFacts | undefined> {
    this.faults.throwIfPlanned("getDeletedKey");
    const key = this.deletedKeys.get(keyId(vaultUrl, keyName));
    return key ? structuredClone(key) : undefined;
  }
}

export function keyId(vaultUrl: string, keyName: string): string {
  return `${vaultUrl.replace(/\/+$/, "").toLowerCase()}|${keyName.toLowerCase()}`;
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
