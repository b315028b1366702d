/**
 * SDK clients are made per subscription (ARM) or per vault (Key Vault's data plane), and a fleet
 * has thousands of each: kept forever, at 13–17 KB apiece, they would grow an instance's memory
 * with the fleet. This keeps the most recently used ones; the rest are made again when needed
 * (cheap: the connection pool is shared, and a Key Vault client only repeats its auth challenge).
 */
export class ClientCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`ClientCache capacity must be at least 1, got ${capacity}`);
  }

  /** The client for `key`, made with `create` when it is not kept; the least recently used one goes when full. */
  get(key: string, create: () => T): T {
    const kept = this.entries.get(key);
    if (kept !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept;
    }
    const made = create();
    this.entries.set(key, made);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return made;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Clients kept per kind. A cycle uses a subscription's or vault's client for a call or two, then
 * not again until the next cycle (or day), so keeping more than the calls in progress buys little:
 * a fleet larger than the cache misses on every client anyway (least recently used, visited in
 * turn). 64 covers the accounts an instance has in progress; 512 per kind held about 20 MB more
 * at peak in the benchmark for no measurable speed.
 */
export const CLIENTS_KEPT = 64;
