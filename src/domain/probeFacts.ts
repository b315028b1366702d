/**
 * What the probes found about one account's key, as plain data. The adapters fill it in; the
 * pure functions in probeConditions.ts, probeFindings.ts, warnings.ts and the cause modules read
 * it. A probe the monitor could not run (no permission, firewall, timeout) is
 * `{ checked: false, reason }`, never a guessed answer.
 */
import type { DefaultIdentityCheck } from "./defaultIdentityCheck";
import type { KeyUriCheck } from "./keyVaultUri";

export type Checked<T> = { checked: true; value: T } | { checked: false; reason: string };

export function checked<T>(value: T): Checked<T> {
  return { checked: true, value };
}

export function couldNotCheck<T = never>(reason: string): Checked<T> {
  return { checked: false, reason };
}

export interface DnsFacts {
  host: string;
  /** False only for a definite "no such host" (NXDOMAIN); other failures are `couldNotCheck`. */
  resolves: boolean;
}

export type PermissionModel = "access-policies" | "rbac";

export interface AccessPolicyFacts {
  objectId: string;
  tenantId?: string;
  /** Set for compound identities (an application acting for a user); such entries are ignored. */
  applicationId?: string;
  /** Key permissions as the vault lists them, e.g. ["get", "wrapKey", "unwrapKey"]. */
  keys: string[];
}

export interface ActiveVaultFacts {
  state: "active";
  /** ARM resource id. */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location?: string;
  tenantId?: string;
  permissionModel: PermissionModel;
  softDeleteEnabled: boolean;
  softDeleteRetentionInDays?: number;
  purgeProtectionEnabled: boolean;
  /** "Enabled" | "Disabled" (ARM leaves it out on old vaults, which means Enabled). */
  publicNetworkAccess: string;
  /** Firewall default action: "Allow" | "Deny". */
  firewallDefaultAction: string;
  /** True when the firewall's bypass lets trusted Microsoft services (Cosmos DB among them) through. */
  trustedServicesBypass: boolean;
  accessPolicies: AccessPolicyFacts[];
}

export interface DeletedVaultFacts {
  state: "deleted";
  name: string;
  id?: string;
  subscriptionId?: string;
  location?: string;
  deletedOn?: string;
  /** The vault can be recovered until then. */
  purgeScheduledOn?: string;
  purgeProtectionEnabled?: boolean;
}

export interface MissingVaultFacts {
  state: "not-found";
  name: string;
  /** Subscriptions whose vaults and deleted vaults were listed without finding it. */
  searchedSubscriptions: string[];
}

export type VaultFacts = ActiveVaultFacts | DeletedVaultFacts | MissingVaultFacts;

export interface ActiveKeyFacts {
  state: "active";
  name: string;
  version?: string;
  enabled: boolean;
  expiresOn?: string;
  notBefore?: string;
  recoverableDays?: number;
  recoveryLevel?: string;
}

export interface DeletedKeyFacts {
  state: "deleted";
  name: string;
  deletedOn?: string;
  /** The key can be recovered until then. */
  purgeScheduledOn?: string;
}

export interface MissingKeyFacts {
  state: "not-found";
  name: string;
}

export type KeyFacts = ActiveKeyFacts | DeletedKeyFacts | MissingKeyFacts;

/** One role assignment that applies to the default identity (directly or through a group) at or above the key. */
export interface RoleAssignmentFacts {
  scope: string;
  roleDefinitionId: string;
  roleName?: string;
  /** The principal the assignment names: the identity itself, or a group it belongs to. */
  principalId?: string;
  principalType?: string;
  /** An ABAC condition: the monitor cannot evaluate it, so a grant that needs it is undecided. */
  condition?: string;
  /** The role's data actions and not-data-actions, per permission entry. */
  permissions: Array<{ dataActions: string[]; notDataActions: string[] }>;
}

/** A deny assignment at or above the key; it overrides any role assignment it covers. */
export interface DenyAssignmentFacts {
  name?: string;
  scope: string;
  doNotApplyToChildScopes: boolean;
  principals: Array<{ id: string; type?: string }>;
  excludePrincipals: Array<{ id: string; type?: string }>;
  permissions: Array<{ dataActions: string[]; notDataActions: string[] }>;
  condition?: string;
}

export interface ProbeFacts {
  checkedAt: string;
  keyUri: KeyUriCheck;
  identity: DefaultIdentityCheck;
  dns: Checked<DnsFacts>;
  vault: Checked<VaultFacts>;
  key: Checked<KeyFacts>;
  /**
   * Role assignments of the default identity covering the key; only looked up for RBAC vaults
   * (access policies come with the vault).
   */
  roleAssignments: Checked<RoleAssignmentFacts[]>;
  /** Deny assignments at or above the key; looked up with the role assignments. */
  denyAssignments: Checked<DenyAssignmentFacts[]>;
}
