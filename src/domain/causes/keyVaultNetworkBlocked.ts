/** The vault firewall or a network security perimeter blocks Cosmos DB (4016). */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";

export const keyVaultNetworkBlocked: CauseDefinition<"key-vault-network-blocked"> = {
  id: "key-vault-network-blocked",
  title: "Network rules block Cosmos DB from the vault",
  explanation:
    "The vault's firewall or a network security perimeter blocks Cosmos DB's outbound calls to Key Vault.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  // The service links the guide itself for 4016.
  guideAnchors: [],
  codes: [{ code: 4016, name: "NspOutboundDenied" }],
  wordings: ["blocking outbound", "outbound requests to the azure key vault", "network security perimeter", "blocked by the key vault firewall"],
};
