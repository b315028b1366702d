import { parseChangeEvent, type ChangeTarget, type IgnoredReason } from "../../src/domain/changeEvents";

const SUB = "0b7e4a21-3c5d-4e6f-8a9b-c0d1e2f3a4b5";
const OTHER = "99999999-3c5d-4e6f-8a9b-c0d1e2f3a4b5";
const SCOPE = { subscriptionIds: new Set([SUB]) };
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-Orders`;
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg-db/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`;
const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`;

/** A subscription system topic event as Event Grid delivers it (Event Grid schema). */
function armEvent(operationName: string, resourceUri: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "6d3f0d8c-0000-4000-8000-000000000001",
    topic: `/subscriptions/${SUB}`,
    subject: resourceUri,
    eventType: operationName.endsWith("/delete") ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2026-03-02T21:15:04.1234567Z",
    data: { operationName, resourceUri, subscriptionId: SUB, status: "Succeeded", tenantId: "72f988bf-0000-4000-8000-00000000cafe" },
    dataVersion: "2",
    metadataVersion: "1",
    ...overrides,
  };
}

/** A vault system topic event: PascalCase data fields on the wire. */
function vaultEvent(
  eventType: string,
  data: Record<string, unknown> = { Id: "https://kv-orders.vault.azure.net/keys/cmk/abc", VaultName: "kv-orders", ObjectType: "Key", ObjectName: "cmk" },
) {
  return { id: "e-2", topic: VAULT_ID, subject: "cmk", eventType, eventTime: "2026-03-02T21:15:00Z", data, dataVersion: "1", metadataVersion: "1" };
}

describe("parseChangeEvent: what an event can affect", () => {
  it.each<[string, unknown, ChangeTarget[]]>([
    // Role assignment removed at the key: that key's vault.
    [
      "role assignment deleted at a key",
      armEvent("Microsoft.Authorization/roleAssignments/delete", `${VAULT_ID}/keys/cmk/providers/Microsoft.Authorization/roleAssignments/1111`),
      [{ kind: "vault", vaultName: "kv-orders" }],
    ],
    // At the vault itself.
    [
      "role assignment written at a vault",
      armEvent("Microsoft.Authorization/roleAssignments/write", `${VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/2222`),
      [{ kind: "vault", vaultName: "kv-orders" }],
    ],
    // Above the vault (resource group): every indexed vault under that scope.
    [
      "role assignment deleted at a resource group",
      armEvent(
        "Microsoft.Authorization/roleAssignments/delete",
        `/subscriptions/${SUB}/resourceGroups/RG-KV/providers/Microsoft.Authorization/roleAssignments/3333`,
      ),
      [{ kind: "scope", scope: `/subscriptions/${SUB}/resourcegroups/rg-kv` }],
    ],
    // Vault written (firewall, RBAC flag), deleted, or its access policies changed.
    ["vault written", armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID), [{ kind: "vault", vaultName: "kv-orders" }]],
    ["vault deleted", armEvent("Microsoft.KeyVault/vaults/delete", VAULT_ID), [{ kind: "vault", vaultName: "kv-orders" }]],
    [
      "access policies written",
      armEvent("Microsoft.KeyVault/vaults/accessPolicies/write", `${VAULT_ID}/accessPolicies/replace`),
      [{ kind: "vault", vaultName: "kv-orders" }],
    ],
    // Operation names are matched case-insensitively, as ARM does.
    ["operation in another case", armEvent("microsoft.keyvault/VAULTS/write", VAULT_ID), [{ kind: "vault", vaultName: "kv-orders" }]],
    // The account itself (key URI, default identity, identity detached).
    ["account written", armEvent("Microsoft.DocumentDB/databaseAccounts/write", ACCOUNT_ID), [{ kind: "account", accountId: ACCOUNT_ID.toLowerCase() }]],
    // A user-assigned identity deleted.
    [
      "identity deleted",
      armEvent("Microsoft.ManagedIdentity/userAssignedIdentities/delete", IDENTITY_ID),
      [{ kind: "identity", identityId: IDENTITY_ID.toLowerCase() }],
    ],
    // Key Vault's own events: the vault in the topic.
    ["key disabled or rotated (new version)", vaultEvent("Microsoft.KeyVault.KeyNewVersionCreated"), [{ kind: "vault", vaultName: "kv-orders" }]],
    ["key expired", vaultEvent("Microsoft.KeyVault.KeyExpired"), [{ kind: "vault", vaultName: "kv-orders" }]],
    ["key near expiry", vaultEvent("Microsoft.KeyVault.KeyNearExpiry"), [{ kind: "vault", vaultName: "kv-orders" }]],
    // camelCase data (the SDK's models) is read too.
    [
      "access policy changed, camelCase data",
      vaultEvent("Microsoft.KeyVault.VaultAccessPolicyChanged", { vaultName: "kv-orders", objectType: "Vault", objectName: "kv-orders" }),
      [{ kind: "vault", vaultName: "kv-orders" }],
    ],
  ])("%s", (_name, raw, targets) => {
    const parsed = parseChangeEvent(raw, SCOPE);
    if (!parsed.relevant) throw new Error(`ignored: ${parsed.reason}`);
    expect(parsed.targets).toEqual(targets);
    expect(parsed.subscriptionId).toBe(SUB);
  });

  it("normalizes the event time (Event Grid sends seven fractional digits)", () => {
    // Compared with the re-check claim's ISO time, so both must be one format.
    const parsed = parseChangeEvent(armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID), SCOPE);
    expect(parsed.relevant && parsed.eventTime).toBe("2026-03-02T21:15:04.123Z");
  });
});

describe("parseChangeEvent: ignored, with a reason", () => {
  it.each<[string, unknown, IgnoredReason]>([
    // Not an event at all.
    ["not an object", "hello", "invalid"],
    ["an array", [armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID)], "invalid"],
    ["no data", { ...armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID), data: undefined }, "invalid"],
    ["no event time", { ...armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID), eventTime: "yesterday" }, "invalid"],
    ["no operation name", armEvent("", VAULT_ID), "invalid"],
    // Event types we do not subscribe to (the validation handshake is the host's; anything else is counted).
    ["unknown type", { ...armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID), eventType: "Microsoft.Storage.BlobCreated" }, "unknown-event-type"],
    ["secret event", vaultEvent("Microsoft.KeyVault.SecretNewVersionCreated"), "unknown-event-type"],
    // An operation that cannot break CMK access.
    [
      "virtual machine written",
      armEvent("Microsoft.Compute/virtualMachines/write", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`),
      "operation-not-watched",
    ],
    // From a subscription the monitor does not watch, or a resource outside the topic's subscription.
    ["other subscription's topic", armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID, { topic: `/subscriptions/${OTHER}` }), "out-of-scope"],
    ["resource in another subscription", armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID.replace(SUB, OTHER)), "out-of-scope"],
    // A vault event whose data names another vault than its topic: not what it claims.
    ["vault name disagrees with the topic", vaultEvent("Microsoft.KeyVault.KeyExpired", { VaultName: "kv-other", ObjectName: "cmk" }), "invalid"],
    // The resource id does not have the shape the operation implies.
    ["account write on a non-account", armEvent("Microsoft.DocumentDB/databaseAccounts/write", VAULT_ID), "invalid"],
    [
      "role assignment id without a scope",
      armEvent("Microsoft.Authorization/roleAssignments/delete", `/subscriptions/${SUB}/providers/Microsoft.Web/sites/x`),
      "invalid",
    ],
  ])("%s → %s", (_name, raw, reason) => {
    const parsed = parseChangeEvent(raw, SCOPE);
    expect(parsed.relevant ? "relevant" : parsed.reason).toBe(reason);
  });

  it("with management-group scope, any subscription's events are read (the fleet index knows the fleet)", () => {
    // Management groups gain subscriptions without the monitor's settings changing.
    expect(parseChangeEvent(armEvent("Microsoft.KeyVault/vaults/write", VAULT_ID.replace(SUB, OTHER), { topic: `/subscriptions/${OTHER}` }), {}).relevant).toBe(
      true,
    );
  });
});
