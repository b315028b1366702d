/**
 * The CMK sub-status codes (data-plane `x-ms-substatus` on HTTP 403, and the "(40xx)" suffix of
 * the ARM `customerManagedKeyStatus`) and the cause each one maps to. The two sources share one
 * numbering, so this one table serves both the status and the sub-status classifiers.
 */
import type { RevokedCauseId } from "./causes";

export interface SubstatusCode {
  code: number;
  /** The name the Cosmos DB SDKs use; users paste these from stack traces. */
  name: string;
  cause: RevokedCauseId;
}

// Typed (not cast) so a misspelt cause id fails the build.
const TABLE: SubstatusCode[] = [
  // Entra ID would not issue a token for the default identity: typically the identity was deleted or detached.
  { code: 4000, name: "AadClientCredentialsGrantFailure", cause: "aad-token-acquisition" },
  // Entra ID itself is unavailable; nothing on the account is wrong.
  { code: 4001, name: "AadServiceUnavailable", cause: "service-side-outage" },
  // The vault denies the identity (or the key is disabled); the guide's "unauthorized" section covers both fixes.
  { code: 4002, name: "KeyVaultAuthenticationFailure", cause: "default-identity-unauthorized" },
  // The key named by the key URI is gone (often soft-deleted and recoverable).
  { code: 4003, name: "KeyVaultKeyNotFound", cause: "key-not-found" },
  // Key Vault is unavailable on Azure's side.
  { code: 4004, name: "KeyVaultServiceUnavailable", cause: "service-side-outage" },
  // Key Vault refused to wrap/unwrap, e.g. the key version that wrapped the data key is gone.
  { code: 4005, name: "KeyVaultWrapUnwrapFailure", cause: "unwrap-failure" },
  // The key URI is malformed, e.g. it carries a key version.
  { code: 4006, name: "InvalidKeyVaultKeyURI", cause: "invalid-key-vault-uri" },
  // Internal to Cosmos DB (bytes it handed itself were invalid): the owner cannot change anything, so
  // it is a service-side problem; "unrecognized" would wrongly tell the owner the code is unknown.
  // Both causes share the at-detection policy, so this choice changes wording, not timing.
  { code: 4007, name: "InvalidInputBytes", cause: "service-side-outage" },
  // Key Vault returned a 5xx.
  { code: 4008, name: "KeyVaultInternalServerError", cause: "service-side-outage" },
  // The vault host name does not resolve: mostly a wrong or deleted vault, sometimes a Key Vault problem.
  { code: 4009, name: "KeyVaultDNSNotResolved", cause: "key-vault-dns-unresolved" },
  // The URI points at a certificate, not a key: the owner must set a /keys/ URI.
  { code: 4010, name: "InvalidKeyVaultCertURI", cause: "invalid-key-vault-uri" },
  // The URI mixes key and certificate forms: same fix as any malformed key URI.
  { code: 4011, name: "InvalidKeyVaultKeyAndCertURI", cause: "invalid-key-vault-uri" },
  // The key was rotated to material that cannot unwrap the existing data key: same recovery as an unwrap failure.
  { code: 4012, name: "CustomerKeyRotated", cause: "unwrap-failure" },
  // A request Cosmos DB built lacked a parameter. Malformed URIs have their own codes (4006/4010/4011/4014),
  // so this is read as an internal request bug: service side (same at-detection policy as unrecognized).
  { code: 4013, name: "MissingRequestParameter", cause: "service-side-outage" },
  // The URI points at a secret, not a key.
  { code: 4014, name: "InvalidKeyVaultSecretURI", cause: "invalid-key-vault-uri" },
  // No default identity is set on the account.
  { code: 4015, name: "UndefinedDefaultIdentity", cause: "invalid-default-identity" },
  // A network security perimeter or the vault firewall blocks Cosmos DB's outbound calls.
  { code: 4016, name: "NspOutboundDenied", cause: "key-vault-network-blocked" },
  // The whole vault is gone; the guide files it under the same "not found" section as a missing key.
  { code: 4017, name: "KeyVaultNotFound", cause: "key-not-found" },
  // The key exists but is disabled or outside its validity dates.
  { code: 4018, name: "KeyDisabledOrExpired", cause: "key-disabled-or-expired" },
  // Cosmos DB's own master service is unavailable.
  { code: 4019, name: "MasterServiceUnavailable", cause: "service-side-outage" },
];

/** Every code 4000-4019 from the SDKs' list, in code order; frozen because it is shared contract. */
export const SUBSTATUS_CODES: readonly Readonly<SubstatusCode>[] = Object.freeze(TABLE.map((entry) => Object.freeze(entry)));

/**
 * The block Azure reserves for CMK failures. New codes are expected to continue it, so a code in
 * this range that is not in the table still means "revoked, cause unknown" rather than "not CMK".
 */
export const CMK_CODE_MIN = 4000;
export const CMK_CODE_MAX = 4099;

const BY_CODE = new Map(SUBSTATUS_CODES.map((entry) => [entry.code, entry]));
const BY_NAME = new Map(SUBSTATUS_CODES.map((entry) => [entry.name.toLowerCase(), entry]));

export function isCmkCode(code: number): boolean {
  return Number.isInteger(code) && code >= CMK_CODE_MIN && code <= CMK_CODE_MAX;
}

/** The table entry for a code; undefined for codes outside the table (including unknown 40xx). */
export function findSubstatusCode(code: number): Readonly<SubstatusCode> | undefined {
  return BY_CODE.get(code);
}

/** Looks a sub-status up by its SDK name, case-insensitively. */
export function findSubstatusName(name: string): Readonly<SubstatusCode> | undefined {
  return BY_NAME.get(name.toLowerCase());
}
