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
  const trimmed = uri.trim();
  if (trimmed === "") return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    return undefined;
  }
  const vaultHost = url.hostname.toLowerCase();
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
