/**
 * Key Vault throttles per vault, and one shared vault can sit behind hundreds of accounts. The
 * probe session already reads each key once per cycle; this keeps the reads this instance makes
 * to any one vault under a steady rate (a token bucket per vault host), far below the service's
 * own limit, so the monitor never competes with the workloads that depend on that vault.
 */
import type { ActiveKeyFacts, DeletedKeyFacts } from "../domain/probeFacts";
import type { KeyMetadataReader, ProbeCallOptions } from "../ports/keyVaultReads";

export interface VaultRate {
  /** Reads per second, per vault, from this instance. */
  perSecond: number;
  /** Reads allowed at once after a quiet spell. */
  burst: number;
}

/** Key Vault allows 4,000 key reads per 10 seconds per vault; the monitor takes half a percent of that. */
export const DEFAULT_VAULT_RATE: VaultRate = { perSecond: 20, burst: 20 };

class AbortError extends Error {
  override readonly name = "AbortError";
}

export class RateLimitedKeyReader implements KeyMetadataReader {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly inner: KeyMetadataReader,
    private readonly rate: VaultRate = DEFAULT_VAULT_RATE,
    private readonly now: () => number = Date.now,
  ) {}

  async getKey(vaultUrl: string, keyName: string, options: ProbeCallOptions = {}): Promise<ActiveKeyFacts | undefined> {
    await this.take(vaultUrl, options);
    return this.inner.getKey(vaultUrl, keyName, options);
  }

  async getDeletedKey(vaultUrl: string, keyName: string, options: ProbeCallOptions = {}): Promise<DeletedKeyFacts | undefined> {
    await this.take(vaultUrl, options);
    return this.inner.getDeletedKey(vaultUrl, keyName, options);
  }

  /** Waits for a token of this vault's bucket. */
  private async take(vaultUrl: string, options: ProbeCallOptions): Promise<void> {
    const vault = vaultUrl.toLowerCase();
    for (;;) {
      if (options.abortSignal?.aborted) throw new AbortError("The key read was cancelled while waiting for the vault's rate limit");
      const now = this.now();
      const bucket = this.buckets.get(vault) ?? { tokens: this.rate.burst, at: now };
      bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond);
      bucket.at = now;
      this.buckets.set(vault, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      await pause(Math.ceil(((1 - bucket.tokens) / this.rate.perSecond) * 1000), options.abortSignal);
    }
  }
}

/** Sleeps `ms`, or less when the signal aborts (the caller then sees `aborted`). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
