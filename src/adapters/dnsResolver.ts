/** Vault host name lookups, via `dns.promises` (the sandbox injects its own resolver). */
import { promises as dns } from "node:dns";
import type { HostResolver } from "../ports/hostResolver";

export const systemResolver: HostResolver = {
  async lookup(hostname) {
    const addresses = await dns.lookup(hostname, { all: true });
    return addresses.map((entry) => entry.address);
  },
};
