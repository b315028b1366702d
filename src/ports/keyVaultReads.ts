/** Ports: what the probes read about a vault (ARM control plane) and a key (Key Vault data plane). */
import type { ActiveKeyFacts, ActiveVaultFacts, DeletedKeyFacts, DeletedVaultFacts } from "../domain/probeFacts";

export interface VaultSummary {
  id: string;
  name: string;
  resourceGroup: string;
}

export interface ProbeCallOptions {
  abortSignal?: AbortSignal;
}

/** Port: where the monitor learns what a vault looks like. Errors are the SDK's (statusCode, code). */
export interface VaultDirectory {
  listVaults(subscriptionId: string, options?: ProbeCallOptions): Promise<VaultSummary[]>;
  getVault(subscriptionId: string, resourceGroup: string, name: string, options?: ProbeCallOptions): Promise<ActiveVaultFacts>;
  listDeletedVaults(subscriptionId: string, options?: ProbeCallOptions): Promise<DeletedVaultFacts[]>;
}

/** Port: a key's attributes. `undefined` means 404 (no such key / no such deleted key); other failures throw. */
export interface KeyMetadataReader {
  getKey(vaultUrl: string, keyName: string, options?: ProbeCallOptions): Promise<ActiveKeyFacts | undefined>;
  getDeletedKey(vaultUrl: string, keyName: string, options?: ProbeCallOptions): Promise<DeletedKeyFacts | undefined>;
}
