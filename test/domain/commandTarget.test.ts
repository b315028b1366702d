import { commandTarget, guardedValue, type NameKind } from "../../src/domain/commandTarget";
import { Placeholder } from "../../src/domain/shellQuoting";
import { makeAccount, USER_ASSIGNED_IDENTITY_ID } from "../fixtures/incidents";

const GUID = "3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f";
const VAULT_ID = `/subscriptions/${GUID}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-orders`;

describe("guardedValue", () => {
  it.each<[NameKind, string, boolean]>([
    // GUIDs only for subscription and principal ids.
    ["subscriptionId", GUID, true],
    ["subscriptionId", "%COMSPEC%", false],
    ["principalId", "p-1", false],
    // Resource groups: ASCII letters, digits, _ . ( ) -; not ending in "."; not starting with "-" or ".".
    ["resourceGroup", "rg_orders.prod(1)", true],
    ["resourceGroup", "rg.", false],
    ["resourceGroup", "-rg", false],
    ["resourceGroup", "rg'|calc", false],
    ["resourceGroup", "rgü", false],
    ["resourceGroup", "r".repeat(90), true],
    ["resourceGroup", "r".repeat(91), false],
    // Cosmos DB account names: lower case, 3-44.
    ["accountName", "orders-db", true],
    ["accountName", "Orders", false],
    // Vault names: a letter first, a letter or digit last, no "--", 3-24.
    ["vaultName", "kv-orders", true],
    ["vaultName", "kv--orders", false],
    ["vaultName", "1kv", false],
    ["vaultName", "kv-", false],
    // Key names: letters, digits and dashes; a leading dash would be an option.
    ["keyName", "orders-cmk", true],
    ["keyName", "-debug", false],
    ["keyName", "../..", false],
    // Identity ids: the full user-assigned identity resource-id shape, any casing of the fixed parts.
    ["userAssignedIdentityId", USER_ASSIGNED_IDENTITY_ID, true],
    ["userAssignedIdentityId", USER_ASSIGNED_IDENTITY_ID.toLowerCase(), true],
    ["userAssignedIdentityId", "@~/.azure/msal_token_cache.json", false],
    ["userAssignedIdentityId", `${USER_ASSIGNED_IDENTITY_ID}/../../x`, false],
    // Vault resource ids, for the RBAC scope.
    ["vaultResourceId", VAULT_ID, true],
    ["vaultResourceId", `${VAULT_ID}/../..`, false],
  ])("%s %j: printed %s", (kind, value, printed) => {
    const result = guardedValue(value, kind, "name");
    expect(result instanceof Placeholder ? false : result === value).toBe(printed);
  });
});

describe("commandTarget", () => {
  it.each<[string, string, Record<string, string>]>([
    // The common case: vault, host and key from a valid URI.
    ["valid", "https://kv-orders.vault.azure.net/keys/orders-cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" }],
    // A version, a port or a trailing slash do not change the names (4006 advice still names them).
    [
      "versioned",
      "https://kv-orders.vault.azure.net:443/keys/orders-cmk/0123/",
      { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" },
    ],
    // A sovereign cloud's suffix.
    ["China", "https://kv-orders.vault.azure.cn/keys/k", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.cn", keyName: "k" }],
    // A host outside the vault domains names no vault.
    ["not a vault", "https://kv-orders.evil.example/keys/k", { vaultName: "<vault-name>", vaultHost: "<vault-host>", keyName: "k" }],
    ["suffix as prefix", "https://kv-orders.vault.azure.net.evil.example/keys/k", { vaultName: "<vault-name>", vaultHost: "<vault-host>", keyName: "k" }],
    // http is not a vault URI.
    ["http", "http://kv-orders.vault.azure.net/keys/k", { vaultName: "<vault-name>", vaultHost: "<vault-host>", keyName: "k" }],
    // Encoded dot segments decode to "../..": not a key name.
    [
      "dot segments",
      "https://kv-orders.vault.azure.net/keys/%2e%2e%2f%2e%2e",
      { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "<key-name>" },
    ],
    // Not a key at all.
    ["secret", "https://kv-orders.vault.azure.net/secrets/s", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "<key-name>" }],
  ])("%s key URI", (_why, keyVaultKeyUri, expected) => {
    const t = commandTarget(makeAccount({ keyVaultKeyUri }));
    const shown = (value: unknown) => (value instanceof Placeholder ? value.text : value);
    expect({ vaultName: shown(t.vaultName), vaultHost: shown(t.vaultHost), keyName: shown(t.keyName) }).toEqual(expected);
  });

  it("without an account, every value is a placeholder", () => {
    // The CLI's explain prints commands for no account.
    const t = commandTarget();
    for (const value of [t.subscription, t.resourceGroup, t.accountName, t.vaultName, t.vaultHost, t.keyName, t.principal])
      expect(value).toBeInstanceOf(Placeholder);
  });
});
