/** The account's key URI is not a versionless Key Vault key URI (4006, 4010, 4011, 4014). */
import type { CauseDefinition } from "./causeDefinition";
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
};
