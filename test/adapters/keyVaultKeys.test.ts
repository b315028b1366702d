/**
 * Connections to vaults: the probe reads a vault's key in two requests back to back, then not
 * again until tomorrow, so a connection is reused for the pair and closed soon after.
 */
import type { Agent } from "node:https";
import type { TokenCredential } from "@azure/core-auth";
import { proxyConfigured } from "../../src/config";
import { createKeyVaultAgent, SdkKeyMetadataReader, VAULT_IDLE_SOCKET_IN_MS, VaultScopedCredential } from "../../src/adapters/keyVaultKeys";
import { LocalSandbox } from "../../src/sandbox";

let sandbox: LocalSandbox;

afterEach(async () => {
  await sandbox?.stop();
});

function openSockets(agent: Agent): number {
  const count = (pool: NodeJS.ReadOnlyDict<unknown[]>): number => Object.values(pool).reduce((total, list) => total + (list?.length ?? 0), 0);
  return count(agent.sockets) + count(agent.freeSockets);
}

function reader(): SdkKeyMetadataReader {
  return new SdkKeyMetadataReader({ credential: sandbox.credential, clientOptions: { retryOptions: { maxRetries: 0 }, agent: sandbox.keyVaultAgent } });
}

function vault(name: string): string {
  sandbox.keyVault.createVault({ name, subscriptionId: "00000000-0000-4000-8000-0000000000d1", resourceGroup: "rg" });
  sandbox.keyVault.createKey(name, "cmk");
  return `https://${name}.vault.azure.net`;
}

describe("vault connections", () => {
  it("reads a key over one connection (the challenge and the read) and closes it once idle", async () => {
    sandbox = await LocalSandbox.start();
    const url = vault("kv-idle-1");

    const key = await reader().getKey(url, "cmk");

    expect(key?.state).toBe("active");
    // Both requests of the read went over the one connection, now idle in the pool.
    expect(sandbox.requests().filter((request) => request.route === "kv-key")).toHaveLength(2);
    expect(openSockets(sandbox.keyVaultAgent)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, VAULT_IDLE_SOCKET_IN_MS + 500));
    // Idle past the limit: closed, so a fleet's vaults do not pile up open connections.
    expect(openSockets(sandbox.keyVaultAgent)).toBe(0);
  });

  it("does not cut a request that takes longer than the idle limit (the limit is for idle connections only)", async () => {
    sandbox = await LocalSandbox.start({ latencyInMs: VAULT_IDLE_SOCKET_IN_MS + 300 });
    const url = vault("kv-slow-1");

    const key = await reader().getKey(url, "cmk");

    expect(key?.state).toBe("active");
  });

  it("builds the production agent with keep-alive and the idle limit", () => {
    const agent = createKeyVaultAgent({ proxyConfigured: false })!;
    // Options are what Node applies to every socket the agent opens.
    expect(agent.options).toMatchObject({ keepAlive: true, timeout: VAULT_IDLE_SOCKET_IN_MS });
    agent.destroy();
  });

  it.each([
    // The variables the SDK's proxy policy reads, in either case: its proxy agent must carry the calls.
    [{ HTTPS_PROXY: "http://proxy.contoso.com:8080" }],
    [{ https_proxy: "http://proxy.contoso.com:8080" }],
    [{ HTTP_PROXY: "http://proxy.contoso.com:8080" }],
    [{ ALL_PROXY: "http://proxy.contoso.com:8080" }],
  ])("leaves the connections to the SDK's proxy agent when a proxy is configured (%j)", (env) => {
    expect(createKeyVaultAgent({ proxyConfigured: proxyConfigured(env) })).toBeUndefined();
  });

  it("ignores proxy variables that are set but empty", () => {
    const agent = createKeyVaultAgent({ proxyConfigured: proxyConfigured({ HTTPS_PROXY: "", http_proxy: "" }) });
    expect(agent).toBeDefined();
    agent?.destroy();
  });
});

describe("the vault client's credential", () => {
  /** A credential that records what it was asked for. */
  function recording(): TokenCredential & { asked: Array<{ scopes: string | string[]; tenantId: string | undefined }> } {
    const asked: Array<{ scopes: string | string[]; tenantId: string | undefined }> = [];
    return {
      asked,
      getToken: async (scopes, options) => (asked.push({ scopes, tenantId: options?.tenantId }), { token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
  }

  it.each<[string, string, string | string[]]>([
    // A challenge naming another resource: no token for it.
    ["another resource", "https://kv-orders.vault.azure.net", "https://management.azure.com/.default"],
    // Another cloud's vault scope for a public-cloud vault.
    ["another cloud", "https://kv-orders.vault.azure.net", "https://vault.azure.cn/.default"],
    // Two scopes, one of them right: still more than the vault needs.
    ["extra scope", "https://kv-orders.vault.azure.net", ["https://vault.azure.net/.default", "https://graph.microsoft.com/.default"]],
    // An attacker's host that would look like a vault suffix to a lax check.
    ["look-alike", "https://kv-orders.vault.azure.net", "https://vault.azure.net.evil.example.com/.default"],
  ])("refuses a token for %s, without asking the real credential", async (_name, vaultUrl, scopes) => {
    const inner = recording();
    await expect(new VaultScopedCredential(inner, vaultUrl).getToken(scopes)).rejects.toMatchObject({ code: "UnexpectedScope" });
    expect(inner.asked).toEqual([]);
  });

  it.each<[string, string, string]>([
    // The public cloud's vault scope; the challenge's tenant is dropped.
    ["public vault", "https://kv-orders.vault.azure.net", "https://vault.azure.net/.default"],
    // Managed HSM has its own scope.
    ["managed HSM", "https://hsm-orders.managedhsm.azure.net", "https://managedhsm.azure.net/.default"],
    // US Government cloud.
    ["US Gov vault", "https://kv-orders.vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net/.default"],
  ])("issues the %s's own scope and never a challenge's tenant", async (_name, vaultUrl, scope) => {
    const inner = recording();
    await new VaultScopedCredential(inner, vaultUrl).getToken([scope.toUpperCase()], { tenantId: "00000000-0000-0000-0000-00000000bad0" });
    expect(inner.asked).toEqual([{ scopes: scope, tenantId: undefined }]);
  });

  it("a real key read against the sandbox's challenge asks for the vault scope in the monitor's own tenant", async () => {
    // The sandbox's challenge names a tenant (as Key Vault's does): the token request must not carry it.
    sandbox = await LocalSandbox.start();
    const url = vault("kv-scope-1");
    const inner = recording();
    const key = await new SdkKeyMetadataReader({ credential: inner, clientOptions: { retryOptions: { maxRetries: 0 }, agent: sandbox.keyVaultAgent } }).getKey(
      url,
      "cmk",
    );
    expect(key?.state).toBe("active");
    expect(inner.asked).toEqual([{ scopes: "https://vault.azure.net/.default", tenantId: undefined }]);
  });
});
