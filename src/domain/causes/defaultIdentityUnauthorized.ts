/** The default identity lost get, wrapKey or unwrapKey on the key (4002). */
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
};
