/**
 * Revoked, but nothing names a cause: no known code, anchor or wording. Azure's status is a free
 * string, so new wordings and codes land here rather than failing.
 */
import type { CauseDefinition } from "./causeDefinition";
import { AT_DETECTION } from "./recoveryPolicies";

export const unrecognized: CauseDefinition<"unrecognized"> = {
  id: "unrecognized",
  title: "Revoked for a reason we do not recognise",
  explanation:
    "Azure reports the account as revoked but the status does not match any known cause; read the status text and contact support if it does not say what to do.",
  fixableBy: "microsoft",
  policy: AT_DETECTION,
  // What is left when nothing else matched, so it claims no evidence of its own.
  guideAnchors: [],
  codes: [],
  wordings: [],
};
