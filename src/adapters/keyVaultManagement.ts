/** Key Vault control plane over ARM (`@azure/arm-keyvault`): vaults and soft-deleted vaults. */
import { KeyVaultManagementClient, type DeletedVault, type Vault } from "@azure/arm-keyvault";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type { ActiveVaultFacts, DeletedVaultFacts } from "../domain/probeFacts";
import { ClientCache, CLIENTS_KEPT } from "./clientCache";
import type { ProbeCallOptions, VaultDirectory, VaultSummary } from "../ports/keyVaultReads";

export interface ArmVaultDirectoryOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions?: CommonClientOptions;
}

export class ArmVaultDirectory implements VaultDirectory {
  private readonly clients = new ClientCache<KeyVaultManagementClient>(CLIENTS_KEPT);

  constructor(private readonly options: ArmVaultDirectoryOptions) {}

  async listVaults(subscriptionId: string, options: ProbeCallOptions = {}): Promise<VaultSummary[]> {
    const vaults: VaultSummary[] = [];
    for await (const vault of this.client(subscriptionId).vaults.listBySubscription(signal(options))) {
      if (!vault.id || !vault.name) continue;
      vaults.push({ id: vault.id, name: vault.name, resourceGroup: resourceGroupOf(vault.id) });
    }
    return vaults;
  }

  async getVault(subscriptionId: string, resourceGroup: string, name: string, options: ProbeCallOptions = {}): Promise<ActiveVaultFacts> {
    return toVaultFacts(await this.client(subscriptionId).vaults.get(resourceGroup, name, signal(options)), subscriptionId);
  }

  async listDeletedVaults(subscriptionId: string, options: ProbeCallOptions = {}): Promise<DeletedVaultFacts[]> {
    const deleted: DeletedVaultFacts[] = [];
    for await (const vault of this.client(subscriptionId).vaults.listDeleted(signal(options))) {
      const facts = toDeletedVaultFacts(vault, subscriptionId);
      if (facts) deleted.push(facts);
    }
    return deleted;
  }

  private client(subscriptionId: string): KeyVaultManagementClient {
    return this.clients.get(
      subscriptionId,
      () =>
        new KeyVaultManagementClient(this.options.credential, subscriptionId, { ...(this.options.clientOptions as object), endpoint: this.options.endpoint }),
    );
  }
}

function signal(options: ProbeCallOptions): { abortSignal?: AbortSignal } {
  return options.abortSignal ? { abortSignal: options.abortSignal } : {};
}

function resourceGroupOf(id: string): string {
  return /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? "";
}

/** Normalises one vault; defaults follow ARM's (absent soft delete on a new vault means on). */
export function toVaultFacts(vault: Vault, subscriptionId: string): ActiveVaultFacts {
  const properties = vault.properties ?? ({} as Vault["properties"]);
  const acls = properties.networkAcls;
  return {
    state: "active",
    id: vault.id ?? "",
    name: vault.name ?? "",
    subscriptionId: /\/subscriptions\/([^/]+)/i.exec(vault.id ?? "")?.[1] ?? subscriptionId,
    resourceGroup: resourceGroupOf(vault.id ?? ""),
    ...(vault.location ? { location: vault.location } : {}),
    ...(properties.tenantId ? { tenantId: properties.tenantId } : {}),
    permissionModel: properties.enableRbacAuthorization ? "rbac" : "access-policies",
    softDeleteEnabled: properties.enableSoftDelete !== false,
    ...(properties.softDeleteRetentionInDays !== undefined ? { softDeleteRetentionInDays: properties.softDeleteRetentionInDays } : {}),
    purgeProtectionEnabled: properties.enablePurgeProtection === true,
    publicNetworkAccess: properties.publicNetworkAccess ?? "Enabled",
    firewallDefaultAction: acls?.defaultAction ?? "Allow",
    // No rule set at all means no firewall: nothing to bypass.
    trustedServicesBypass: acls ? /azureservices/i.test(acls.bypass ?? "AzureServices") : true,
    accessPolicies: (properties.accessPolicies ?? []).map((policy) => ({
      objectId: policy.objectId,
      ...(policy.tenantId ? { tenantId: policy.tenantId } : {}),
      ...(policy.applicationId ? { applicationId: policy.applicationId } : {}),
      keys: [...(policy.permissions?.keys ?? [])].map(String),
    })),
  };
}

export function toDeletedVaultFacts(vault: DeletedVault, subscriptionId: string): DeletedVaultFacts | undefined {
  const name = vault.name ?? /\/vaults\/([^/]+)$/i.exec(vault.properties?.vaultId ?? "")?.[1];
  if (!name) return undefined;
  const properties = vault.properties;
  return {
    state: "deleted",
    name,
    subscriptionId,
    ...(properties?.vaultId ? { id: properties.vaultId } : {}),
    ...(properties?.location ? { location: properties.location } : {}),
    ...(properties?.deletionDate ? { deletedOn: new Date(properties.deletionDate).toISOString() } : {}),
    ...(properties?.scheduledPurgeDate ? { purgeScheduledOn: new Date(properties.scheduledPurgeDate).toISOString() } : {}),
    ...(properties?.purgeProtectionEnabled !== undefined ? { purgeProtectionEnabled: properties.purgeProtectionEnabled } : {}),
  };
}
