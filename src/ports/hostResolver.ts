/** Port: resolves a host name to addresses, or throws with `code: "ENOTFOUND"` when it does not exist. */
export interface HostLookupOptions {
  /** Cancels the lookup (the probe's timeout): a slow DNS server must not hold a probe slot. */
  abortSignal?: AbortSignal;
}

export interface HostResolver {
  lookup(hostname: string, options?: HostLookupOptions): Promise<string[]>;
}

/** True for a definite "no such host"; anything else (timeouts, SERVFAIL) proves nothing. */
export function isNoSuchHost(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ENOTFOUND" || code === "ENODATA";
}
