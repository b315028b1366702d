/**
 * The per-vault key re-read against the sandbox and Azurite: a key disabled (a data-plane change, no
 * ARM change, no event) is found at the next CMK_RISK_CHECK_INTERVAL_MINUTES by re-checking one
 * account of the vault, and only then the vault's other accounts; a vault with nothing wrong costs
 * one account's re-check (its first healthy one: a revoked account is passed over); between
 * intervals, and for a second instance, nothing runs.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { recheckVaultKeys } from "../../src/app/recheckVaultKeys";
import { runCycle } from "../../src/app/runCycle";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import type { Logger } from "../../src/ports/logger";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const HEALTHY = "Access to the configured customer managed key confirmed.";
const REVOKED =
  "Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).";
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;
const SUB = "00000000-0000-0000-0000-00000000e101";

let azure: LocalAzure;
let now = new Date("2026-12-01T09:00:00.000Z");

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.setClock(() => now);
});
afterAll(async () => {
  await azure?.stop();
});

function monitor(table: string): MonitorDeps {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_STATE_TABLE: table, CMK_RISK_CHECK_INTERVAL_MINUTES: "60" });
  return createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock: { now: () => now }, log: quiet, maxRetries: 0 }));
}

/** Two healthy accounts keyed in one vault. */
function vaultWithTwoAccounts(vault: string, n: number): string[] {
  return ["a", "b"].map((suffix, i) => {
    const name = `${vault}-${suffix}`;
    azure.sandbox.putAccount({
      name,
      subscriptionId: SUB,
      resourceGroup: `rg-${name}`,
      keyVaultKeyUri: `https://${vault}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: `5c0ffee0-0000-4000-8000-0000000${n}${i}e10` },
      tags: { "cmk-owner": `${name}@contoso.com` },
      status: HEALTHY,
      keyVault: "match-status",
    });
    return name;
  });
}

describe("per-vault key re-read", () => {
  it("a disabled key is found within one interval, one account per healthy vault re-checked", async () => {
    const [brokenA, brokenB] = vaultWithTwoAccounts("kv-keys-e1", 1);
    vaultWithTwoAccounts("kv-keys-e2", 2);
    const [revoked] = vaultWithTwoAccounts("kv-keys-e3", 3);
    const deps = monitor("vaultkeys1");
    const other = monitor("vaultkeys1");
    const start = now;
    // Every account is checked and indexed while healthy; then the third vault's first account is revoked,
    // so its second stands for the vault.
    await runCycle(deps);
    azure.sandbox.setStatus(revoked!, REVOKED);
    await runCycle(deps);
    // The first run is due at once (no record yet); every account was just checked, so nothing is found.
    expect(await recheckVaultKeys(deps)).toMatchObject({
      outcome: "done",
      vaults: 3,
      vaultsRead: 3,
      vaultsAtRisk: 0,
      recheck: { rechecked: 3, skipped: 1, atRiskEmails: 0 },
    });

    now = new Date(start.getTime() + 10 * MINUTE);
    // A data-plane change: no ARM write, no resourcechanges row, no event.
    azure.sandbox.keyVault.setKeyEnabled("kv-keys-e1", "cmk", false);
    now = new Date(start.getTime() + 30 * MINUTE);
    expect(await recheckVaultKeys(deps)).toMatchObject({ outcome: "not-due" });

    now = new Date(start.getTime() + 60 * MINUTE);
    const [mine, theirs] = await Promise.all([recheckVaultKeys(deps), recheckVaultKeys(other)]);
    // Exactly one instance runs the interval (the record is ETag-guarded).
    expect([mine.outcome, theirs.outcome].sort()).toEqual(["done", "not-due"]);
    const ran = mine.outcome === "done" ? mine : theirs;
    // One account per vault, then the broken vault's other account: four re-checks for six accounts, two emails.
    expect(ran).toMatchObject({ vaults: 3, vaultsRead: 3, vaultsAtRisk: 1, recheck: { rechecked: 4, atRiskEmails: 2 } });
    const sent = azure.sandbox.sentEmails().filter((e) => e.subject.startsWith("[CMK at risk]"));
    expect(sent.map((e) => e.subject.split(":")[0]).sort()).toEqual([`[CMK at risk] ${brokenA}`, `[CMK at risk] ${brokenB}`]);
  });
});
