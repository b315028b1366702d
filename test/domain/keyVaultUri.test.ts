import { formatKeyVaultKeyUri, parseKeyVaultKeyUri } from "../../src/domain/keyVaultUri";

describe("parseKeyVaultKeyUri", () => {
  it.each([
    // The canonical, versionless form Cosmos DB expects.
    ["https://kv-orders.vault.azure.net/keys/orders-cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" }],
    // A version segment is the usual 4006 mistake; we still need the names to advise a fix.
    [
      "https://kv-orders.vault.azure.net/keys/orders-cmk/0123456789abcdef0123456789abcdef",
      { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk", keyVersion: "0123456789abcdef0123456789abcdef" },
    ],
    // Trailing slashes and surrounding whitespace come from hand-edited templates.
    ["  https://kv-orders.vault.azure.net/keys/orders-cmk/  ", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" }],
    // Vault host names are case-insensitive; ARM sometimes echoes mixed case.
    ["https://KV-Orders.Vault.Azure.Net/Keys/Orders-CMK", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "Orders-CMK" }],
    // An explicit :443 port is legal in a URI.
    ["https://kv-orders.vault.azure.net:443/keys/orders-cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" }],
    // Missing scheme: lenient, so the advice can still name the vault.
    ["kv-orders.vault.azure.net/keys/orders-cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "orders-cmk" }],
    // Sovereign clouds have their own vault DNS suffix.
    ["https://kv-cn.vault.azure.cn/keys/k1", { vaultName: "kv-cn", vaultHost: "kv-cn.vault.azure.cn", keyName: "k1" }],
    ["https://kv-gov.vault.usgovcloudapi.net/keys/k1", { vaultName: "kv-gov", vaultHost: "kv-gov.vault.usgovcloudapi.net", keyName: "k1" }],
    // Percent-encoding is decoded so the name matches what az expects (quoting handles the rest).
    ["https://kv.vault.azure.net/keys/my%20key", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "my key" }],
  ])("parses %s", (uri, expected) => {
    expect(parseKeyVaultKeyUri(uri)).toEqual(expected);
  });

  it.each([
    // Nothing configured.
    [undefined],
    [""],
    ["   "],
    // The guide's bare ".../keys" example names no key.
    ["https://kv-orders.vault.azure.net/keys"],
    ["https://kv-orders.vault.azure.net/keys/"],
    // A secret or certificate URI is not a key URI.
    ["https://kv-orders.vault.azure.net/secrets/orders-cmk"],
    // No host at all.
    ["https:///keys/k"],
    // Not a URL.
    ["not a uri at all"],
  ])("returns undefined for %j", (uri) => {
    expect(parseKeyVaultKeyUri(uri)).toBeUndefined();
  });
});

describe("formatKeyVaultKeyUri", () => {
  it("drops the version, which Cosmos DB does not want", () => {
    const parsed = parseKeyVaultKeyUri("https://kv-orders.vault.azure.net/keys/orders-cmk/abc123")!;
    expect(formatKeyVaultKeyUri(parsed)).toBe("https://kv-orders.vault.azure.net/keys/orders-cmk");
  });

  it("round-trips a key name that needs encoding", () => {
    const uri = formatKeyVaultKeyUri({ vaultHost: "kv.vault.azure.net", keyName: "a b" });
    expect(uri).toBe("https://kv.vault.azure.net/keys/a%20b");
    expect(parseKeyVaultKeyUri(uri)?.keyName).toBe("a b");
  });
});
