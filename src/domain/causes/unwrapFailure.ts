/** The key was reachable but could not unwrap the account's data key (4005, 4012). */
import type { CommandTarget } from "../commandTarget";
import type { ProbeFacts } from "../probeFacts";
import { cmd, keyArgs, recoverKey, recoverVault, setKeyAttributes, showKey, type RemediationStep } from "../remediationCommands";
import { placeholder, sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { vaultAndKeyVerdict } from "./sharedVerdicts";

export const unwrapFailure: CauseDefinition<"unwrap-failure"> = {
  id: "unwrap-failure",
  title: "Cosmos DB cannot wrap or unwrap the key",
  explanation: "The key was reachable but unwrapping failed, for example because the key or a key version was deleted or replaced.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["internal-unwrapping-procedure-error"],
  codes: [
    // Key Vault refused to wrap/unwrap, e.g. the key version that wrapped the data key is gone.
    { code: 4005, name: "KeyVaultWrapUnwrapFailure" },
    // The key was rotated to material that cannot unwrap the existing data key: same recovery as an unwrap failure.
    { code: 4012, name: "CustomerKeyRotated" },
  ],
  wordings: ["wrap or unwrap", "unwrap the key", "unwrapping", "unwrap failure"],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Check that the key still exists, is enabled, and that its versions are intact.",
      commands: [cmd(showKey(t)), cmd(sh`az keyvault key list-versions ${keyArgs(t)} --output table`)],
    },
    {
      text: "If the key (or the vault) was deleted recently, recover it. If an older key version was disabled, enable that version again.",
      commands: [
        cmd(recoverKey(t), "Recover a deleted key"),
        cmd(recoverVault(t), "Recover a deleted vault"),
        cmd(setKeyAttributes(t, sh`--version ${placeholder("key-version")} --enabled true`), "Re-enable a disabled version"),
      ],
    },
    {
      text:
        "If the key was deleted and re-created under the same name, the new key material cannot unwrap the account's data key. " +
        "Restore the original key from a backup, or contact Microsoft support.",
      commands: [cmd(sh`az keyvault key restore --vault-name ${t.vaultName} --file ${placeholder("key-backup-file")}`)],
    },
  ];
}

/** Only a usable key can unwrap the data key again. */
function verdict(facts: ProbeFacts, now: Date): CauseVerdict {
  return vaultAndKeyVerdict(facts, now, (key) => key.state === "usable");
}
