/** No usable default identity is set on the account (4015). */
import { identityIdValue, principalValue, type CommandTarget } from "../commandTarget";
import {
  cmd,
  grantStep,
  sentences,
  setDefaultIdentity,
  showIdentity,
  systemAssignedDefaultCommands,
  userAssignedDefaultCommands,
  type RemediationStep,
} from "../remediationCommands";
import { placeholder, sh } from "../shellQuoting";
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { defaultIdentityVerdict } from "./sharedVerdicts";

export const invalidDefaultIdentity: CauseDefinition<"invalid-default-identity"> = {
  id: "invalid-default-identity",
  title: "Default identity is missing or invalid",
  explanation: "The account has no valid default identity set, so Cosmos DB does not know which identity to use to reach the key.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["invalid-azure-cosmos-db-default-identity"],
  codes: [
    // No default identity is set on the account.
    { code: 4015, name: "UndefinedDefaultIdentity" },
  ],
  wordings: [
    "undefined default identity",
    "invalid default identity",
    "invalid azure cosmos db default identity",
    "no default identity",
    "default identity is not set",
    "default identity is undefined",
  ],
  remediation,
  recoveryWording: "from-policy",
  verdict: defaultIdentityVerdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  const account = t.account;
  const identity = t.identity;
  const attachedIds = Object.keys(account?.userAssignedIdentities ?? {});
  const hasSystem = /SystemAssigned/i.test(account?.identityType ?? "") || Boolean(account?.principalId);
  const steps: RemediationStep[] = [
    {
      text: sentences("See which identities the account has and which one is the default.", identity?.description),
      commands: [cmd(showIdentity(t))],
    },
  ];

  if (identity?.kind === "user-assigned" && identity.attached === false) {
    const id = identityIdValue(identity.userAssignedIdentityId);
    steps.push({
      text: "A user-assigned default identity only counts if it is also attached to the account. Attach it (or choose an attached identity as the default).",
      commands: userAssignedDefaultCommands(t, id, ["Attach the identity", "Keep it as the default identity"]),
    });
    steps.push(grantStep(t, t.principal, "that identity"));
  } else if (attachedIds.length > 0) {
    const id = attachedIds[0]!;
    // Stryker disable next-line OptionalChaining: equivalent, ids come from this account's own map, so the account and the entry exist
    const principal = principalValue(account?.userAssignedIdentities[id]?.principalId);
    steps.push({
      text: "Set an identity the account already has as its default identity, for example its user-assigned identity:",
      commands: [cmd(setDefaultIdentity(t, sh`UserAssignedIdentity=${identityIdValue(id)}`))],
    });
    steps.push(grantStep(t, principal, "that identity"));
  } else if (hasSystem) {
    // Stryker disable next-line OptionalChaining: equivalent, hasSystem is only true with an account
    const principal = principalValue(account?.principalId);
    steps.push({
      text: "Set the account's system-assigned identity as its default identity:",
      commands: [cmd(setDefaultIdentity(t, "SystemAssignedIdentity"))],
    });
    steps.push(grantStep(t, principal, "the system-assigned identity"));
  } else {
    steps.push({
      text:
        "Give the account an identity and make it the default: either enable the system-assigned identity, or attach a user-assigned identity " +
        "and set UserAssignedIdentity=<its resource id>.",
      commands: [
        ...systemAssignedDefaultCommands(t, ["System-assigned: enable it", "System-assigned: make it the default"]),
        cmd(
          setDefaultIdentity(t, sh`UserAssignedIdentity=${placeholder("user-assigned-identity-resource-id")}`),
          "User-assigned: make it the default (after az cosmosdb identity assign --identities <its resource id>)",
        ),
      ],
    });
    steps.push(grantStep(t, t.principal, "the new default identity"));
  }
  return steps;
}
