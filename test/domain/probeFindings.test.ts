import type { CauseId } from "../../src/domain/causes";
import { checked, couldNotCheck, type ProbeFacts } from "../../src/domain/probeFacts";
import { causeVerdict, evidenceLines, type EvidenceLine } from "../../src/domain/probeFindings";
import {
  activeKey,
  activeVault,
  CRYPTO_USER_ASSIGNMENT,
  factsFor,
  healthyFacts,
  NOW,
  PRINCIPAL,
  PROBE_ACCOUNT,
  PROBE_VISIBLE_CAUSES,
  VAULT_ID,
} from "../fixtures/probes";

function line(lines: EvidenceLine[], probe: EvidenceLine["probe"]): EvidenceLine {
  const found = lines.find((l) => l.probe === probe);
  if (!found) throw new Error(`no ${probe} line in ${JSON.stringify(lines)}`);
  return found;
}

describe("causeVerdict", () => {
  it.each(PROBE_VISIBLE_CAUSES)("%s: broken facts say present, fixed facts say gone", (cause) => {
    // Every owner-fixable cause the probes can see must be seen both ways, or no fix is ever observed.
    expect(causeVerdict(cause, factsFor(cause, "broken").facts, NOW).verdict).toBe("present");
    expect(causeVerdict(cause, factsFor(cause, "fixed").facts, NOW).verdict).toBe("gone");
  });

  it.each<[CauseId, string, Partial<ProbeFacts>]>([
    // A 403 on the key is not "the key is fine" nor "the key is broken".
    ["key-disabled-or-expired", "key forbidden", { key: couldNotCheck("HTTP 403 ForbiddenByRbac") }],
    ["key-not-found", "key forbidden", { key: couldNotCheck("HTTP 403 ForbiddenByRbac") }],
    // The vault's network rules are unknown when the vault could not be read.
    ["key-vault-network-blocked", "vault forbidden", { vault: couldNotCheck("HTTP 403 AuthorizationFailed") }],
    // RBAC vault whose role assignments the monitor may not list.
    [
      "default-identity-unauthorized",
      "role assignments forbidden",
      { vault: checked(activeVault({ permissionModel: "rbac" })), roleAssignments: couldNotCheck("HTTP 403") },
    ],
    // DNS lookups that time out prove nothing.
    ["key-vault-dns-unresolved", "dns timeout", { dns: couldNotCheck("timed out after 10 s") }],
    // A vault missing from the subscriptions we read, while its host still resolves: it lives elsewhere.
    [
      "key-not-found",
      "vault elsewhere",
      { vault: checked({ state: "not-found", name: "kv-orders", searchedSubscriptions: ["s1"] }), key: couldNotCheck("not checked") },
    ],
  ])("%s with %s is unknown, never a verdict", (cause, _what, overrides) => {
    expect(causeVerdict(cause, healthyFacts(PROBE_ACCOUNT, overrides), NOW).verdict).toBe("unknown");
  });

  it.each<CauseId>(["service-side-outage", "unrecognized"])("%s is never judged by the probes", (cause) => {
    // Nothing the owner can fix: a healthy-looking vault does not mean the outage is over.
    expect(causeVerdict(cause, healthyFacts(), NOW).verdict).toBe("unknown");
  });

  it("4002 is present when the key is disabled even though the permission is there", () => {
    // The facts: 4002 also covers a disabled key.
    const verdict = causeVerdict("default-identity-unauthorized", healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ enabled: false })) }), NOW);
    expect(verdict).toEqual({ verdict: "present", detail: "key cmk is disabled" });
  });

  it("an expired key is present for 4018 and its fix is a usable key", () => {
    // Expiry is judged against the clock passed in, not the machine's.
    const expired = healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ expiresOn: "2026-11-28T00:00:00.000Z" })) });
    expect(causeVerdict("key-disabled-or-expired", expired, NOW).detail).toBe("key cmk in vault kv-orders expired on 2026-11-28 00:00 UTC");
  });
});

describe("evidenceLines", () => {
  it("healthy: one OK line per probe, in a fixed order", () => {
    // The order is part of the email's shape; support reads it top to bottom.
    const lines = evidenceLines(PROBE_ACCOUNT, healthyFacts(), NOW);
    expect(lines.map((l) => `${l.probe}:${l.outcome}`)).toEqual([
      "key-uri:ok",
      "default-identity:ok",
      "dns:ok",
      "vault:ok",
      "network:ok",
      "key:ok",
      "permission:ok",
    ]);
    expect(line(lines, "vault").text).toBe(
      "Vault kv-orders exists (resource group rg-kv, subscription 00000000-0000-0000-0000-000000000001); it uses access policies, soft delete on (90 days), purge protection on.",
    );
    expect(line(lines, "permission").text).toBe(`The vault's access policy for principal ${PRINCIPAL} grants get, wrapKey and unwrapKey.`);
  });

  it.each<[string, Partial<ProbeFacts>, EvidenceLine["probe"], string, string | undefined]>([
    // Deleted key: when, until when, and the exact recover line.
    [
      "deleted key",
      { key: checked({ state: "deleted", name: "cmk", deletedOn: "2026-11-29T07:00:00.000Z", purgeScheduledOn: "2027-02-27T07:00:00.000Z" }) },
      "key",
      "Key cmk in vault kv-orders was deleted on 2026-11-29 07:00 UTC and can be recovered until 2027-02-27 07:00 UTC.",
      "az keyvault key recover --vault-name kv-orders --name cmk",
    ],
    // Deleted vault: recover the vault, not the key.
    [
      "deleted vault",
      {
        vault: checked({
          state: "deleted",
          name: "kv-orders",
          subscriptionId: "00000000-0000-0000-0000-000000000001",
          deletedOn: "2026-11-29T06:00:00.000Z",
          purgeScheduledOn: "2027-02-27T06:00:00.000Z",
        }),
      },
      "vault",
      "Vault kv-orders was deleted on 2026-11-29 06:00 UTC and can be recovered until 2027-02-27 06:00 UTC.",
      "az keyvault recover --name kv-orders --subscription 00000000-0000-0000-0000-000000000001",
    ],
    // Access-policy vault: the exact set-policy for this principal, in this vault's resource group.
    [
      "no access policy",
      { vault: checked(activeVault({ accessPolicies: [{ objectId: PRINCIPAL, keys: ["get"] }] })) },
      "permission",
      `The vault's access policy for principal ${PRINCIPAL} grants get but not wrapKey, unwrapKey.`,
      `az keyvault set-policy --name kv-orders --resource-group rg-kv --subscription 00000000-0000-0000-0000-000000000001 --object-id ${PRINCIPAL} --key-permissions get wrapKey unwrapKey`,
    ],
    // RBAC vault: the exact role assignment, scoped to the key (no lookup needed, we know the vault id).
    [
      "no role",
      { vault: checked(activeVault({ permissionModel: "rbac", accessPolicies: [] })), roleAssignments: checked([]) },
      "permission",
      `The vault uses Azure RBAC and principal ${PRINCIPAL} has no role assignment at the key, vault, resource group, subscription or management group, directly or through a group.`,
      `az role assignment create --role "Key Vault Crypto Service Encryption User" --assignee-object-id ${PRINCIPAL} --assignee-principal-type ServicePrincipal --scope ${VAULT_ID}/keys/cmk`,
    ],
    // Firewall without the trusted-services bypass.
    [
      "firewall",
      { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) },
      "network",
      "Vault kv-orders: the firewall denies public traffic by default and trusted Microsoft services (Cosmos DB among them) are not allowed to bypass it.",
      "az keyvault update --name kv-orders --resource-group rg-kv --subscription 00000000-0000-0000-0000-000000000001 --bypass AzureServices",
    ],
    // Disabled key: enable it.
    [
      "disabled key",
      { key: checked(activeKey({ enabled: false })) },
      "key",
      "Key cmk in vault kv-orders is disabled.",
      "az keyvault key set-attributes --vault-name kv-orders --name cmk --enabled true",
    ],
    // A host that does not resolve: no command, the vault line says why.
    [
      "dns fails",
      { dns: checked({ host: "kv-orders.vault.azure.net", resolves: false }) },
      "dns",
      "Vault host kv-orders.vault.azure.net does not resolve (no such host): the vault name is wrong, or the vault was deleted or purged.",
      undefined,
    ],
  ])("%s", (_name, overrides, probe, text, command) => {
    const found = line(evidenceLines(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, overrides), NOW), probe);
    expect(found.outcome).toBe("problem");
    expect(found.text).toBe(text);
    expect(found.commands?.map((c) => c.command)[0]).toBe(command);
  });

  it("RBAC granted names the role and where it is assigned", () => {
    // Owners need to know which assignment does the job before they tidy up roles.
    const facts = healthyFacts(PROBE_ACCOUNT, { vault: checked(activeVault({ permissionModel: "rbac" })), roleAssignments: checked([CRYPTO_USER_ASSIGNMENT]) });
    expect(line(evidenceLines(PROBE_ACCOUNT, facts, NOW), "permission").text).toBe(
      `Principal ${PRINCIPAL} has "Key Vault Crypto Service Encryption User" at key scope.`,
    );
  });

  it.each<[string, Partial<ProbeFacts>, EvidenceLine["probe"], string]>([
    // 403 from the data plane: say so, never "key is fine".
    [
      "key 403",
      { key: couldNotCheck("the monitor may not read key metadata in this vault (HTTP 403 ForbiddenByRbac)") },
      "key",
      "Could not check key cmk: the monitor may not read key metadata in this vault (HTTP 403 ForbiddenByRbac).",
    ],
    // The vault's firewall keeps the monitor out.
    [
      "firewall blocks the monitor",
      { key: couldNotCheck("the vault's firewall blocks the monitor (HTTP 403 ForbiddenByFirewall)") },
      "key",
      "Could not check key cmk: the vault's firewall blocks the monitor (HTTP 403 ForbiddenByFirewall).",
    ],
    // No Reader on the vault's subscription.
    [
      "vault 403",
      { vault: couldNotCheck("the monitor may not read the vault (HTTP 403 AuthorizationFailed)") },
      "vault",
      "Could not check vault kv-orders: the monitor may not read the vault (HTTP 403 AuthorizationFailed).",
    ],
  ])("%s: could not check, with why", (_name, overrides, probe, text) => {
    const found = line(evidenceLines(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, overrides), NOW), probe);
    expect(found).toEqual({ probe, outcome: "could-not-check", text });
  });

  it("never prints an account value that is not an Azure name of its kind", () => {
    // An account name is editable by anyone with write access; pasting the command must not run it.
    const account = {
      ...PROBE_ACCOUNT,
      name: "orders$(touch /tmp/pwned)",
      keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef",
    };
    const facts = healthyFacts(account);
    const uri = line(evidenceLines(account, facts, NOW), "key-uri");
    expect(uri.commands?.[0]?.command).toBe(
      "az cosmosdb update --name <account-name> --resource-group rg-orders --subscription 00000000-0000-0000-0000-000000000001 --key-uri https://kv-orders.vault.azure.net/keys/cmk",
    );
  });

  const RBAC_NO_ROLE: Partial<ProbeFacts> = { vault: checked(activeVault({ permissionModel: "rbac", accessPolicies: [] })), roleAssignments: checked([]) };
  const DISABLED_KEY: Partial<ProbeFacts> = { key: checked(activeKey({ enabled: false })) };
  const UAI = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders";

  // Issue #16, finding 1 and 2: commands in "Start here" used the lenient URI parse and raw ARM values.
  it.each<[string, Partial<typeof PROBE_ACCOUNT>, Partial<ProbeFacts>, EvidenceLine["probe"], string]>([
    // Percent-encoded ../ segments in the key name: the CLI's HTTP stack would drop the dot segments and grant on the resource group.
    [
      "key name %2e%2e%2f%2e%2e",
      { keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/%2e%2e%2f%2e%2e%2f%2e%2e" },
      RBAC_NO_ROLE,
      "permission",
      `az role assignment create --role "Key Vault Crypto Service Encryption User" --assignee-object-id ${PRINCIPAL} --assignee-principal-type ServicePrincipal --scope ${VAULT_ID}/keys/<key-name>`,
    ],
    // A quote in the key name ends PowerShell's '…' quoting, which does not read the POSIX '\'' splice.
    [
      "key name with a quote",
      { keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/k'%3BStart-Process%20calc%3B%23" },
      DISABLED_KEY,
      "key",
      "az keyvault key set-attributes --vault-name kv-orders --name <key-name> --enabled true",
    ],
    // &, |, %VAR%, ^, < and > are live in cmd.exe, which does not honour single quotes at all.
    [
      "key name with cmd.exe operators",
      { keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/k%26calc%7C%25PATH%25%5E%3Cx%3E" },
      DISABLED_KEY,
      "key",
      "az keyvault key set-attributes --vault-name kv-orders --name <key-name> --enabled true",
    ],
    // A newline in the key name would end the command in every shell.
    [
      "key name with a newline",
      { keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/k%0Acalc" },
      DISABLED_KEY,
      "key",
      "az keyvault key set-attributes --vault-name kv-orders --name <key-name> --enabled true",
    ],
    // A vault host that is not a vault: no vault name is taken from it.
    [
      "host outside the vault domains",
      { keyVaultKeyUri: "https://kv-orders.evil.example/keys/cmk" },
      DISABLED_KEY,
      "key",
      "az keyvault key set-attributes --vault-name <vault-name> --name cmk --enabled true",
    ],
    // The same file in the identity map, offered as the default identity.
    [
      "@file identity id in the identity map",
      { defaultIdentity: undefined, userAssignedIdentities: { "@~/.azure/msal_token_cache.json": {} } },
      {},
      "default-identity",
      "az cosmosdb update --name orders-db --resource-group rg-orders --subscription 00000000-0000-0000-0000-000000000001 --default-identity UserAssignedIdentity=<user-assigned-identity-resource-id>",
    ],
    // A real identity id still reaches the command.
    [
      "well-formed identity id",
      { defaultIdentity: `UserAssignedIdentity=${UAI}`, identityType: "UserAssigned", principalId: undefined },
      {},
      "default-identity",
      `az cosmosdb identity assign --name orders-db --resource-group rg-orders --subscription 00000000-0000-0000-0000-000000000001 --identities ${UAI}`,
    ],
    // ARM's own vault facts go through the same checks (the vault name from a compromised or changed API).
    [
      "vault name from ARM with cmd.exe operators",
      {},
      { vault: checked(activeVault({ name: "kv&calc", firewallDefaultAction: "Deny", trustedServicesBypass: false })) },
      "network",
      "az keyvault update --name <vault-name> --resource-group rg-kv --subscription 00000000-0000-0000-0000-000000000001 --bypass AzureServices",
    ],
    // A vault id that is not a vault's resource id never becomes a scope.
    [
      "vault id with dot segments",
      {},
      {
        vault: checked(
          activeVault({ id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-kv/../..", permissionModel: "rbac", accessPolicies: [] }),
        ),
        roleAssignments: checked([]),
      },
      "permission",
      `az role assignment create --role "Key Vault Crypto Service Encryption User" --assignee-object-id ${PRINCIPAL} --assignee-principal-type ServicePrincipal --scope <vault-resource-id>/keys/cmk`,
    ],
  ])("%s: the command names only checked values", (_why, accountOverrides, factOverrides, probe, expected) => {
    const account = { ...PROBE_ACCOUNT, ...accountOverrides };
    const found = line(evidenceLines(account, healthyFacts(account, factOverrides), NOW), probe);
    expect(found.commands?.map((c) => c.command)).toContain(expected);
  });

  it("an identity id with cmd.exe operators is reported as misshapen, and no command carries it", () => {
    // The lenient shape check let "…/userAssignedIdentities/id^calc|x" through to an identity assign command.
    const account = { ...PROBE_ACCOUNT, defaultIdentity: `UserAssignedIdentity=${UAI}^calc|x`, identityType: "UserAssigned", principalId: undefined };
    const found = line(evidenceLines(account, healthyFacts(account), NOW), "default-identity");
    expect(found.outcome).toBe("problem");
    expect(found.text).toContain("is not a user-assigned identity resource id");
    expect((found.commands ?? []).map((c) => c.command).join("\n")).not.toContain("calc");
  });
});
