/** The probe session with fake ports: timeouts, caching, and "could not check" wording. */
import { SdkAccountProber, type ProbePorts } from "../../src/probes/accountProber";
import { activeKey, activeVault, PROBE_ACCOUNT, PROBE_SUBSCRIPTION } from "../fixtures/probes";
import type { HostResolver } from "../../src/ports/hostResolver";
import type { KeyMetadataReader, VaultDirectory } from "../../src/ports/keyVaultReads";
import type { RoleAssignmentReader } from "../../src/ports/roleAssignments";
import type { CallLimiter } from "../../src/ports/accountProber";
import { Slots } from "../../src/pipeline/concurrency";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

function ports(overrides: Partial<ProbePorts> = {}): ProbePorts & { calls: string[] } {
  const calls: string[] = [];
  const resolver: HostResolver = { lookup: async (host) => (calls.push(`dns ${host}`), ["10.0.0.1"]) };
  const vaults: VaultDirectory = {
    listVaults: async (sub) => (calls.push(`list ${sub}`), [{ id: activeVault().id, name: "kv-orders", resourceGroup: "rg-kv" }]),
    getVault: async () => (calls.push("get vault"), activeVault()),
    listDeletedVaults: async () => (calls.push("list deleted"), []),
  };
  const keys: KeyMetadataReader = { getKey: async () => (calls.push("get key"), activeKey()), getDeletedKey: async () => undefined };
  const roles: RoleAssignmentReader = {
    listApplying: async () => [],
    getRoleDefinition: async () => ({ permissions: [] }),
    listDenyAssignments: async () => [],
  };
  return { resolver, vaults, keys, roles, ...overrides, calls };
}

function prober(p: ProbePorts, timeoutInMs = 50) {
  return new SdkAccountProber(p, { timeoutInMs, subscriptionIds: [PROBE_SUBSCRIPTION], now: () => new Date("2026-11-29T08:00:00Z") });
}

describe("probe session", () => {
  it.each<[string, Partial<ProbePorts>, "dns" | "vault" | "key", string]>([
    // A DNS server that never answers: the probe gives up, says so, and the cycle moves on.
    ["dns hangs", { resolver: { lookup: () => never() } }, "dns", "DNS lookup timed out after 50 ms"],
    // ARM hangs on the vault read.
    ["vault read hangs", { vaults: { ...ports().vaults, getVault: () => never() } }, "vault", "vault read timed out after 50 ms"],
    // The data plane hangs on the key.
    ["key read hangs", { keys: { getKey: () => never(), getDeletedKey: async () => undefined } }, "key", "key read timed out after 50 ms"],
  ])("%s: could not check, timed out", async (_name, overrides, probe, reason) => {
    const facts = await prober(ports(overrides)).session().probe(PROBE_ACCOUNT);
    expect(facts[probe]).toEqual({ checked: false, reason });
  });

  it("passes an abort signal that fires on timeout, so the SDK call is cancelled too", async () => {
    // A timed-out call must not keep a socket busy for the rest of the cycle.
    let signal: AbortSignal | undefined;
    const facts = await prober(
      ports({ keys: { getKey: (_u, _k, options) => ((signal = options?.abortSignal), never()), getDeletedKey: async () => undefined } }),
    )
      .session()
      .probe(PROBE_ACCOUNT);
    expect(facts.key.checked).toBe(false);
    expect(signal?.aborted).toBe(true);
  });

  it("a 404 on the key and a 403 on the deleted key is not 'purged'", async () => {
    // Whether the key is soft-deleted is unknown: never claim it is gone for good.
    const forbidden = Object.assign(new Error("Forbidden"), {
      statusCode: 403,
      code: "Forbidden",
      details: { error: { innerError: { code: "ForbiddenByPolicy" } } },
    });
    const facts = await prober(ports({ keys: { getKey: async () => undefined, getDeletedKey: async () => Promise.reject(forbidden) } }))
      .session()
      .probe(PROBE_ACCOUNT);
    expect(facts.key).toEqual({
      checked: false,
      reason:
        "key cmk is not a live key, and whether it is soft-deleted could not be checked: the monitor's identity has no access policy to read keys in this vault; it needs key permissions get and list (HTTP 403 ForbiddenByPolicy)",
    });
  });

  it("one session reads each subscription listing, vault, key and host once", async () => {
    // The per-cycle cache is what keeps a hundred revoked accounts on one vault cheap.
    const p = ports();
    const session = prober(p).session();
    await Promise.all([session.probe(PROBE_ACCOUNT), session.probe({ ...PROBE_ACCOUNT, id: `${PROBE_ACCOUNT.id}-2`, name: "orders-db-2" })]);
    expect(p.calls.sort()).toEqual(["dns kv-orders.vault.azure.net", "get key", "get vault", `list ${PROBE_SUBSCRIPTION}`]);
  });

  it("a key URI that names no vault checks only what is local", async () => {
    // Nothing remote can be asked about a URI we cannot read.
    const p = ports();
    const facts = await prober(p)
      .session()
      .probe({ ...PROBE_ACCOUNT, keyVaultKeyUri: "not a uri" });
    expect(facts.keyUri.valid).toBe(false);
    expect(facts.vault).toEqual({ checked: false, reason: "the key URI does not name a vault and a key" });
    expect(p.calls).toEqual([]);
  });

  it.each<[string, string]>([
    // Another domain entirely: the attacker's own server would answer the probe.
    ["another domain", "https://evil.example.com/keys/cmk"],
    // A vault suffix inside someone else's domain.
    ["suffix as a subdomain", "https://kv-orders.vault.azure.net.evil.example.com/keys/cmk"],
    // IP literals, dotted, hex, decimal and IPv6: internal addresses.
    ["dotted IP", "https://10.0.0.5/keys/cmk"],
    ["hex IP", "https://0x7f000001/keys/cmk"],
    ["decimal IP", "https://2130706433/keys/cmk"],
    ["IPv6 loopback", "https://[::1]/keys/cmk"],
    ["localhost", "https://localhost/keys/cmk"],
    // An internal single-label name.
    ["internal name", "https://metadata/keys/cmk"],
    // Userinfo: what is before the @ is not the host, and credentials would be sent.
    ["userinfo", "https://attacker@kv-orders.vault.azure.net/keys/cmk"],
    ["host as userinfo", "https://kv-orders.vault.azure.net@evil.example.com/keys/cmk"],
    // A port: vaults listen on 443 only.
    ["port", "https://kv-orders.vault.azure.net:8443/keys/cmk"],
    // Not a valid vault label: too short, a dot inside, a double dash.
    ["label too short", "https://kv.vault.azure.net/keys/cmk"],
    ["two labels", "https://a.kv-orders.vault.azure.net/keys/cmk"],
    ["double dash", "https://kv--orders.vault.azure.net/keys/cmk"],
    // Another cloud's vault: this monitor runs in the public cloud.
    ["China cloud vault", "https://kv-orders.vault.azure.cn/keys/cmk"],
    // A trailing dot is another DNS name than the suffix.
    ["trailing dot", "https://kv-orders.vault.azure.net./keys/cmk"],
  ])("%s: not a Key Vault host, nothing looked up, connected to or asked of ARM", async (_name, keyVaultKeyUri) => {
    const p = ports();
    const facts = await prober(p)
      .session()
      .probe({ ...PROBE_ACCOUNT, keyVaultKeyUri });
    const notProbed = { checked: false, reason: "not a Key Vault host: not probed" };
    expect([facts.dns, facts.vault, facts.key, facts.roleAssignments]).toEqual([notProbed, notProbed, notProbed, notProbed]);
    expect(p.calls).toEqual([]);
  });

  it.each([
    // Percent-encoded dot segments: decoded, "../.." would climb out of /keys/ on the vault.
    ["dot segments", "https://kv-orders.vault.azure.net/keys/%2e%2e%2f%2e%2e"],
    // A quote and a space: no key can have them.
    ["quote", "https://kv-orders.vault.azure.net/keys/k'%20x"],
  ])("%s in the key name: the vault is read, the key is not", async (_name, keyVaultKeyUri) => {
    const p = ports();
    const facts = await prober(p)
      .session()
      .probe({ ...PROBE_ACCOUNT, keyVaultKeyUri });
    expect(facts.key).toEqual({ checked: false, reason: expect.stringMatching(/^the key name is not one Key Vault allows/) });
    expect(p.calls).not.toContain("get key");
  });

  it.each<[string, string[], string]>([
    // The public cloud's vault, with a version and a trailing slash (a 4006 URI is still probed).
    ["public vault", ["vault.azure.net"], "https://KV-Orders.vault.azure.net/keys/cmk/0123456789abcdef/"],
    // A URI without a scheme is read as https, like the lenient parse.
    ["no scheme", ["vault.azure.net"], "kv-orders.vault.azure.net/keys/cmk"],
    // A China cloud vault, where the monitor runs in the China cloud.
    ["China vault in China", ["vault.azure.cn", "managedhsm.azure.cn"], "https://kv-orders.vault.azure.cn/keys/cmk"],
  ])("%s: probed", async (_name, vaultHostSuffixes, keyVaultKeyUri) => {
    const p = ports();
    const facts = await new SdkAccountProber(p, { timeoutInMs: 50, subscriptionIds: [PROBE_SUBSCRIPTION], now: () => new Date(), vaultHostSuffixes })
      .session()
      .probe({ ...PROBE_ACCOUNT, keyVaultKeyUri });
    expect(facts.dns.checked && facts.key.checked).toBe(true);
    expect(p.calls.filter((call) => call.startsWith("dns"))).toEqual([`dns kv-orders.${vaultHostSuffixes[0]}`]);
  });

  it.each<[string, object, string]>([
    // A refused connection names the category and the code, never the address and port.
    ["refused", { code: "ECONNREFUSED", message: "connect ECONNREFUSED 10.1.2.3:443" }, "could not connect to Key Vault (ECONNREFUSED)"],
    // The SDK's wrapper for a socket error without a code of its own.
    ["send error", { code: "REQUEST_SEND_ERROR", message: "socket hang up 10.1.2.3" }, "could not connect to Key Vault (REQUEST_SEND_ERROR)"],
    // A certificate for other names: "TLS error", never the certificate's names.
    [
      "certificate names",
      {
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
        message: "Hostname/IP does not match certificate's altnames: Host: kv-orders.vault.azure.net. is not in the cert's altnames: DNS:internal.corp",
      },
      "TLS error talking to Key Vault (ERR_TLS_CERT_ALTNAME_INVALID)",
    ],
    [
      "self-signed",
      { code: "DEPTH_ZERO_SELF_SIGNED_CERT", message: "self-signed certificate for 10.1.2.3" },
      "TLS error talking to Key Vault (DEPTH_ZERO_SELF_SIGNED_CERT)",
    ],
    // An HTTP error: the status and the service's code, not its message.
    ["HTTP 502", { statusCode: 502, code: "BadGateway", message: "upstream 10.1.2.3:8080 failed" }, "Key Vault answered HTTP 502 BadGateway"],
    // A code that is free text is left out.
    ["odd code", { statusCode: 400, code: "10.1.2.3 said no", message: "x" }, "Key Vault answered HTTP 400"],
    // Anything else: the error's name, no message.
    ["unknown", { message: "something at 10.1.2.3 went wrong" }, "Key Vault failed (no error code)"],
  ])("a key read that fails (%s) is described by category", async (_name, failure, reason) => {
    const error = Object.assign(new Error((failure as { message: string }).message), failure);
    const facts = await prober(ports({ keys: { getKey: async () => Promise.reject(error), getDeletedKey: async () => undefined } }))
      .session()
      .probe(PROBE_ACCOUNT);
    expect(facts.key).toEqual({ checked: false, reason });
  });

  it("passes the probe's abort signal to the DNS lookup, so a slow resolver is cancelled", async () => {
    // A lookup that outlives its timeout would hold the resolver's slot for the rest of the cycle.
    let signal: AbortSignal | undefined;
    const facts = await prober(ports({ resolver: { lookup: (_host, options) => ((signal = options?.abortSignal), never()) } }))
      .session()
      .probe(PROBE_ACCOUNT);
    expect(facts.dns).toEqual({ checked: false, reason: "DNS lookup timed out after 50 ms" });
    expect(signal?.aborted).toBe(true);
  });

  describe("call slots", () => {
    const VAULTS = ["kv-a", "kv-b", "kv-c"];
    /** Accounts two per vault: the second of each waits on the first one's reads. */
    const accounts = VAULTS.flatMap((vault) =>
      [1, 2].map((n) => ({
        ...PROBE_ACCOUNT,
        id: `${PROBE_ACCOUNT.id}-${vault}-${n}`,
        name: `db-${vault}-${n}`,
        keyVaultKeyUri: `https://${vault}.vault.azure.net/keys/cmk`,
      })),
    );

    /** Ports whose remote calls each take `ms` (on jest's clock) and count how many run at once. */
    function slowPorts(ms: number): ProbePorts & { inFlight: () => number; peak: () => number; calls: () => number } {
      let inFlight = 0;
      let peak = 0;
      let calls = 0;
      const remote = async <T>(value: T): Promise<T> => {
        inFlight += 1;
        calls += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, ms));
        inFlight -= 1;
        return value;
      };
      return {
        resolver: { lookup: () => remote(["10.0.0.1"]) },
        vaults: {
          listVaults: () => remote(VAULTS.map((name) => ({ id: `${activeVault().id}-${name}`, name, resourceGroup: "rg-kv" }))),
          getVault: (_s, _rg, name) => remote(activeVault({ name })),
          listDeletedVaults: () => remote([]),
        },
        keys: { getKey: () => remote(activeKey()), getDeletedKey: async () => undefined },
        roles: { listApplying: async () => [], getRoleDefinition: async () => ({ permissions: [] }), listDenyAssignments: async () => [] },
        inFlight: () => inFlight,
        peak: () => peak,
        calls: () => calls,
      };
    }

    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it.each([
      // One slot: every call waits its turn, the session still finishes every account.
      [1],
      // Two slots shared by six accounts on three vaults.
      [2],
      // More slots than there is work at any moment: the limit is never the constraint.
      [16],
    ])("with %d slot(s), never more calls in flight than slots, and each vault is read once", async (size) => {
      const p = slowPorts(10);
      const session = new SdkAccountProber(p, {
        timeoutInMs: 1000,
        subscriptionIds: [PROBE_SUBSCRIPTION],
        now: () => new Date(),
        callSlots: new Slots(size),
      }).session();
      const all = Promise.all(accounts.map((account) => session.probe(account)));
      await jest.advanceTimersByTimeAsync(1000);
      const facts = await all;
      expect(facts.every((f) => f.vault.checked && f.key.checked && f.dns.checked)).toBe(true);
      expect(p.peak()).toBeLessThanOrEqual(size);
      // One listing for the subscription, then per vault: DNS, vault read, key read.
      expect(p.calls()).toBe(1 + VAULTS.length * 3);
    });

    it("an account waiting on a vault another account is reading holds no slot", async () => {
      // With one slot, a waiting account that held it would leave the reading account none: a deadlock.
      const p = slowPorts(10);
      const session = new SdkAccountProber(p, {
        timeoutInMs: 1000,
        subscriptionIds: [PROBE_SUBSCRIPTION],
        now: () => new Date(),
        callSlots: new Slots(1),
      }).session();
      const both = Promise.all([session.probe(accounts[0]!), session.probe(accounts[1]!)]);
      await jest.advanceTimersByTimeAsync(200);
      expect((await both).map((f) => f.key.checked)).toEqual([true, true]);
    });

    it("the timeout starts when the call has its slot, not while it waits for one", async () => {
      // Three vaults' calls queue behind one slot for far longer than the 25 ms timeout; none times out.
      const p = slowPorts(10);
      const slots: CallLimiter = new Slots(1);
      const session = new SdkAccountProber(p, { timeoutInMs: 25, subscriptionIds: [PROBE_SUBSCRIPTION], now: () => new Date(), callSlots: slots }).session();
      const all = Promise.all(accounts.map((account) => session.probe(account)));
      await jest.advanceTimersByTimeAsync(500);
      const facts = await all;
      expect(facts.flatMap((f) => [f.dns, f.vault, f.key]).filter((c) => !c.checked)).toEqual([]);
    });
  });
});
