/** Account source over ARM: `@azure/arm-cosmosdb` databaseAccounts.list() per subscription. */
import type { DatabaseAccountGetResults } from "@azure/arm-cosmosdb";
import { CosmosDBManagementClient } from "@azure/arm-cosmosdb";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type { Pipeline } from "@azure/core-rest-pipeline";
import type { CmkAccount, UserAssignedIdentityInfo } from "../domain/account";
import { parseAccountResourceId } from "../domain/account";
import { ClientCache, CLIENTS_KEPT } from "./clientCache";
import { statusCodeOf } from "../ports/failures";
import type { AccountSource } from "../ports/accountSource";

export interface ArmAccountSourceOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions?: CommonClientOptions;
}

export class ArmAccountSource implements AccountSource {
  private readonly clients = new ClientCache<CosmosDBManagementClient>(CLIENTS_KEPT);
  /**
   * The first client's pipeline, shared by every later one: a fleet has more subscriptions than the
   * cache keeps, and building a pipeline per client (and fetching a token for it) cost each ARM
   * list about as much CPU as its round trip's TLS. The pipeline holds no subscription.
   */
  private pipeline: Pipeline | undefined;

  constructor(private readonly options: ArmAccountSourceOptions) {}

  async *listAccounts(subscriptionId: string): AsyncIterable<CmkAccount> {
    for await (const raw of this.client(subscriptionId).databaseAccounts.list()) {
      const account = toCmkAccount(raw, subscriptionId);
      if (account) yield account;
    }
  }

  async getAccount(resourceId: string): Promise<CmkAccount | undefined> {
    const parts = parseAccountResourceId(resourceId);
    if (!parts) return undefined;
    try {
      const raw = await this.client(parts.subscriptionId).databaseAccounts.get(parts.resourceGroup, parts.name);
      return toCmkAccount(raw, parts.subscriptionId);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  private client(subscriptionId: string): CosmosDBManagementClient {
    return this.clients.get(subscriptionId, () => {
      if (!this.pipeline) {
        const first = new CosmosDBManagementClient(this.options.credential, subscriptionId, { ...this.options.clientOptions, endpoint: this.options.endpoint });
        this.pipeline = first.pipeline;
        return first;
      }
      // Additional policies are in the shared pipeline already; given again, each client would add them once more.
      const { additionalPolicies: _inPipeline, ...options } = this.options.clientOptions ?? {};
      return new CosmosDBManagementClient(this.options.credential, subscriptionId, { ...options, endpoint: this.options.endpoint, pipeline: this.pipeline });
    });
  }
}

/**
 * Normalises one ARM account; undefined when it has no customer-managed key.
 * Every field is treated as possibly missing or odd: one strange account must not break a cycle.
 */
export function toCmkAccount(raw: DatabaseAccountGetResults, fallbackSubscriptionId: string): CmkAccount | undefined {
  const keyVaultKeyUri = asString(raw.keyVaultKeyUri);
  const id = asString(raw.id);
  if (!keyVaultKeyUri || !id) return undefined;
  const parts = parseAccountResourceId(id);
  const identity = (raw.identity ?? {}) as { type?: unknown; principalId?: unknown; userAssignedIdentities?: unknown };
  const userAssignedIdentities: Record<string, UserAssignedIdentityInfo> = {};
  if (identity.userAssignedIdentities && typeof identity.userAssignedIdentities === "object") {
    for (const [key, value] of Object.entries(identity.userAssignedIdentities as Record<string, unknown>)) {
      const info = (value ?? {}) as { principalId?: unknown; clientId?: unknown };
      userAssignedIdentities[key] = {
        ...(asString(info.principalId) ? { principalId: asString(info.principalId)! } : {}),
        ...(asString(info.clientId) ? { clientId: asString(info.clientId)! } : {}),
      };
    }
  }
  const tags: Record<string, string> = {};
  if (raw.tags && typeof raw.tags === "object") {
    for (const [key, value] of Object.entries(raw.tags)) if (typeof value === "string") tags[key] = value;
  }
  const status = asString(raw.customerManagedKeyStatus);
  const account: CmkAccount = {
    id,
    name: asString(raw.name) ?? parts?.name ?? id,
    subscriptionId: parts?.subscriptionId ?? fallbackSubscriptionId,
    resourceGroup: parts?.resourceGroup ?? "",
    keyVaultKeyUri,
    userAssignedIdentities,
    tags,
  };
  const location = asString(raw.location);
  if (location) account.location = location;
  const defaultIdentity = asString(raw.defaultIdentity);
  if (defaultIdentity) account.defaultIdentity = defaultIdentity;
  const identityType = asString(identity.type);
  if (identityType) account.identityType = identityType;
  const principalId = asString(identity.principalId);
  if (principalId) account.principalId = principalId;
  if (status !== undefined) account.customerManagedKeyStatus = status;
  return account;
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
