/**
 * The catch-up's `authorizationresources` role-assignment query through the official Resource Graph
 * client against the sandbox: which assignments an answer holds (principals asked for, the lag,
 * readable subscriptions), paging with skip tokens, and a query of another shape refused.
 */
import { ResourceGraphDiscovery } from "../../src/adapters/resourceGraphAccounts";
import { buildRoleAssignmentQueries } from "../../src/domain/roleAssignmentChanges";
import { statusCodeOf } from "../../src/ports/failures";
import { LocalSandbox } from "../../src/sandbox";
import { CRYPTO_SERVICE_ENCRYPTION_USER } from "../../src/sandbox/keyVaultState";
import { DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS } from "../../src/sandbox/resourceGraphRoutes";

const SUB = "00000000-0000-4000-8000-0000000000e1";
const HIDDEN = "00000000-0000-4000-8000-0000000000e2";
const PRINCIPAL = "5c0ffee0-0000-4000-8000-0000000000e1";
const OTHER = "5c0ffee0-0000-4000-8000-0000000000e2";
const MINUTE = 60_000;
const scope = { subscriptionIds: [SUB, HIDDEN], managementGroups: [] };
const vaultScope = (name: string, sub = SUB) => `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${name}`;

let sandbox: LocalSandbox;
let now = new Date("2026-12-01T12:00:00.000Z");
let vaults = 0;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  sandbox.setClock(() => now);
  sandbox.resourceGraph.setQuota({ queries: 1000, windowInMs: 1000 });
  sandbox.resourceGraph.hideSubscription(HIDDEN);
});
afterAll(async () => {
  await sandbox?.stop();
});

function client() {
  return new ResourceGraphDiscovery({
    credential: sandbox.credential,
    endpoint: sandbox.url,
    clientOptions: { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries: 0 } },
  });
}

/** A fresh RBAC vault with the principal's Crypto Service Encryption User assignment, made `minutesAgo` before now. */
function assigned(principalId: string, minutesAgo: number, sub = SUB): string {
  const name = `kv-ra-${++vaults}`;
  const saved = now;
  sandbox.setClock(() => new Date(saved.getTime() - minutesAgo * MINUTE));
  sandbox.keyVault.createVault({ name, subscriptionId: sub, resourceGroup: "rg", permissionModel: "rbac" });
  const id = sandbox.keyVault.assignRole(vaultScope(name, sub), principalId, CRYPTO_SERVICE_ENCRYPTION_USER);
  sandbox.setClock(() => now);
  return id;
}

/** The assignment ids Resource Graph shows for the principal now. */
async function shown(principalId = PRINCIPAL): Promise<string[]> {
  const [query] = buildRoleAssignmentQueries([principalId]);
  const { rows } = await client().queryRoleAssignments(query!, scope);
  return rows.map((row) => String(row.id));
}

describe("authorizationresources through ResourceGraphDiscovery.queryRoleAssignments", () => {
  beforeEach(() => {
    sandbox.resourceGraph.setRoleAssignmentLag(DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS);
    now = new Date(now.getTime() + 60 * MINUTE);
  });

  it.each<{ name: string; principalId: string; minutesAgo: number; sub?: string; lagInMinutes?: number; found: boolean }>([
    // Made well before the lag: shown.
    { name: "an assignment older than the lag", principalId: PRINCIPAL, minutesAgo: 10, found: true },
    // Made a minute ago: Resource Graph does not show it yet (default lag 4 minutes).
    { name: "an assignment younger than the lag", principalId: PRINCIPAL, minutesAgo: 1, found: false },
    // With the lag off (the kind world), at once.
    { name: "the same with the lag off", principalId: PRINCIPAL, minutesAgo: 1, lagInMinutes: 0, found: true },
    // Another principal's assignment is not in the answer.
    { name: "a principal not asked for", principalId: OTHER, minutesAgo: 10, found: false },
    // A subscription the caller cannot read: left out silently.
    { name: "an unreadable subscription", principalId: PRINCIPAL, minutesAgo: 10, sub: HIDDEN, found: false },
  ])("$name", async ({ principalId, minutesAgo, sub, lagInMinutes, found }) => {
    if (lagInMinutes !== undefined) sandbox.resourceGraph.setRoleAssignmentLag(lagInMinutes * MINUTE);
    const id = assigned(principalId, minutesAgo, sub);
    expect((await shown()).includes(id.toLowerCase())).toBe(found);
  });

  it("shows a removed assignment until the lag has passed, then no longer", async () => {
    const id = assigned(PRINCIPAL, 30).toLowerCase();
    const vaultName = /vaults\/([^/]+)/.exec(id)![1]!;
    sandbox.keyVault.removePermission(vaultName, PRINCIPAL, "rbac");
    // Just removed: the index still has it (the pessimistic reading of undocumented freshness).
    expect(await shown()).toContain(id);
    now = new Date(now.getTime() + DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS);
    expect(await shown()).not.toContain(id);
  });

  it("projects id, principalId, scope and the full roleDefinitionId, lowercased", async () => {
    const id = assigned(OTHER, 10);
    const [query] = buildRoleAssignmentQueries([OTHER]);
    const { rows } = await client().queryRoleAssignments(query!, scope);
    expect(rows.find((row) => row.id === id.toLowerCase())).toEqual({
      id: id.toLowerCase(),
      principalId: OTHER,
      scope: id.toLowerCase().replace(/\/providers\/microsoft\.authorization\/roleassignments\/[^/]+$/, ""),
      roleDefinitionId: `/subscriptions/${SUB}/providers/microsoft.authorization/roledefinitions/${CRYPTO_SERVICE_ENCRYPTION_USER}`,
    });
  });

  it("pages with skip tokens: 1,200 assignments in two calls", async () => {
    const principal = "5c0ffee0-0000-4000-8000-0000000000e3";
    const name = `kv-ra-${++vaults}`;
    sandbox.keyVault.createVault({ name, subscriptionId: SUB, resourceGroup: "rg", permissionModel: "rbac" });
    for (let i = 0; i < 1200; i++) sandbox.keyVault.assignRole(vaultScope(name), principal, CRYPTO_SERVICE_ENCRYPTION_USER);
    sandbox.resourceGraph.setRoleAssignmentLag(0);
    const [query] = buildRoleAssignmentQueries([principal]);
    const { rows, calls } = await client().queryRoleAssignments(query!, scope);
    expect([new Set(rows.map((row) => row.id)).size, calls]).toEqual([1200, 2]);
  });

  it("refuses an authorizationresources query of another shape instead of answering it wrongly", async () => {
    const error = await client()
      .queryRoleAssignments("authorizationresources | take 10", scope)
      .catch((e: unknown) => e);
    expect(statusCodeOf(error)).toBe(400);
  });
});
