import { actionMatches, evaluateAccessPolicies, evaluateRoleAssignments, scopeCovers } from "../../src/domain/keyVaultPermissions";
import type { RoleAssignmentFacts } from "../../src/domain/probeFacts";
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
