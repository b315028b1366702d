/** A Cosmos DB account with a customer-managed key, as the monitor sees it (normalised from ARM). */
export interface UserAssignedIdentityInfo {
  principalId?: string;
  clientId?: string;
}

export interface CmkAccount {
  /** ARM resource id, as ARM returned it. */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location?: string;
  keyVaultKeyUri: string;
  defaultIdentity?: string;
  /** `identity.type`, e.g. "SystemAssigned", "SystemAssigned,UserAssigned". */
  identityType?: string;
  /** `identity.principalId` of the system-assigned identity. */
  principalId?: string;
  /** Keyed by user-assigned identity resource id. */
  userAssignedIdentities: Record<string, UserAssignedIdentityInfo>;
  tags: Record<string, string>;
  /** `properties.customerManagedKeyStatus`; undefined when ARM did not report it. */
  customerManagedKeyStatus?: string;
}

export interface ResourceIdParts {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const ACCOUNT_ID_PATTERN = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/([^/]+)\/?$/i;

/** Splits a Cosmos DB account resource id; undefined when it is not one. */
export function parseAccountResourceId(id: string): ResourceIdParts | undefined {
  const match = ACCOUNT_ID_PATTERN.exec(id.trim());
  if (!match) return undefined;
  return { subscriptionId: match[1]!, resourceGroup: match[2]!, name: match[3]! };
}

/** ARM ids are case-insensitive; this is the form used for keys and comparisons. */
export function normalizeResourceId(id: string): string {
  return id.trim().replace(/\/+$/, "").toLowerCase();
}
