/** Entra ID, Key Vault or Cosmos DB itself is failing; nothing on the account is wrong. */
import type { CommandTarget } from "../commandTarget";
import { cmd, showKey, type RemediationStep } from "../remediationCommands";
import type { CauseDefinition } from "./causeDefinition";
import { AT_DETECTION } from "./recoveryPolicies";
import { unseenByProbes } from "./sharedVerdicts";

export const serviceSideOutage: CauseDefinition<"service-side-outage"> = {
  id: "service-side-outage",
  title: "Azure service-side problem",
  explanation: "Microsoft Entra ID, Key Vault or Cosmos DB itself is failing; nothing on the account needs to change.",
  fixableBy: "microsoft",
  policy: AT_DETECTION,
  guideAnchors: [],
  codes: [
    // Entra ID itself is unavailable.
    { code: 4001, name: "AadServiceUnavailable" },
    // Key Vault is unavailable on Azure's side.
    { code: 4004, name: "KeyVaultServiceUnavailable" },
    // Internal to Cosmos DB (bytes it handed itself were invalid): the owner cannot change anything, so
    // it is a service-side problem; "unrecognized" would wrongly tell the owner the code is unknown.
    // Both causes share the at-detection policy, so this choice changes wording, not timing.
    { code: 4007, name: "InvalidInputBytes" },
    // Key Vault returned a 5xx.
    { code: 4008, name: "KeyVaultInternalServerError" },
    // A request Cosmos DB built lacked a parameter. Malformed URIs have their own codes (4006/4010/4011/4014),
    // so this is read as an internal request bug: service side (same at-detection policy as unrecognized).
    { code: 4013, name: "MissingRequestParameter" },
    // Cosmos DB's own master service is unavailable.
    { code: 4019, name: "MasterServiceUnavailable" },
  ],
  // The vaguest phrases of all, so the classifier tries them last.
  wordings: ["service unavailable", "service is unavailable", "temporarily unavailable", "internal server error"],
  remediation,
  recoveryWording: "from-policy",
  verdict: unseenByProbes,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Check Azure Service Health in the portal for incidents affecting Key Vault, Microsoft Entra ID or Cosmos DB in the account's regions.",
      commands: [],
    },
    {
      text: "Nothing on the account should need to change, but it is worth confirming the key is still there and enabled.",
      commands: [cmd(showKey(t))],
    },
  ];
}
