/** No usable default identity is set on the account (4015). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const invalidDefaultIdentity: CauseDefinition<"invalid-default-identity"> = {
  id: "invalid-default-identity",
  title: "Default identity is missing or invalid",
  explanation:
    "The account has no valid default identity set, so Cosmos DB does not know which identity to use to reach the key.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["invalid-azure-cosmos-db-default-identity"],
  codes: [
    // No default identity is set on the account.
    { code: 4015, name: "UndefinedDefaultIdentity" },
  ],
  wordings: [
    "undefined default identity",
    "invalid default identity",
    "invalid azure cosmos db default identity",
    "no default identity",
    "default identity is not set",
    "default identity is undefined",
  ],
};
