/** The default identity lost get, wrapKey or unwrapKey on the key (4002). */
import type { CommandTarget } from "../commandTarget";
import { cmd, grantStep, sentences, showIdentity, showKey, type RemediationStep } from "../remediationCommands";
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const defaultIdentityUnauthorized: CauseDefinition<"default-identity-unauthorized"> = {
  id: "default-identity-unauthorized",
  title: "Default identity has no permission on the key",
  explanation:
    "The account's default identity can no longer get, wrap or unwrap the Key Vault key, so Cosmos DB cannot decrypt the account's data encryption key.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["default-identity-is-unauthorized-to-access-the-azure-key-vault-key"],
  codes: [
    // The vault denies the identity (or the key is disabled); the guide's "unauthorized" section covers both fixes.
    { code: 4002, name: "KeyVaultAuthenticationFailure" },
  ],
  wordings: ["no longer has permission", "does not have permission", "unauthorized to access", "not authorized to access"],
  remediation,
  recoveryWording: "from-policy",
};

/** The owner's steps, before the one about the wait for recovery. */
function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text:
        sentences("Confirm which identity Cosmos DB uses to reach the key.", t.identity?.description),
      commands: [cmd(showIdentity(t))],
    },
    grantStep(t, t.principal, "that identity"),
    {
      text:
        "The same error appears when the key is disabled or expired. Make sure the key is enabled and inside its validity dates " +
        "(to re-enable it: az keyvault key set-attributes … --enabled true).",
      commands: [cmd(showKey(t))],
    },
  ];
}
