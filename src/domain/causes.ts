/**
 * The catalogue of why a CMK account is (or is not) revoked.
 * Ids are part of the public contract (CLI JSON, scenario timelines, emails): never rename one.
 */
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

export interface RecoveryPolicy {
  /**
   * When the recovery clock starts: after the owner's fix is observed or acknowledged, or at
   * detection for causes where nothing is expected of the owner (the guide's DNS case, outages).
   */
  clockStartsAt: "fix" | "detection";
  /** The guide: up to one hour after the fix for the account to leave the revoked state. */
  expectedRecoveryInMinutes: number;
  /** The guide: still revoked two hours after the fix → contact support. */
  escalateAfterInMinutes: number;
}

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

const AFTER_FIX: RecoveryPolicy = { clockStartsAt: "fix", expectedRecoveryInMinutes: 60, escalateAfterInMinutes: 120 };
const AT_DETECTION: RecoveryPolicy = { clockStartsAt: "detection", expectedRecoveryInMinutes: 60, escalateAfterInMinutes: 120 };

const CATALOGUE: Record<CauseId, CauseInfo> = {
  healthy: {
    id: "healthy",
    title: "Key access confirmed",
    explanation: "Azure Cosmos DB confirmed it can reach the customer-managed key.",
    fixableBy: "none",
    policy: AFTER_FIX,
    docsUrl: GUIDE_URL,
  },
  "default-identity-unauthorized": {
    id: "default-identity-unauthorized",
    title: "Default identity has no permission on the key",
    explanation:
      "The account's default identity can no longer get, wrap or unwrap the Key Vault key, so Cosmos DB cannot decrypt the account's data encryption key.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#default-identity-is-unauthorized-to-access-the-azure-key-vault-key`,
  },
  "aad-token-acquisition": {
    id: "aad-token-acquisition",
    title: "Cannot get a Microsoft Entra token for the default identity",
    explanation:
      "Cosmos DB could not obtain an access token for the account's default identity, usually because that identity was deleted or detached from the account.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#azure-active-directory-token-acquisition-error`,
  },
  "key-not-found": {
    id: "key-not-found",
    title: "Key or Key Vault not found",
    explanation:
      "The key named by the account's key URI, or the vault holding it, no longer exists (often deleted and still recoverable from soft delete).",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#customer-managed-key-does-not-exist`,
  },
  "invalid-default-identity": {
    id: "invalid-default-identity",
    title: "Default identity is missing or invalid",
    explanation:
      "The account has no valid default identity set, so Cosmos DB does not know which identity to use to reach the key.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#invalid-azure-cosmos-db-default-identity`,
  },
  "invalid-key-vault-uri": {
    id: "invalid-key-vault-uri",
    title: "Key Vault key URI is malformed",
    explanation: "The account's key URI does not have the form https://<vault>.vault.azure.net/keys/<key>.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#improper-syntax-detected-on-the-key-vault-uri-property`,
  },
  "unwrap-failure": {
    id: "unwrap-failure",
    title: "Cosmos DB cannot wrap or unwrap the key",
    explanation:
      "The key was reachable but unwrapping failed, for example because the key or a key version was deleted or replaced.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: `${GUIDE_URL}#internal-unwrapping-procedure-error`,
  },
  "key-vault-dns-unresolved": {
    id: "key-vault-dns-unresolved",
    title: "Key Vault host name does not resolve",
    explanation:
      "The vault's DNS name could not be resolved: the vault was deleted, the name is wrong, or Key Vault has a wider problem.",
    fixableBy: "owner",
    policy: AT_DETECTION,
    docsUrl: `${GUIDE_URL}#unable-to-resolve-the-key-vaults-dns`,
  },
  "key-disabled-or-expired": {
    id: "key-disabled-or-expired",
    title: "Key is disabled or expired",
    explanation: "The Key Vault key exists but is disabled, expired, or not yet valid, so it cannot be used.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: GUIDE_URL,
  },
  "key-vault-network-blocked": {
    id: "key-vault-network-blocked",
    title: "Network rules block Cosmos DB from the vault",
    explanation:
      "The vault's firewall or a network security perimeter blocks Cosmos DB's outbound calls to Key Vault.",
    fixableBy: "owner",
    policy: AFTER_FIX,
    docsUrl: GUIDE_URL,
  },
  "service-side-outage": {
    id: "service-side-outage",
    title: "Azure service-side problem",
    explanation:
      "Microsoft Entra ID, Key Vault or Cosmos DB itself is failing; nothing on the account needs to change.",
    fixableBy: "microsoft",
    policy: AT_DETECTION,
    docsUrl: GUIDE_URL,
  },
  unrecognized: {
    id: "unrecognized",
    title: "Revoked for a reason we do not recognise",
    explanation:
      "Azure reports the account as revoked but the status does not match any known cause; read the status text and contact support if it does not say what to do.",
    fixableBy: "microsoft",
    policy: AT_DETECTION,
    docsUrl: GUIDE_URL,
  },
};

export function getCause(id: CauseId): CauseInfo {
  return CATALOGUE[id];
}

export function isCauseId(value: unknown): value is CauseId {
  return typeof value === "string" && (CAUSE_IDS as readonly string[]).includes(value);
}
