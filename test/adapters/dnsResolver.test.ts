/** The vault-host DNS lookups: bounded per try, cancelled with the probe, IPv6-only names found. */
import { CancellableDnsResolver } from "../../src/adapters/dnsResolver";

type FakeResolver = { resolve4: jest.Mock; resolve6: jest.Mock; cancel: jest.Mock; options?: { timeout: number; tries: number } };

function fake(
  resolve4: () => Promise<string[]>,
  resolve6: () => Promise<string[]> = async () => [],
): { resolver: CancellableDnsResolver; made: FakeResolver[] } {
  const made: FakeResolver[] = [];
  const resolver = new CancellableDnsResolver({ timeoutInMs: 750, tries: 3 }, (options) => {
    const instance: FakeResolver = { resolve4: jest.fn(resolve4), resolve6: jest.fn(resolve6), cancel: jest.fn(), options };
    made.push(instance);
    return instance as never;
  });
  return { resolver, made };
}

describe("CancellableDnsResolver", () => {
  it("gives each lookup its own resolver with the configured per-try timeout and tries", async () => {
    // One resolver per lookup: cancelling one probe's lookup must not cancel another's.
    const { resolver, made } = fake(async () => ["10.0.0.1"]);
    await resolver.lookup("kv-a.vault.azure.net");
    await resolver.lookup("kv-b.vault.azure.net");
    expect(made.map((m) => m.options)).toEqual([
      { timeout: 750, tries: 3 },
      { timeout: 750, tries: 3 },
    ]);
  });

  it("cancels the query when the probe's signal aborts", async () => {
    // c-ares rejects outstanding queries with ECANCELLED on cancel(); the fake plays that.
    let reject: (error: Error) => void = () => {};
    const { resolver, made } = fake(() => new Promise<string[]>((_, r) => (reject = r)));
    const controller = new AbortController();
    const pending = resolver.lookup("kv-slow.vault.azure.net", { abortSignal: controller.signal });
    made[0]!.cancel.mockImplementation(() => reject(Object.assign(new Error("queryA ECANCELLED"), { code: "ECANCELLED" })));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "ECANCELLED" });
    expect(made[0]!.cancel).toHaveBeenCalledTimes(1);
  });

  it("does not query at all when the signal has already aborted", async () => {
    // The probe timed out while the lookup waited for a slot.
    const { resolver, made } = fake(async () => ["10.0.0.1"]);
    const controller = new AbortController();
    controller.abort();
    await expect(resolver.lookup("kv-a.vault.azure.net", { abortSignal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(made[0]!.resolve4).not.toHaveBeenCalled();
  });

  it.each<[string, () => Promise<string[]>, () => Promise<string[]>, string[] | string]>([
    // IPv4 answers: done.
    ["IPv4", async () => ["10.0.0.1"], async () => ["::1"], ["10.0.0.1"]],
    // No A record but the name exists: its AAAA records count (a private endpoint may be IPv6).
    ["IPv6 only", () => Promise.reject(Object.assign(new Error("ENODATA"), { code: "ENODATA" })), async () => ["fd00::1"], ["fd00::1"]],
    // No such name: ENOTFOUND reaches the probe, which reads it as "does not resolve".
    ["no such name", () => Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" })), async () => ["fd00::1"], "ENOTFOUND"],
  ])("%s", async (_name, resolve4, resolve6, expected) => {
    const { resolver } = fake(resolve4, resolve6);
    if (typeof expected === "string") await expect(resolver.lookup("kv-a.vault.azure.net")).rejects.toMatchObject({ code: expected });
    else await expect(resolver.lookup("kv-a.vault.azure.net")).resolves.toEqual(expected);
  });
});
