/** Entra ID would not issue a token for the default identity (4000). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const aadTokenAcquisition: CauseDefinition<"aad-token-acquisition"> = {
  id: "aad-token-acquisition",
  title: "Cannot get a Microsoft Entra token for the default identity",
  explanation:
    "Cosmos DB could not obtain an access token for the account's default identity, usually because that identity was deleted or detached from the account.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  guideAnchors: ["azure-active-directory-token-acquisition-error"],
  codes: [
    // Typically the identity was deleted or detached.
    { code: 4000, name: "AadClientCredentialsGrantFailure" },
  ],
  wordings: ["aad authentication token", "entra authentication token", "token acquisition", "obtain an access token", "obtain the access token"],
};
