/**
 * Connections to vaults: the probe reads a vault's key in two requests back to back, then not
 * again until tomorrow, so a connection is reused for the pair and closed soon after.
 */
import type { Agent } from "node:https";
import { proxyConfigured } from "../../src/config";
import { createKeyVaultAgent, SdkKeyMetadataReader, VAULT_IDLE_SOCKET_IN_MS } from "../../src/adapters/keyVaultKeys";
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
