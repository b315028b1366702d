/** Resource Graph discovery with the real ResourceGraphClient against the sandbox. */
import { MAX_SUBSCRIPTIONS_PER_QUERY, ResourceGraphDiscovery } from "../../src/adapters/resourceGraphAccounts";
import { LocalSandbox } from "../../src/sandbox";

const sub = (i: number) => `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`;
let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  // 2,500 CMK accounts over 5 subscriptions, plus one account without CMK.
  for (let i = 0; i < 2500; i++) {
    sandbox.putAccount({
      name: `rg-acct-${i}`,
      subscriptionId: sub(i % 5),
      resourceGroup: "RG-Fleet",
      keyVaultKeyUri: `https://kv-${i % 7}.vault.azure.net/keys/k`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": `o${i}@contoso.com` },
      status: i % 100 === 0 ? "Access to your account is currently revoked (4002)." : "Access to the configured customer managed key confirmed.",
    });
  }
  sandbox.putAccount({ name: "rg-no-cmk", subscriptionId: sub(0), resourceGroup: "rg" });
});
afterAll(async () => {
  await sandbox?.stop();
});

function discovery(sleeps: number[] = []) {
  return new ResourceGraphDiscovery({
    credential: sandbox.credential,
    endpoint: sandbox.url,
    clientOptions: { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries: 0 } },
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
}

function graphCalls(): number {
  return sandbox.requests().filter((r) => r.route === "resource-graph").length;
}

beforeEach(() => {
  sandbox.clearRequests();
  sandbox.clearFaults();
  sandbox.resourceGraph.setQuota({ queries: 15, windowInMs: 5000 });
});

describe("ResourceGraphDiscovery", () => {
  it("pages through every CMK account with the skip token, a thousand at a time", async () => {
    // 2,500 accounts are 3 pages: the per-subscription ARM loop would be 5 calls and no paging.
    const result = await discovery().discover({ subscriptionIds: [0, 1, 2, 3, 4].map(sub), managementGroups: [] });
    expect(result.accounts).toHaveLength(2500);
    expect(result.calls).toBe(3);
    expect(graphCalls()).toBe(3);
    // By default the sandbox plays Resource Graph without the status (docs/azure-behaviour.md).
    expect(result.accounts.filter((a) => a.customerManagedKeyStatus !== undefined)).toHaveLength(0);
    // The row's nested properties arrive flattened into the account model.
    expect(result.accounts[0]).toMatchObject({ keyVaultKeyUri: expect.stringMatching(/^https:\/\/kv-/), defaultIdentity: "SystemAssignedIdentity" });
  });

  it("splits scopes into batches below 300 subscriptions, as Resource Graph advises", async () => {
    const many = Array.from({ length: MAX_SUBSCRIPTIONS_PER_QUERY + 100 }, (_, i) => sub(i));
    const result = await discovery().discover({ subscriptionIds: many, managementGroups: [] });
    expect(MAX_SUBSCRIPTIONS_PER_QUERY).toBeLessThan(300);
    expect(result.accounts).toHaveLength(2500);
    // First batch (holding every account): 3 pages; second batch (100, empty): 1 call.
    expect(graphCalls()).toBe(4);
  });

  it.each([
    // Fresh: the status as ARM has it (the kind world the monitor must not rely on).
    ["fresh", 25],
    // Stale: as it was when the mode was set; a revocation after that does not show.
    ["stale", 25],
  ] as const)("plays Resource Graph's status %s", async (mode, revokedCount) => {
    sandbox.resourceGraph.setStatusMode(mode);
    sandbox.setStatus("rg-acct-1", "Access to your account is currently revoked (4002).");
    try {
      const result = await discovery().discover({ subscriptionIds: [0, 1, 2, 3, 4].map(sub), managementGroups: [] });
      const revoked = result.accounts.filter((a) => a.customerManagedKeyStatus?.includes("revoked"));
      expect(revoked).toHaveLength(mode === "fresh" ? revokedCount + 1 : revokedCount);
    } finally {
      sandbox.setStatus("rg-acct-1", "Access to the configured customer managed key confirmed.");
      sandbox.resourceGraph.setStatusMode("absent");
    }
  });

  it("says which subscriptions of the scope it can see; a forbidden one is left out without an error", async () => {
    const hidden = sub(77);
    sandbox.addSubscription(sub(76));
    sandbox.addSubscription(hidden);
    sandbox.resourceGraph.hideSubscription(hidden);
    const { subscriptionIds } = await discovery().visibleSubscriptions({ subscriptionIds: [sub(0), sub(76), hidden, sub(99)], managementGroups: [] });
    // sub(99) does not exist, sub(77) cannot be read: both are simply absent.
    expect([...subscriptionIds].sort()).toEqual([sub(0), sub(76)]);
  });

  it("treats a truncated answer as a failure, never as a smaller fleet", async () => {
    sandbox.resourceGraph.setTruncation(100);
    try {
      await expect(discovery().discover({ subscriptionIds: [0, 1, 2, 3, 4].map(sub), managementGroups: [] })).rejects.toMatchObject({
        name: "IncompleteResultError",
      });
    } finally {
      sandbox.resourceGraph.setTruncation(undefined);
    }
  });

  it("covers a management group's subscriptions", async () => {
    // Enterprises scope by management group, not by listing subscriptions.
    sandbox.resourceGraph.setManagementGroup("mg-prod", [sub(1), sub(2)]);
    const result = await discovery().discover({ subscriptionIds: [], managementGroups: ["mg-prod"] });
    expect(result.accounts).toHaveLength(1000);
    expect(new Set(result.accounts.map((a) => a.subscriptionId))).toEqual(new Set([sub(1), sub(2)]));
  });

  it("waits for the quota to reset instead of failing when it is spent", async () => {
    // Two queries per 400 ms: the third page must wait, guided by x-ms-user-quota-resets-after.
    sandbox.resourceGraph.setQuota({ queries: 2, windowInMs: 400 });
    const sleeps: number[] = [];
    const result = await discovery(sleeps).discover({ subscriptionIds: [0, 1, 2, 3, 4].map(sub), managementGroups: [] });
    expect(result.accounts).toHaveLength(2500);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(result.throttledInMs).toBeGreaterThan(0);
  });

  it("honours Retry-After on a 429", async () => {
    // A throttled call is retried after the time Resource Graph asked for, not at once.
    sandbox.injectFault({ route: "resource-graph", status: 429, retryAfterInSeconds: 1, times: 1 });
    const sleeps: number[] = [];
    const result = await discovery(sleeps).discover({ subscriptionIds: [sub(0)], managementGroups: [] });
    expect(result.accounts).toHaveLength(500);
    expect(sleeps[0]).toBeGreaterThanOrEqual(900);
    expect(result.calls).toBe(2);
  });

  it.each([
    // A failed page must fail discovery: half a fleet would look like deleted accounts.
    [503],
    // Unauthorized scope is an error, not an empty fleet.
    [403],
  ])("throws when a page fails with %i", async (status) => {
    sandbox.injectFault({ route: "resource-graph", status, times: 1 });
    await expect(discovery().discover({ subscriptionIds: [sub(0)], managementGroups: [] })).rejects.toMatchObject({ statusCode: status });
  });
});
