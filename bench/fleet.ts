/**
 * The benchmark's fleet on the sandbox: `accounts` CMK accounts spread evenly over
 * `subscriptions`; each subscription is one team's (one owner address) with one shared vault and
 * key. The revoked share is whole subscriptions whose shared key was deleted (4003): the mass
 * revocation of a shared vault, which is what digests are for.
 */
import type { LocalSandbox } from "../src/sandbox";

export const HEALTHY_STATUS = "Access to the configured customer managed key confirmed.";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
export const KEY_NOT_FOUND_STATUS = `Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; for more details about this error and how to restore access to your account please visit ${GUIDE}#azure-key-vault-resource-not-found (4003).`;

export interface FleetOptions {
  accounts: number;
  subscriptions: number;
  /** Share of accounts revoked, 0..1, rounded up to whole subscriptions from the first. */
  revokedShare: number;
}

export interface BenchFleet {
  subscriptionIds: string[];
  revokedAccounts: number;
  /** Owners with at least one revoked account. */
  revokedOwners: number;
}

export function subscriptionId(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

export function buildFleet(sandbox: LocalSandbox, options: FleetOptions): BenchFleet {
  const subscriptionIds = Array.from({ length: options.subscriptions }, (_, i) => subscriptionId(i));
  const wanted = Math.round(options.accounts * options.revokedShare);
  let revokedAccounts = 0;
  const revokedSubscriptions = new Set<number>();
  // Accounts go round-robin over subscriptions, so subscription s holds accounts s, s + S, s + 2S…
  const perSubscription = Math.ceil(options.accounts / options.subscriptions);
  // Whole subscriptions: a healthy account behind a deleted shared key would (rightly) get a warning digest.
  const revokedUpTo = Math.min(options.subscriptions, Math.ceil(wanted / Math.max(1, perSubscription)));
  for (let i = 0; i < options.accounts; i++) {
    const s = i % options.subscriptions;
    const revoked = s < revokedUpTo;
    if (revoked) {
      revokedAccounts += 1;
      revokedSubscriptions.add(s);
    }
    sandbox.putAccount({
      name: `bench-${i}`,
      subscriptionId: subscriptionIds[s]!,
      resourceGroup: `rg-team-${s}`,
      keyVaultKeyUri: `https://kv-bench-${s}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": `team-${s}@contoso.com`, env: "bench" },
      status: revoked ? KEY_NOT_FOUND_STATUS : HEALTHY_STATUS,
    });
  }
  // What the status says is true: the shared key of each revoked subscription is gone (soft-deleted).
  for (const s of revokedSubscriptions) sandbox.keyVault.deleteKey(`kv-bench-${s}`, "cmk");
  return { subscriptionIds, revokedAccounts, revokedOwners: revokedSubscriptions.size };
}
