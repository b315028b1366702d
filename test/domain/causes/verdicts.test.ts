/**
 * Each cause's probe verdict over the facts that decide it: "present" keeps the incident open,
 * "gone" lets the lifecycle treat the fix as observed, "unknown" decides nothing. The detail is
 * what the timeline and the fix-observed email show, so it is held word for word.
 */
import type { CmkAccount } from "../../../src/domain/account";
import { getCauseDefinition, type CauseId, type CauseVerdict } from "../../../src/domain/causes";
import { checkDefaultIdentity } from "../../../src/domain/defaultIdentityCheck";
import { checkKeyVaultKeyUri } from "../../../src/domain/keyVaultUri";
import { checked, couldNotCheck, type ProbeFacts } from "../../../src/domain/probeFacts";
import { activeKey, activeVault, healthyFacts, NOW, PRINCIPAL, PROBE_ACCOUNT, UAI_ID } from "../../fixtures/probes";

const KEY_NAME = "cmk";
const withAccount = (overrides: Partial<CmkAccount>): ProbeFacts => {
  const account = { ...PROBE_ACCOUNT, ...overrides };
  return healthyFacts(account);
};
const deletedKey = checked({ state: "deleted" as const, name: KEY_NAME });
const missingKey = checked({ state: "not-found" as const, name: KEY_NAME });
const deletedVault = checked({ state: "deleted" as const, name: "kv-orders" });
const missingVault = checked({ state: "not-found" as const, name: "kv-orders", searchedSubscriptions: [] });
const dnsFails = checked({ host: "kv-orders.vault.azure.net", resolves: false });
const KEY_REASON = "the key could not be read: 403 Forbidden";
const VAULT_REASON = "the vault could not be read: 403 Forbidden";
const DNS_REASON = "DNS lookups are switched off";
const UNCHECKED_KEY = couldNotCheck(KEY_REASON);
const UNCHECKED_VAULT = couldNotCheck(VAULT_REASON);
const UNCHECKED_DNS = couldNotCheck(DNS_REASON);

type Case = [cause: CauseId, situation: string, facts: ProbeFacts, expected: CauseVerdict];

const CASES: Case[] = [
  // default-identity-unauthorized: the identity's permission on the key, and the key itself.
  // No access policy for the identity: the cause is still there.
  [
    "default-identity-unauthorized",
    "no access policy",
    healthyFacts(PROBE_ACCOUNT, { vault: checked(activeVault({ accessPolicies: [] })) }),
    { verdict: "present", detail: expect.stringContaining(PRINCIPAL) as string },
  ],
  // Permission granted but the key disabled: Cosmos DB reports the same error, so not gone.
  [
    "default-identity-unauthorized",
    "granted, key disabled",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ enabled: false })) }),
    { verdict: "present", detail: "key cmk is disabled" },
  ],
  // Granted and the key usable: the fix is visible.
  [
    "default-identity-unauthorized",
    "granted, key usable",
    healthyFacts(),
    { verdict: "gone", detail: expect.stringMatching(/^permission granted: /) as string },
  ],
  // Granted but the key expired: an expired key is not a permission problem, nor proof of a fix.
  [
    "default-identity-unauthorized",
    "granted, key expired",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ expiresOn: "2026-11-01T00:00:00.000Z" })) }),
    { verdict: "unknown", detail: "key cmk is expired" },
  ],
  // Granted but the key could not be read: says why.
  ["default-identity-unauthorized", "granted, key unchecked", healthyFacts(PROBE_ACCOUNT, { key: UNCHECKED_KEY }), { verdict: "unknown", detail: KEY_REASON }],
  // The vault could not be read, so neither could the permission: the permission's reason comes first.
  ["default-identity-unauthorized", "vault unchecked", healthyFacts(PROBE_ACCOUNT, { vault: UNCHECKED_VAULT }), { verdict: "unknown", detail: VAULT_REASON }],

  // aad-token-acquisition: the identity must be valid and have a principal to get a token for.
  // A user-assigned identity that is not attached cannot get a token.
  [
    "aad-token-acquisition",
    "user-assigned, detached",
    withAccount({ defaultIdentity: `UserAssignedIdentity=${UAI_ID}`, identityType: "None", principalId: undefined }),
    { verdict: "present", detail: `The user-assigned identity ${UAI_ID} is the default identity but is not attached to the account.` },
  ],
  // Attached with its principal: gone.
  [
    "aad-token-acquisition",
    "user-assigned, attached",
    withAccount({
      defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
      identityType: "UserAssigned",
      principalId: undefined,
      userAssignedIdentities: { [UAI_ID]: { principalId: PRINCIPAL } },
    }),
    { verdict: "gone", detail: `default identity valid: The default identity is the user-assigned identity ${UAI_ID} (principal id ${PRINCIPAL}).` },
  ],
  // Valid but no principal reported (first-party): nothing shows whether a token can be had.
  [
    "aad-token-acquisition",
    "first-party identity",
    withAccount({ defaultIdentity: "FirstPartyIdentity" }),
    { verdict: "unknown", detail: "the account reports no principal id for the default identity" },
  ],

  // invalid-default-identity: the identity check alone.
  [
    "invalid-default-identity",
    "none set",
    withAccount({ defaultIdentity: "" }),
    { verdict: "present", detail: "The account has no default identity, so Cosmos DB does not know which identity should reach the key." },
  ],
  // Every problem is in the detail, one sentence after another.
  [
    "invalid-default-identity",
    "detached and a malformed client id",
    withAccount({ defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=app-1`, identityType: "None", principalId: undefined }),
    {
      verdict: "present",
      detail: `The user-assigned identity ${UAI_ID} is the default identity but is not attached to the account. FederatedClientId "app-1" is not an application (client) id GUID.`,
    },
  ],
  [
    "invalid-default-identity",
    "system-assigned, valid",
    healthyFacts(),
    { verdict: "gone", detail: `default identity valid: The default identity is the account's system-assigned identity (principal id ${PRINCIPAL}).` },
  ],

  // invalid-key-vault-uri: the strict key URI check.
  [
    "invalid-key-vault-uri",
    "versionless URI",
    healthyFacts(),
    { verdict: "gone", detail: "key URI corrected: https://kv-orders.vault.azure.net/keys/cmk is a valid versionless key URI" },
  ],
  // Every problem is listed, in order, in one sentence run.
  [
    "invalid-key-vault-uri",
    "versioned URI over http",
    healthyFacts(PROBE_ACCOUNT, { keyUri: checkKeyVaultKeyUri("http://kv-orders.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef") }),
    {
      verdict: "present",
      detail:
        "The URI uses http:// instead of https://. " +
        "The URI includes the key version 0123456789abcdef0123456789abcdef; Cosmos DB expects the versionless URI and follows the key's current version.",
    },
  ],

  // key-not-found: vault and key must exist again; a disabled key still counts as restored.
  ["key-not-found", "vault deleted", healthyFacts(PROBE_ACCOUNT, { vault: deletedVault }), { verdict: "present", detail: "vault kv-orders is deleted" }],
  // A vault missing everywhere and its name not resolving is gone for good.
  [
    "key-not-found",
    "vault missing",
    healthyFacts(PROBE_ACCOUNT, { vault: missingVault, dns: dnsFails }),
    { verdict: "present", detail: "vault kv-orders does not exist" },
  ],
  // Not listed but its name resolves: maybe another subscription, so not a verdict.
  [
    "key-not-found",
    "vault not listed, name resolves",
    healthyFacts(PROBE_ACCOUNT, { vault: missingVault }),
    { verdict: "unknown", detail: "vault kv-orders could not be checked" },
  ],
  ["key-not-found", "key deleted", healthyFacts(PROBE_ACCOUNT, { key: deletedKey }), { verdict: "present", detail: "key cmk in vault kv-orders is deleted" }],
  [
    "key-not-found",
    "key missing",
    healthyFacts(PROBE_ACCOUNT, { key: missingKey }),
    { verdict: "present", detail: "key cmk does not exist in vault kv-orders" },
  ],
  ["key-not-found", "key back and enabled", healthyFacts(), { verdict: "gone", detail: "key restored: key cmk in vault kv-orders exists and is enabled" }],
  // Recovering a deleted key restores it disabled or enabled as it was; either way it exists again.
  [
    "key-not-found",
    "key back, disabled",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ enabled: false })) }),
    { verdict: "gone", detail: "key restored: key cmk in vault kv-orders exists" },
  ],
  ["key-not-found", "key unchecked", healthyFacts(PROBE_ACCOUNT, { key: UNCHECKED_KEY }), { verdict: "unknown", detail: KEY_REASON }],
  [
    "key-not-found",
    "vault unchecked",
    healthyFacts(PROBE_ACCOUNT, { vault: UNCHECKED_VAULT }),
    { verdict: "unknown", detail: "vault kv-orders could not be checked" },
  ],

  // unwrap-failure: only a usable key shows the fix; a disabled one cannot unwrap either.
  ["unwrap-failure", "key deleted", healthyFacts(PROBE_ACCOUNT, { key: deletedKey }), { verdict: "present", detail: "key cmk in vault kv-orders is deleted" }],
  ["unwrap-failure", "key usable", healthyFacts(), { verdict: "gone", detail: "key restored: key cmk in vault kv-orders exists and is enabled" }],
  [
    "unwrap-failure",
    "key back, disabled",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ enabled: false })) }),
    { verdict: "unknown", detail: "vault kv-orders could not be checked" },
  ],

  // key-vault-dns-unresolved: the vault's host name.
  [
    "key-vault-dns-unresolved",
    "does not resolve",
    healthyFacts(PROBE_ACCOUNT, { dns: dnsFails }),
    { verdict: "present", detail: "kv-orders.vault.azure.net does not resolve" },
  ],
  ["key-vault-dns-unresolved", "resolves", healthyFacts(), { verdict: "gone", detail: "DNS resolves: kv-orders.vault.azure.net resolves again" }],
  ["key-vault-dns-unresolved", "not looked up", healthyFacts(PROBE_ACCOUNT, { dns: UNCHECKED_DNS }), { verdict: "unknown", detail: DNS_REASON }],

  // key-disabled-or-expired: the key's flag and dates at `now`.
  [
    "key-disabled-or-expired",
    "disabled",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ enabled: false })) }),
    { verdict: "present", detail: "key cmk in vault kv-orders is disabled" },
  ],
  [
    "key-disabled-or-expired",
    "expired",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ expiresOn: "2026-11-01T00:00:00.000Z" })) }),
    { verdict: "present", detail: "key cmk in vault kv-orders expired on 2026-11-01 00:00 UTC" },
  ],
  [
    "key-disabled-or-expired",
    "not yet valid",
    healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ notBefore: "2026-12-01T00:00:00.000Z" })) }),
    { verdict: "present", detail: expect.stringContaining("2026-12-01 00:00 UTC") as string },
  ],
  ["key-disabled-or-expired", "usable", healthyFacts(), { verdict: "gone", detail: "key usable: key cmk is enabled and within its validity dates" }],
  // A deleted key is another cause's business: no verdict here.
  ["key-disabled-or-expired", "deleted", healthyFacts(PROBE_ACCOUNT, { key: deletedKey }), { verdict: "unknown", detail: "key cmk is deleted" }],
  ["key-disabled-or-expired", "unchecked", healthyFacts(PROBE_ACCOUNT, { key: UNCHECKED_KEY }), { verdict: "unknown", detail: KEY_REASON }],

  // key-vault-network-blocked: the firewall of an active vault.
  [
    "key-vault-network-blocked",
    "denies, no bypass",
    healthyFacts(PROBE_ACCOUNT, { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) }),
    { verdict: "present", detail: "the firewall of vault kv-orders does not let trusted Microsoft services through" },
  ],
  [
    "key-vault-network-blocked",
    "allows",
    healthyFacts(),
    { verdict: "gone", detail: "firewall fixed: vault kv-orders lets trusted Microsoft services through" },
  ],
  [
    "key-vault-network-blocked",
    "vault deleted",
    healthyFacts(PROBE_ACCOUNT, { vault: deletedVault }),
    { verdict: "unknown", detail: "vault kv-orders is not active" },
  ],
  ["key-vault-network-blocked", "vault unchecked", healthyFacts(PROBE_ACCOUNT, { vault: UNCHECKED_VAULT }), { verdict: "unknown", detail: VAULT_REASON }],

  // Causes the probes cannot see: never a verdict, whatever the facts.
  ["service-side-outage", "healthy facts", healthyFacts(), { verdict: "unknown", detail: "the probes cannot see this cause" }],
  ["unrecognized", "healthy facts", healthyFacts(), { verdict: "unknown", detail: "the probes cannot see this cause" }],
];

describe("cause verdicts from probe facts", () => {
  it.each(CASES)("%s: %s", (cause, _situation, facts, expected) => {
    expect(getCauseDefinition(cause).verdict(facts, NOW)).toEqual(expected);
  });
});

// The identity check these cases lean on, so a fixture change cannot make them vacuous.
it("the detached user-assigned fixture is an invalid identity", () => {
  expect(
    checkDefaultIdentity({ ...PROBE_ACCOUNT, defaultIdentity: `UserAssignedIdentity=${UAI_ID}`, identityType: "None", principalId: undefined }).valid,
  ).toBe(false);
});
