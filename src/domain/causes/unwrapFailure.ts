/** The key was reachable but could not unwrap the account's data key (4005, 4012). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const unwrapFailure: CauseDefinition<"unwrap-failure"> = {
  id: "unwrap-failure",
  title: "Cosmos DB cannot wrap or unwrap the key",
  explanation:
    "The key was reachable but unwrapping failed, for example because the key or a key version was deleted or replaced.",
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
};
