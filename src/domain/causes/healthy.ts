/** Not a revocation: Azure confirmed it can reach the key. */
import type { CauseDefinition } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { unseenByProbes } from "./sharedVerdicts";

export const healthy: CauseDefinition<"healthy"> = {
  id: "healthy",
  title: "Key access confirmed",
  explanation: "Azure Cosmos DB confirmed it can reach the customer-managed key.",
  fixableBy: "none",
  policy: AFTER_FIX,
  // The classifier reads health from "confirmed" (unless negated), not from codes, anchors or phrases.
  guideAnchors: [],
  codes: [],
  wordings: [],
  // Nothing to do and nothing to wait for.
  remediation: () => [],
  recoveryWording: "nothing-to-recover",
  verdict: unseenByProbes,
};
