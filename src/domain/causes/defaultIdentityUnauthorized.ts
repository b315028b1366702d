/** The default identity lost get, wrapKey or unwrapKey on the key (4002). */
import type { CommandTarget } from "../commandTarget";
import { evaluatePermission } from "../keyVaultPermissions";
import { keyCondition, targetNames } from "../probeConditions";
import type { ProbeFacts } from "../probeFacts";
import { cmd, grantStep, sentences, showIdentity, showKey, type RemediationStep } from "../remediationCommands";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { unknownVerdict } from "./sharedVerdicts";

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
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: sentences("Confirm which identity Cosmos DB uses to reach the key.", t.identity?.description),
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

/** Present while the permission is missing or the key is disabled (4002 covers both). */
function verdict(facts: ProbeFacts, now: Date): CauseVerdict {
  const names = targetNames(facts);
  const permission = evaluatePermission(facts);
  const key = keyCondition(facts, now);
  if (permission.status === "missing") return { verdict: "present", detail: permission.detail };
  if (key.state === "disabled") return { verdict: "present", detail: `key ${names.key} is disabled` };
  if (permission.status === "granted" && key.state === "usable") return { verdict: "gone", detail: `permission granted: ${permission.via}` };
  return unknownVerdict(permission.status === "unknown" ? permission.reason : key.state === "unknown" ? key.reason : `key ${names.key} is ${key.state}`);
}
