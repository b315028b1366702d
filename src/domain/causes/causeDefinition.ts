/**
 * The shape of a cause module: everything the monitor knows and says about one reason a CMK
 * account is (or is not) revoked. Each file in this folder fills it in for one cause; index.ts
 * assembles the catalogue from them.
 */
import type { CommandTarget } from "../commandTarget";
import type { ProbeFacts } from "../probeFacts";
import type { RemediationStep } from "../remediationCommands";
import type { RecoveryPolicy, RecoveryWording } from "./recoveryPolicies";

/** Ids are part of the public contract (CLI JSON, scenario timelines, emails): never rename one. */
export const CAUSE_IDS = [
  "healthy",
  "default-identity-unauthorized",
  "aad-token-acquisition",
  "key-not-found",
  "invalid-default-identity",
  "invalid-key-vault-uri",
  "unwrap-failure",
  "key-vault-dns-unresolved",
  "key-disabled-or-expired",
  "key-vault-network-blocked",
  "service-side-outage",
  "unrecognized",
] as const;

export type CauseId = (typeof CAUSE_IDS)[number];
export type RevokedCauseId = Exclude<CauseId, "healthy">;

/** Who can make the account recover. */
export type FixableBy = "owner" | "microsoft" | "none";

/**
 * A CMK code and the name the Cosmos DB SDKs give it. Data-plane sub-statuses (`x-ms-substatus`
 * on HTTP 403) and the "(40xx)" suffix of the ARM status share one numbering.
 */
export interface CauseCode {
  code: number;
  /** Users paste these from stack traces. */
  name: string;
}

export type Verdict = "present" | "gone" | "unknown";

/** What the probes say about a cause: still in place ("present"), gone, or cannot tell. */
export interface CauseVerdict {
  verdict: Verdict;
  /** What showed it, in words for the timeline ("access policy now grants …"). */
  detail: string;
}

export interface CauseDefinition<Id extends CauseId = CauseId> {
  id: Id;
  title: string;
  /** Plain-language why, one or two sentences, no account specifics. */
  explanation: string;
  fixableBy: FixableBy;
  policy: RecoveryPolicy;
  /**
   * The troubleshooting-guide sections about this cause, as the anchors in their links: those the
   * service links to and the guide's own headings, which users copy. The first is the one we link
   * to; with none we link the guide itself.
   */
  guideAnchors: readonly string[];
  /** The CMK codes that name this cause, in code order. */
  codes: readonly CauseCode[];
  /**
   * Key phrases of the service's status texts and the guide's headings, in the classifier's
   * normalised form: lower case, each run of punctuation a single space ("Key Vault's" is
   * "key vault s").
   */
  wordings: readonly string[];
  /** The owner's steps, with commands rendered for one account (placeholders without one). */
  remediation(target: CommandTarget): RemediationStep[];
  /** How the step after them words the wait for recovery. */
  recoveryWording: RecoveryWording;
  /**
   * Whether the probe facts show this cause still in place. A probe that could not run never
   * makes a verdict; causes no probe can see (service side, unrecognised) are always "unknown".
   */
  verdict(facts: ProbeFacts, now: Date): CauseVerdict;
}
