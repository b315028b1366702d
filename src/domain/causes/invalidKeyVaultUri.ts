/** The account's key URI is not a versionless Key Vault key URI (4006, 4010, 4011, 4014). */
import type { CommandTarget } from "../commandTarget";
import { displayValue } from "../displayText";
import type { ProbeFacts } from "../probeFacts";
import { cmd, setKeyUri, showKeyUri, type RemediationStep } from "../remediationCommands";
import { sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const invalidKeyVaultUri: CauseDefinition<"invalid-key-vault-uri"> = {
  id: "invalid-key-vault-uri",
  title: "Key Vault key URI is malformed",
  explanation: "The account's key URI does not have the form https://<vault>.vault.azure.net/keys/<key>.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["improper-syntax-detected-on-the-key-vault-uri-property"],
  codes: [
    // The key URI is malformed, e.g. it carries a key version.
    { code: 4006, name: "InvalidKeyVaultKeyURI" },
    // The URI points at a certificate, not a key: the owner must set a /keys/ URI.
    { code: 4010, name: "InvalidKeyVaultCertURI" },
    // The URI mixes key and certificate forms: same fix as any malformed key URI.
    { code: 4011, name: "InvalidKeyVaultKeyAndCertURI" },
    // The URI points at a secret, not a key.
    { code: 4014, name: "InvalidKeyVaultSecretURI" },
  ],
  wordings: ["does not follow the expected format", "improper syntax", "key uri is invalid", "invalid key vault key uri", "invalid key vault uri"],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  const current = t.account?.keyVaultKeyUri;
  // Built from the strictly checked vault host and key name only; otherwise the reader fills in the names.
  const corrected =
    typeof t.vaultHost === "string" ? sh`https://${t.vaultHost}/keys/${t.keyName}` : sh`https://${t.vaultName}.vault.azure.net/keys/${t.keyName}`;
  const proposal = corrected.text.includes("<") ? "" : ` Based on the current value, the corrected URI is ${corrected.text}.`;
  return [
    {
      text:
        `Look at the key URI the account is configured with${current !== undefined ? ` (currently "${displayValue(current)}")` : ""}. ` +
        "It must be https://<vault>.vault.azure.net/keys/<key> (or your cloud's vault domain), without a key version: the account always uses the key's current version." +
        proposal,
      commands: [cmd(showKeyUri(t))],
    },
    {
      text: "Point the account at the versionless key URI of the same key.",
      commands: [cmd(setKeyUri(t, corrected))],
    },
  ];
}

function verdict(facts: ProbeFacts): CauseVerdict {
  return facts.keyUri.valid
    ? { verdict: "gone", detail: `key URI corrected: ${facts.keyUri.uri} is a valid versionless key URI` }
    : { verdict: "present", detail: facts.keyUri.problems.map((p) => p.message).join(" ") };
}
