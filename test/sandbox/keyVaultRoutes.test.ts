/** The Key Vault data plane's answers the schemas do not show: served api-versions, key versions, throttling. */
import https from "node:https";
import { LocalSandbox } from "../../src/sandbox";

const SUB = "00000000-0000-4000-8000-0000000000d1";
const HOST = "kv-routes.vault.azure.net";
let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  sandbox.keyVault.createVault({ name: "kv-routes", subscriptionId: SUB, resourceGroup: "rg" });
  sandbox.keyVault.createKey("kv-routes", "cmk");
});
afterAll(async () => {
  await sandbox?.stop();
});

function get(
  path: string,
  host = HOST,
): Promise<{ status: number; headers: Record<string, unknown>; body: { error?: { code: string }; key?: { kid: string } } }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${sandbox.url}${path}`, { ca: sandbox.ca, headers: { host, authorization: "Bearer t" } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(body || "{}") as never }));
    });
    req.on("error", reject);
  });
}

it.each([
  // The version @azure/keyvault-keys 4.10 sends.
  { case: "2025-07-01", version: "2025-07-01", status: 200, code: undefined },
  // An older 7.x version is still served.
  { case: "7.4", version: "7.4", status: 200, code: undefined },
  // Anything else is refused by Key Vault itself.
  { case: "1999-01-01", version: "1999-01-01", status: 400, code: "BadParameter" },
])("api-version $case → $status", async ({ version, status, code }) => {
  const response = await get(`/keys/cmk/?api-version=${version}`);

  expect(response.status).toBe(status);
  expect(response.body.error?.code).toBe(code);
});

it("honours the key version in the URL: the current one answers, any other is not found", async () => {
  const current = await get("/keys/cmk/?api-version=2025-07-01");
  const version = current.body.key!.kid.split("/").pop()!;

  expect((await get(`/keys/cmk/${version}?api-version=2025-07-01`)).status).toBe(200);
  expect(await get("/keys/cmk/00000000000000000000000000000000?api-version=2025-07-01")).toMatchObject({
    status: 404,
    body: { error: { code: "KeyNotFound" } },
  });
});

it("an injected 429 carries Retry-After even when the test gives none, as the service's do", async () => {
  sandbox.injectFault({ route: "kv-key", status: 429 });

  const response = await get("/keys/cmk/?api-version=2025-07-01");

  expect(response).toMatchObject({ status: 429, headers: { "retry-after": "1" }, body: { error: { code: "Throttled" } } });
});
