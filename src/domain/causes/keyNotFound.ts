/** The key, or the whole vault, is gone (4003, 4017). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const keyNotFound: CauseDefinition<"key-not-found"> = {
  id: "key-not-found",
  title: "Key or Key Vault not found",
  explanation:
    "The key named by the account's key URI, or the vault holding it, no longer exists (often deleted and still recoverable from soft delete).",
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
};
