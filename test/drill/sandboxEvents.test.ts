/**
 * Sandbox events: each field is one call on the sandbox's state API (checked with a recording
 * fake), and in a real drill they change what the probes see but never the account's status.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { applySandboxChange, describeSandboxChange, type DrillSandbox } from "../../src/drill/sandboxEvents";
import { runScenario, type DrillResult } from "../../src/drill/runScenario";
import { parseScenario, type SandboxChange, type Scenario } from "../../src/drill/scenario";
import type { CmkTarget } from "../../src/sandbox/keyVaultProvisioning";

const NOW = new Date("2026-03-02T21:00:00Z");
const DAY = 24 * 60 * 60 * 1000;
const TARGET: CmkTarget = {
  vaultName: "kv-orders",
  keyName: "orders-cmk",
  vaultHost: "kv-orders.vault.azure.net",
  principalId: "5c0ffee0-0001-4a00-8b00-000000000001",
};

/** Records every call as [method, ...args]; `permissionModel` is what `findVault` reports. */
function recordingSandbox(options: { target?: CmkTarget | undefined; permissionModel?: "access-policies" | "rbac"; failing?: string } = {}) {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      if (name === options.failing) throw new Error(`Sandbox has no vault "${String(args[0])}"`);
      calls.push([name, ...args]);
    };
  const target = "target" in options ? options.target : TARGET;
  const sandbox: DrillSandbox = {
    keyVault: {
      deleteKey: record("deleteKey"),
      recoverKey: record("recoverKey"),
      setKeyEnabled: record("setKeyEnabled"),
      setKeyExpiry: record("setKeyExpiry"),
      grantPermission: record("grantPermission"),
      removePermission: record("removePermission"),
      deleteVault: record("deleteVault"),
      recoverVault: record("recoverVault"),
      setDnsResolves: record("setDnsResolves"),
      setFirewall: record("setFirewall"),
      setPurgeProtection: record("setPurgeProtection"),
      findVault: (() => ({ permissionModel: options.permissionModel ?? "access-policies" })) as unknown as DrillSandbox["keyVault"]["findVault"],
    },
    setDefaultIdentity: record("setDefaultIdentity"),
    setKeyVaultKeyUri: record("setKeyVaultKeyUri"),
    cmkTargetOf: () => target,
  };
  return { sandbox, calls };
}

describe("each sandbox field is one call on the state API", () => {
  it.each<[SandboxChange, unknown[][]]>([
    [{ key: "deleted" }, [["deleteKey", "kv-orders", "orders-cmk"]]],
    [{ key: "restored" }, [["recoverKey", "kv-orders", "orders-cmk"]]],
    [{ key: "disabled" }, [["setKeyEnabled", "kv-orders", "orders-cmk", false]]],
    [{ key: "enabled" }, [["setKeyEnabled", "kv-orders", "orders-cmk", true]]],
    // Days count from the drill's simulated now, not the wall clock.
    [{ keyExpiresInDays: 12 }, [["setKeyExpiry", "kv-orders", "orders-cmk", new Date(NOW.getTime() + 12 * DAY)]]],
    [{ keyExpiresInDays: 0 }, [["setKeyExpiry", "kv-orders", "orders-cmk", NOW]]],
    // The permission goes to the principal of the account's default identity.
    [{ permission: "granted", via: "access-policy" }, [["grantPermission", "kv-orders", TARGET.principalId, "access-policy", { keyName: "orders-cmk" }]]],
    // Granting without `via` follows the vault's own model (access policies here; RBAC below).
    [{ permission: "granted" }, [["grantPermission", "kv-orders", TARGET.principalId, "access-policy", { keyName: "orders-cmk" }]]],
    [{ permission: "removed", via: "rbac" }, [["removePermission", "kv-orders", TARGET.principalId, "rbac"]]],
    // Removing without `via` removes both the access policy and the role assignments.
    [{ permission: "removed" }, [["removePermission", "kv-orders", TARGET.principalId, undefined]]],
    [{ vault: "deleted" }, [["deleteVault", "kv-orders"]]],
    [{ vault: "recovered" }, [["recoverVault", "kv-orders"]]],
    [{ dns: "fails" }, [["setDnsResolves", "kv-orders.vault.azure.net", false]]],
    [{ dns: "resolves" }, [["setDnsResolves", "kv-orders.vault.azure.net", true]]],
    [{ firewall: "blocks-trusted-services" }, [["setFirewall", "kv-orders", { blocksTrustedServices: true }]]],
    [{ firewall: "allows" }, [["setFirewall", "kv-orders", { blocksTrustedServices: false }]]],
    [{ purgeProtection: "off" }, [["setPurgeProtection", "kv-orders", false]]],
    [{ defaultIdentity: "" }, [["setDefaultIdentity", "orders-db", ""]]],
    [
      { keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/orders-cmk/abc" },
      [["setKeyVaultKeyUri", "orders-db", "https://kv-orders.vault.azure.net/keys/orders-cmk/abc"]],
    ],
    // Several fields: the account's own properties first, then the vault before its key, the permission last.
    [
      { permission: "granted", key: "restored", vault: "recovered", defaultIdentity: "SystemAssignedIdentity" },
      [
        ["setDefaultIdentity", "orders-db", "SystemAssignedIdentity"],
        ["recoverVault", "kv-orders"],
        ["recoverKey", "kv-orders", "orders-cmk"],
        ["grantPermission", "kv-orders", TARGET.principalId, "access-policy", { keyName: "orders-cmk" }],
      ],
    ],
  ])("%j", (change, expected) => {
    const { sandbox, calls } = recordingSandbox();
    expect(applySandboxChange(sandbox, "orders-db", change, NOW)).toEqual([]);
    expect(calls).toEqual(expected);
  });
});

it("grants by role assignment on an RBAC vault when `via` is not given", () => {
  const { sandbox, calls } = recordingSandbox({ permissionModel: "rbac" });
  expect(applySandboxChange(sandbox, "orders-db", { permission: "granted" }, NOW)).toEqual([]);
  expect(calls).toEqual([["grantPermission", "kv-orders", TARGET.principalId, "rbac", { keyName: "orders-cmk" }]]);
});

describe("a field that cannot apply is reported, and the rest still applies", () => {
  it.each<[string, Parameters<typeof recordingSandbox>[0], SandboxChange, unknown[][], string]>([
    // keyVault "none" or a 4009 start: there is no vault to change.
    [
      "no such vault",
      { failing: "deleteKey" },
      { key: "deleted", dns: "fails" },
      [["setDnsResolves", "kv-orders.vault.azure.net", false]],
      'key: Sandbox has no vault "kv-orders"',
    ],
    // FirstPartyIdentity (or a cleared identity) has no principal the sandbox can give a permission to.
    [
      "no principal",
      { target: { ...TARGET, principalId: undefined } },
      { permission: "granted" },
      [],
      "permission: the account's default identity has no principal id",
    ],
    // An unparseable key URI names no vault at all; the URI change itself still happens.
    [
      "no vault in the URI",
      { target: undefined },
      { keyVaultKeyUri: "nonsense", key: "deleted" },
      [["setKeyVaultKeyUri", "orders-db", "nonsense"]],
      "names no vault and key, so key cannot apply",
    ],
    // RBAC on an access-policy vault is a no-op in Azure too: the drill says so rather than pretend.
    [
      "rbac on an access-policy vault",
      {},
      { permission: "granted", via: "rbac" },
      [["grantPermission", "kv-orders", TARGET.principalId, "rbac", { keyName: "orders-cmk" }]],
      "uses access-policies, so the grant changes nothing",
    ],
  ])("%s", (_name, options, change, expectedCalls, problem) => {
    const { sandbox, calls } = recordingSandbox(options);
    const problems = applySandboxChange(sandbox, "orders-db", change, NOW);
    expect(problems).toEqual([expect.stringContaining(problem)]);
    expect(calls).toEqual(expectedCalls);
  });
});

describe("describeSandboxChange", () => {
  it.each<[SandboxChange, string]>([
    [{ permission: "granted", via: "access-policy" }, "permission granted (access policy)"],
    [{ keyExpiresInDays: 1 }, "key expires in 1 day"],
    [{ keyExpiresInDays: -3 }, "key expired 3 days ago"],
    // A user-assigned identity's resource id would fill a report line; its name is enough.
    [
      { defaultIdentity: "UserAssignedIdentity=/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk" },
      "default identity set to user-assigned identity id-cmk",
    ],
    [{ defaultIdentity: "" }, "default identity cleared"],
    [{ firewall: "blocks-trusted-services", permission: "removed" }, "firewall blocks trusted Microsoft services; permission removed"],
  ])("%j → %s", (change, text) => {
    expect(describeSandboxChange(change)).toBe(text);
  });
});

const HEALTHY = "Access to the configured customer managed key confirmed.";

function scenario(events: unknown[]): Scenario {
  return parseScenario(
    JSON.stringify({
      start: "2026-03-02T09:00:00Z",
      durationMinutes: 30,
      pollIntervalMinutes: 5,
      accounts: [
        {
          name: "orders-db",
          subscriptionId: "6f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e",
          resourceGroup: "rg-orders",
          keyVaultKeyUri: "https://kv-orders-prod.vault.azure.net/keys/orders-cmk",
          defaultIdentity: "SystemAssignedIdentity",
          identity: { type: "SystemAssigned" },
          tags: { "cmk-owner": "alice@contoso.com" },
          status: HEALTHY,
        },
      ],
      events,
    }),
    "test.json",
  );
}

describe("a sandbox event alone changes what the probes see, not the account's status", () => {
  let result: DrillResult;

  beforeAll(async () => {
    // Before the first poll of the day, someone removes the identity's permission; Azure keeps reporting healthy.
    result = await runScenario(scenario([{ atMinute: 0, account: "orders-db", sandbox: { permission: "removed" }, note: "Access policy removed" }]));
  }, 30_000);

  it("opens no incident: the status never changed", () => {
    expect(result.incidents).toEqual([]);
    expect(result.statusChanges.map((c) => [c.atMinute, c.health])).toEqual([[0, "healthy"]]);
    expect(result.timeline.filter((e) => ["detected", "email"].includes(e.type) && e.kind !== "at-risk")).toEqual([]);
  });

  it("reports the missing permission at once, in an at-risk email to the owner (not in a digest: it will revoke the account)", () => {
    expect(result.timeline.map((e) => [e.atMinute, e.type, e.account, e.finding ?? e.kind])).toEqual([
      [0, "warning", "orders-db", "identity-lacks-permission"],
      [0, "email", "orders-db", "at-risk"],
    ]);
    expect(result.timeline.find((e) => e.type === "email")!.to).toEqual(["alice@contoso.com"]);
    expect(result.sandboxChanges).toEqual([
      { atMinute: 0, account: "orders-db", change: { permission: "removed" }, note: "Access policy removed", eventIndex: 0, changeEventsDelivered: 2 },
    ]);
    expect(result.summary).toMatchObject({ incidents: 0, emails: 1, warningFindings: 1, warnedAccounts: ["orders-db"], neverEmailed: [], warnings: 0 });
  });
});

describe("change events switched off", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    // For the run: as without the Event Grid subscriptions.
    ["for the run", { changeEvents: "off" }, {}],
    // For the one account.
    ["for the account", {}, { changeEvents: "off" }],
  ])(
    "%s: a permission removed at 15 on a checked healthy account is found by the catch-up within one interval",
    async (_name, run, account) => {
      const base = scenario([{ atMinute: 15, account: "orders-db", sandbox: { permission: "removed" } }]);
      const accounts = base.accounts.map((a) => ({ ...a, ...account }));
      const result = await runScenario(parseScenario(JSON.stringify({ ...base, ...run, accounts }), "events-off.json"));
      // Resource Graph shows the change minutes late, so the catch-up at 15 misses it and the one at 30 (15 + CMK_CHANGES_INTERVAL_MINUTES) finds it.
      expect(result.emails.map((e) => [e.atMinute, e.kind])).toEqual([[30, "at-risk"]]);
      expect(result.timeline.find((e) => e.type === "email")?.via).toBe("catch-up");
      expect(result.sandboxChanges.map((c) => c.changeEventsDelivered)).toEqual([0]);
      expect(result.summary.atRiskWarnings.push.count).toBe(0);
      expect(result.summary.atRiskWarnings["catch-up"]).toEqual({ count: 1, meanMinutesAfterChange: 15, maxMinutesAfterChange: 15 });
    },
    30_000,
  );

  it("with them on, the same change is an at-risk email in its own minute", async () => {
    const result = await runScenario(scenario([{ atMinute: 15, account: "orders-db", sandbox: { permission: "removed" } }]));
    expect(result.emails.map((e) => [e.atMinute, e.kind])).toEqual([[15, "at-risk"]]);
    expect(result.summary.atRiskWarnings.push).toEqual({ count: 1, meanMinutesAfterChange: 0, maxMinutesAfterChange: 0 });
    // The catch-up at 30 reads the same change and finds the re-check already done: nothing more.
    expect(result.summary.atRiskWarnings["catch-up"].count).toBe(0);
  }, 30_000);
});

describe("the example in docs/scenarios.md does what the text says", () => {
  it("warns at 3 (pushed by the change event), detects at 10 linking to the warning, sees Alice's fix at 30 with no ack, resolves at 65: four emails", async () => {
    const doc = readFileSync(path.resolve(__dirname, "../../docs/scenarios.md"), "utf8");
    const result = await runScenario(parseScenario(/```json\n([\s\S]*?)\n```/.exec(doc)![1]!, "docs example"));
    expect(result.timeline.filter((e) => e.type !== "email").map((e) => [e.atMinute, e.type])).toEqual([
      [3, "warning"],
      [10, "detected"],
      [30, "fix-observed"],
      [65, "resolved"],
    ]);
    expect(result.emails.map((e) => [e.atMinute, e.kind])).toEqual([
      [3, "at-risk"],
      [10, "revoked"],
      [30, "fix-observed"],
      [65, "resolved"],
    ]);
    // The revocation links back to the warning Alice already had.
    expect(result.emails[1]!.email.plainText).toMatch(/We warned at:\s+2026-03-02 09:03 UTC/);
    // "sets the escalation deadline to minute 150"; the fix email says recovery is expected by 10:30.
    expect(result.timeline.find((e) => e.type === "fix-observed")).toMatchObject({ expectedRecoveryAtMinute: 90, escalateAtMinute: 150 });
    expect(result.warnings).toEqual([]);
  }, 30_000);
});
