/** The vault's host name does not resolve (4009). */
import type { CauseDefinition } from "./causeDefinition";
import { AT_DETECTION } from "./recoveryPolicies";

export const keyVaultDnsUnresolved: CauseDefinition<"key-vault-dns-unresolved"> = {
  id: "key-vault-dns-unresolved",
  title: "Key Vault host name does not resolve",
  explanation:
    "The vault's DNS name could not be resolved: the vault was deleted, the name is wrong, or Key Vault has a wider problem.",
  fixableBy: "owner",
  // The guide: in the DNS case, wait up to two hours before contacting support.
  policy: AT_DETECTION,
  guideAnchors: ["unable-to-resolve-the-key-vaults-dns"],
  codes: [
    // Mostly a wrong or deleted vault, sometimes a Key Vault problem.
    { code: 4009, name: "KeyVaultDNSNotResolved" },
  ],
  wordings: ["dns name", "host name could not be resolved", "unable to resolve the key vault", "dns not resolved"],
};
