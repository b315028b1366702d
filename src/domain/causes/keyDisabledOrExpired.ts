/** The key exists but is disabled or outside its validity dates (4018). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const keyDisabledOrExpired: CauseDefinition<"key-disabled-or-expired"> = {
  id: "key-disabled-or-expired",
  title: "Key is disabled or expired",
  explanation: "The Key Vault key exists but is disabled, expired, or not yet valid, so it cannot be used.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  // The guide has no section of its own for this cause.
  guideAnchors: [],
  codes: [{ code: 4018, name: "KeyDisabledOrExpired" }],
  wordings: ["disabled or expired", "key is disabled", "key was disabled", "key has expired", "key is expired"],
};
