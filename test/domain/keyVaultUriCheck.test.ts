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
    // The suffix must follow a dot.
    ["https://kv-ordersvault.azure.net/keys/cmk", ["unknown-vault-domain"]],
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
    // An empty segment is one problem: the key name after it is not also read as a version.
    ["https://kv-orders.vault.azure.net//keys/cmk", ["empty-segment"]],
    ["https://kv-orders.vault.azure.net/keys//cmk", ["empty-segment"]],
    // Two trailing slashes are one too many; the version after an empty segment is still a version.
    ["https://kv-orders.vault.azure.net/keys/cmk//", ["empty-segment"]],
    ["https://kv-orders.vault.azure.net/keys/cmk//v1", ["empty-segment", "has-version"]],
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

describe("checkKeyVaultKeyUri: the sentences the 4006 email quotes", () => {
  it.each<[string, Array<[KeyUriProblemCode, string]>]>([
    // Each problem names the part that is wrong, so the owner knows what to change.
    ["", [["missing", "The account has no key URI."]]],
    ["kv-orders.vault.azure.net/keys/cmk", [["not-a-url", '"kv-orders.vault.azure.net/keys/cmk" is not an absolute URL (it must start with https://).']]],
    ["http://kv-orders.vault.azure.net/keys/cmk", [["not-https", "The URI uses http:// instead of https://."]]],
    ["https://user@kv-orders.vault.azure.net/keys/cmk", [["has-credentials", "The URI carries a user name or password."]]],
    // A password alone (empty user name) is still a credential.
    ["https://:pw@kv-orders.vault.azure.net/keys/cmk", [["has-credentials", "The URI carries a user name or password."]]],
    ["https://kv-orders.vault.azure.net:8443/keys/cmk", [["has-port", "The URI names port 8443; vault URIs have no port."]]],
    // A fragment alone counts as much as a query.
    ["https://kv-orders.vault.azure.net/keys/cmk#x", [["has-query", "The URI has a query string or fragment."]]],
    [
      "https://kvorders.blob.core.windows.net/keys/cmk",
      [["unknown-vault-domain", "The host kvorders.blob.core.windows.net is not <vault-name>.<vault domain> (e.g. .vault.azure.net, .vault.azure.cn)."]],
    ],
    // The suffix itself, with no vault label in front, is not a vault.
    [
      "https://vault.azure.net/keys/cmk",
      [["unknown-vault-domain", "The host vault.azure.net is not <vault-name>.<vault domain> (e.g. .vault.azure.net, .vault.azure.cn)."]],
    ],
    [
      "https://kv.vault.azure.net/keys/cmk",
      [["invalid-vault-name", '"kv" is not a valid vault name (3-24 letters, digits and single dashes, starting with a letter).']],
    ],
    // 24 characters is the longest name; 3 the shortest; a dash may not end it.
    [
      "https://kv-orders-is-long-enough-1.vault.azure.net/keys/cmk",
      [["invalid-vault-name", '"kv-orders-is-long-enough-1" is not a valid vault name (3-24 letters, digits and single dashes, starting with a letter).']],
    ],
    [
      "https://kv-.vault.azure.net/keys/cmk",
      [["invalid-vault-name", '"kv-" is not a valid vault name (3-24 letters, digits and single dashes, starting with a letter).']],
    ],
    ["https://kv-orders.vault.azure.net/secrets/cmk", [["not-a-key", "The path starts with /secrets/: Cosmos DB needs a key (/keys/<name>), not a secret."]]],
    ["https://kv-orders.vault.azure.net/", [["missing-key-name", "The URI has no /keys/<key-name> path."]]],
    ["https://kv-orders.vault.azure.net/keys/", [["missing-key-name", "The URI ends at /keys without a key name."]]],
    ["https://kv-orders.vault.azure.net//keys/cmk", [["empty-segment", "The path has an empty segment (//); it must be exactly /keys/<key-name>."]]],
    ["https://kv-orders.vault.azure.net/keys/cmk_1", [["invalid-key-name", '"cmk_1" is not a valid key name (1-127 letters, digits and dashes).']]],
    [
      "https://kv-orders.vault.azure.net/keys/cmk/v1",
      [["has-version", "The URI includes the key version v1; Cosmos DB expects the versionless URI and follows the key's current version."]],
    ],
    [
      "https://kv-orders.vault.azure.net/keys/cmk/v1/x",
      [
        ["has-version", "The URI includes the key version v1; Cosmos DB expects the versionless URI and follows the key's current version."],
        ["extra-path", "The URI has extra path segments after the key version."],
      ],
    ],
  ])("%j", (uri, problems) => {
    const check = checkKeyVaultKeyUri(uri);
    expect(check.problems.map((p) => [p.code, p.message])).toEqual(problems);
    expect(check.valid).toBe(false);
  });

  it.each([
    // The longest and shortest valid names, and a 127-character key name.
    ["https://kv-orders-is-long-enough.vault.azure.net/keys/cmk"],
    ["https://kvo.vault.azure.net/keys/cmk"],
    [`https://kv-orders.vault.azure.net/keys/${"k".repeat(127)}`],
  ])("accepts the limits: %s", (uri) => {
    expect(checkKeyVaultKeyUri(uri)).toMatchObject({ valid: true, problems: [] });
  });

  it("a key name of 128 characters is one too many", () => {
    // Key Vault's own limit.
    expect(checkKeyVaultKeyUri(`https://kv-orders.vault.azure.net/keys/${"k".repeat(128)}`).problems.map((p) => p.code)).toEqual(["invalid-key-name"]);
  });

  it("a URI outside the known clouds reports no cloud, and a valid one keeps the lenient reading", () => {
    // Cloud and service come only from a known suffix; the reference is what later probes use.
    expect(checkKeyVaultKeyUri("https://kvorders.example.com/keys/cmk")).not.toHaveProperty("cloud");
    expect(checkKeyVaultKeyUri(" https://kv-orders.vault.azure.net/keys/cmk ")).toEqual({
      uri: "https://kv-orders.vault.azure.net/keys/cmk",
      valid: true,
      problems: [],
      reference: { vaultName: "kv-orders", vaultHost: "kv-orders.vault.azure.net", keyName: "cmk" },
      cloud: "AzureCloud",
      service: "vault",
    });
    // No reference when even the lenient reading finds no key.
    expect(checkKeyVaultKeyUri("https://kv-orders.vault.azure.net/secrets/cmk")).not.toHaveProperty("reference");
  });

  it("results are shared between callers and frozen, so no caller can change another's", () => {
    // The same URI read twice is one object; writing to it fails.
    const a = checkKeyVaultKeyUri("https://kv-orders.vault.azure.net/keys/cmk/v9");
    expect(checkKeyVaultKeyUri("https://kv-orders.vault.azure.net/keys/cmk/v9")).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.problems)).toBe(true);
    expect(Object.isFrozen(a.problems[0])).toBe(true);
    expect(Object.isFrozen(a.reference)).toBe(true);
  });

  it("past 4096 remembered URIs it starts over, and answers stay right", () => {
    // The bound keeps memory flat over a large fleet; a forgotten URI is simply checked again.
    const first = checkKeyVaultKeyUri("https://kv-first.vault.azure.net/keys/cmk");
    for (let i = 0; i < 4100; i++) checkKeyVaultKeyUri(`https://kv-${i}x.vault.azure.net/keys/cmk`);
    const again = checkKeyVaultKeyUri("https://kv-first.vault.azure.net/keys/cmk");
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
