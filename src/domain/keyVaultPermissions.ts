/**
 * Does the default identity hold get, wrapKey and unwrapKey on the key? Pure evaluation of what
 * the probes read: the vault's access policies, or the identity's role assignments with their
 * roles' data actions (wildcards and not-data-actions included).
 */
import { isKeyVaultKeyName } from "./keyVaultUri";
import {
  checked,
  type AccessPolicyFacts,
  type Checked,
  type DenyAssignmentFacts,
  type PermissionModel,
  type ProbeFacts,
  type RoleAssignmentFacts,
} from "./probeFacts";

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
  return evaluateRoleAssignments(facts.roleAssignments.value, principalId, keyScopeOf(vault.id, facts.keyUri.reference?.keyName), facts.denyAssignments);
}

/**
 * The ARM scope of the key: the vault's id plus the key name, only when the name is one Key Vault
 * allows (a name with "/" or "%2e%2e" must not move the scope up to the resource group); the
 * vault's scope otherwise.
 */
export function keyScopeOf(vaultId: string, keyName: string | undefined): string {
  return isKeyVaultKeyName(keyName) ? `${vaultId}/keys/${keyName}` : vaultId;
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

/**
 * RBAC the way Azure evaluates it, as far as the monitor can see: role assignments at or above
 * the key (to the identity or a group it is in) grant; a deny assignment that covers the identity
 * overrides them; an assignment or deny with an ABAC condition, or a deny naming a group, cannot
 * be evaluated here, so a verdict that depends on one is "could not decide", never "granted".
 */
export function evaluateRoleAssignments(
  assignments: readonly RoleAssignmentFacts[],
  principalId: string,
  keyScope: string,
  denies: Checked<readonly DenyAssignmentFacts[]> = checked([]),
): PermissionVerdict {
  const applicable = assignments.filter((assignment) => scopeCovers(assignment.scope, keyScope));
  const unconditional = applicable.filter((a) => !a.condition);
  const conditional = applicable.filter((a) => a.condition);
  const required = REQUIRED_OPERATIONS.map((op) => op.permission);

  const denied = denies.checked ? evaluateDenies(denies.value, principalId, keyScope) : { certain: [], uncertain: [] };
  const blocked = required.filter((p) => denied.certain.some((d) => d.operations.includes(p)));
  if (blocked.length > 0) {
    const deny = denied.certain.find((d) => d.operations.some((p) => blocked.includes(p)))!;
    return {
      status: "missing",
      model: "rbac",
      principalId,
      missing: blocked,
      detail:
        `deny assignment ${deny.label} at ${scopeKind(deny.scope)} scope blocks ${blocked.join(", ")} for principal ${principalId}; ` +
        "a deny assignment overrides every role assignment, so it must be removed where it was created (a managed application, a blueprint or a deployment stack)",
    };
  }

  const granted = covered(unconditional);
  const missing = required.filter((p) => !granted.ops.has(p));
  if (missing.length === 0) {
    const maybeBlocked = required.filter((p) => denied.uncertain.some((d) => d.operations.includes(p)));
    if (maybeBlocked.length > 0) {
      const deny = denied.uncertain.find((d) => d.operations.some((p) => maybeBlocked.includes(p)))!;
      return {
        status: "unknown",
        reason: `could not decide: principal ${principalId} has ${granted.roles.join(" and ")}, but deny assignment ${deny.label} at ${scopeKind(deny.scope)} scope may block ${maybeBlocked.join(", ")} (${deny.why})`,
      };
    }
    const caveat = denies.checked ? "" : ` (deny assignments could not be read: ${denies.reason})`;
    return { status: "granted", model: "rbac", principalId, via: `principal ${principalId} has ${granted.roles.join(" and ")}${caveat}` };
  }

  const withConditions = covered(applicable);
  if (required.every((p) => withConditions.ops.has(p))) {
    return {
      status: "unknown",
      reason:
        `could not decide: ${missing.join(", ")} on the key come only from role assignments with a condition ` +
        `(${conditional.map((a) => `${roleLabel(a)} at ${scopeKind(a.scope)} scope`).join(", ")}), which the monitor cannot evaluate`,
    };
  }

  const noted = withConditions.ops;
  const stillMissing = required.filter((p) => !noted.has(p));
  return {
    status: "missing",
    model: "rbac",
    principalId,
    missing: stillMissing,
    detail:
      applicable.length === 0
        ? `the vault uses Azure RBAC and principal ${principalId} has no role assignment at the key, vault, resource group, subscription or management group, directly or through a group`
        : `the roles of principal ${principalId} (${applicable.map(roleLabel).join(", ")}) do not allow ${stillMissing.join(", ")} on the key`,
  };
}

function covered(assignments: readonly RoleAssignmentFacts[]): { ops: Set<string>; roles: string[] } {
  const ops = new Set<string>();
  const roles: string[] = [];
  for (const assignment of assignments) {
    const actions = REQUIRED_OPERATIONS.filter((op) => roleAllows(assignment, op.dataAction));
    for (const op of actions) ops.add(op.permission);
    if (actions.length > 0) roles.push(`${roleLabel(assignment)} at ${scopeKind(assignment.scope)} scope${viaGroup(assignment)}`);
  }
  return { ops, roles };
}

function viaGroup(assignment: RoleAssignmentFacts): string {
  return assignment.principalType?.toLowerCase() === "group" && assignment.principalId ? ` through group ${assignment.principalId}` : "";
}

/** Everyone, as deny assignments name it (a SystemDefined principal with the all-zero id). */
export const EVERYONE_PRINCIPAL_ID = "00000000-0000-0000-0000-000000000000";

interface DenyOutcome {
  label: string;
  scope: string;
  operations: string[];
  why: string;
}

/** Which deny assignments certainly cover the principal, and which might (groups, conditions). */
export function evaluateDenies(
  denies: readonly DenyAssignmentFacts[],
  principalId: string,
  keyScope: string,
): { certain: DenyOutcome[]; uncertain: DenyOutcome[] } {
  const certain: DenyOutcome[] = [];
  const uncertain: DenyOutcome[] = [];
  const same = (id: string) => id.toLowerCase() === principalId.toLowerCase();
  for (const deny of denies) {
    const reaches = deny.doNotApplyToChildScopes ? sameScope(deny.scope, keyScope) : scopeCovers(deny.scope, keyScope);
    if (!reaches) continue;
    const operations = REQUIRED_OPERATIONS.filter((op) => roleAllows(deny, op.dataAction)).map((op) => op.permission);
    if (operations.length === 0) continue;
    if (deny.excludePrincipals.some((p) => same(p.id))) continue;
    const named = deny.principals.some((p) => same(p.id) || p.id === EVERYONE_PRINCIPAL_ID);
    const viaGroup = deny.principals.some((p) => p.type?.toLowerCase() === "group");
    const excludedGroup = deny.excludePrincipals.some((p) => p.type?.toLowerCase() === "group");
    const label = deny.name ? `"${deny.name}"` : "(unnamed)";
    const outcome = { label, scope: deny.scope, operations };
    if (named && !deny.condition && !excludedGroup) certain.push({ ...outcome, why: "" });
    else if (named || viaGroup) {
      const why = deny.condition
        ? "it has a condition the monitor cannot evaluate"
        : named
          ? "it excludes a group, and the monitor cannot see whether the identity is in it"
          : "it names a group, and the monitor cannot see whether the identity is in it";
      uncertain.push({ ...outcome, why });
    }
  }
  return { certain, uncertain };
}

function sameScope(a: string, b: string): boolean {
  return normalizedScope(a) === normalizedScope(b);
}

/** ARM scopes compare case-insensitively, without a trailing slash. */
function normalizedScope(scope: string): string {
  return scope.trim().replace(/\/+$/, "").toLowerCase();
}

/** True when an assignment at `scope` applies to `target` (same scope or an ancestor). */
export function scopeCovers(scope: string, target: string): boolean {
  const s = normalizedScope(scope);
  const t = normalizedScope(target);
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
