/**
 * The catalogue of why a CMK account is (or is not) revoked, assembled from one module per cause
 * in this folder. The classifier, the sub-status table, remediation and the probe verdicts read
 * their parts from here.
 */
import { aadTokenAcquisition } from "./aadTokenAcquisition";
import { CAUSE_IDS, type CauseDefinition, type CauseId, type FixableBy, type RevokedCauseId } from "./causeDefinition";
import { defaultIdentityUnauthorized } from "./defaultIdentityUnauthorized";
import { healthy } from "./healthy";
import { invalidDefaultIdentity } from "./invalidDefaultIdentity";
import { invalidKeyVaultUri } from "./invalidKeyVaultUri";
import { keyDisabledOrExpired } from "./keyDisabledOrExpired";
import { keyNotFound } from "./keyNotFound";
import { keyVaultDnsUnresolved } from "./keyVaultDnsUnresolved";
import { keyVaultNetworkBlocked } from "./keyVaultNetworkBlocked";
import type { RecoveryPolicy } from "./recoveryPolicies";
import { serviceSideOutage } from "./serviceSideOutage";
import { unrecognized } from "./unrecognized";
import { unwrapFailure } from "./unwrapFailure";

export {
  CAUSE_IDS,
  type CauseCode,
  type CauseDefinition,
  type CauseId,
  type CauseVerdict,
  type FixableBy,
  type RevokedCauseId,
  type Verdict,
} from "./causeDefinition";
export { policyRecoveryText, type RecoveryPolicy, type RecoveryWait, type RecoveryWording } from "./recoveryPolicies";

/** What the emails, the CLI and the lifecycle read about a cause. */
export interface CauseInfo {
  id: CauseId;
  title: string;
  /** Plain-language why, one or two sentences, no account specifics. */
  explanation: string;
  fixableBy: FixableBy;
  policy: RecoveryPolicy;
  /** Link to the troubleshooting guide section. */
  docsUrl: string;
}

export const GUIDE_URL = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";

// Keyed by id, so the build fails when a cause has no module or a module sits under another id.
const DEFINITIONS: { [Id in CauseId]: CauseDefinition<Id> } = {
  healthy,
  "default-identity-unauthorized": defaultIdentityUnauthorized,
  "aad-token-acquisition": aadTokenAcquisition,
  "key-not-found": keyNotFound,
  "invalid-default-identity": invalidDefaultIdentity,
  "invalid-key-vault-uri": invalidKeyVaultUri,
  "unwrap-failure": unwrapFailure,
  "key-vault-dns-unresolved": keyVaultDnsUnresolved,
  "key-disabled-or-expired": keyDisabledOrExpired,
  "key-vault-network-blocked": keyVaultNetworkBlocked,
  "service-side-outage": serviceSideOutage,
  unrecognized,
};

/** Every cause, in CAUSE_IDS order. */
export const CAUSE_DEFINITIONS: readonly CauseDefinition[] = CAUSE_IDS.map((id) => DEFINITIONS[id]);

/** Every cause but `healthy`, in CAUSE_IDS order: the ones codes, anchors and wordings can name. */
export const REVOKED_CAUSE_DEFINITIONS: readonly CauseDefinition<RevokedCauseId>[] = CAUSE_DEFINITIONS.filter(
  (definition): definition is CauseDefinition<RevokedCauseId> => definition.id !== "healthy",
);

/**
 * The order the classifier tries the causes' wordings in: most specific first, the outage phrases
 * last because they are the vaguest. Causes without wordings are not listed.
 */
export const WORDING_PRECEDENCE: readonly CauseDefinition<RevokedCauseId>[] = [
  aadTokenAcquisition,
  defaultIdentityUnauthorized,
  invalidDefaultIdentity,
  keyVaultNetworkBlocked,
  keyVaultDnsUnresolved,
  invalidKeyVaultUri,
  keyDisabledOrExpired,
  unwrapFailure,
  keyNotFound,
  serviceSideOutage,
];

function docsUrl(definition: CauseDefinition): string {
  const anchor = definition.guideAnchors[0];
  return anchor === undefined ? GUIDE_URL : `${GUIDE_URL}#${anchor}`;
}

const INFO: { readonly [id: string]: CauseInfo } = Object.fromEntries(
  CAUSE_DEFINITIONS.map((definition): [CauseId, CauseInfo] => [
    definition.id,
    {
      id: definition.id,
      title: definition.title,
      explanation: definition.explanation,
      fixableBy: definition.fixableBy,
      policy: definition.policy,
      docsUrl: docsUrl(definition),
    },
  ]),
);

export function getCause(id: CauseId): CauseInfo {
  return INFO[id];
}

/** The whole module of a cause: its codes, wordings, remediation and probe verdict too. */
export function getCauseDefinition(id: CauseId): CauseDefinition {
  return DEFINITIONS[id];
}

export function isCauseId(value: unknown): value is CauseId {
  // includes() compares with ===, so a value that is not a string is never found.
  return (CAUSE_IDS as readonly unknown[]).includes(value);
}
