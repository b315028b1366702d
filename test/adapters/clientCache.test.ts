/** The bounded cache of per-subscription and per-vault SDK clients. Pure. */
import { ClientCache } from "../../src/adapters/clientCache";

describe("ClientCache", () => {
  it.each<[string, string[], string[], number]>([
    // Within capacity: each key made once, whatever the order of use.
    ["within capacity", ["a", "b", "a", "b"], ["a", "b"], 2],
    // Full: the least recently used goes, and is made again when asked for.
    ["evicts the least recently used", ["a", "b", "c", "a"], ["a", "b", "c", "a"], 2],
    // A use refreshes a key: "a" used after "b" survives "c"; "b" does not.
    ["a use keeps a key", ["a", "b", "a", "c", "a", "b"], ["a", "b", "c", "b"], 2],
  ])("%s", (_name, uses, expectedMade, capacity) => {
    const cache = new ClientCache<{ key: string }>(capacity);
    const made: string[] = [];
    for (const key of uses) {
      const client = cache.get(key, () => (made.push(key), { key }));
      expect(client.key).toBe(key);
    }
    expect(made).toEqual(expectedMade);
    expect(cache.size).toBeLessThanOrEqual(capacity);
  });

  it("returns the same client for a key while it is kept", () => {
    // SDK clients carry state worth keeping (Key Vault's auth challenge): a hit must be the same object.
    const cache = new ClientCache<object>(4);
    const first = cache.get("vault", () => ({}));
    expect(cache.get("vault", () => ({}))).toBe(first);
  });

  it("refuses a capacity below one", () => {
    expect(() => new ClientCache(0)).toThrow(RangeError);
  });
});
