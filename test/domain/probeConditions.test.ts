/** What the probe facts mean for the key, the vault's network rules and the names in sentences (shared by verdicts, evidence and warnings). */
import { checkKeyVaultKeyUri } from "../../src/domain/keyVaultUri";
import { activeVault as activeVaultOf, firewallBlocksTrustedServices, keyCondition, networkCondition, targetNames } from "../../src/domain/probeConditions";
import { checked, couldNotCheck, type ProbeFacts } from "../../src/domain/probeFacts";
import { activeKey, activeVault, healthyFacts, NOW, PROBE_ACCOUNT } from "../fixtures/probes";

const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const facts = (overrides: Partial<ProbeFacts>) => healthyFacts(PROBE_ACCOUNT, overrides);

describe("keyCondition", () => {
  it.each<[string, Partial<ProbeFacts>, string]>([
    // Key Vault refuses unwrap from the expiry instant on: exactly now is already expired.
    ["expires exactly now", { key: checked(activeKey({ expiresOn: at(0) })) }, "expired"],
    ["expires in a minute", { key: checked(activeKey({ expiresOn: at(1) })) }, "usable"],
    // Usable from its not-before instant on: exactly now is valid, a minute later is not yet.
    ["valid from exactly now", { key: checked(activeKey({ notBefore: at(0) })) }, "usable"],
    ["valid from a minute ago", { key: checked(activeKey({ notBefore: at(-1) })) }, "usable"],
    ["valid from a minute from now", { key: checked(activeKey({ notBefore: at(1) })) }, "not-yet-valid"],
  ])("%s: %s", (_name, overrides, expected) => {
    expect(keyCondition(facts(overrides), NOW).state).toBe(expected);
  });
});

describe("firewallBlocksTrustedServices", () => {
  it.each<[string, { firewallDefaultAction: string; publicNetworkAccess: string; trustedServicesBypass: boolean }, boolean]>([
    // Public traffic allowed: Cosmos DB gets through whatever the bypass says.
    ["open vault, no bypass", { firewallDefaultAction: "Allow", publicNetworkAccess: "Enabled", trustedServicesBypass: false }, false],
    // Denied by default or public access off: only the trusted-services bypass lets Cosmos DB in.
    ["deny, no bypass", { firewallDefaultAction: "Deny", publicNetworkAccess: "Enabled", trustedServicesBypass: false }, true],
    ["deny in ARM's lower case, no bypass", { firewallDefaultAction: "deny", publicNetworkAccess: "Enabled", trustedServicesBypass: false }, true],
    ["deny with the bypass", { firewallDefaultAction: "Deny", publicNetworkAccess: "Enabled", trustedServicesBypass: true }, false],
    ["public access disabled, no bypass", { firewallDefaultAction: "Allow", publicNetworkAccess: "Disabled", trustedServicesBypass: false }, true],
    // Values that merely contain the words are not them (whole-value match, as ARM's enums are).
    ["an action that only ends in deny", { firewallDefaultAction: "NotDeny", publicNetworkAccess: "Enabled", trustedServicesBypass: false }, false],
    ["an action that only starts with deny", { firewallDefaultAction: "DenyNone", publicNetworkAccess: "Enabled", trustedServicesBypass: false }, false],
    ["access that only ends in disabled", { firewallDefaultAction: "Allow", publicNetworkAccess: "NotDisabled", trustedServicesBypass: false }, false],
    ["access that only starts with disabled", { firewallDefaultAction: "Allow", publicNetworkAccess: "DisabledNot", trustedServicesBypass: false }, false],
  ])("%s", (_name, network, expected) => {
    expect(firewallBlocksTrustedServices(activeVault(network))).toBe(expected);
  });
});

describe("networkCondition and activeVault", () => {
  it.each<[string, Partial<ProbeFacts>, string, boolean]>([
    // Only an active vault has network rules to read.
    ["active, open", {}, "allows", true],
    ["active, closed", { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) }, "blocks", true],
    ["soft-deleted", { vault: checked({ state: "deleted", name: "kv-orders" }) }, "unknown", false],
    ["not readable", { vault: couldNotCheck("HTTP 403") }, "unknown", false],
  ])("%s", (_name, overrides, network, active) => {
    expect(networkCondition(facts(overrides))).toBe(network);
    expect(activeVaultOf(facts(overrides)) !== undefined).toBe(active);
  });
});

describe("targetNames", () => {
  it.each<[string, string, { vault: string; key: string; host: string }]>([
    // The names from the key URI, as they are.
    ["a valid key URI", "https://kv-orders.vault.azure.net/keys/cmk", { vault: "kv-orders", key: "cmk", host: "kv-orders.vault.azure.net" }],
    // No URI to read them from: each says so in words.
    ["no key URI", "", { vault: "(unknown vault)", key: "(unknown key)", host: "(unknown host)" }],
  ])("%s", (_name, uri, expected) => {
    expect(targetNames(facts({ keyUri: checkKeyVaultKeyUri(uri) }))).toEqual(expected);
  });
});
