/** Key reads per vault are paced by a token bucket per vault host. */
import { RateLimitedKeyReader } from "../../src/adapters/vaultRateLimit";
import type { KeyMetadataReader } from "../../src/ports/keyVaultReads";

function counting(): { reader: KeyMetadataReader; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    reader: {
      getKey: async (vaultUrl) => (calls.push(vaultUrl), { state: "active", name: "k", enabled: true }),
      getDeletedKey: async (vaultUrl) => (calls.push(vaultUrl), undefined),
    },
  };
}

describe("RateLimitedKeyReader", () => {
  it("lets a burst through, then paces one vault, and never holds up another vault", async () => {
    const { reader, calls } = counting();
    const limited = new RateLimitedKeyReader(reader, { perSecond: 20, burst: 3 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => limited.getKey("https://kv-a.vault.azure.net", "k")));
    // Three at once, then two more at 20 a second: about 100 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    const other = Date.now();
    await limited.getDeletedKey("https://kv-b.vault.azure.net", "k");
    expect(Date.now() - other).toBeLessThan(50);
    expect(calls).toHaveLength(6);
  });

  it("gives up waiting when the probe's own timeout aborts", async () => {
    const { reader } = counting();
    const limited = new RateLimitedKeyReader(reader, { perSecond: 1, burst: 1 });
    await limited.getKey("https://kv-c.vault.azure.net", "k");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(limited.getKey("https://kv-c.vault.azure.net", "k", { abortSignal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});
