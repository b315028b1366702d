/** Vault host name lookups, via `dns.promises` (the sandbox injects its own resolver). */
import { promises as dns } from "node:dns";

/** Port: resolves a host name to addresses, or throws with `code: "ENOTFOUND"` when it does not exist. */
export interface HostResolver {
  lookup(hostname: string): Promise<string[]>;
}

export const systemResolver: HostResolver = {
  async lookup(hostname) {
    const addresses = await dns.lookup(hostname, { all: true });
    return addresses.map((entry) => entry.address);
  },
};

/** True for a definite "no such host"; anything else (timeouts, SERVFAIL) proves nothing. */
export function isNoSuchHost(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ENOTFOUND" || code === "ENODATA";
}
