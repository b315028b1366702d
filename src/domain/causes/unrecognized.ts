/**
 * Revoked, but nothing names a cause: no known code, anchor or wording. Azure's status is a free
 * string, so new wordings and codes land here rather than failing.
 */
import type { CommandTarget } from "../commandTarget";
import { cmd, showIdentity, showKey, showStatus, type RemediationStep } from "../remediationCommands";
import type { CauseDefinition } from "./causeDefinition";
import { AT_DETECTION } from "./recoveryPolicies";
import { unseenByProbes } from "./sharedVerdicts";

export const unrecognized: CauseDefinition<"unrecognized"> = {
  id: "unrecognized",
  title: "Revoked for a reason we do not recognise",
  explanation:
    "Azure reports the account as revoked but the status does not match any known cause; read the status text and contact support if it does not say what to do.",
  fixableBy: "microsoft",
  policy: AT_DETECTION,
  // What is left when nothing else matched, so it claims no evidence of its own.
  guideAnchors: [],
  codes: [],
  wordings: [],
  remediation,
  recoveryWording: "from-policy",
  verdict: unseenByProbes,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Read the status text Azure reports for the account; it usually names the problem and links to the guide.",
      commands: [cmd(showStatus(t))],
    },
    {
      text: "Run the common checks: the key exists and is enabled, and the default identity is present.",
      commands: [cmd(showKey(t)), cmd(showIdentity(t))],
    },
  ];
}
