/** The vault firewall or a network security perimeter blocks Cosmos DB (4016). */
import type { CommandTarget } from "../commandTarget";
import { networkCondition, targetNames } from "../probeConditions";
import type { ProbeFacts } from "../probeFacts";
import { cmd, SAME_SUBSCRIPTION_NOTE, vaultArgs, type RemediationStep } from "../remediationCommands";
import { sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { unknownVerdict } from "./sharedVerdicts";

export const keyVaultNetworkBlocked: CauseDefinition<"key-vault-network-blocked"> = {
  id: "key-vault-network-blocked",
  title: "Network rules block Cosmos DB from the vault",
  explanation: "The vault's firewall or a network security perimeter blocks Cosmos DB's outbound calls to Key Vault.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  // The service links the guide itself for 4016.
  guideAnchors: [],
  codes: [{ code: 4016, name: "NspOutboundDenied" }],
  wordings: ["blocking outbound", "outbound requests to the azure key vault", "network security perimeter", "blocked by the key vault firewall"],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Look at the vault's firewall settings. " + SAME_SUBSCRIPTION_NOTE,
      commands: [
        cmd(sh`az keyvault show ${vaultArgs(t)} --query "{publicNetworkAccess: properties.publicNetworkAccess, networkAcls: properties.networkAcls}"`),
        cmd(sh`az keyvault network-rule list ${vaultArgs(t)}`),
      ],
    },
    {
      text:
        "Cosmos DB reaches the vault as a trusted Microsoft service. When the firewall denies by default, let trusted services through. " +
        "A vault reachable only through private endpoints cannot serve customer-managed keys.",
      commands: [cmd(sh`az keyvault update ${vaultArgs(t)} --bypass AzureServices`)],
    },
    {
      text:
        "If the vault or the account is in a network security perimeter, add a perimeter access rule that allows the traffic between them " +
        "(or switch the association to learning mode while you fix it).",
      commands: [cmd(sh`az network perimeter list --subscription ${t.subscription} --output table`)],
    },
  ];
}

function verdict(facts: ProbeFacts): CauseVerdict {
  const names = targetNames(facts);
  const network = networkCondition(facts);
  if (network === "blocks") return { verdict: "present", detail: `the firewall of vault ${names.vault} does not let trusted Microsoft services through` };
  if (network === "allows") return { verdict: "gone", detail: `firewall fixed: vault ${names.vault} lets trusted Microsoft services through` };
  return unknownVerdict(facts.vault.checked ? `vault ${names.vault} is not active` : facts.vault.reason);
}
