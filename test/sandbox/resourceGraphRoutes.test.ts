/** Resource Graph's answers the schemas do not show: served api-versions, the options it refuses, the quota on a 429. */
import https from "node:https";
import { LocalSandbox } from "../../src/sandbox";

const SUB = "00000000-0000-4000-8000-0000000000e1";
let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  sandbox.putAccount({
    name: "rg-routes-db",
    subscriptionId: SUB,
    resourceGroup: "rg",
    keyVaultKeyUri: "https://kv-rg.vault.azure.net/keys/k",
    keyVault: "none",
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

function post(
  apiVersion: string,
  body: unknown,
): Promise<{ status: number; headers: Record<string, unknown>; body: { error?: { code: string; details?: { code: string }[] }; count?: number } }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${sandbox.url}/providers/Microsoft.ResourceGraph/resources?api-version=${apiVersion}`,
      { method: "POST", ca: sandbox.ca, headers: { authorization: "Bearer t", "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text || "{}") as never }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const QUERY = "Resources | where type =~ 'microsoft.documentdb/databaseaccounts'";

it.each([
  // What @azure/arm-resourcegraph 5.0.0-beta.4 sends.
  {
    case: "the SDK's api-version",
    apiVersion: "2021-06-01-preview",
    body: { subscriptions: [SUB], query: QUERY },
    status: 200,
    code: undefined,
    detail: undefined,
  },
  // An api-version the provider does not serve is refused by ARM.
  {
    case: "unserved api-version",
    apiVersion: "2099-01-01",
    body: { subscriptions: [SUB], query: QUERY },
    status: 400,
    code: "NoRegisteredProviderFound",
    detail: undefined,
  },
  // The spec bounds $top to 1..1000.
  {
    case: "$top above 1000",
    apiVersion: "2021-06-01-preview",
    body: { subscriptions: [SUB], query: QUERY, options: { $top: 1001 } },
    status: 400,
    code: "BadRequest",
    detail: "InvalidQueryOptions",
  },
  // The largest page is fine.
  {
    case: "$top of 1000",
    apiVersion: "2021-06-01-preview",
    body: { subscriptions: [SUB], query: QUERY, options: { $top: 1000 } },
    status: 200,
    code: undefined,
    detail: undefined,
  },
  // Subscription ids are GUIDs.
  {
    case: "non-GUID subscription",
    apiVersion: "2021-06-01-preview",
    body: { subscriptions: ["prod"], query: QUERY },
    status: 400,
    code: "BadRequest",
    detail: "InvalidSubscriptionId",
  },
])("$case → $status", async ({ apiVersion, body, status, code, detail }) => {
  const response = await post(apiVersion, body);

  expect(response.status).toBe(status);
  expect(response.body.error?.code).toBe(code);
  expect(response.body.error?.details?.[0]?.code).toBe(detail);
});

it("an injected 429 reports the spent quota and when it resets, with Retry-After", async () => {
  sandbox.injectFault({ route: "resource-graph", status: 429, retryAfterInSeconds: 3 });

  const response = await post("2021-06-01-preview", { subscriptions: [SUB], query: QUERY });

  expect(response).toMatchObject({
    status: 429,
    headers: { "retry-after": "3", "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:03" },
  });
});
