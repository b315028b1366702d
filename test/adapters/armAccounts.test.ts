/**
 * The ARM account source against the sandbox. A fleet has more subscriptions than the client cache
 * keeps, so clients are made again and again: they share one pipeline (and so one token, one set of
 * policies), and still each lists and reads its own subscription.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/core-auth";
import { ArmAccountSource } from "../../src/adapters/armAccounts";
import { CLIENTS_KEPT } from "../../src/adapters/clientCache";
import { LocalSandbox } from "../../src/sandbox";

let sandbox: LocalSandbox;
const subscription = (i: number) => `00000000-0000-4000-8000-${(0xa000 + i).toString(16).padStart(12, "0")}`;
// More subscriptions than the cache keeps: every client is made at least twice over two passes.
const SUBSCRIPTIONS = CLIENTS_KEPT + 6;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    sandbox.putAccount({
      name: `source-${i}`,
      subscriptionId: subscription(i),
      resourceGroup: "rg-source",
      keyVaultKeyUri: `https://kv-source-${i}.vault.azure.net/keys/k`,
      status: "Access to the configured customer managed key confirmed.",
      keyVault: "none",
    });
  }
});
afterAll(async () => {
  await sandbox?.stop();
});

function source(extra: { additionalPolicies?: { policy: PipelinePolicy; position: "perCall" | "perRetry" }[] } = {}) {
  let tokens = 0;
  const credential: TokenCredential = {
    getToken: async () => {
      tokens += 1;
      return { token: "sandbox-access-token", expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  const accounts = new ArmAccountSource({ credential, endpoint: sandbox.url, clientOptions: { tlsOptions: { ca: sandbox.ca }, ...extra } });
  return { accounts, tokens: () => tokens };
}

async function listAll(accounts: ArmAccountSource): Promise<string[][]> {
  const lists: string[][] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const names: string[] = [];
    for await (const account of accounts.listAccounts(subscription(i))) names.push(account.name);
    lists.push(names);
  }
  return lists;
}

describe("ArmAccountSource over more subscriptions than the client cache keeps", () => {
  it("every subscription's list shows its own account, twice over, with one token for all", async () => {
    const { accounts, tokens } = source();
    const expected = Array.from({ length: SUBSCRIPTIONS }, (_, i) => [`source-${i}`]);
    expect(await listAll(accounts)).toEqual(expected);
    // The second pass makes the evicted clients again, on the same pipeline.
    expect(await listAll(accounts)).toEqual(expected);
    // A pipeline per client would fetch a token per client made.
    expect(tokens()).toBe(1);
  });

  it("a GET goes to the account's own subscription after many clients were made", async () => {
    const { accounts } = source();
    await listAll(accounts);
    const account = await accounts.getAccount(sandbox.getAccount("source-3")!.id);
    expect(account).toMatchObject({ name: "source-3", subscriptionId: subscription(3) });
  });

  it("an additional policy runs once per request, however many clients were made", async () => {
    let seen = 0;
    const counting: PipelinePolicy = { name: "countingPolicy", sendRequest: (request, next) => ((seen += 1), next(request)) };
    const { accounts } = source({ additionalPolicies: [{ policy: counting, position: "perCall" }] });
    await listAll(accounts);
    // One request per subscription listed: a policy added to the shared pipeline per client would run up to SUBSCRIPTIONS times each.
    expect(seen).toBe(SUBSCRIPTIONS);
  });
});
