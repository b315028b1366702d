import https from "node:https";
import { CosmosDBManagementClient, type DatabaseAccountGetResults } from "@azure/arm-cosmosdb";
import { LocalSandbox } from "../../src/sandbox";

const SUBSCRIPTION = "11111111-1111-4111-8111-111111111111";
const OTHER_SUBSCRIPTION = "22222222-2222-4222-8222-222222222222";
const UAI_ID =
  "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-id/providers/" + "Microsoft.ManagedIdentity/userAssignedIdentities/cosmos-cmk";
const REVOKED_4002 =
  "Access to your account is currently revoked because the current default identity no longer has permission to the " +
  "associated Key Vault key; for more details about this error and how to restore access to your account please visit " +
  "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).";
const HEALTHY = "Access to the configured customer managed key confirmed.";

let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  for (const name of ["orders-db", "billing-db", "plain-db", "elsewhere-db"]) {
    if (sandbox.getAccount(name)) sandbox.removeAccount(name);
  }
  sandbox.putAccount({
    name: "orders-db",
    subscriptionId: SUBSCRIPTION,
    resourceGroup: "rg-orders",
    location: "northeurope",
    keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/cosmos-cmk",
    defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
    identity: {
      type: "UserAssigned",
      userAssignedIdentities: { [UAI_ID]: { principalId: "aaaaaaaa-0000-4000-8000-000000000001", clientId: "c1" } },
    },
    tags: { owner: "orders-team@contoso.com" },
    status: REVOKED_4002,
  });
  sandbox.putAccount({
    name: "billing-db",
    subscriptionId: SUBSCRIPTION,
    resourceGroup: "rg-billing",
    keyVaultKeyUri: "https://kv-billing.vault.azure.net/keys/cosmos-cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: "bbbbbbbb-0000-4000-8000-000000000002" },
    status: HEALTHY,
  });
  // No CMK and no status: ARM omits both properties.
  sandbox.putAccount({ name: "plain-db", subscriptionId: SUBSCRIPTION, resourceGroup: "rg-billing" });
  sandbox.putAccount({ name: "elsewhere-db", subscriptionId: OTHER_SUBSCRIPTION, resourceGroup: "rg-x", status: HEALTHY });
  sandbox.clearFaults();
  sandbox.clearRequests();
});

function client(subscriptionId = SUBSCRIPTION, extra: { apiVersion?: string; maxRetries?: number } = {}) {
  return new CosmosDBManagementClient(sandbox.credential, subscriptionId, {
    endpoint: sandbox.url,
    tlsOptions: { ca: sandbox.ca },
    retryOptions: { maxRetries: extra.maxRetries ?? 0 },
    ...(extra.apiVersion ? { apiVersion: extra.apiVersion } : {}),
  });
}

async function listAll(c: CosmosDBManagementClient): Promise<DatabaseAccountGetResults[]> {
  const accounts: DatabaseAccountGetResults[] = [];
  for await (const account of c.databaseAccounts.list()) accounts.push(account);
  return accounts;
}

/** A raw HTTPS GET, for what the SDK hides: missing auth and the exact JSON on the wire. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${sandbox.url}${path}`, { ca: sandbox.ca, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

async function caught(promise: Promise<unknown>): Promise<{ name?: string; statusCode?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name?: string; statusCode?: number; code?: string };
  }
  throw new Error("expected the call to fail");
}

describe("ARM databaseAccounts through the real CosmosDBManagementClient", () => {
  it("lists only the subscription's accounts, with CMK status, key URI, identity and tags", async () => {
    const accounts = await listAll(client());

    expect(accounts.map((a) => a.name).sort()).toEqual(["billing-db", "orders-db", "plain-db"]);
    const orders = accounts.find((a) => a.name === "orders-db")!;
    expect(orders).toMatchObject({
      id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`,
      // Cosmos DB reports the region's display name, not the ARM name it was created with.
      location: "North Europe",
      type: "Microsoft.DocumentDB/databaseAccounts",
      kind: "GlobalDocumentDB",
      tags: { owner: "orders-team@contoso.com" },
      keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/cosmos-cmk",
      defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
      customerManagedKeyStatus: REVOKED_4002,
      provisioningState: "Succeeded",
      documentEndpoint: "https://orders-db.documents.azure.com:443/",
      databaseAccountOfferType: "Standard",
      identity: {
        type: "UserAssigned",
        userAssignedIdentities: { [UAI_ID]: { principalId: "aaaaaaaa-0000-4000-8000-000000000001", clientId: "c1" } },
      },
    });
    const billing = accounts.find((a) => a.name === "billing-db")!;
    expect(billing.identity).toMatchObject({ type: "SystemAssigned", principalId: "bbbbbbbb-0000-4000-8000-000000000002" });
    expect(billing.identity?.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    const plain = accounts.find((a) => a.name === "plain-db")!;
    expect(plain.keyVaultKeyUri).toBeUndefined();
    expect(plain.customerManagedKeyStatus).toBeUndefined();
    expect(plain.defaultIdentity).toBe("FirstPartyIdentity");
  });

  it("gets one account, matching the resource group case-insensitively like ARM", async () => {
    const account = await client().databaseAccounts.get("RG-ORDERS", "orders-db");

    expect(account.customerManagedKeyStatus).toBe(REVOKED_4002);
    expect(account.keyVaultKeyUri).toBe("https://kv-orders.vault.azure.net/keys/cosmos-cmk");
  });

  it("reflects setStatus immediately and omits the property when the status is cleared", async () => {
    sandbox.setStatus("orders-db", HEALTHY);
    expect((await client().databaseAccounts.get("rg-orders", "orders-db")).customerManagedKeyStatus).toBe(HEALTHY);

    sandbox.setStatus("orders-db", undefined);
    const raw = await rawGet(
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/orders-db?api-version=2025-10-15`,
      { authorization: "Bearer t" },
    );
    expect(raw.status).toBe(200);
    const json = JSON.parse(raw.body) as { properties: Record<string, unknown> };
    expect(Object.keys(json.properties)).not.toContain("customerManagedKeyStatus");
  });

  it("returns 404 ResourceNotFound for a missing or removed account", async () => {
    sandbox.removeAccount("orders-db");

    const error = await caught(client().databaseAccounts.get("rg-orders", "orders-db"));

    expect(error).toMatchObject({ name: "RestError", statusCode: 404, code: "ResourceNotFound" });
  });

  it("omits customerManagedKeyStatus for API versions older than 2023-09-15", async () => {
    // The monitor must pin a new enough API version or it silently sees no status at all.
    const account = await client(SUBSCRIPTION, { apiVersion: "2023-04-15" }).databaseAccounts.get("rg-orders", "orders-db");

    expect(account.customerManagedKeyStatus).toBeUndefined();
    expect(account.keyVaultKeyUri).toBeDefined();
  });

  it("lists nothing for an existing subscription without accounts, as ARM does (200, empty value)", async () => {
    sandbox.addSubscription("33333333-3333-4333-8333-333333333333");

    expect(await listAll(client("33333333-3333-4333-8333-333333333333"))).toEqual([]);
  });

  it.each([
    // A subscription ARM does not know: a list is not an empty page but SubscriptionNotFound.
    {
      case: "list in an unknown subscription",
      path: "/subscriptions/55555555-5555-4555-8555-555555555555/providers/Microsoft.DocumentDB/databaseAccounts",
      status: 404,
      code: "SubscriptionNotFound",
    },
    // Same for a get.
    {
      case: "get in an unknown subscription",
      path: "/subscriptions/55555555-5555-4555-8555-555555555555/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/orders-db",
      status: 404,
      code: "SubscriptionNotFound",
    },
    // A resource group that does not exist in a known subscription.
    {
      case: "get in an unknown resource group",
      path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-none/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`,
      status: 404,
      code: "ResourceGroupNotFound",
    },
    // List by an unknown resource group.
    {
      case: "list in an unknown resource group",
      path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-none/providers/Microsoft.DocumentDB/databaseAccounts`,
      status: 404,
      code: "ResourceGroupNotFound",
    },
    // The group exists, the account does not.
    {
      case: "missing account in a known group",
      path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/none-db`,
      status: 404,
      code: "ResourceNotFound",
    },
    // ARM checks the subscription id's shape before anything else.
    {
      case: "non-GUID subscription id",
      path: "/subscriptions/not-a-guid/providers/Microsoft.DocumentDB/databaseAccounts",
      status: 400,
      code: "InvalidSubscriptionId",
    },
    // A well-formed api-version Cosmos DB does not serve: an SDK upgrade to it must fail here too.
    {
      case: "unserved api-version",
      path: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.DocumentDB/databaseAccounts`,
      apiVersion: "2099-01-01",
      status: 400,
      code: "NoRegisteredProviderFound",
    },
    // A malformed one.
    {
      case: "malformed api-version",
      path: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.DocumentDB/databaseAccounts`,
      apiVersion: "latest",
      status: 400,
      code: "InvalidApiVersionParameter",
    },
    // Subscriptions are ARM's own API: an unknown version is invalid there.
    { case: "unserved subscriptions api-version", path: "/subscriptions", apiVersion: "2099-01-01", status: 400, code: "InvalidApiVersionParameter" },
  ])("$case: $status $code", async ({ path, apiVersion, status, code }) => {
    const response = await rawGet(
      `${path}?api-version=${apiVersion ?? "2025-10-15"}`.replace("/subscriptions?api-version=2025-10-15", "/subscriptions?api-version=2022-12-01"),
      {
        authorization: "Bearer t",
      },
    );

    expect(response.status).toBe(status);
    expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe(code);
  });

  it("pages the subscription list with $top and a nextLink, and refuses $top above 1000", async () => {
    sandbox.addSubscription("66666666-6666-4666-8666-666666666666");
    const first = await rawGet("/subscriptions?api-version=2022-12-01&$top=1", { authorization: "Bearer t" });
    const page = JSON.parse(first.body) as { value: unknown[]; nextLink?: string };
    const tooMany = await rawGet("/subscriptions?api-version=2022-12-01&$top=1001", { authorization: "Bearer t" });

    expect(page.value).toHaveLength(1);
    expect(page.nextLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/subscriptions\?api-version=2022-12-01&%24top=1&%24skiptoken=1$/);
    expect(tooMany.status).toBe(400);
  });

  it("answers 403 AuthorizationFailed for a forbidden subscription, on list and get", async () => {
    // A subscription of its own: forbidding cannot be undone, so it must not leak into other tests.
    const forbidden = "44444444-4444-4444-8444-444444444444";
    sandbox.putAccount({ name: "hidden-db", subscriptionId: forbidden, resourceGroup: "rg-h", status: HEALTHY });
    sandbox.forbidSubscription(forbidden);

    const listError = await caught(listAll(client(forbidden)));
    const getError = await caught(client(forbidden).databaseAccounts.get("rg-h", "hidden-db"));

    expect(listError).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(getError).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
  });

  it.each<{ case: string; headers: Record<string, string>; status: number; noApiVersion?: boolean }>([
    // No token at all: what a misconfigured credential pipeline would produce.
    { case: "no Authorization header", headers: {}, status: 401 },
    // A key-style header is not ARM auth.
    { case: "a non-bearer scheme", headers: { authorization: "SharedKey abc" }, status: 401 },
    // ARM refuses requests without api-version before looking at the resource.
    { case: "no api-version", headers: { authorization: "Bearer t" }, status: 400, noApiVersion: true },
  ])("refuses a request with $case", async ({ headers, status, noApiVersion }) => {
    const query = noApiVersion ? "" : "?api-version=2025-10-15";
    const response = await rawGet(`/subscriptions/${SUBSCRIPTION}/providers/Microsoft.DocumentDB/databaseAccounts${query}`, headers);

    expect(response.status).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  describe("injected faults", () => {
    it.each([
      // Transient outage: the adapter must classify it as retryable.
      { route: "arm-list" as const, status: 503, code: "ServiceUnavailable" },
      // Throttling without Retry-After: the SDK does not retry it on its own.
      { route: "arm-list" as const, status: 429, code: "TooManyRequests" },
      // Server error on a single get.
      { route: "arm-get" as const, status: 500, code: "InternalServerError" },
    ])("$route $status surfaces as RestError with that statusCode, once", async ({ route, status, code }) => {
      sandbox.injectFault({ route, status });
      const c = client();
      const call = () => (route === "arm-list" ? listAll(c) : c.databaseAccounts.get("rg-orders", "orders-db"));

      expect(await caught(call())).toMatchObject({ name: "RestError", statusCode: status, code });
      await expect(call()).resolves.toBeDefined();
    });

    it("honours a 429 Retry-After with the SDK's default retry policy", async () => {
      // Retry-After: 0 keeps the test fast while still proving the header is what drives the retry.
      sandbox.injectFault({ route: "arm-list", status: 429, retryAfterInSeconds: 0 });

      const accounts = await listAll(client(SUBSCRIPTION, { maxRetries: 3 }));

      expect(accounts).toHaveLength(3);
      expect(
        sandbox
          .requests()
          .filter((r) => r.route === "arm-list")
          .map((r) => r.status),
      ).toEqual([429, 200]);
    });

    it("uses a custom body verbatim and counts every request", async () => {
      sandbox.injectFault({ route: "arm-get", status: 503, times: 2, body: '{"error":{"code":"Custom","message":"x"}}' });

      expect(await caught(client().databaseAccounts.get("rg-orders", "orders-db"))).toMatchObject({ code: "Custom" });
      expect(await caught(client().databaseAccounts.get("rg-orders", "orders-db"))).toMatchObject({ statusCode: 503 });
      await client().databaseAccounts.get("rg-orders", "orders-db");

      expect(sandbox.requests().map((r) => [r.method, r.route, r.status])).toEqual([
        ["GET", "arm-get", 503],
        ["GET", "arm-get", 503],
        ["GET", "arm-get", 200],
      ]);
    });
  });

  it("refuses to give one global account name to two resources", () => {
    // Cosmos DB names are DNS names; a test doing this has a bug.
    expect(() => sandbox.putAccount({ name: "orders-db", subscriptionId: OTHER_SUBSCRIPTION, resourceGroup: "rg-orders" })).toThrow(/already used/);
  });
});
