/**
 * Which host the Key Vault probes may talk to. The key URI is written by whoever can write the
 * account, so the probes read a vault only on a host that is unmistakably a vault of this cloud:
 * `<vault-name>.<vault suffix>`, no user name or password, no port. Anything else is not looked
 * up in DNS, not connected to and not named in a token request.
 */
import { VAULT_DNS_SUFFIXES, type KeyVaultService } from "./keyVaultUri";

export type AzureCloudName = "AzureCloud" | "AzureChinaCloud" | "AzureUSGovernment";

export const AZURE_CLOUDS: readonly AzureCloudName[] = ["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"];

/** The ARM host of each cloud, from which the monitor's own cloud is known (CMK_ARM_ENDPOINT). */
const ARM_HOSTS: ReadonlyMap<string, AzureCloudName> = new Map([
  ["management.azure.com", "AzureCloud"],
  ["management.chinacloudapi.cn", "AzureChinaCloud"],
  ["management.usgovcloudapi.net", "AzureUSGovernment"],
]);

/** The cloud an ARM endpoint belongs to; any other endpoint (a sandbox, a proxy) counts as the public cloud. */
export function cloudOfArmEndpoint(armEndpoint: string): AzureCloudName {
  let host: string;
  try {
    host = new URL(armEndpoint).hostname.toLowerCase();
  } catch {
    return "AzureCloud";
  }
  return ARM_HOSTS.get(host) ?? "AzureCloud";
}

/** The vault and Managed HSM DNS suffixes of one cloud. */
export function vaultSuffixesOf(cloud: AzureCloudName): readonly string[] {
  return VAULT_DNS_SUFFIXES.filter((entry) => entry.cloud === cloud).map((entry) => entry.suffix);
}

export interface VaultProbeTarget {
  /** Lower-case `<vault-name>.<suffix>`: the only host a probe connects to. */
  host: string;
  /** The suffix it is under, which also names the token scope (`https://<suffix>/.default`). */
  suffix: string;
  service: KeyVaultService;
}

/** Vault and Managed HSM names: 3-24 letters, digits and single dashes, a letter first, no dash last. */
const VAULT_LABEL = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;

/** The host to probe, or undefined when the URI's host is not a vault under one of `suffixes`. */
export function vaultProbeTarget(uri: string | undefined, suffixes: readonly string[]): VaultProbeTarget | undefined {
  if (typeof uri !== "string") return undefined;
  const text = uri.trim();
  let url: URL;
  try {
    // Like the lenient parse: a URI without a scheme is read as https (the probes only speak https).
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return undefined;
  }
  if (url.username !== "" || url.password !== "" || url.port !== "") return undefined;
  // WHATWG URL has already turned IP literals in any notation into dotted or bracketed form, and
  // Unicode into punycode: neither can match a suffix with a valid vault label in front.
  const host = url.hostname.toLowerCase();
  for (const suffix of suffixes) {
    const lower = suffix.toLowerCase();
    if (!host.endsWith(`.${lower}`)) continue;
    const label = host.slice(0, host.length - lower.length - 1);
    if (!VAULT_LABEL.test(label)) return undefined;
    const known = VAULT_DNS_SUFFIXES.find((entry) => entry.suffix === lower);
    return { host, suffix: lower, service: known?.service ?? "vault" };
  }
  return undefined;
}
