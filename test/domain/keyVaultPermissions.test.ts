import {
  actionMatches,
  EVERYONE_PRINCIPAL_ID,
  evaluateAccessPolicies,
  evaluateRoleAssignments,
  keyScopeOf,
  scopeCovers,
  type PermissionVerdict,
} from "../../src/domain/keyVaultPermissions";
import { checked, couldNotCheck, type Checked, type DenyAssignmentFacts, type RoleAssignmentFacts } from "../../src/domain/probeFacts";
import { CRYPTO_USER_ASSIGNMENT, PRINCIPAL, PROBE_SUBSCRIPTION, VAULT_ID } from "../fixtures/probes";

const KEY_SCOPE = `${VAULT_ID}/keys/cmk`;
const OTHER = "99999999-9999-9999-9999-999999999999";

function role(scope: string, dataActions: string[], notDataActions: string[] = [], roleName?: string): RoleAssignmentFacts {
  return {
    scope,
    roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${roleName ?? "custom"}`,
    ...(roleName ? { roleName } : {}),
    permissions: [{ dataActions, notDataActions }],
  };
}

describe("access policies", () => {
  it.each<[string, Array<{ objectId: string; keys: string[]; applicationId?: string }>, "granted" | "missing", string[]]>([
    // The documented minimum.
    ["get, wrapKey, unwrapKey", [{ objectId: PRINCIPAL, keys: ["get", "wrapKey", "unwrapKey"] }], "granted", []],
    // The portal writes permissions in other casings.
    ["case-insensitive", [{ objectId: PRINCIPAL.toUpperCase(), keys: ["Get", "WrapKey", "UnwrapKey"] }], "granted", []],
    // "all" is a valid access-policy permission.
    ["all", [{ objectId: PRINCIPAL, keys: ["all"] }], "granted", []],
    // Split over two entries for the same principal still counts.
    [
      "split over entries",
      [
        { objectId: PRINCIPAL, keys: ["get"] },
        { objectId: PRINCIPAL, keys: ["wrapKey", "unwrapKey"] },
      ],
      "granted",
      [],
    ],
    // The classic 4002: unwrapKey removed.
    ["unwrapKey missing", [{ objectId: PRINCIPAL, keys: ["get", "wrapKey"] }], "missing", ["unwrapKey"]],
    // Someone else's policy does not help.
    ["other principal", [{ objectId: OTHER, keys: ["all"] }], "missing", ["get", "wrapKey", "unwrapKey"]],
    // A compound identity (app on behalf of a user) does not grant the identity by itself.
    ["compound identity", [{ objectId: PRINCIPAL, keys: ["all"], applicationId: OTHER }], "missing", ["get", "wrapKey", "unwrapKey"]],
  ])("%s", (_name, policies, status, missing) => {
    const verdict = evaluateAccessPolicies(policies, PRINCIPAL);
    expect(verdict.status).toBe(status);
    if (verdict.status === "missing") expect(verdict.missing).toEqual(missing);
  });
});

describe("role assignments", () => {
  const rg = `/subscriptions/${PROBE_SUBSCRIPTION}/resourceGroups/rg-kv`;
  it.each<[string, RoleAssignmentFacts[], "granted" | "missing", RegExp | null]>([
    // The documented role, at the key.
    ["crypto service encryption user at the key", [CRYPTO_USER_ASSIGNMENT], "granted", /at key scope/],
    // The same role inherited from the vault, resource group, subscription or a management group.
    ["at the vault", [{ ...CRYPTO_USER_ASSIGNMENT, scope: VAULT_ID }], "granted", /at vault scope/],
    ["at the resource group", [{ ...CRYPTO_USER_ASSIGNMENT, scope: rg }], "granted", /at resource group scope/],
    ["at the subscription", [{ ...CRYPTO_USER_ASSIGNMENT, scope: `/subscriptions/${PROBE_SUBSCRIPTION}` }], "granted", /at subscription scope/],
    [
      "at a management group",
      [{ ...CRYPTO_USER_ASSIGNMENT, scope: "/providers/Microsoft.Management/managementGroups/contoso" }],
      "granted",
      /management group/,
    ],
    // A role whose data actions cover it through a wildcard (Crypto Officer-like).
    ["wildcard role", [role(VAULT_ID, ["Microsoft.KeyVault/vaults/keys/*"], [], "Key Vault Crypto Officer")], "granted", null],
    // Two roles together cover the three operations.
    [
      "two roles together",
      [role(VAULT_ID, ["Microsoft.KeyVault/vaults/keys/read"]), role(VAULT_ID, ["Microsoft.KeyVault/vaults/keys/*/action"])],
      "granted",
      null,
    ],
    // A wildcard minus not-data-actions does not cover what it excludes.
    [
      "not-data-actions exclude unwrap",
      [role(VAULT_ID, ["Microsoft.KeyVault/vaults/*"], ["Microsoft.KeyVault/vaults/keys/unwrap/action"])],
      "missing",
      /do not allow unwrapKey/,
    ],
    // Key Vault Reader reads metadata but cannot wrap.
    ["reader only", [role(VAULT_ID, ["Microsoft.KeyVault/vaults/*/read"], [], "Key Vault Reader")], "missing", /wrapKey, unwrapKey/],
    // An assignment on another key of the same vault is not on this key.
    ["another key", [{ ...CRYPTO_USER_ASSIGNMENT, scope: `${VAULT_ID}/keys/other` }], "missing", /no role assignment/],
    // A vault whose name merely starts with ours is not ours.
    ["prefix vault name", [{ ...CRYPTO_USER_ASSIGNMENT, scope: `${VAULT_ID}-old` }], "missing", /no role assignment/],
    // Nothing at all.
    ["none", [], "missing", /no role assignment/],
  ])("%s", (_name, assignments, status, detail) => {
    const verdict = evaluateRoleAssignments(assignments, PRINCIPAL, KEY_SCOPE);
    expect(verdict.status).toBe(status);
    if (detail) expect(verdict.status === "granted" ? verdict.via : verdict.status === "missing" ? verdict.detail : "").toMatch(detail);
  });

  it.each([
    // Exact, case-insensitive.
    ["Microsoft.KeyVault/vaults/keys/read", "microsoft.keyvault/vaults/keys/read", true],
    // A trailing wildcard spans segments.
    ["Microsoft.KeyVault/*", "Microsoft.KeyVault/vaults/keys/wrap/action", true],
    // A middle wildcard.
    ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/keys/read", true],
    // Dots are literal, not "any character".
    ["Microsoft.KeyVault/vaults/keys/read", "MicrosoftXKeyVault/vaults/keys/read", false],
  ])("actionMatches(%s, %s) = %s", (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });

  it("treats a scope as covering only itself and its descendants", () => {
    // Segment-aware: /vaults/kv is not an ancestor of /vaults/kv-2.
    expect(scopeCovers(VAULT_ID, `${VAULT_ID}/keys/cmk`)).toBe(true);
    expect(scopeCovers(VAULT_ID, `${VAULT_ID}-2/keys/cmk`)).toBe(false);
  });
});

describe("role assignments the way Azure evaluates them: groups, conditions, deny assignments", () => {
  const GROUP = "6a0a0a0a-0000-4000-8000-00000000a001";
  const viaGroup: RoleAssignmentFacts = { ...CRYPTO_USER_ASSIGNMENT, scope: VAULT_ID, principalId: GROUP, principalType: "Group" };
  const conditional: RoleAssignmentFacts = {
    ...CRYPTO_USER_ASSIGNMENT,
    condition: "@Resource[Microsoft.KeyVault/vaults/keys:KeyName] StringEquals 'other'",
  };
  const unwrap = ["Microsoft.KeyVault/vaults/keys/unwrap/action"];
  function deny(overrides: Partial<DenyAssignmentFacts> = {}): DenyAssignmentFacts {
    return {
      name: "stack-deny",
      scope: VAULT_ID,
      doNotApplyToChildScopes: false,
      principals: [{ id: EVERYONE_PRINCIPAL_ID, type: "SystemDefined" }],
      excludePrincipals: [],
      permissions: [{ dataActions: unwrap, notDataActions: [] }],
      ...overrides,
    };
  }
  function text(verdict: PermissionVerdict): string {
    return verdict.status === "granted" ? verdict.via : verdict.status === "missing" ? verdict.detail : verdict.reason;
  }

  it.each<[string, RoleAssignmentFacts[], Checked<DenyAssignmentFacts[]>, PermissionVerdict["status"], RegExp]>([
    // ARM's assignedTo() returns a group's assignment for its members: that grants, and says how.
    ["granted through a group", [viaGroup], checked([]), "granted", new RegExp(`at vault scope through group ${GROUP}`)],
    // An ABAC condition the monitor cannot evaluate: neither granted nor missing.
    ["only a conditional assignment", [conditional], checked([]), "unknown", /could not decide: .*condition/],
    // A condition on one assignment does not matter when another grants without one.
    ["conditional beside an unconditional grant", [conditional, viaGroup], checked([]), "granted", /through group/],
    // A condition cannot grant what the role does not allow at all.
    [
      "conditional role that lacks unwrap",
      [{ ...conditional, permissions: [{ dataActions: ["Microsoft.KeyVault/vaults/keys/read"], notDataActions: [] }] }],
      checked([]),
      "missing",
      /do not allow wrapKey, unwrapKey/,
    ],
    // A deny for Everyone overrides the role assignment: this is a real 4002.
    ["deny for everyone blocks unwrap", [CRYPTO_USER_ASSIGNMENT], checked([deny()]), "missing", /deny assignment "stack-deny" at vault scope blocks unwrapKey/],
    // A deny that names the identity itself.
    [
      "deny naming the identity",
      [CRYPTO_USER_ASSIGNMENT],
      checked([deny({ principals: [{ id: PRINCIPAL, type: "ServicePrincipal" }] })]),
      "missing",
      /blocks unwrapKey/,
    ],
    // The identity is excluded from the deny: the role grants.
    [
      "identity excluded from the deny",
      [CRYPTO_USER_ASSIGNMENT],
      checked([deny({ excludePrincipals: [{ id: PRINCIPAL, type: "ServicePrincipal" }] })]),
      "granted",
      /Key Vault Crypto Service Encryption User/,
    ],
    // A deny on someone else.
    ["deny for another principal", [CRYPTO_USER_ASSIGNMENT], checked([deny({ principals: [{ id: OTHER, type: "User" }] })]), "granted", /at key scope/],
    // A deny at the vault that does not apply to child scopes does not reach the key.
    ["deny not applying to children", [CRYPTO_USER_ASSIGNMENT], checked([deny({ doNotApplyToChildScopes: true })]), "granted", /at key scope/],
    // A deny of other actions (secrets) is irrelevant to the key.
    [
      "deny of unrelated actions",
      [CRYPTO_USER_ASSIGNMENT],
      checked([deny({ permissions: [{ dataActions: ["Microsoft.KeyVault/vaults/secrets/*"], notDataActions: [] }] })]),
      "granted",
      /at key scope/,
    ],
    // A deny's not-data-actions carve out what it does not deny.
    [
      "deny with a not-data-action for the key operations",
      [CRYPTO_USER_ASSIGNMENT],
      checked([deny({ permissions: [{ dataActions: ["Microsoft.KeyVault/vaults/*"], notDataActions: ["Microsoft.KeyVault/vaults/keys/*"] }] })]),
      "granted",
      /at key scope/,
    ],
    // A deny naming a group: membership is not visible, so the monitor cannot say "granted".
    [
      "deny naming a group",
      [CRYPTO_USER_ASSIGNMENT],
      checked([deny({ principals: [{ id: GROUP, type: "Group" }] })]),
      "unknown",
      /could not decide: .*may block unwrapKey .*names a group/,
    ],
    // A deny with a condition: undecided as well.
    ["deny with a condition", [CRYPTO_USER_ASSIGNMENT], checked([deny({ condition: "@Principal[x] StringEquals 'y'" })]), "unknown", /has a condition/],
    // Deny assignments that could not be read do not hide a grant, but the verdict says so.
    [
      "deny assignments unreadable",
      [CRYPTO_USER_ASSIGNMENT],
      couldNotCheck("403 AuthorizationFailed"),
      "granted",
      /deny assignments could not be read: 403 AuthorizationFailed/,
    ],
  ])("%s", (_name, assignments, denies, status, detail) => {
    const verdict = evaluateRoleAssignments(assignments, PRINCIPAL, KEY_SCOPE, denies);
    expect(verdict.status).toBe(status);
    expect(text(verdict)).toMatch(detail);
  });

  it.each([
    // A real key name goes onto the vault's id.
    ["cmk", `${VAULT_ID}/keys/cmk`],
    // Percent-encoded dot segments would move the scope up to the resource group: the vault's scope instead.
    ["%2e%2e%2f%2e%2e", VAULT_ID],
    // A slash is never part of a key name.
    ["cmk/../..", VAULT_ID],
    // No key name at all.
    [undefined, VAULT_ID],
  ])("keyScopeOf(vault, %s) = %s", (keyName, expected) => {
    expect(keyScopeOf(VAULT_ID, keyName)).toBe(expected);
  });
});
