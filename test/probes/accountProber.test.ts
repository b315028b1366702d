/**
 * Each probe against the sandbox with the real SDK clients (ARM Key Vault, the Key Vault data
 * plane with challenge auth on real-looking host names, ARM authorization, DNS): both outcomes,
 * and "could not check" when the monitor is not allowed to look.
 */
import { createScanDeps } from "../../src/composition";
import type { CmkAccount } from "../../src/domain/account";
import type { Checked, ProbeFacts } from "../../src/domain/probeFacts";
import { EVERYONE_PRINCIPAL_ID, evaluatePermission } from "../../src/domain/keyVaultPermissions";
import { CRYPTO_SERVICE_ENCRYPTION_USER } from "../../src/sandbox";
import { SdkAccountProber } from "../../src/probes/accountProber";
import { SdkKeyMetadataReader } from "../../src/adapters/keyVaultKeys";
import { ArmVaultDirectory } from "../../src/adapters/keyVaultManagement";
import { ArmRoleAssignmentReader } from "../../src/adapters/roleAssignments";
import { LocalSandbox } from "../../src/sandbox";
import { sandboxOverrides } from "../../src/sandbox/environment";
import { cmkAccountFromSandbox } from "../fixtures/sandboxAccounts";
import type { ProbeSession } from "../../src/ports/accountProber";

const SUB = "00000000-0000-0000-0000-0000000000b1";
const OTHER_SUB = "00000000-0000-0000-0000-0000000000b2";
const PRINCIPAL = "5c0ffee0-0000-4000-8000-0000000000b1";
const HEALTHY = "Access to the configured customer managed key confirmed.";

let sandbox: LocalSandbox;
let counter = 0;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
});
afterAll(async () => {
  await sandbox?.stop();
});

/** A fresh healthy account with its own vault, so cases do not disturb each other. */
function account(options: { status?: string; vault?: string; principal?: string } = {}): { id: string; name: string; vault: string } {
  const n = ++counter;
  const vault = options.vault ?? `kv-probe-${n}`;
  const name = `probe-db-${n}`;
  const id = sandbox.putAccount({
    name,
    subscriptionId: SUB,
    resourceGroup: "rg-probe",
    keyVaultKeyUri: `https://${vault}.vault.azure.net/keys/cmk`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: options.principal ?? PRINCIPAL },
    status: options.status ?? HEALTHY,
  });
  return { id, name, vault };
}

function session(): ProbeSession {
  const deps = createScanDeps({ CMK_ARM_ENDPOINT: sandbox.url }, sandboxOverrides(sandbox, { maxRetries: 0, probeTimeoutInMs: 5000 }));
  return deps.probes!.session();
}

function cmkAccount(name: string): CmkAccount {
  return cmkAccountFromSandbox(sandbox, name);
}

async function probe(name: string): Promise<ProbeFacts> {
  return session().probe(cmkAccount(name));
}

function value<T>(checked: Checked<T>): T {
  if (!checked.checked) throw new Error(`expected a checked value, got "could not check: ${checked.reason}"`);
  return checked.value;
}

function reason(checked: Checked<unknown>): string {
  if (checked.checked) throw new Error(`expected "could not check", got ${JSON.stringify(checked.value)}`);
  return checked.reason;
}

describe("probes against the sandbox", () => {
  it("a healthy account: host resolves, vault and key in order, identity granted by access policy", async () => {
    // The baseline every other case breaks one fact of.
    const { name, vault } = account();
    const facts = await probe(name);
    expect(value(facts.dns)).toEqual({ host: `${vault}.vault.azure.net`, resolves: true });
    expect(value(facts.vault)).toMatchObject({
      state: "active",
      name: vault,
      permissionModel: "access-policies",
      softDeleteEnabled: true,
      purgeProtectionEnabled: true,
      trustedServicesBypass: true,
    });
    expect(value(facts.key)).toMatchObject({ state: "active", name: "cmk", enabled: true, recoverableDays: 90 });
    expect(evaluatePermission(facts)).toMatchObject({ status: "granted", model: "access-policies" });
  });

  it.each<[string, (vault: string) => void, (facts: ProbeFacts) => void]>([
    // Key soft-deleted: the deleted-key endpoint tells when and until when.
    [
      "key deleted",
      (vault) => sandbox.keyVault.deleteKey(vault, "cmk"),
      (facts) => expect(value(facts.key)).toMatchObject({ state: "deleted", name: "cmk", deletedOn: expect.any(String), purgeScheduledOn: expect.any(String) }),
    ],
    // Purged: neither a key nor a deleted key.
    ["key purged", (vault) => sandbox.keyVault.purgeKey(vault, "cmk"), (facts) => expect(value(facts.key)).toEqual({ state: "not-found", name: "cmk" })],
    // Disabled, with an expiry and a not-before date.
    [
      "key disabled",
      (vault) => sandbox.keyVault.setKeyEnabled(vault, "cmk", false),
      (facts) => expect(value(facts.key)).toMatchObject({ state: "active", enabled: false }),
    ],
    [
      "key expiry",
      (vault) => sandbox.keyVault.setKeyExpiry(vault, "cmk", new Date("2031-01-02T03:04:05.000Z")),
      (facts) => expect(value(facts.key)).toMatchObject({ expiresOn: "2031-01-02T03:04:05.000Z" }),
    ],
    // Vault soft-deleted: listed under deleted vaults, its host stops resolving, keys cannot be read.
    [
      "vault deleted",
      (vault) => sandbox.keyVault.deleteVault(vault),
      (facts) => {
        expect(value(facts.vault)).toMatchObject({ state: "deleted", purgeScheduledOn: expect.any(String), purgeProtectionEnabled: true });
        expect(value(facts.dns).resolves).toBe(false);
        expect(reason(facts.key)).toMatch(/vault is deleted/);
      },
    ],
    // Vault purged: nowhere to be found and no DNS.
    [
      "vault purged",
      (vault) => sandbox.keyVault.purgeVault(vault),
      (facts) => {
        expect(value(facts.vault)).toMatchObject({ state: "not-found", searchedSubscriptions: [SUB] });
        expect(value(facts.dns).resolves).toBe(false);
      },
    ],
    // DNS forced to fail while the vault exists (the 4009 case).
    ["dns fails", (vault) => sandbox.keyVault.setDnsResolves(`${vault}.vault.azure.net`, false), (facts) => expect(value(facts.dns).resolves).toBe(false)],
    // Permission removed from the access policy.
    [
      "permission removed",
      (vault) => sandbox.keyVault.removePermission(vault, PRINCIPAL, "access-policy"),
      (facts) => expect(evaluatePermission(facts)).toMatchObject({ status: "missing", missing: ["get", "wrapKey", "unwrapKey"] }),
    ],
    // Soft delete and purge protection read from ARM.
    [
      "purge protection off",
      (vault) => sandbox.keyVault.setPurgeProtection(vault, false),
      (facts) => expect(value(facts.vault)).toMatchObject({ purgeProtectionEnabled: false }),
    ],
  ])("%s", async (_name, change, check) => {
    const { name, vault } = account();
    change(vault);
    check(await probe(name));
  });

  it("RBAC: a role assignment of Key Vault Crypto Service Encryption User grants; removing it takes it away", async () => {
    // Role assignments and role definitions come from ARM authorization.
    const { name, vault } = account();
    sandbox.keyVault.setPermissionModel(vault, "rbac");
    let facts = await probe(name);
    expect(evaluatePermission(facts)).toMatchObject({ status: "missing", model: "rbac" });

    sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk", scope: "resource-group" });
    facts = await probe(name);
    expect(value(facts.roleAssignments)).toEqual([
      expect.objectContaining({
        scope: "/subscriptions/00000000-0000-0000-0000-0000000000b1/resourceGroups/rg-probe",
        roleName: "Key Vault Crypto Service Encryption User",
      }),
    ]);
    expect(evaluatePermission(facts)).toMatchObject({ status: "granted", via: expect.stringMatching(/at resource group scope/) });

    sandbox.keyVault.removePermission(vault, PRINCIPAL, "rbac");
    expect(evaluatePermission(await probe(name))).toMatchObject({ status: "missing" });
  });

  describe("RBAC the way Azure evaluates it", () => {
    const GROUP = "6a0a0a0a-0000-4000-8000-0000000000b1";
    const vaultScope = (vault: string) => `/subscriptions/${SUB}/resourceGroups/rg-probe/providers/Microsoft.KeyVault/vaults/${vault}`;

    it.each<[string, (vault: string) => void, RegExp]>([
      // The role is assigned to a group the identity is in: assignedTo() returns it, so it grants.
      [
        "granted through a group",
        (vault) => {
          sandbox.keyVault.addGroupMember(GROUP, PRINCIPAL);
          sandbox.keyVault.assignRole(vaultScope(vault), GROUP, CRYPTO_SERVICE_ENCRYPTION_USER, { principalType: "Group" });
        },
        /^granted: .*at vault scope through group/,
      ],
      // Only an assignment with an ABAC condition: the monitor cannot evaluate it.
      [
        "only a conditional assignment",
        (vault) =>
          sandbox.keyVault.assignRole(`${vaultScope(vault)}/keys/cmk`, PRINCIPAL, CRYPTO_SERVICE_ENCRYPTION_USER, {
            condition: "@Resource[Microsoft.KeyVault/vaults/keys:KeyName] StringEquals 'cmk'",
          }),
        /^unknown: could not decide: .*condition/,
      ],
      // A deny assignment for Everyone (say, from a deployment stack) overrides the grant.
      [
        "a deny assignment blocks unwrap",
        (vault) => {
          sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk" });
          sandbox.keyVault.addDenyAssignment({
            name: "deployment-stack-deny",
            scope: vaultScope(vault),
            principals: [{ id: EVERYONE_PRINCIPAL_ID, type: "SystemDefined" }],
            dataActions: ["Microsoft.KeyVault/vaults/keys/unwrap/action"],
          });
        },
        /^missing: deny assignment "deployment-stack-deny" at vault scope blocks unwrapKey/,
      ],
      // The same deny with the identity excluded: the grant stands.
      [
        "the identity is excluded from the deny",
        (vault) => {
          sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk" });
          sandbox.keyVault.addDenyAssignment({
            name: "deployment-stack-deny",
            scope: vaultScope(vault),
            principals: [{ id: EVERYONE_PRINCIPAL_ID, type: "SystemDefined" }],
            excludePrincipals: [{ id: PRINCIPAL, type: "ServicePrincipal" }],
            dataActions: ["Microsoft.KeyVault/vaults/keys/*"],
          });
        },
        /^granted: /,
      ],
    ])("%s", async (_name, arrange, expected) => {
      const { name, vault } = account();
      sandbox.keyVault.setPermissionModel(vault, "rbac");
      arrange(vault);
      const verdict = evaluatePermission(await probe(name));
      const text = verdict.status === "granted" ? verdict.via : verdict.status === "missing" ? verdict.detail : verdict.reason;
      expect(`${verdict.status}: ${text}`).toMatch(expected);
    });
  });

  it("cross-tenant CMK (FederatedClientId) is 'not probed', never 'vault not found'", async () => {
    // The vault is in another tenant: searching the monitor's own subscriptions would find nothing.
    const n = ++counter;
    const uai = `/subscriptions/${SUB}/resourceGroups/rg-probe/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-xt-${n}`;
    const name = `probe-xt-${n}`;
    sandbox.putAccount({
      name,
      subscriptionId: SUB,
      resourceGroup: "rg-probe",
      keyVaultKeyUri: `https://kv-other-tenant-${n}.vault.azure.net/keys/cmk`,
      defaultIdentity: `UserAssignedIdentity=${uai}&FederatedClientId=3f1c2b4a-0000-4000-8000-00000000a0a0`,
      identity: { type: "UserAssigned", userAssignedIdentities: { [uai]: { principalId: PRINCIPAL, clientId: "3f1c2b4a-0000-4000-8000-00000000c11d" } } },
      status: HEALTHY,
    });
    const facts = await probe(name);
    expect(reason(facts.vault)).toMatch(/^cross-tenant customer-managed key \(FederatedClientId\).*not probed/);
    expect(reason(facts.key)).toBe(reason(facts.vault));
    expect(evaluatePermission(facts)).toMatchObject({ status: "unknown", reason: expect.stringMatching(/cross-tenant/) });
  });

  it("a custom role whose data actions cover wrap and unwrap counts", async () => {
    // "or a role whose data actions cover it": read from the role definition, not a list of names.
    const { name, vault } = account();
    sandbox.keyVault.setPermissionModel(vault, "rbac");
    sandbox.keyVault.defineRole({
      id: "7d3a1c52-0000-4000-8000-00000000c0de",
      roleName: "Contoso CMK user",
      dataActions: ["Microsoft.KeyVault/vaults/keys/*"],
    });
    sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk", roleDefinitionId: "7d3a1c52-0000-4000-8000-00000000c0de" });
    expect(evaluatePermission(await probe(name))).toMatchObject({ status: "granted", via: expect.stringContaining('"Contoso CMK user" at key scope') });
  });

  it("firewall without the trusted-services bypass: seen from ARM, and the data plane keeps the monitor out", async () => {
    // The fact is known (network rules via ARM); the key is "could not check", never "fine".
    const { name, vault } = account();
    sandbox.keyVault.setFirewall(vault, { blocksTrustedServices: true });
    const facts = await probe(name);
    expect(value(facts.vault)).toMatchObject({ firewallDefaultAction: "Deny", trustedServicesBypass: false });
    expect(reason(facts.key)).toMatch(/firewall blocks the monitor \(HTTP 403 ForbiddenByFirewall\)/);
  });

  it.each<[string, (vault: string) => void, (facts: ProbeFacts) => void]>([
    // Access-policy vault without a policy for the monitor.
    ["keys (access policies)", (vault) => sandbox.keyVault.denyMonitor("keys", vault), (facts) => expect(reason(facts.key)).toMatch(/ForbiddenByPolicy/)],
    // RBAC vault without Key Vault Reader for the monitor.
    [
      "keys (RBAC)",
      (vault) => {
        sandbox.keyVault.setPermissionModel(vault, "rbac");
        sandbox.keyVault.grantPermission(vault, PRINCIPAL, "rbac", { keyName: "cmk" });
        sandbox.keyVault.denyMonitor("keys", vault);
      },
      (facts) => {
        expect(reason(facts.key)).toMatch(/Key Vault Reader \(HTTP 403 ForbiddenByRbac\)/);
        // The permission probe does not need the data plane.
        expect(evaluatePermission(facts).status).toBe("granted");
      },
    ],
    // No Reader on the vault.
    ["vault", (vault) => sandbox.keyVault.denyMonitor("vaults", vault), (facts) => expect(reason(facts.vault)).toMatch(/403 AuthorizationFailed/)],
    // May not read role assignments.
    [
      "role assignments",
      (vault) => {
        sandbox.keyVault.setPermissionModel(vault, "rbac");
        sandbox.keyVault.denyMonitor("role-assignments");
      },
      (facts) => {
        expect(reason(facts.roleAssignments)).toMatch(/403 AuthorizationFailed/);
        expect(evaluatePermission(facts).status).toBe("unknown");
      },
    ],
  ])("the monitor may not read %s: could not check, with why", async (_name, change, check) => {
    const { name, vault } = account();
    change(vault);
    try {
      check(await probe(name));
    } finally {
      sandbox.keyVault.denyMonitor("role-assignments", "*", false);
    }
  });

  it("the Key Vault client authenticates by challenge on the real-looking host name", async () => {
    // First request unauthenticated → 401 with the vault resource → the same request with a token.
    const { name } = account();
    sandbox.clearRequests();
    await probe(name);
    const keyCalls = sandbox.requests().filter((r) => r.route === "kv-key");
    expect(keyCalls.map((r) => r.status)).toEqual([401, 200]);
    expect(keyCalls[0]!.path).toBe("/keys/cmk/");
  });

  it("a failing vault listing is 'could not check', not 'vault does not exist'", async () => {
    // Not finding a vault only counts when every place it could be was read.
    const { name } = account();
    sandbox.injectFault({ route: "kv-vaults", status: 500, times: 1 });
    const facts = await probe(name);
    expect(reason(facts.vault)).toMatch(/answered HTTP 500/);
  });

  it("finds a vault in another monitored subscription", async () => {
    // Vaults often live in a shared security subscription.
    const { name, vault } = account();
    sandbox.keyVault.createVault({ name: vault, subscriptionId: OTHER_SUB, resourceGroup: "rg-security" });
    const clientOptions = { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries: 0 } };
    const prober = new SdkAccountProber(
      {
        resolver: sandbox.resolver,
        vaults: new ArmVaultDirectory({ credential: sandbox.credential, endpoint: sandbox.url, clientOptions }),
        keys: new SdkKeyMetadataReader({ credential: sandbox.credential, clientOptions: { ...clientOptions, agent: sandbox.keyVaultAgent } }),
        roles: new ArmRoleAssignmentReader({ credential: sandbox.credential, endpoint: sandbox.url, clientOptions }),
      },
      { timeoutInMs: 5000, subscriptionIds: [OTHER_SUB], now: () => new Date() },
    );
    const facts = await prober.session().probe(cmkAccount(name));
    expect(value(facts.vault)).toMatchObject({ state: "active", subscriptionId: OTHER_SUB, resourceGroup: "rg-security" });
  });

  it("accounts sharing one key URI are probed once per session", async () => {
    // De-duplicated per key URI within a cycle: ten accounts on one vault cost one key read.
    const first = account();
    const second = account({ vault: first.vault });
    sandbox.clearRequests();
    const shared = session();
    await Promise.all([shared.probe(cmkAccount(first.name)), shared.probe(cmkAccount(second.name))]);
    const keyReads = sandbox.requests().filter((r) => r.route === "kv-key" && r.status === 200);
    const vaultReads = sandbox.requests().filter((r) => r.route === "kv-vaults");
    expect(keyReads).toHaveLength(1);
    // One listing of the subscription and one read of the vault.
    expect(vaultReads).toHaveLength(2);
  });
});
