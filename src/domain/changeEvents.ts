/**
 * Azure's change events (Event Grid, Event Grid schema), read purely: is this an event we watch,
 * from a topic in scope, and which parts of the fleet can it affect? The handler
 * (src/app/handleChangeEvent.ts) maps the targets to accounts through the fleet index and re-checks
 * them. Anything unexpected is ignored with a named reason (and counted), never thrown: Event Grid
 * would only deliver it again.
 *
 * Sources (docs/azure-behaviour.md): the subscription system topic's
 * Microsoft.Resources.ResourceWriteSuccess / ResourceDeleteSuccess / ResourceActionSuccess events
 * (data.operationName, data.resourceUri, data.subscriptionId), and a vault system topic's
 * Microsoft.KeyVault.KeyNearExpiry / KeyExpired / KeyNewVersionCreated / VaultAccessPolicyChanged
 * (data.VaultName, data.ObjectName; the wire form is PascalCase).
 */
import { normalizeResourceId } from "./account";

export const RESOURCE_EVENT_TYPES = [
  "Microsoft.Resources.ResourceWriteSuccess",
  "Microsoft.Resources.ResourceDeleteSuccess",
  "Microsoft.Resources.ResourceActionSuccess",
] as const;

export const KEY_VAULT_EVENT_TYPES = [
  "Microsoft.KeyVault.KeyNearExpiry",
  "Microsoft.KeyVault.KeyExpired",
  "Microsoft.KeyVault.KeyNewVersionCreated",
  "Microsoft.KeyVault.VaultAccessPolicyChanged",
] as const;

/** The ARM operations that can break an account's access to its key (the event subscription filters on them too). */
export const WATCHED_OPERATIONS = [
  "Microsoft.Authorization/roleAssignments/delete",
  "Microsoft.Authorization/roleAssignments/write",
  "Microsoft.KeyVault/vaults/write",
  "Microsoft.KeyVault/vaults/delete",
  "Microsoft.KeyVault/vaults/accessPolicies/write",
  "Microsoft.DocumentDB/databaseAccounts/write",
  "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
] as const;

/** What an event can affect; the fleet index turns each into accounts. */
export type ChangeTarget =
  | { kind: "account"; accountId: string }
  /** By name: globally unique under a vault DNS suffix, and what both ARM ids and Key Vault events carry. */
  | { kind: "vault"; vaultName: string }
  | { kind: "identity"; identityId: string }
  /** A role assignment above a vault (resource group, subscription, management group): every indexed vault under it. */
  | { kind: "scope"; scope: string };

export type IgnoredReason = "invalid" | "unknown-event-type" | "operation-not-watched" | "out-of-scope";

export type ParsedChangeEvent =
  | { relevant: true; id: string; eventType: string; eventTime: string; subscriptionId: string; targets: ChangeTarget[]; what: string }
  | { relevant: false; reason: IgnoredReason; id?: string; eventType?: string };

export interface ChangeEventScope {
  /** Subscriptions whose events are in scope (lowercase); undefined: any (management-group scope, checked by the fleet index). */
  subscriptionIds?: ReadonlySet<string>;
}

const SUBSCRIPTION_PREFIX = /^\/subscriptions\/([0-9a-f-]{36})(?:\/|$)/i;
const VAULT_IN_ID = /\/providers\/Microsoft\.KeyVault\/vaults\/([a-zA-Z0-9-]{3,24})(?:\/|$)/i;
const ACCOUNT_IN_ID = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+)/i;
const IDENTITY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
const ROLE_ASSIGNMENT = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i;
const VAULT_NAME = /^[a-zA-Z0-9-]{3,24}$/;
const MAX_FIELD_LENGTH = 2048;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_FIELD_LENGTH ? value : undefined;
}

/** A field of a Key Vault event's data: PascalCase on the wire, camelCase in the SDK's models. */
function field(data: Record<string, unknown>, name: string): string | undefined {
  return text(data[name]) ?? text(data[name.charAt(0).toLowerCase() + name.slice(1)]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates one event and names what it can affect; pure. */
export function parseChangeEvent(raw: unknown, scope: ChangeEventScope): ParsedChangeEvent {
  if (!isRecord(raw)) return { relevant: false, reason: "invalid" };
  const id = text(raw.id);
  const eventType = text(raw.eventType);
  const topic = text(raw.topic);
  const eventTime = text(raw.eventTime);
  const data = raw.data;
  if (!id || !eventType || !topic || !eventTime || Number.isNaN(Date.parse(eventTime)) || !isRecord(data)) {
    return { relevant: false, reason: "invalid", ...(id ? { id } : {}), ...(eventType ? { eventType } : {}) };
  }
  const ignored = (reason: IgnoredReason): ParsedChangeEvent => ({ relevant: false, reason, id, eventType });
  const resourceEvent = (RESOURCE_EVENT_TYPES as readonly string[]).includes(eventType);
  const vaultEvent = (KEY_VAULT_EVENT_TYPES as readonly string[]).includes(eventType);
  if (!resourceEvent && !vaultEvent) return ignored("unknown-event-type");
  const subscriptionId = SUBSCRIPTION_PREFIX.exec(topic)?.[1]?.toLowerCase();
  if (!subscriptionId) return ignored("invalid");
  if (scope.subscriptionIds && !scope.subscriptionIds.has(subscriptionId)) return ignored("out-of-scope");
  const at = new Date(eventTime).toISOString();

  if (vaultEvent) {
    // The topic is the vault itself; its name in the data must agree, or the event is not what it says.
    const topicVault = VAULT_IN_ID.exec(topic)?.[1];
    const vaultName = field(data, "VaultName") ?? topicVault;
    if (!topicVault || !vaultName || !VAULT_NAME.test(vaultName) || vaultName.toLowerCase() !== topicVault.toLowerCase()) return ignored("invalid");
    const object = field(data, "ObjectName");
    const what = `${eventType.slice("Microsoft.KeyVault.".length)} in vault ${vaultName}${object ? ` (${object})` : ""}`;
    return { relevant: true, id, eventType, eventTime: at, subscriptionId, targets: [{ kind: "vault", vaultName: vaultName.toLowerCase() }], what };
  }

  const operation = text(data.operationName);
  const resourceUri = text(data.resourceUri);
  if (!operation || !resourceUri) return ignored("invalid");
  const watched = WATCHED_OPERATIONS.find((op) => op.toLowerCase() === operation.toLowerCase());
  if (!watched) return ignored("operation-not-watched");
  // The resource must be in the topic's subscription (a tenant-level role assignment has no account to affect here).
  const resourceSubscription = SUBSCRIPTION_PREFIX.exec(resourceUri)?.[1]?.toLowerCase();
  if (resourceSubscription !== subscriptionId) return ignored(resourceSubscription ? "out-of-scope" : "invalid");
  const targets = targetsOf(watched, resourceUri);
  if (targets.length === 0) return ignored("invalid");
  return { relevant: true, id, eventType, eventTime: at, subscriptionId, targets, what: `${watched} on ${resourceUri}` };
}

function targetsOf(operation: (typeof WATCHED_OPERATIONS)[number], resourceUri: string): ChangeTarget[] {
  switch (operation) {
    case "Microsoft.Authorization/roleAssignments/delete":
    case "Microsoft.Authorization/roleAssignments/write": {
      const scope = ROLE_ASSIGNMENT.exec(resourceUri)?.[1];
      if (scope === undefined) return [];
      // At a vault or one of its keys: that vault. Above it: every vault the index knows under that scope.
      const vault = VAULT_IN_ID.exec(scope)?.[1];
      return vault ? [{ kind: "vault", vaultName: vault.toLowerCase() }] : [{ kind: "scope", scope: normalizeResourceId(scope) }];
    }
    case "Microsoft.KeyVault/vaults/write":
    case "Microsoft.KeyVault/vaults/delete":
    case "Microsoft.KeyVault/vaults/accessPolicies/write": {
      const vault = VAULT_IN_ID.exec(resourceUri)?.[1];
      return vault ? [{ kind: "vault", vaultName: vault.toLowerCase() }] : [];
    }
    case "Microsoft.DocumentDB/databaseAccounts/write": {
      const account = ACCOUNT_IN_ID.exec(resourceUri)?.[1];
      return account ? [{ kind: "account", accountId: normalizeResourceId(account) }] : [];
    }
    case "Microsoft.ManagedIdentity/userAssignedIdentities/delete":
      return IDENTITY_ID.test(resourceUri) ? [{ kind: "identity", identityId: normalizeResourceId(resourceUri) }] : [];
  }
}
