/** DNS from a table: a name not in it does not exist (ENOTFOUND). */
import type { HostResolver } from "../../src/ports/hostResolver";

export class FakeHostResolver implements HostResolver {
  constructor(readonly hosts: Map<string, string[]> = new Map()) {}

  async lookup(hostname: string): Promise<string[]> {
    const addresses = this.hosts.get(hostname.toLowerCase());
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return [...addresses];
  }
}
