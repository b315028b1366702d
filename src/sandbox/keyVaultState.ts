/**
 * The sandbox's Key Vault world: vaults (live or soft-deleted), their keys, access policies,
 * role assignments, firewalls, and which vault host names resolve. Tests and the drill change
 * it through the methods below; the probes only ever see it through HTTP (ARM, the Key Vault
 * data plane, role assignments) and the resolver, exactly as they see Azure.
 *
 * Changing these facts never changes an account's `customerManagedKeyStatus`: as in Azure, the
 * status lags the facts and only moves through `LocalSandbox.setStatus`.
 *
 * Drill events map one-to-one (names from `cmkTargetOf(account)`):
 *   key: deleted | restored | disabled | enabled  → deleteKey / recoverKey / setKeyEnabled(…, false | true)
 *   keyExpiresInDays: N                           → setKeyExpiry(vault, key, <drill now + N days>)
 *   permission: granted | removed, via            → grantPermission / removePermission(vault, principal, via)
 *   vault: deleted | recovered                    → deleteVault / recoverVault
 *   dns: resolves | fails                         → setDnsResolves(host, true | false)
 *   firewall: blocks-trusted-services | allows    → setFirewall(vault, { blocksTrustedServices: true | false })
 *   defaultIdentity / keyVaultKeyUri              → LocalSandbox.setDefaultIdentity / setKeyVaultKeyUri
 */
import type { SandboxChangeFeed } from "./changeFeed";
import { createHash, randomUUID } from "node:crypto";
import { VAULT_DNS_SUFFIXES } from "../domain/keyVaultUri";

export type SandboxPermissionModel = "access-policies" | "rbac";
export type SandboxGrantVia = "access-policy" | "rbac";
export type SandboxRoleScope = "key" | "vault" | "resource-group" | "subscription";

export interface SandboxVaultSpec {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Default "westeurope". */
  location?: string;
  /** Default "access-policies". */
  permissionModel?: SandboxPermissionModel;
  /** Default true (soft delete cannot be turned off on new vaults). */
  softDelete?: boolean;
  /** Default true: Cosmos DB requires it for customer-managed keys. */
  purgeProtection?: boolean;
  /** Default 90. */
  softDeleteRetentionInDays?: number;
}

export interface SandboxKeyOptions {
  enabled?: boolean;
  expiresOn?: Date;
  notBefore?: Date;
}

export interface SandboxFirewall {
  /** Shorthand for the drill: true = deny by default without the trusted-services bypass; false = allow. */
  blocksTrustedServices?: boolean;
  defaultAction?: "Allow" | "Deny";
  bypassAzureServices?: boolean;
  publicNetworkAccess?: "Enabled" | "Disabled";
  /** Whether the monitor's own address is in the firewall's IP rules (default false: a denying firewall blocks the monitor too). */
  monitorAllowed?: boolean;
}

export interface SandboxKey {
  name: string;
  version: string;
  enabled: boolean;
  expiresOn?: Date;
  notBefore?: Date;
  createdOn: Date;
  updatedOn: Date;
  deleted?: { on: Date; purgeOn: Date };
}

export interface SandboxVault {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  permissionModel: SandboxPermissionModel;
  softDelete: boolean;
  purgeProtection: boolean;
  softDeleteRetentionInDays: number;
  defaultAction: "Allow" | "Deny";
  bypassAzureServices: boolean;
  publicNetworkAccess: "Enabled" | "Disabled";
  monitorAllowed: boolean;
  accessPolicies: Array<{ objectId: string; keys: string[] }>;
  keys: Map<string, SandboxKey>;
  deleted?: { on: Date; purgeOn: Date };
}

export interface SandboxRoleAssignment {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  /** "ServicePrincipal" unless the assignment names a group. */
  principalType: "ServicePrincipal" | "Group";
  condition?: string;
}

/** A deny assignment as Azure creates them (managed applications, blueprints, deployment stacks). */
export interface SandboxDenyAssignment {
  id: string;
  name: string;
  scope: string;
  /** Principal ids; the all-zero id is Everyone (type SystemDefined). */
  principals: Array<{ id: string; type: string }>;
  excludePrincipals: Array<{ id: string; type: string }>;
  dataActions: string[];
  notDataActions: string[];
  doNotApplyToChildScopes: boolean;
  condition?: string;
}

export interface SandboxRoleDefinition {
  /** The role's GUID. */
  id: string;
  roleName: string;
  dataActions: string[];
  notDataActions?: string[];
}

/** What the monitor's own identity may not read, to exercise "could not check". */
export type SandboxMonitorDenial = "vaults" | "keys" | "role-assignments";

export const CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

/** Built-in roles the sandbox knows, with their real ids and data actions. */
export const SANDBOX_BUILT_IN_ROLES: readonly SandboxRoleDefinition[] = [
  {
    id: CRYPTO_SERVICE_ENCRYPTION_USER,
    roleName: "Key Vault Crypto Service Encryption User",
    dataActions: ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action", "Microsoft.KeyVault/vaults/keys/unwrap/action"],
  },
  {
    id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    roleName: "Key Vault Crypto Officer",
    dataActions: ["Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*"],
  },
  { id: "00482a5a-887f-4fb3-b363-3b7fe8e74483", roleName: "Key Vault Administrator", dataActions: ["Microsoft.KeyVault/vaults/*"] },
  {
    id: "21090545-7ca7-4776-b22c-e363652d74d2",
    roleName: "Key Vault Reader",
    dataActions: ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
  },
  { id: "acdd72a7-3385-48ef-bd42-f606fba81ae7", roleName: "Reader", dataActions: [] },
];

const DAY_IN_MS = 24 * 60 * 60 * 1000;
const REQUIRED_KEY_PERMISSIONS = ["get", "wrapKey", "unwrapKey"];

export class SandboxKeyVault {
  private readonly vaults = new Map<string, SandboxVault>();
  private readonly assignments: SandboxRoleAssignment[] = [];
  /** Every role assignment ever made, with when (sandbox clock, ms) it was made and removed: what a lagging index shows. */
  private readonly assignmentTimeline: Array<{ assignment: SandboxRoleAssignment; createdAt: number; removedAt?: number }> = [];
  private readonly denyAssignmentList: SandboxDenyAssignment[] = [];
  /** principal id (lower case) → group ids it belongs to, for ARM's assignedTo(). */
  private readonly memberships = new Map<string, Set<string>>();
  private readonly roles = new Map<string, SandboxRoleDefinition>(SANDBOX_BUILT_IN_ROLES.map((r) => [r.id, r]));
  private readonly dns = new Map<string, boolean>();
  private readonly denials = new Map<SandboxMonitorDenial, Set<string>>();

  /** Where ARM-side changes are announced (Event Grid events, change history); none until the sandbox sets it. */
  private feed: SandboxChangeFeed | undefined;

  constructor(private now: () => Date = () => new Date()) {}

  setChangeFeed(feed: SandboxChangeFeed): void {
    this.feed = feed;
  }

  /** An ARM write on the vault (firewall, flags, access policies): announced like Azure's system topics would. */
  private vaultWritten(vault: SandboxVault, operation = "Microsoft.KeyVault/vaults/write", changedPaths: string[] = []): void {
    this.feed?.armOperation(operation, operation.endsWith("accessPolicies/write") ? `${vaultId(vault)}/accessPolicies/replace` : vaultId(vault), changedPaths);
    if (operation.endsWith("accessPolicies/write"))
      this.feed?.vaultEvent("Microsoft.KeyVault.VaultAccessPolicyChanged", vaultId(vault), vault.name, vault.name, "Vault");
  }

  /** The clock used for deletion and purge dates (the drill passes its simulated clock). */
  setClock(now: () => Date): void {
    this.now = now;
  }

  // --- Vaults ------------------------------------------------------------------------------

  /** Creates a vault (or replaces its settings, keeping keys and policies); returns its ARM id. */
  createVault(spec: SandboxVaultSpec): string {
    const existing = this.vaults.get(spec.name.toLowerCase());
    const vault: SandboxVault = {
      name: spec.name.toLowerCase(),
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      location: spec.location ?? existing?.location ?? "westeurope",
      permissionModel: spec.permissionModel ?? existing?.permissionModel ?? "access-policies",
      softDelete: spec.softDelete ?? existing?.softDelete ?? true,
      purgeProtection: spec.purgeProtection ?? existing?.purgeProtection ?? true,
      softDeleteRetentionInDays: spec.softDeleteRetentionInDays ?? existing?.softDeleteRetentionInDays ?? 90,
      defaultAction: existing?.defaultAction ?? "Allow",
      bypassAzureServices: existing?.bypassAzureServices ?? true,
      publicNetworkAccess: existing?.publicNetworkAccess ?? "Enabled",
      monitorAllowed: existing?.monitorAllowed ?? false,
      accessPolicies: existing?.accessPolicies ?? [],
      keys: existing?.keys ?? new Map(),
    };
    this.vaults.set(vault.name, vault);
    return vaultId(vault);
  }

  hasVault(name: string): boolean {
    return this.vaults.has(name.toLowerCase());
  }

  /** Soft-deletes the vault (its keys go with it); without soft delete it is purged at once. */
  deleteVault(name: string): void {
    const vault = this.requireVault(name);
    if (vault.deleted) return;
    if (!vault.softDelete) {
      this.purgeVault(name);
      return;
    }
    const on = this.now();
    vault.deleted = { on, purgeOn: new Date(on.getTime() + vault.softDeleteRetentionInDays * DAY_IN_MS) };
    this.feed?.armOperation("Microsoft.KeyVault/vaults/delete", vaultId(vault));
  }

  recoverVault(name: string): void {
    const vault = this.requireVault(name);
    delete vault.deleted;
    this.vaultWritten(vault);
  }

  /** Gone for good: not listed as a vault or a deleted vault, and its host no longer resolves. */
  purgeVault(name: string): void {
    const vault = this.requireVault(name);
    this.vaults.delete(vault.name);
    const id = vaultId(vault).toLowerCase();
    for (let i = this.assignments.length - 1; i >= 0; i--) {
      if (this.assignments[i]!.scope.toLowerCase().startsWith(id)) this.dropAssignment(i);
    }
  }

  setPermissionModel(name: string, model: SandboxPermissionModel): void {
    this.requireVault(name).permissionModel = model;
    this.vaultWritten(this.requireVault(name), undefined, ["properties.enableRbacAuthorization"]);
  }

  setPurgeProtection(name: string, on: boolean): void {
    this.requireVault(name).purgeProtection = on;
    this.vaultWritten(this.requireVault(name), undefined, ["properties.enablePurgeProtection"]);
  }

  setSoftDelete(name: string, on: boolean): void {
    this.requireVault(name).softDelete = on;
    this.vaultWritten(this.requireVault(name), undefined, ["properties.enableSoftDelete"]);
  }

  setFirewall(name: string, firewall: SandboxFirewall): void {
    const vault = this.requireVault(name);
    if (firewall.blocksTrustedServices !== undefined) {
      vault.defaultAction = firewall.blocksTrustedServices ? "Deny" : "Allow";
      vault.bypassAzureServices = !firewall.blocksTrustedServices;
    }
    if (firewall.defaultAction !== undefined) vault.defaultAction = firewall.defaultAction;
    if (firewall.bypassAzureServices !== undefined) vault.bypassAzureServices = firewall.bypassAzureServices;
    if (firewall.publicNetworkAccess !== undefined) vault.publicNetworkAccess = firewall.publicNetworkAccess;
    if (firewall.monitorAllowed !== undefined) vault.monitorAllowed = firewall.monitorAllowed;
    this.vaultWritten(vault, undefined, ["properties.networkAcls.defaultAction", "properties.networkAcls.bypass", "properties.publicNetworkAccess"]);
  }

  // --- Keys --------------------------------------------------------------------------------

  createKey(vaultName: string, keyName: string, options: SandboxKeyOptions = {}): void {
    const vault = this.requireVault(vaultName);
    const on = this.now();
    vault.keys.set(keyName.toLowerCase(), {
      name: keyName,
      version: createHash("sha256").update(`${vault.name}/${keyName}/${on.toISOString()}/${randomUUID()}`).digest("hex").slice(0, 32),
      enabled: options.enabled ?? true,
      ...(options.expiresOn ? { expiresOn: options.expiresOn } : {}),
      ...(options.notBefore ? { notBefore: options.notBefore } : {}),
      createdOn: on,
      updatedOn: on,
    });
  }

  hasKey(vaultName: string, keyName: string): boolean {
    return this.vaults.get(vaultName.toLowerCase())?.keys.has(keyName.toLowerCase()) ?? false;
  }

  /** Soft-deletes the key ("deleted" in the drill); recoverable until the vault's retention ends. */
  deleteKey(vaultName: string, keyName: string): void {
    const vault = this.requireVault(vaultName);
    const key = this.requireKey(vault, keyName);
    if (key.deleted) return;
    const on = this.now();
    key.deleted = { on, purgeOn: new Date(on.getTime() + vault.softDeleteRetentionInDays * DAY_IN_MS) };
  }

  /** Recovers a soft-deleted key ("restored" in the drill). */
  recoverKey(vaultName: string, keyName: string): void {
    const key = this.requireKey(this.requireVault(vaultName), keyName);
    delete key.deleted;
  }

  purgeKey(vaultName: string, keyName: string): void {
    this.requireVault(vaultName).keys.delete(keyName.toLowerCase());
  }

  setKeyEnabled(vaultName: string, keyName: string, enabled: boolean): void {
    const key = this.requireKey(this.requireVault(vaultName), keyName);
    key.enabled = enabled;
    key.updatedOn = this.now();
  }

  /** `undefined` removes the expiry. */
  setKeyExpiry(vaultName: string, keyName: string, expiresOn: Date | undefined): void {
    const key = this.requireKey(this.requireVault(vaultName), keyName);
    if (expiresOn) key.expiresOn = expiresOn;
    else delete key.expiresOn;
    key.updatedOn = this.now();
  }

  setKeyNotBefore(vaultName: string, keyName: string, notBefore: Date | undefined): void {
    const key = this.requireKey(this.requireVault(vaultName), keyName);
    if (notBefore) key.notBefore = notBefore;
    else delete key.notBefore;
  }

  // --- Permissions -------------------------------------------------------------------------

  /**
   * Gives `principalId` get/wrapKey/unwrapKey on `keyName`: an access policy, or a role
   * assignment of "Key Vault Crypto Service Encryption User" (default at the key's scope).
   */
  grantPermission(
    vaultName: string,
    principalId: string,
    via: SandboxGrantVia,
    options: { keyName?: string; scope?: SandboxRoleScope; roleDefinitionId?: string } = {},
  ): void {
    const vault = this.requireVault(vaultName);
    if (via === "access-policy") {
      const policy = vault.accessPolicies.find((p) => sameId(p.objectId, principalId));
      if (policy) policy.keys = [...new Set([...policy.keys, ...REQUIRED_KEY_PERMISSIONS])];
      else vault.accessPolicies.push({ objectId: principalId, keys: [...REQUIRED_KEY_PERMISSIONS] });
      this.vaultWritten(vault, "Microsoft.KeyVault/vaults/accessPolicies/write");
      return;
    }
    const keyName = options.keyName ?? [...vault.keys.values()][0]?.name;
    const scope = scopeFor(vault, options.scope ?? (keyName ? "key" : "vault"), keyName);
    this.assignRole(scope, principalId, options.roleDefinitionId ?? CRYPTO_SERVICE_ENCRYPTION_USER);
  }

  /** Removes the access policy (via "access-policy"), the role assignments on the vault and above it (via "rbac"), or both. */
  removePermission(vaultName: string, principalId: string, via?: SandboxGrantVia): void {
    const vault = this.requireVault(vaultName);
    if (via !== "rbac") {
      const before = vault.accessPolicies.length;
      vault.accessPolicies = vault.accessPolicies.filter((p) => !sameId(p.objectId, principalId));
      if (vault.accessPolicies.length !== before) this.vaultWritten(vault, "Microsoft.KeyVault/vaults/accessPolicies/write");
    }
    if (via !== "access-policy") {
      const id = vaultId(vault).toLowerCase();
      for (let i = this.assignments.length - 1; i >= 0; i--) {
        const a = this.assignments[i]!;
        if (sameId(a.principalId, principalId) && (a.scope.toLowerCase().startsWith(id) || id.startsWith(`${a.scope.toLowerCase()}/`))) {
          this.dropAssignment(i);
          this.feed?.armOperation("Microsoft.Authorization/roleAssignments/delete", a.id);
        }
      }
    }
  }

  /** Sets the key permissions of one access policy exactly (e.g. ["get", "wrapKey"] to drop unwrapKey). */
  setAccessPolicy(vaultName: string, principalId: string, keys: string[]): void {
    const vault = this.requireVault(vaultName);
    vault.accessPolicies = vault.accessPolicies.filter((p) => !sameId(p.objectId, principalId));
    if (keys.length > 0) vault.accessPolicies.push({ objectId: principalId, keys: [...keys] });
    this.vaultWritten(vault, "Microsoft.KeyVault/vaults/accessPolicies/write");
  }

  /** Assigns a role to a principal, or to a group (`principalType: "Group"`), optionally with an ABAC condition. */
  assignRole(
    scope: string,
    principalId: string,
    roleDefinitionId: string,
    options: { principalType?: "ServicePrincipal" | "Group"; condition?: string } = {},
  ): string {
    const id = `${scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    const assignment: SandboxRoleAssignment = {
      id,
      scope: scope.replace(/\/+$/, ""),
      roleDefinitionId: roleDefinitionId.split("/").pop()!,
      principalId,
      principalType: options.principalType ?? "ServicePrincipal",
      ...(options.condition ? { condition: options.condition } : {}),
    };
    this.assignments.push(assignment);
    this.assignmentTimeline.push({ assignment, createdAt: this.now().getTime() });
    this.feed?.armOperation("Microsoft.Authorization/roleAssignments/write", id);
    return id;
  }

  private dropAssignment(index: number): void {
    const [gone] = this.assignments.splice(index, 1);
    const entry = this.assignmentTimeline.find((e) => e.assignment === gone && e.removedAt === undefined);
    if (entry) entry.removedAt = this.now().getTime();
  }

  /** The role assignments that existed at `at` (ms): what an index lagging behind ARM shows (Resource Graph's authorizationresources). */
  roleAssignmentsAsOf(at: number): SandboxRoleAssignment[] {
    return this.assignmentTimeline.filter((e) => e.createdAt <= at && (e.removedAt === undefined || e.removedAt > at)).map((e) => e.assignment);
  }

  /** Marks the live role assignments as made long ago: setting a world up is not a change any index has yet to catch up on. */
  settleRoleAssignments(): void {
    for (const entry of this.assignmentTimeline) if (entry.removedAt === undefined) entry.createdAt = Number.NEGATIVE_INFINITY;
  }

  /** Makes `principalId` a member of `groupId` (what Entra ID would say to ARM's assignedTo()). */
  addGroupMember(groupId: string, principalId: string): void {
    const groups = this.memberships.get(principalId.toLowerCase()) ?? new Set<string>();
    groups.add(groupId.toLowerCase());
    this.memberships.set(principalId.toLowerCase(), groups);
  }

  /** Adds a deny assignment (users cannot create them in Azure; managed applications and deployment stacks do). */
  addDenyAssignment(
    deny: Omit<SandboxDenyAssignment, "id" | "excludePrincipals" | "notDataActions" | "doNotApplyToChildScopes"> & Partial<SandboxDenyAssignment>,
  ): string {
    const scope = deny.scope.replace(/\/+$/, "");
    const id = deny.id ?? `${scope}/providers/Microsoft.Authorization/denyAssignments/${randomUUID()}`;
    this.denyAssignmentList.push({ excludePrincipals: [], notDataActions: [], doNotApplyToChildScopes: false, ...deny, id, scope });
    return id;
  }

  defineRole(role: SandboxRoleDefinition): void {
    this.roles.set(role.id.toLowerCase(), role);
  }

  // --- DNS and the monitor's own access ------------------------------------------------------

  /** Overrides whether `host` resolves; `undefined` goes back to "resolves while the vault exists and is not deleted". */
  setDnsResolves(host: string, resolves: boolean | undefined): void {
    if (resolves === undefined) this.dns.delete(host.toLowerCase());
    else this.dns.set(host.toLowerCase(), resolves);
  }

  /** The sandbox's DNS: a vault host resolves while its vault exists and is not deleted, unless overridden. */
  resolves(host: string): boolean {
    const name = host.toLowerCase().replace(/\.$/, "");
    const override = this.dns.get(name);
    if (override !== undefined) return override;
    const suffix = VAULT_DNS_SUFFIXES.find((s) => s.service === "vault" && name.endsWith(`.${s.suffix}`));
    if (!suffix) return false;
    const vault = this.vaults.get(name.slice(0, name.length - suffix.suffix.length - 1));
    return vault !== undefined && !vault.deleted;
  }

  /** Makes the monitor's reads of `what` answer 403 (for one vault, or everywhere when `vaultName` is omitted). */
  denyMonitor(what: SandboxMonitorDenial, vaultName = "*", denied = true): void {
    const set = this.denials.get(what) ?? new Set<string>();
    if (denied) set.add(vaultName.toLowerCase());
    else set.delete(vaultName.toLowerCase());
    this.denials.set(what, set);
  }

  isMonitorDenied(what: SandboxMonitorDenial, vaultName: string): boolean {
    const set = this.denials.get(what);
    return set !== undefined && (set.has("*") || set.has(vaultName.toLowerCase()));
  }

  // --- Read side (routes) ------------------------------------------------------------------

  findVault(name: string): SandboxVault | undefined {
    return this.vaults.get(name.toLowerCase());
  }

  listVaults(): SandboxVault[] {
    return [...this.vaults.values()];
  }

  findKey(vault: SandboxVault, keyName: string): SandboxKey | undefined {
    return vault.keys.get(keyName.toLowerCase());
  }

  /** Role assignments of `principalId` at, above or below `scope` (what ARM's `principalId eq` filter returns). */
  roleAssignmentsFor(scope: string, principalId?: string): SandboxRoleAssignment[] {
    return this.assignments.filter((a) => (!principalId || sameId(a.principalId, principalId)) && scopeReaches(a.scope, scope, false));
  }

  /** Assignments at or above `scope` to the principal or a group it is in (ARM's `atScope() and assignedTo()`). */
  roleAssignmentsApplying(scope: string, principalId: string, atScopeOnly: boolean): SandboxRoleAssignment[] {
    const holders = new Set([principalId.toLowerCase(), ...(this.memberships.get(principalId.toLowerCase()) ?? [])]);
    return this.assignments.filter((a) => holders.has(a.principalId.toLowerCase()) && scopeReaches(a.scope, scope, atScopeOnly));
  }

  /** Deny assignments at or above `scope` (ARM's `atScope()`), or also below it without the filter. */
  denyAssignmentsAt(scope: string, atScopeOnly: boolean): SandboxDenyAssignment[] {
    return this.denyAssignmentList.filter((d) => scopeReaches(d.scope, scope, atScopeOnly));
  }

  roleDefinition(id: string): SandboxRoleDefinition | undefined {
    return this.roles.get(id.toLowerCase());
  }

  private requireVault(name: string): SandboxVault {
    const vault = this.vaults.get(name.toLowerCase());
    // Throwing catches typos in tests and scenarios that would otherwise change nothing.
    if (!vault) throw new Error(`Sandbox has no vault "${name}"`);
    return vault;
  }

  private requireKey(vault: SandboxVault, keyName: string): SandboxKey {
    const key = vault.keys.get(keyName.toLowerCase());
    if (!key) throw new Error(`Sandbox vault "${vault.name}" has no key "${keyName}"`);
    return key;
  }
}

export function vaultId(vault: Pick<SandboxVault, "subscriptionId" | "resourceGroup" | "name">): string {
  return `/subscriptions/${vault.subscriptionId}/resourceGroups/${vault.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault.name}`;
}

function scopeFor(vault: SandboxVault, scope: SandboxRoleScope, keyName: string | undefined): string {
  switch (scope) {
    case "key":
      return `${vaultId(vault)}/keys/${keyName ?? ""}`;
    case "vault":
      return vaultId(vault);
    case "resource-group":
      return `/subscriptions/${vault.subscriptionId}/resourceGroups/${vault.resourceGroup}`;
    case "subscription":
      return `/subscriptions/${vault.subscriptionId}`;
  }
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** ARM's scope filters: an assignment at `assigned` is returned for `queried` when at or above it, and (unless `atScopeOnly`) below it. */
function scopeReaches(assigned: string, queried: string, atScopeOnly: boolean): boolean {
  const a = assigned.toLowerCase();
  const q = queried.replace(/\/+$/, "").toLowerCase();
  return a === q || q.startsWith(`${a}/`) || (!atScopeOnly && a.startsWith(`${q}/`));
}
