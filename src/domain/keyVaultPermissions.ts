/**
 * Does the default identity hold get, wrapKey and unwrapKey on the key? Pure evaluation of what
 * the probes read: the vault's access policies, or the identity's role assignments with their
 * roles' data actions (wildcards and not-data-actions included).
 */
import type { AccessPolicyFacts, PermissionModel, ProbeFacts, RoleAssignmentFacts } from "./probeFacts";

export const CRYPTO_SERVICE_ENCRYPTION_USER_ROLE_ID = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

/** The three operations Cosmos DB performs, as access-policy permissions and as RBAC data actions. */
export const REQUIRED_OPERATIONS: ReadonlyArray<{ permission: string; dataAction: string }> = [
  { permission: "get", dataAction: "Microsoft.KeyVault/vaults/keys/read" },
  { permission: "wrapKey", dataAction: "Microsoft.KeyVault/vaults/keys/wrap/action" },
  { permission: "unwrapKey", dataAction: "Microsoft.KeyVault/vaults/keys/unwrap/action" },
];

export type PermissionVerdict =
  | { status: "granted"; model: PermissionModel; principalId: string; via: string }
  | { status: "missing"; model: PermissionModel; principalId: string; missing: string[]; detail: string }
  | { status: "unknown"; reason: string };

export function evaluatePermission(facts: ProbeFacts): PermissionVerdict {
  const identity = facts.identity;
  if (!identity.valid) return { status: "unknown", reason: "the default identity is not valid, so there is no principal to check" };
  const principalId = identity.principalId;
  if (!principalId) {
    return {
      status: "unknown",
      reason:
        identity.kind === "first-party"
          ? "FirstPartyIdentity's object id is specific to your Microsoft Entra tenant and the account does not report it"
          : identity.kind === "delegated"
            ? "a delegated identity's principal is not reported on the account"
            : "the account reports no principal id for its default identity",
    };
  }
  if (!facts.vault.checked) return { status: "unknown", reason: facts.vault.reason };
  const vault = facts.vault.value;
  if (vault.state !== "active") return { status: "unknown", reason: `the vault ${vault.name} is ${vault.state === "deleted" ? "deleted" : "not found"}` };

  if (vault.permissionModel === "access-policies") return evaluateAccessPolicies(vault.accessPolicies, principalId, vault.tenantId);
  if (!facts.roleAssignments.checked) return { status: "unknown", reason: facts.roleAssignments.reason };
  const keyScope = `${vault.id}/keys/${facts.keyUri.reference?.keyName ?? ""}`;
  return evaluateRoleAssignments(facts.roleAssignments.value, principalId, keyScope);
}

export function evaluateAccessPolicies(policies: readonly AccessPolicyFacts[], principalId: string, vaultTenantId?: string): PermissionVerdict {
  const granted = new Set<string>();
  for (const policy of policies) {
    if (policy.objectId.toLowerCase() !== principalId.toLowerCase()) continue;
    // A compound identity (application + user) does not grant the identity on its own.
    if (policy.applicationId) continue;
    if (policy.tenantId && vaultTenantId && policy.tenantId.toLowerCase() !== vaultTenantId.toLowerCase()) continue;
    for (const permission of policy.keys) granted.add(permission.toLowerCase());
  }
  const missing = REQUIRED_OPERATIONS.map((op) => op.permission).filter((p) => !granted.has(p.toLowerCase()) && !granted.has("all"));
  if (missing.length === 0) {
    return {
      status: "granted",
      model: "access-policies",
      principalId,
      via: `the vault's access policy for principal ${principalId} grants get, wrapKey and unwrapKey`,
    };
  }
  const has = [...granted].filter((p) => p !== "all");
  return {
    status: "missing",
    model: "access-policies",
    principalId,
    missing,
    detail:
      has.length === 0
        ? `the vault uses access policies and has no access policy for principal ${principalId}`
        : `the vault's access policy for principal ${principalId} grants ${has.join(", ")} but not ${missing.join(", ")}`,
  };
}

export function evaluateRoleAssignments(assignments: readonly RoleAssignmentFacts[], principalId: string, keyScope: string): PermissionVerdict {
  const applicable = assignments.filter((assignment) => scopeCovers(assignment.scope, keyScope));
  const covered = new Set<string>();
  const grantingRoles: string[] = [];
  for (const assignment of applicable) {
    const actions = REQUIRED_OPERATIONS.filter((op) => roleAllows(assignment, op.dataAction));
    for (const op of actions) covered.add(op.permission);
    if (actions.length > 0) grantingRoles.push(`${roleLabel(assignment)} at ${scopeKind(assignment.scope)} scope`);
  }
  const missing = REQUIRED_OPERATIONS.map((op) => op.permission).filter((p) => !covered.has(p));
  if (missing.length === 0) {
    return { status: "granted", model: "rbac", principalId, via: `principal ${principalId} has ${grantingRoles.join(" and ")}` };
  }
  return {
    status: "missing",
    model: "rbac",
    principalId,
    missing,
    detail:
      applicable.length === 0
        ? `the vault uses Azure RBAC and principal ${principalId} has no role assignment at the key, vault, resource group or subscription (assignments to groups it belongs to are not visible to the monitor)`
        : `the roles of principal ${principalId} (${applicable.map(roleLabel).join(", ")}) do not allow ${missing.join(", ")} on the key`,
  };
}

/** True when an assignment at `scope` applies to `target` (same scope or an ancestor). */
export function scopeCovers(scope: string, target: string): boolean {
  const s = scope.trim().replace(/\/+$/, "").toLowerCase();
  const t = target.trim().replace(/\/+$/, "").toLowerCase();
  // ARM only returns management-group assignments that apply above the queried scope.
  if (s === "" || s.startsWith("/providers/microsoft.management/managementgroups/")) return true;
  return t === s || t.startsWith(`${s}/`);
}

/** True when some permission entry of the role allows `action` and the same entry does not exclude it. */
export function roleAllows(assignment: Pick<RoleAssignmentFacts, "permissions">, action: string): boolean {
  return assignment.permissions.some(
    (entry) => entry.dataActions.some((pattern) => actionMatches(pattern, action)) && !entry.notDataActions.some((pattern) => actionMatches(pattern, action)),
  );
}

/** Azure action patterns: case-insensitive, `*` matches any run of characters. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "i").test(action);
}

function roleLabel(assignment: RoleAssignmentFacts): string {
  if (assignment.roleName) return `"${assignment.roleName}"`;
  const id = assignment.roleDefinitionId.split("/").pop() ?? assignment.roleDefinitionId;
  return id.toLowerCase() === CRYPTO_SERVICE_ENCRYPTION_USER_ROLE_ID ? '"Key Vault Crypto Service Encryption User"' : `role ${id}`;
}

export function scopeKind(scope: string): string {
  const s = scope.toLowerCase();
  if (s.startsWith("/providers/microsoft.management/managementgroups/")) return "management group";
  if (/\/providers\/microsoft\.keyvault\/vaults\/[^/]+\/keys\/[^/]+\/?$/.test(s)) return "key";
  if (/\/providers\/microsoft\.keyvault\/vaults\/[^/]+\/?$/.test(s)) return "vault";
  if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/?$/.test(s)) return "resource group";
  if (/^\/subscriptions\/[^/]+\/?$/.test(s)) return "subscription";
  return "an enclosing";
}
