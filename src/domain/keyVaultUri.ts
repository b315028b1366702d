import { displayValue } from "./displayText";

/**
 * Reading the account's `keyVaultKeyUri`. Lenient on purpose: the monitor must still name the
 * vault and key in its advice when the URI is the very thing that is wrong (code 4006), e.g.
 * it carries a version, a port, odd casing, a trailing slash or no scheme.
 */
export interface KeyVaultKeyReference {
  /** First label of the host, e.g. "kv-orders" for kv-orders.vault.azure.net. */
  vaultName: string;
  /** Full host, which also tells the cloud (vault.azure.net, vault.azure.cn, …). */
  vaultHost: string;
  keyName: string;
  keyVersion?: string;
}

/** Undefined when no vault host and key name can be found. */
export function parseKeyVaultKeyUri(uri: string | undefined): KeyVaultKeyReference | undefined {
  if (typeof uri !== "string") return undefined;
  return remembered(parsed, uri, parseUncached);
}

/**
 * A fleet shares few key URIs among many accounts, and a cycle reads each account's several
 * times: the last few thousand results are kept (frozen, so no caller can change another's).
 */
const REMEMBERED = 4096;
const parsed = new Map<string, KeyVaultKeyReference | undefined>();
const checked = new Map<string, KeyUriCheck>();

function remembered<T>(cache: Map<string, T>, key: string, compute: (key: string) => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const value = deepFreeze(compute(key));
  // Past the bound, start over: cheaper than tracking use, and a cycle's URIs come back at once.
  // Stryker disable next-line EqualityOperator: equivalent, one entry more before starting over is not observable
  if (cache.size >= REMEMBERED) cache.clear();
  cache.set(key, value);
  return value;
}

function deepFreeze<T>(value: T): T {
  // Stryker disable next-line ConditionalExpression: equivalent, primitives and null count as frozen, and freezing twice changes nothing
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function parseUncached(uri: string): KeyVaultKeyReference | undefined {
  const trimmed = uri.trim();
  // Blank input needs no check of its own: "https://" is no URL.
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    return undefined;
  }
  const vaultHost = url.hostname.toLowerCase();
  // Stryker disable next-line StringLiteral: equivalent, split always yields a first element
  const vaultName = vaultHost.split(".")[0] ?? "";
  if (vaultName === "") return undefined;

  const segments = url.pathname
    .split("/")
    .filter((segment) => segment !== "")
    .map(decodeSegment);
  if (segments.length < 2 || segments[0]!.toLowerCase() !== "keys") return undefined;
  const keyName = segments[1]!;
  const keyVersion = segments[2];
  return keyVersion ? { vaultName, vaultHost, keyName, keyVersion } : { vaultName, vaultHost, keyName };
}

/** The versionless form Cosmos DB expects: https://<vault host>/keys/<key>. */
export function formatKeyVaultKeyUri(reference: Pick<KeyVaultKeyReference, "vaultHost" | "keyName">): string {
  return `https://${reference.vaultHost}/keys/${encodeURIComponent(reference.keyName)}`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// ---------------------------------------------------------------------------------------------
// Strict check: what Cosmos DB accepts, for the key-URI probe. The parser above stays lenient.

export type KeyVaultService = "vault" | "managed-hsm";

export interface VaultDnsSuffix {
  suffix: string;
  cloud: string;
  service: KeyVaultService;
}

/** The vault DNS suffixes of the public and sovereign clouds (Managed HSM keys are CMK-capable too). */
export const VAULT_DNS_SUFFIXES: readonly VaultDnsSuffix[] = [
  { suffix: "vault.azure.net", cloud: "AzureCloud", service: "vault" },
  { suffix: "vault.azure.cn", cloud: "AzureChinaCloud", service: "vault" },
  { suffix: "vault.usgovcloudapi.net", cloud: "AzureUSGovernment", service: "vault" },
  { suffix: "vault.microsoftazure.de", cloud: "AzureGermanCloud", service: "vault" },
  { suffix: "managedhsm.azure.net", cloud: "AzureCloud", service: "managed-hsm" },
  { suffix: "managedhsm.azure.cn", cloud: "AzureChinaCloud", service: "managed-hsm" },
  { suffix: "managedhsm.usgovcloudapi.net", cloud: "AzureUSGovernment", service: "managed-hsm" },
];

export type KeyUriProblemCode =
  | "missing"
  | "not-a-url"
  | "not-https"
  | "has-credentials"
  | "has-port"
  | "has-query"
  | "unknown-vault-domain"
  | "invalid-vault-name"
  | "not-a-key"
  | "missing-key-name"
  | "invalid-key-name"
  | "has-version"
  | "extra-path"
  | "empty-segment";

export interface KeyUriProblem {
  code: KeyUriProblemCode;
  /** One sentence for the email, naming the offending part. */
  message: string;
}

export interface KeyUriCheck {
  uri: string;
  /** True when Cosmos DB would accept it: https, known vault domain, valid names, no version. */
  valid: boolean;
  problems: KeyUriProblem[];
  /** The lenient reading, so later probes and advice can still name the vault and key. */
  reference?: KeyVaultKeyReference;
  /** Set when the host is under a known vault DNS suffix. */
  cloud?: string;
  service?: KeyVaultService;
}

// Key Vault names: 3-24 characters, a letter first, a letter or digit last, no "--".
const VAULT_NAME = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/i;
const KEY_NAME = /^[a-z0-9-]{1,127}$/i;

/** Key Vault's own rule for key names; only such a name may go into an ARM scope or a command. */
export function isKeyVaultKeyName(name: string | undefined): name is string {
  return name !== undefined && KEY_NAME.test(name);
}

/** The vault and key a command may name: only parts that pass Azure's shape rules for their kind. */
export interface VerifiedKeyNames {
  /** A valid vault name under a known vault DNS suffix. */
  vaultName?: string;
  /** `<vaultName>.<suffix>`, lower-case: never any other host. */
  vaultHost?: string;
  /** The decoded key name, when it is 1-127 letters, digits and dashes. */
  keyName?: string;
}

/**
 * The strict reading for commands: the lenient parse above names whatever host and path the URI
 * has (a key "%2e%2e%2f%2e%2e" decodes to "../.."), so commands take names from here instead.
 */
export function verifiedKeyNames(uri: string | undefined): VerifiedKeyNames {
  return remembered(verified, typeof uri === "string" ? uri : "", verifiedUncached);
}

const verified = new Map<string, VerifiedKeyNames>();

function verifiedUncached(uri: string): VerifiedKeyNames {
  const text = uri.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return {};
  }
  const names: VerifiedKeyNames = {};
  const vault = url.protocol === "https:" ? knownVaultHost(url.hostname.toLowerCase()) : undefined;
  if (vault && VAULT_NAME.test(vault.label)) {
    names.vaultName = vault.label;
    names.vaultHost = `${vault.label}.${vault.suffix.suffix}`;
  }
  const [collection, keyName] = url.pathname.replace(/\/$/, "").split("/").slice(1).map(decodeSegment);
  // Stryker disable next-line OptionalChaining: equivalent, a URL's path starts with "/", so there is always a first segment
  if (collection?.toLowerCase() === "keys" && keyName !== undefined && KEY_NAME.test(keyName)) names.keyName = keyName;
  return names;
}

/** The known vault DNS suffix a host ends in, and the label in front of it ("kv-orders" in kv-orders.vault.azure.net). */
function knownVaultHost(host: string): { suffix: VaultDnsSuffix; label: string } | undefined {
  const suffix = VAULT_DNS_SUFFIXES.find((entry) => host.endsWith(`.${entry.suffix}`));
  return suffix && { suffix, label: host.slice(0, host.length - suffix.suffix.length - 1) };
}

/** Checks the account's key URI the way Cosmos DB reads it. Pure, exact and total. */
export function checkKeyVaultKeyUri(uri: string | undefined): KeyUriCheck {
  return remembered(checked, typeof uri === "string" ? uri : "", checkUncached);
}

function checkUncached(uri: string): KeyUriCheck {
  const text = uri.trim();
  const reference = parseKeyVaultKeyUri(text);
  const base: KeyUriCheck = { uri: text, valid: false, problems: [], ...(reference ? { reference } : {}) };
  const problem = (code: KeyUriProblemCode, message: string): void => {
    base.problems.push({ code, message });
  };
  if (text === "") {
    problem("missing", "The account has no key URI.");
    return base;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problem("not-a-url", `"${displayValue(text)}" is not an absolute URL (it must start with https://).`);
    return base;
  }
  if (url.protocol !== "https:") problem("not-https", `The URI uses ${displayValue(url.protocol.replace(/:$/, ""), 60)}:// instead of https://.`);
  if (url.username || url.password) problem("has-credentials", "The URI carries a user name or password.");
  if (url.port !== "") problem("has-port", `The URI names port ${url.port}; vault URIs have no port.`);
  if (url.search || url.hash) problem("has-query", "The URI has a query string or fragment.");

  const host = url.hostname.toLowerCase();
  const vault = knownVaultHost(host);
  if (!vault || vault.label.includes(".")) {
    problem("unknown-vault-domain", `The host ${displayValue(host)} is not <vault-name>.<vault domain> (e.g. .vault.azure.net, .vault.azure.cn).`);
  } else {
    base.cloud = vault.suffix.cloud;
    base.service = vault.suffix.service;
    if (!VAULT_NAME.test(vault.label)) {
      problem(
        "invalid-vault-name",
        `"${displayValue(vault.label)}" is not a valid vault name (3-24 letters, digits and single dashes, starting with a letter).`,
      );
    }
  }

  // One trailing slash is tolerated; any other empty segment is not. It is reported once, and the
  // parts are read from the non-empty segments, so "//keys/cmk" is not also taken for a key version.
  const segments = url.pathname.replace(/\/$/, "").split("/").slice(1).map(decodeSegment);
  if (segments.includes("")) problem("empty-segment", "The path has an empty segment (//); it must be exactly /keys/<key-name>.");
  const [collection, keyName, version, ...rest] = segments.filter((segment) => segment !== "");
  if (collection === undefined) {
    problem("missing-key-name", "The URI has no /keys/<key-name> path.");
  } else if (collection.toLowerCase() !== "keys") {
    problem(
      "not-a-key",
      `The path starts with /${displayValue(collection, 60)}/: Cosmos DB needs a key (/keys/<name>), not a ${displayValue(collection, 60).replace(/s$/, "")}.`,
    );
  } else if (keyName === undefined) {
    problem("missing-key-name", "The URI ends at /keys without a key name.");
  } else if (!KEY_NAME.test(keyName)) {
    problem("invalid-key-name", `"${displayValue(keyName, 130)}" is not a valid key name (1-127 letters, digits and dashes).`);
  }
  if (version !== undefined) {
    problem(
      "has-version",
      `The URI includes the key version ${displayValue(version, 60)}; Cosmos DB expects the versionless URI and follows the key's current version.`,
    );
  }
  if (rest.length > 0) problem("extra-path", "The URI has extra path segments after the key version.");
  base.valid = base.problems.length === 0;
  return base;
}
