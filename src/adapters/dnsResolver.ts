/**
 * Vault host name lookups through `dns.promises.Resolver` (c-ares), not `dns.lookup`: getaddrinfo
 * runs on libuv's small thread pool and cannot be cancelled, so a slow DNS server would hold the
 * pool (and the file system and crypto work queued behind it) for as long as it likes. A resolver
 * per lookup has its own per-try timeout and is cancelled when the probe gives up. The sandbox
 * injects its own resolver.
 */
import { promises as dns } from "node:dns";
import type { HostLookupOptions, HostResolver } from "../ports/hostResolver";

export interface DnsResolverOptions {
  /** Per query attempt; c-ares doubles it on each retry. */
  timeoutInMs: number;
  tries: number;
}

export const DEFAULT_DNS_OPTIONS: DnsResolverOptions = { timeoutInMs: 2_000, tries: 2 };

export class CancellableDnsResolver implements HostResolver {
  constructor(
    private readonly options: DnsResolverOptions = DEFAULT_DNS_OPTIONS,
    private readonly createResolver: (options: { timeout: number; tries: number }) => Pick<dns.Resolver, "resolve4" | "resolve6" | "cancel"> = (o) =>
      new dns.Resolver(o),
  ) {}

  async lookup(hostname: string, options: HostLookupOptions = {}): Promise<string[]> {
    const resolver = this.createResolver({ timeout: this.options.timeoutInMs, tries: this.options.tries });
    const cancel = (): void => resolver.cancel();
    if (options.abortSignal?.aborted) throw Object.assign(new Error("DNS lookup cancelled"), { name: "AbortError", code: "ECANCELLED" });
    options.abortSignal?.addEventListener("abort", cancel, { once: true });
    try {
      try {
        return await resolver.resolve4(hostname);
      } catch (error) {
        // A name with only IPv6 addresses exists too.
        if ((error as { code?: unknown }).code !== "ENODATA") throw error;
        return await resolver.resolve6(hostname);
      }
    } finally {
      options.abortSignal?.removeEventListener("abort", cancel);
    }
  }
}
