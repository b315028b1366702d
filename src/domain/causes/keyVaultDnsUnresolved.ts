/** The vault's host name does not resolve (4009). */
import type { CommandTarget } from "../commandTarget";
import { dnsCondition, targetNames } from "../probeConditions";
import type { ProbeFacts } from "../probeFacts";
import { cmd, recoverVault, setKeyUri, showDeletedVault, showKeyUri, type RemediationStep } from "../remediationCommands";
import { placeholder, sh, type ShellValue } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AT_DETECTION } from "./recoveryPolicies";
import { unknownVerdict } from "./sharedVerdicts";

export const keyVaultDnsUnresolved: CauseDefinition<"key-vault-dns-unresolved"> = {
  id: "key-vault-dns-unresolved",
  title: "Key Vault host name does not resolve",
  explanation: "The vault's DNS name could not be resolved: the vault was deleted, the name is wrong, or Key Vault has a wider problem.",
  fixableBy: "owner",
  // The guide: in the DNS case, wait up to two hours before contacting support.
  policy: AT_DETECTION,
  guideAnchors: ["unable-to-resolve-the-key-vaults-dns"],
  codes: [
    // Mostly a wrong or deleted vault, sometimes a Key Vault problem.
    { code: 4009, name: "KeyVaultDNSNotResolved" },
  ],
  wordings: ["dns name", "host name could not be resolved", "unable to resolve the key vault", "dns not resolved"],
  remediation,
  // Whether or not the owner changed anything, the clock runs from detection; the words cover both.
  recoveryWording: ({ expected, escalate }) =>
    `If you restored a deleted vault or corrected the vault name, access usually returns within about ${expected}. ` +
    `If nothing was wrong on your side, Key Vault itself may be having trouble: allow up to ${escalate} from detection. ` +
    "If the account is still revoked after that, contact Microsoft support; this monitor escalates on its own at that point.",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  // Only a vault host from the strict parse: any other host would be a lookup the attacker chose.
  const host: ShellValue = t.vaultHost;
  return [
    {
      text: "Check that the key URI names the right vault and that its host name resolves.",
      commands: [cmd(showKeyUri(t)), cmd(sh`nslookup ${host}`)],
    },
    {
      text: "If the vault was deleted, recover it from soft delete.",
      commands: [cmd(showDeletedVault(t), "Is the vault deleted?"), cmd(recoverVault(t), "Recover it")],
    },
    {
      text: "If the URI has a typo in the vault name, point the account at the correct vault (it must hold the same key the account was encrypted with).",
      commands: [cmd(setKeyUri(t, sh`https://${placeholder("correct-vault-name")}.vault.azure.net/keys/${t.keyName}`))],
    },
  ];
}

function verdict(facts: ProbeFacts): CauseVerdict {
  const names = targetNames(facts);
  const dns = dnsCondition(facts);
  if (dns === "fails") return { verdict: "present", detail: `${names.host} does not resolve` };
  if (dns === "resolves") return { verdict: "gone", detail: `DNS resolves: ${names.host} resolves again` };
  // Stryker disable next-line StringLiteral: equivalent, dnsCondition is "unknown" only when DNS was not checked, so "" is never returned
  return unknownVerdict(facts.dns.checked ? "" : facts.dns.reason);
}
