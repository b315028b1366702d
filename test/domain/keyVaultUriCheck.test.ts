import { checkKeyVaultKeyUri, type KeyUriProblemCode } from "../../src/domain/keyVaultUri";

describe("checkKeyVaultKeyUri", () => {
  it.each([
    // The canonical form Cosmos DB expects.
    ["https://kv-orders.vault.azure.net/keys/orders-cmk", "AzureCloud", "vault"],
    // Host names are case-insensitive; a trailing slash is tolerated.
    ["https://KV-Orders.Vault.Azure.Net/keys/orders-cmk/", "AzureCloud", "vault"],
    // Sovereign clouds have their own suffixes.
    ["https://kv-cn.vault.azure.cn/keys/k1", "AzureChinaCloud", "vault"],
    ["https://kv-gov.vault.usgovcloudapi.net/keys/k1", "AzureUSGovernment", "vault"],
    // Managed HSM keys are valid customer-managed keys too.
    ["https://hsm-orders.managedhsm.azure.net/keys/k1", "AzureCloud", "managed-hsm"],
    // An explicit default port is the same URL.
    ["https://kv-orders.vault.azure.net:443/keys/orders-cmk", "AzureCloud", "vault"],
  ])("accepts %s", (uri, cloud, service) => {
    const check = checkKeyVaultKeyUri(uri);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ valid: true, cloud, service });
  });

  it.each<[string | undefined, KeyUriProblemCode[]]>([
    // Nothing configured.
    [undefined, ["missing"]],
    ["  ", ["missing"]],
    // The usual 4006: a key version in the URI.
    ["https://kv-orders.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef", ["has-version"]],
    // No scheme: not an absolute URL at all.
    ["kv-orders.vault.azure.net/keys/cmk", ["not-a-url"]],
    // Plain http.
    ["http://kv-orders.vault.azure.net/keys/cmk", ["not-https"]],
    // A storage account or any other host is not a vault.
    ["https://kvorders.blob.core.windows.net/keys/cmk", ["unknown-vault-domain"]],
    // A sub-domain under the vault suffix is not a vault name.
    ["https://a.b.vault.azure.net/keys/cmk", ["unknown-vault-domain"]],
    // Vault names: 3-24, start with a letter, no double dash.
    ["https://kv.vault.azure.net/keys/cmk", ["invalid-vault-name"]],
    ["https://1kv-orders.vault.azure.net/keys/cmk", ["invalid-vault-name"]],
    ["https://kv--orders.vault.azure.net/keys/cmk", ["invalid-vault-name"]],
    ["https://kv-orders-is-far-too-long-1.vault.azure.net/keys/cmk", ["invalid-vault-name"]],
    // A secret or certificate is not a key.
    ["https://kv-orders.vault.azure.net/secrets/cmk", ["not-a-key"]],
    // The guide's bare ".../keys" names no key.
    ["https://kv-orders.vault.azure.net/keys", ["missing-key-name"]],
    // Key names: letters, digits and dashes only.
    ["https://kv-orders.vault.azure.net/keys/cmk_1", ["invalid-key-name"]],
    // A non-default port, a query string, credentials.
    ["https://kv-orders.vault.azure.net:8443/keys/cmk", ["has-port"]],
    ["https://kv-orders.vault.azure.net/keys/cmk?api-version=7.4", ["has-query"]],
    ["https://user:pw@kv-orders.vault.azure.net/keys/cmk", ["has-credentials"]],
    // Anything after the version.
    ["https://kv-orders.vault.azure.net/keys/cmk/abc/extra", ["has-version", "extra-path"]],
  ])("rejects %s: %j", (uri, codes) => {
    const check = checkKeyVaultKeyUri(uri);
    expect(check.valid).toBe(false);
    expect(check.problems.map((p) => p.code)).toEqual(codes);
  });

  it("still names the vault and key of a URI it rejects, so advice can be exact", () => {
    // The 4006 email must say which versionless URI to set.
    const check = checkKeyVaultKeyUri("https://kv-orders.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef");
    expect(check.reference).toMatchObject({ vaultName: "kv-orders", keyName: "cmk", keyVersion: "0123456789abcdef0123456789abcdef" });
  });
});
