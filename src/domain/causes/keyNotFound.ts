/** The key, or the whole vault, is gone (4003, 4017). */
import type { CommandTarget } from "../commandTarget";
import type { ProbeFacts } from "../probeFacts";
import { cmd, keyArgs, recoverKey, recoverVault, showDeletedVault, showKey, type RemediationStep } from "../remediationCommands";
import { sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { vaultAndKeyVerdict } from "./sharedVerdicts";

export const keyNotFound: CauseDefinition<"key-not-found"> = {
  id: "key-not-found",
  title: "Key or Key Vault not found",
  explanation: "The key named by the account's key URI, or the vault holding it, no longer exists (often deleted and still recoverable from soft delete).",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: [
    "customer-managed-key-does-not-exist",
    // The service links 4003 and 4017 here although the guide has no such heading today.
    "azure-key-vault-resource-not-found",
  ],
  codes: [
    // The key named by the key URI is gone (often soft-deleted and recoverable).
    { code: 4003, name: "KeyVaultKeyNotFound" },
    // The whole vault is gone; the guide files it under the same "not found" section as a missing key.
    { code: 4017, name: "KeyVaultNotFound" },
  ],
  wordings: [
    "key is not found",
    "key was not found",
    "key not found",
    "key vault was not found",
    "key vault is not found",
    "key vault not found",
    "key does not exist",
    "key vault does not exist",
  ],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Find out whether the vault or the key was deleted. Both stay recoverable from soft delete for the vault's retention period.",
      commands: [cmd(showDeletedVault(t), "Is the vault deleted?"), cmd(sh`az keyvault key show-deleted ${keyArgs(t)}`, "Is the key deleted?")],
    },
    {
      text: "If the vault was deleted, recover it first (the key comes back with it).",
      commands: [cmd(recoverVault(t))],
    },
    {
      text: "If only the key was deleted, recover the key, then confirm it is enabled.",
      commands: [cmd(recoverKey(t)), cmd(showKey(t))],
    },
    {
      text:
        "If the vault or key was purged it cannot be recovered, and pointing the account at a different key will not bring the data back: " +
        "open a Microsoft support case straight away.",
      commands: [],
    },
  ];
}

/** The key existing again is the fix, even before it is usable (a disabled key is a cause of its own). */
function verdict(facts: ProbeFacts, now: Date): CauseVerdict {
  return vaultAndKeyVerdict(facts, now, (key) => key.state !== "unknown");
}
