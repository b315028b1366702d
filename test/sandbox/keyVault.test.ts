/**
 * The sandbox's Key Vault world: provisioning from the account, the resolver, and the state
 * API the drill maps its `sandbox` events onto (each event → one call → what the probes see).
 */
import { createScanDeps } from "../../src/composition";
import type { CmkAccount } from "../../src/domain/account";
import { causeVerdict } from "../../src/domain/probeFindings";
import type { CauseId } from "../../src/domain/causes";
import { LocalSandbox } from "../../src/sandbox";
import { sandboxOverrides } from "../../src/sandbox/environment";
import { cmkAccountFromSandbox } from "../fixtures/sandboxAccounts";

const SUB = "00000000-0000-0000-0000-0000000000c1";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const revoked = (code: number) => `Access to your account is currently revoked; for more details please visit ${GUIDE} (${code}).`;
const PRINCIPAL = "5c0ffee0-0000-4000-8000-0000000000c1";

let sandbox: LocalSandbox;
let n = 0;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
});
afterAll(async () => {
  await sandbox?.stop();
});

function put(status: string, keyVault?: "healthy" | "match-status" | "none"): { name: string; vault: string; host: string } {
  const name = `kv-test-db-${++n}`;
  const vault = `kv-test-${n}`;
  sandbox.putAccount({
    name,
    subscriptionId: SUB,
    resourceGroup: "rg-kvtest",
    keyVaultKeyUri: `https://${vault}.vault.azure.net/keys/cmk`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: PRINCIPAL },
    status,
    ...(keyVault ? { keyVault } : {}),
  });
  return { name, vault, host: `${vault}.vault.azure.net` };
}

function cmkAccount(name: string): CmkAccount {
  return cmkAccountFromSandbox(sandbox, name);
}

async function verdict(name: string, cause: CauseId): Promise<string> {
  const deps = createScanDeps({ CMK_ARM_ENDPOINT: sandbox.url }, sandboxOverrides(sandbox, { maxRetries: 0 }));
  const facts = await deps.probes!.session().probe(cmkAccount(name));
  return causeVerdict(cause, facts, new Date()).verdict;
}

describe("provisioning", () => {
  it.each<[number, CauseId]>([
    // "match-status": the fact each code is about starts broken.
    [4002, "default-identity-unauthorized"],
    [4003, "key-not-found"],
    [4017, "key-not-found"],
    [4009, "key-vault-dns-unresolved"],
    [4016, "key-vault-network-blocked"],
    [4018, "key-disabled-or-expired"],
  ])("match-status %i starts with its cause present", async (code, cause) => {
    const { name } = put(revoked(code), "match-status");
    expect(await verdict(name, cause)).toBe("present");
  });

  it("the default provisions everything in order, whatever the status says", async () => {
    // Tests that only care about emails keep working; the probes then see a healthy vault.
    const { name } = put(revoked(4002));
    expect(await verdict(name, "default-identity-unauthorized")).toBe("gone");
  });

  it("'none' creates no vault: the host does not resolve", () => {
    const { host } = put(revoked(4002), "none");
    expect(sandbox.keyVault.resolves(host)).toBe(false);
  });

  it("cmkTargetOf names the vault, key, host and principal of an account", () => {
    // What the drill needs to turn an account's event into a state call.
    const { name, vault, host } = put(revoked(4002));
    expect(sandbox.cmkTargetOf(name)).toEqual({ vaultName: vault, keyName: "cmk", vaultHost: host, principalId: PRINCIPAL });
  });
});

describe("resolver", () => {
  it.each<[string, (vault: string, host: string) => void, boolean]>([
    // A live vault resolves.
    ["live vault", () => {}, true],
    // Deleted (soft) or purged: the name is gone from DNS.
    ["deleted vault", (vault) => sandbox.keyVault.deleteVault(vault), false],
    ["purged vault", (vault) => sandbox.keyVault.purgeVault(vault), false],
    // Recovered: back.
    ["recovered vault", (vault) => (sandbox.keyVault.deleteVault(vault), sandbox.keyVault.recoverVault(vault)), true],
    // Overrides win, and can be cleared.
    ["forced to fail", (_vault, host) => sandbox.keyVault.setDnsResolves(host, false), false],
    ["override cleared", (_vault, host) => (sandbox.keyVault.setDnsResolves(host, false), sandbox.keyVault.setDnsResolves(host, undefined)), true],
  ])("%s", async (_name, change, resolves) => {
    const { vault, host } = put(revoked(4002));
    change(vault, host);
    expect(sandbox.keyVault.resolves(host)).toBe(resolves);
    if (resolves) expect(await sandbox.resolver.lookup(host)).toEqual(["127.0.0.1"]);
    else await expect(sandbox.resolver.lookup(host)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });
});

describe("drill events map one-to-one onto the state API", () => {
  it.each<[string, number, CauseId, (t: { vault: string; host: string; name: string }) => void]>([
    // { "key": "restored" }
    ["key restored", 4003, "key-not-found", ({ vault }) => sandbox.keyVault.recoverKey(vault, "cmk")],
    // { "key": "enabled" }
    ["key enabled", 4018, "key-disabled-or-expired", ({ vault }) => sandbox.keyVault.setKeyEnabled(vault, "cmk", true)],
    // { "permission": "granted", "via": "access-policy" }
    [
      "permission granted (access policy)",
      4002,
      "default-identity-unauthorized",
      ({ vault }) => sandbox.keyVault.grantPermission(vault, PRINCIPAL, "access-policy"),
    ],
    // { "permission": "granted", "via": "rbac" } on an RBAC vault
    [
      "permission granted (rbac)",
      4002,
      "default-identity-unauthorized",
      ({ vault }) => {
        sandbox.keyVault.setPermissionModel(vault, "rbac");
        sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk" });
      },
    ],
    // { "vault": "recovered" }
    ["vault recovered", 4017, "key-not-found", ({ vault }) => sandbox.keyVault.recoverVault(vault)],
    // { "dns": "resolves" } (the vault was never there: create it, then it resolves)
    ["dns resolves", 4009, "key-vault-dns-unresolved", ({ host }) => sandbox.keyVault.setDnsResolves(host, true)],
    // { "firewall": "allows" }
    ["firewall allows", 4016, "key-vault-network-blocked", ({ vault }) => sandbox.keyVault.setFirewall(vault, { blocksTrustedServices: false })],
    // { "keyVaultKeyUri": "<versionless>" }
    ["key URI corrected", 4006, "invalid-key-vault-uri", ({ name, vault }) => sandbox.setKeyVaultKeyUri(name, `https://${vault}.vault.azure.net/keys/cmk`)],
    // { "defaultIdentity": "SystemAssignedIdentity" }
    ["default identity set", 4015, "invalid-default-identity", ({ name }) => sandbox.setDefaultIdentity(name, "SystemAssignedIdentity")],
  ])("%s: present before, gone after", async (_name, code, cause, event) => {
    const target = put(revoked(code), "match-status");
    if (code === 4006) sandbox.setKeyVaultKeyUri(target.name, `https://${target.vault}.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef`);
    if (code === 4015) sandbox.setDefaultIdentity(target.name, "");
    expect(await verdict(target.name, cause)).toBe("present");
    event(target);
    expect(await verdict(target.name, cause)).toBe("gone");
    // The status itself never moves with the facts: Azure's status lags them.
    expect(sandbox.getAccount(target.name)!.status).toBe(revoked(code));
  });
});
