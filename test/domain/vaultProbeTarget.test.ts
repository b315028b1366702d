/** Which cloud the monitor runs in, and so whose vault hosts it probes. */
import { cloudOfArmEndpoint, vaultProbeTarget, vaultSuffixesOf } from "../../src/domain/vaultProbeTarget";

describe("cloudOfArmEndpoint", () => {
  it.each([
    // The default endpoint: the public cloud.
    ["https://management.azure.com", "AzureCloud"],
    // Sovereign clouds by their ARM host.
    ["https://management.chinacloudapi.cn/", "AzureChinaCloud"],
    ["https://management.usgovcloudapi.net", "AzureUSGovernment"],
    // A sandbox or anything unknown counts as public: the narrowest default that still works.
    ["https://127.0.0.1:8443", "AzureCloud"],
    ["not a url", "AzureCloud"],
  ])("%s is %s", (endpoint, cloud) => {
    expect(cloudOfArmEndpoint(endpoint)).toBe(cloud);
  });
});

describe("vaultProbeTarget", () => {
  it.each([
    // Each cloud probes its own vaults and HSMs, never another's.
    ["AzureCloud", ["vault.azure.net", "managedhsm.azure.net"]],
    ["AzureChinaCloud", ["vault.azure.cn", "managedhsm.azure.cn"]],
    ["AzureUSGovernment", ["vault.usgovcloudapi.net", "managedhsm.usgovcloudapi.net"]],
  ] as const)("%s's suffixes", (cloud, suffixes) => {
    expect(vaultSuffixesOf(cloud)).toEqual(suffixes);
  });

  it.each<[string, string | undefined, ReturnType<typeof vaultProbeTarget>]>([
    // Case is folded: DNS names are case-insensitive and the memo keys must agree.
    ["upper case", "https://KV-Orders.Vault.Azure.Net/keys/cmk", { host: "kv-orders.vault.azure.net", suffix: "vault.azure.net", service: "vault" }],
    // A Managed HSM is a target (the session then reports it is not probed further).
    [
      "managed HSM",
      "https://hsm-orders.managedhsm.azure.net/keys/cmk",
      { host: "hsm-orders.managedhsm.azure.net", suffix: "managedhsm.azure.net", service: "managed-hsm" },
    ],
    // Percent-encoding in the host is decoded before the check, so it cannot smuggle a dot.
    ["encoded dot", "https://kv-orders%2eevil.example.com/keys/cmk", undefined],
    // Full-width dots are normalised to dots by the URL parser, then checked like any other.
    [
      "full-width dots",
      "https://kv-orders\uff0evault\uff0eazure\uff0enet/keys/cmk",
      { host: "kv-orders.vault.azure.net", suffix: "vault.azure.net", service: "vault" },
    ],
    // A password without a user name is still userinfo.
    ["password only", "https://:secret@kv-orders.vault.azure.net/keys/cmk", undefined],
    // Empty port is no port, ":443" is a port the URL parser drops as the default: both are the vault's own 443.
    ["default port", "https://kv-orders.vault.azure.net:443/keys/cmk", { host: "kv-orders.vault.azure.net", suffix: "vault.azure.net", service: "vault" }],
    // Missing or unparsable.
    ["missing", undefined, undefined],
    ["garbage", "https://exa mple/keys", undefined],
  ])("%s", (_name, uri, expected) => {
    expect(vaultProbeTarget(uri, vaultSuffixesOf("AzureCloud"))).toEqual(expected);
  });
});
