/** Entra ID would not issue a token for the default identity (4000). */
import { identityIdValue, type CommandTarget } from "../commandTarget";
import type { ProbeFacts } from "../probeFacts";
import {
  cmd,
  grantStep,
  sentences,
  showIdentity,
  systemAssignedDefaultCommands,
  userAssignedDefaultCommands,
  type RemediationStep,
} from "../remediationCommands";
import { sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { defaultIdentityVerdict, unknownVerdict } from "./sharedVerdicts";

export const aadTokenAcquisition: CauseDefinition<"aad-token-acquisition"> = {
  id: "aad-token-acquisition",
  title: "Cannot get a Microsoft Entra token for the default identity",
  explanation:
    "Cosmos DB could not obtain an access token for the account's default identity, usually because that identity was deleted or detached from the account.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["azure-active-directory-token-acquisition-error"],
  codes: [
    // Typically the identity was deleted or detached.
    { code: 4000, name: "AadClientCredentialsGrantFailure" },
  ],
  wordings: ["aad authentication token", "entra authentication token", "token acquisition", "obtain an access token", "obtain the access token"],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  const identity = t.identity;
  const checks = [cmd(showIdentity(t))];
  let reattach: RemediationStep;
  if (identity?.kind === "user-assigned") {
    const id = identityIdValue(identity.userAssignedIdentityId);
    checks.push(cmd(sh`az identity show --ids ${id} --query "{principalId: principalId, clientId: clientId}"`, "Does the identity still exist?"));
    reattach = {
      text:
        "If the identity was detached, attach it again and keep it as the default identity. If it was deleted, re-create it (or pick another), " +
        "attach it and set it as the default; a re-created identity has a new principal id, so grant it access in the next step.",
      commands: userAssignedDefaultCommands(t, id, ["Attach the identity", "Make it the default identity"]),
    };
  } else {
    reattach = {
      text:
        "If the identity was removed, enable one again and make it the default. Re-enabling the system-assigned identity creates a new " +
        "principal id, so grant that new id access in the next step. A user-assigned identity works too (UserAssignedIdentity=<its resource id>).",
      commands: systemAssignedDefaultCommands(t, ["Enable the system-assigned identity", "Make it the default identity"]),
    };
  }
  const federated = identity?.federatedClientId
    ? `This account uses a cross-tenant key (FederatedClientId ${identity.federatedClientId}): also check that the multi-tenant app registration and its federated credential for the identity still exist.`
    : "";
  return [
    {
      text: sentences("Check that the default identity still exists and is attached to the account.", identity?.description, federated),
      commands: checks,
    },
    reattach,
    grantStep(t, t.principal, "the default identity"),
  ];
}

/** As for an invalid default identity, but a token needs a principal: without its id the probes cannot tell. */
function verdict(facts: ProbeFacts): CauseVerdict {
  if (facts.identity.valid && !facts.identity.principalId) return unknownVerdict("the account reports no principal id for the default identity");
  return defaultIdentityVerdict(facts);
}
