/** Probe verdicts that more than one cause gives. */
import { keyCondition, targetNames, vaultCondition, type KeyCondition } from "../probeConditions";
import type { ProbeFacts } from "../probeFacts";
import type { CauseVerdict } from "./causeDefinition";

export function unknownVerdict(detail: string): CauseVerdict {
  return { verdict: "unknown", detail };
}

/** For causes nothing in the account or its vault shows: a healthy-looking vault proves nothing. */
export function unseenByProbes(): CauseVerdict {
  return unknownVerdict("the probes cannot see this cause");
}

/** Present while the default identity is not one Cosmos DB can use; gone once it is. */
export function defaultIdentityVerdict(facts: ProbeFacts): CauseVerdict {
  const identity = facts.identity;
  if (!identity.valid) return { verdict: "present", detail: identity.problems.join(" ") };
  return { verdict: "gone", detail: `default identity valid: ${identity.description}` };
}

/**
 * Present while the vault or the key is deleted or missing; gone once the vault is active and
 * `restored` accepts the key's condition.
 */
export function vaultAndKeyVerdict(facts: ProbeFacts, now: Date, restored: (key: KeyCondition) => boolean): CauseVerdict {
  const names = targetNames(facts);
  const vault = vaultCondition(facts);
  const key = keyCondition(facts, now);
  if (vault === "deleted") return { verdict: "present", detail: `vault ${names.vault} is deleted` };
  if (vault === "missing") return { verdict: "present", detail: `vault ${names.vault} does not exist` };
  if (key.state === "deleted") return { verdict: "present", detail: `key ${names.key} in vault ${names.vault} is deleted` };
  if (key.state === "missing") return { verdict: "present", detail: `key ${names.key} does not exist in vault ${names.vault}` };
  if (vault === "active" && restored(key))
    return { verdict: "gone", detail: `key restored: key ${names.key} in vault ${names.vault} exists${key.state === "usable" ? " and is enabled" : ""}` };
  return unknownVerdict(key.state === "unknown" ? key.reason : `vault ${names.vault} could not be checked`);
}
