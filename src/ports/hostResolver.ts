/** Port: resolves a host name to addresses, or throws with `code: "ENOTFOUND"` when it does not exist. */
export interface HostResolver {
  lookup(hostname: string): Promise<string[]>;
}

/** True for a definite "no such host"; anything else (timeouts, SERVFAIL) proves nothing. */
export function isNoSuchHost(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ENOTFOUND" || code === "ENODATA";
}
