/** ARM's per-subscription read bucket in the sandbox, seen through the real Cosmos DB client. */
import { CosmosDBManagementClient } from "@azure/arm-cosmosdb";
import { LocalSandbox } from "../../src/sandbox";

const SUB_A = "00000000-0000-4000-8000-0000000000a1";
const SUB_B = "00000000-0000-4000-8000-0000000000b1";
let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start({ armThrottle: { capacity: 3, refillPerSecond: 2 } });
  sandbox.putAccount({ name: "thr-a", subscriptionId: SUB_A, resourceGroup: "rg", keyVaultKeyUri: "https://kv-thr.vault.azure.net/keys/k", keyVault: "none" });
});
afterAll(async () => {
  await sandbox?.stop();
});

const client = (subscriptionId: string, maxRetries?: number) =>
  new CosmosDBManagementClient(sandbox.credential, subscriptionId, {
    endpoint: sandbox.url,
    tlsOptions: { ca: sandbox.ca },
    ...(maxRetries !== undefined ? { retryOptions: { maxRetries } } : {}),
  });

describe("ARM read throttling", () => {
  it("answers 429 with Retry-After once a subscription's bucket is empty, per subscription", async () => {
    const noRetry = client(SUB_A, 0);
    for (let i = 0; i < 3; i++) await noRetry.databaseAccounts.get("rg", "thr-a");
    await expect(noRetry.databaseAccounts.get("rg", "thr-a")).rejects.toMatchObject({ statusCode: 429 });
    const throttled = sandbox.requests().filter((request) => request.status === 429);
    expect(throttled).toHaveLength(1);
    // Another subscription has its own bucket.
    await expect(client(SUB_B, 0).databaseAccounts.get("rg", "nothing-here")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("the SDK's retry honours Retry-After and gets through once the bucket refills", async () => {
    const started = Date.now();
    const account = await client(SUB_A).databaseAccounts.get("rg", "thr-a");
    expect(account.name).toBe("thr-a");
    expect(sandbox.armThrottledCount()).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
