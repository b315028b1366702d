import { formatKeyVaultKeyUri, isKeyVaultKeyName, parseKeyVaultKeyUri, verifiedKeyNames, type VerifiedKeyNames } from "../../src/domain/keyVaultUri";

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
    // A broken percent-encoding is kept as written rather than failing the whole reading.
    ["https://kv.vault.azure.net/keys/cmk%E0%A4%A", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "cmk%E0%A4%A" }],
    // Empty segments are skipped: "//keys" still names the key (the strict check reports the "//").
    ["https://kv.vault.azure.net//keys//cmk", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "cmk" }],
    // Another scheme is kept as written (the strict check reports it), and names the same vault.
    ["http://kv.vault.azure.net/keys/cmk", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "cmk" }],
    // A scheme in capitals is still a scheme, not part of a host.
    ["HTTPS://kv.vault.azure.net/keys/cmk", { vaultName: "kv", vaultHost: "kv.vault.azure.net", keyName: "cmk" }],
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
    // A URL with an empty host names no vault, even with a key path.
    ["file:///keys/k"],
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

describe("verifiedKeyNames: only names that pass Azure's shape rules reach a command", () => {
  it.each<[string | undefined, VerifiedKeyNames]>([
    // The canonical URI: vault, host and key.
    ["https://kv-orders.vault.azure.net/keys/cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" }],
    // Case, a trailing slash and a version do not matter; the host comes out lower-case.
    ["https://KV-Orders.VAULT.azure.net/KEYS/cmk/", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" }],
    ["https://kv-orders.vault.azure.net/keys/cmk/v1", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" }],
    // No scheme is read as https; Managed HSM hosts are vault hosts too.
    ["kv-orders.vault.azure.net/keys/cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" }],
    ["https://hsm-x.managedhsm.azure.net/keys/k", { vaultName: "hsm-x", vaultHost: "hsm-x.managedhsm.azure.net", keyName: "k" }],
    // Any host a command could be pointed at is dropped: plain http, another domain, a sub-domain,
    // the bare suffix, an invalid vault name, another scheme.
    ["http://kv-orders.vault.azure.net/keys/cmk", { keyName: "cmk" }],
    ["https://kv-orders.example.com/keys/cmk", { keyName: "cmk" }],
    ["https://a.b.vault.azure.net/keys/cmk", { keyName: "cmk" }],
    ["https://vault.azure.net/keys/k", { keyName: "k" }],
    ["https://kv--x.vault.azure.net/keys/cmk", { keyName: "cmk" }],
    ["ftp://kv-orders.vault.azure.net/keys/cmk", { keyName: "cmk" }],
    // The suffix must follow a dot: "kv-ordersvault.azure.net" is not the vault "kv-order".
    ["https://kv-ordersvault.azure.net/keys/cmk", { keyName: "cmk" }],
    // A scheme in capitals is https all the same.
    ["HTTPS://kv-orders.vault.azure.net/keys/cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" }],
    // A key name that decodes to a path ("../..") or is not a key at all is dropped.
    ["https://kv-orders.vault.azure.net/keys/%2e%2e%2f%2e%2e", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net" }],
    ["https://kv-orders.vault.azure.net/secrets/cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net" }],
    ["https://kv-orders.vault.azure.net/keys", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net" }],
    // The path must start with /keys: after an empty segment it does not.
    ["https://kv-orders.vault.azure.net//keys/cmk", { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net" }],
    // Nothing usable.
    [undefined, {}],
    ["not a url", {}],
  ])("%j → %j", (uri, expected) => {
    // Strict: a name that did not pass is absent, not present as undefined.
    expect(verifiedKeyNames(uri)).toStrictEqual(expected);
  });

  it.each<[string | undefined, boolean]>([
    // Letters, digits and dashes, 1-127 of them.
    ["orders-cmk-1", true],
    ["k".repeat(127), true],
    ["k".repeat(128), false],
    // Nothing, an underscore, a path.
    [undefined, false],
    ["", false],
    ["a_b", false],
    ["../..", false],
  ])("isKeyVaultKeyName(%j) → %s", (name, expected) => {
    expect(isKeyVaultKeyName(name)).toBe(expected);
  });
});
