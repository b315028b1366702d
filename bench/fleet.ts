/**
 * The benchmark's fleet on the sandbox: `accounts` CMK accounts spread evenly over
 * `subscriptions`; each subscription is one team's (one owner address) with one shared vault and
 * key. The revoked share is whole subscriptions whose shared key was deleted (4003): the mass
 * revocation of a shared vault, which is what digests are for. `emptySubscriptions` more are in
 * scope without a CMK account (a real tenant's majority).
 *
 * Resource Graph never shows the revocations: with `graphStatus` "healthy" (the default) it keeps
 * the status every account had before its key was deleted (the sandbox's "stale" mode, see
 * docs/azure-behaviour.md), with "absent" it has no status at all. Only ARM says "revoked".
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
  /** Subscriptions in scope that hold no CMK account. Default 0. */
  emptySubscriptions?: number;
  /** What Resource Graph shows as the status. Default "healthy" (stale). */
  graphStatus?: GraphStatus;
}

export type GraphStatus = "healthy" | "absent";

export interface BenchFleet {
  /** Every subscription in scope: those holding CMK accounts first, then the empty ones. */
  subscriptionIds: string[];
  subscriptionsWithCmk: number;
  /** Resource ids of the revoked accounts (lower-cased). */
  revokedAccountIds: string[];
  revokedAccounts: number;
  /** Owners with at least one revoked account. */
  revokedOwners: number;
}

export function subscriptionId(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

export function buildFleet(sandbox: LocalSandbox, options: FleetOptions): BenchFleet {
  const empty = options.emptySubscriptions ?? 0;
  const subscriptionIds = Array.from({ length: options.subscriptions + empty }, (_, i) => subscriptionId(i));
  for (const id of subscriptionIds.slice(options.subscriptions)) sandbox.addSubscription(id);
  const wanted = Math.round(options.accounts * options.revokedShare);
  const revokedAccountIds: string[] = [];
  const revokedSubscriptions = new Set<number>();
  // Accounts go round-robin over subscriptions, so subscription s holds accounts s, s + S, s + 2S…
  const perSubscription = Math.ceil(options.accounts / options.subscriptions);
  // Whole subscriptions: a healthy account behind a deleted shared key would (rightly) get a warning digest.
  const revokedUpTo = Math.min(options.subscriptions, Math.ceil(wanted / Math.max(1, perSubscription)));
  for (let i = 0; i < options.accounts; i++) {
    const s = i % options.subscriptions;
    const revoked = s < revokedUpTo;
    if (revoked) revokedSubscriptions.add(s);
    // Every account starts healthy, so that a stale Resource Graph has "healthy" to keep.
    const id = sandbox.putAccount({
      name: `bench-${i}`,
      subscriptionId: subscriptionIds[s]!,
      resourceGroup: `rg-team-${s}`,
      keyVaultKeyUri: `https://kv-bench-${s}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": `team-${s}@contoso.com`, env: "bench" },
      status: HEALTHY_STATUS,
    });
    if (revoked) revokedAccountIds.push(id.toLowerCase());
  }
  // Resource Graph stops following the status here (or never had it); then ARM's turns revoked.
  sandbox.resourceGraph.setStatusMode((options.graphStatus ?? "healthy") === "healthy" ? "stale" : "absent");
  for (const id of revokedAccountIds) sandbox.setStatus(id, KEY_NOT_FOUND_STATUS);
  // What the status says is true: the shared key of each revoked subscription is gone (soft-deleted).
  for (const s of revokedSubscriptions) sandbox.keyVault.deleteKey(`kv-bench-${s}`, "cmk");
  return {
    subscriptionIds,
    subscriptionsWithCmk: Math.min(options.subscriptions, options.accounts),
    revokedAccountIds,
    revokedAccounts: revokedAccountIds.length,
    revokedOwners: revokedSubscriptions.size,
  };
}
