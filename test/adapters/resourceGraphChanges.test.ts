/**
 * The catch-up's `resourcechanges` query through the official Resource Graph client against the
 * sandbox: which changes an answer holds (window, ids, lag, retention, readable subscriptions), paging
 * with skip tokens, and a query of another shape refused rather than answered wrongly.
 */
import { ResourceGraphDiscovery } from "../../src/adapters/resourceGraphAccounts";
import { buildResourceChangesQuery } from "../../src/domain/resourceChanges";
import { statusCodeOf } from "../../src/ports/failures";
import { LocalSandbox } from "../../src/sandbox";
import { DEFAULT_CHANGE_LAG_IN_MS } from "../../src/sandbox/resourceGraphRoutes";

const SUB = "00000000-0000-4000-8000-0000000000c1";
const HIDDEN = "00000000-0000-4000-8000-0000000000c2";
const MINUTE = 60_000;
const vault = (name: string, sub = SUB) => `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${name}`;
const scope = { subscriptionIds: [SUB, HIDDEN], managementGroups: [] };

let sandbox: LocalSandbox;
let now = new Date("2026-12-01T12:00:00.000Z");

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

/** One access-policy write on the vault, made `minutesAgo` before now. */
function policyWrite(id: string, minutesAgo: number): void {
  const saved = now;
  sandbox.setClock(() => new Date(saved.getTime() - minutesAgo * MINUTE));
  sandbox.changeFeed.armOperation("Microsoft.KeyVault/vaults/accessPolicies/write", `${id}/accessPolicies/replace`);
  sandbox.setClock(() => now);
}

describe("resourcechanges through ResourceGraphDiscovery.queryChanges", () => {
  beforeEach(() => {
    sandbox.changeFeed.clearHistory();
    sandbox.resourceGraph.setChangeLag(DEFAULT_CHANGE_LAG_IN_MS);
  });

  const window = { from: new Date(now.getTime() - 20 * MINUTE).toISOString(), to: now.toISOString() };
  it.each<{ name: string; id: string; minutesAgo: number; lagInMinutes?: number; found: boolean }>([
    // Inside the window, asked for, older than the lag: answered, on the vault (not the accessPolicies child).
    { name: "a change in the window", id: vault("kv-a"), minutesAgo: 10, found: true },
    // Made a minute ago: Resource Graph has not indexed it yet (the default lag is 4 minutes).
    { name: "a change younger than the lag", id: vault("kv-a"), minutesAgo: 1, found: false },
    // With no lag (the kind world), the same change is there at once.
    { name: "the same with the lag off", id: vault("kv-a"), minutesAgo: 1, lagInMinutes: 0, found: true },
    // The window's lower bound is exclusive.
    { name: "a change at the window's start", id: vault("kv-a"), minutesAgo: 20, found: false },
    // Before the window.
    { name: "a change before the window", id: vault("kv-a"), minutesAgo: 30, found: false },
    // A vault the query does not name.
    { name: "a vault not asked for", id: vault("kv-other"), minutesAgo: 10, found: false },
    // A subscription the caller cannot read: left out silently, as Resource Graph does.
    { name: "an unreadable subscription", id: vault("kv-hidden", HIDDEN), minutesAgo: 10, found: false },
  ])("$name", async ({ id, minutesAgo, lagInMinutes, found }) => {
    if (lagInMinutes !== undefined) sandbox.resourceGraph.setChangeLag(lagInMinutes * MINUTE);
    policyWrite(id, minutesAgo);
    const query = buildResourceChangesQuery(window, [vault("kv-a"), vault("kv-hidden", HIDDEN)])!;
    const { rows } = await client().queryChanges(query, scope);
    expect(rows.map((row) => [row.targetResourceId, row.changeType, Object.keys(row.changes as object)])).toEqual(
      found ? [[id.toLowerCase(), "Update", ["properties.accessPolicies"]]] : [],
    );
  });

  it("drops changes past the 14-day retention even inside the window", async () => {
    // A window reaching 20 days back (the domain clamps it; the service would answer like this anyway).
    policyWrite(vault("kv-a"), 15 * 24 * 60);
    const wide = { from: new Date(now.getTime() - 20 * 24 * 60 * MINUTE).toISOString(), to: now.toISOString() };
    const { rows } = await client().queryChanges(buildResourceChangesQuery(wide, [vault("kv-a")])!, scope);
    expect(rows).toEqual([]);
  });

  it("pages with skip tokens: 1,200 changes in two calls, oldest first", async () => {
    for (let i = 0; i < 1200; i++) policyWrite(vault("kv-a"), 5 + i / 100);
    const { rows, calls } = await client().queryChanges(buildResourceChangesQuery(window, [vault("kv-a")])!, scope);
    expect([rows.length, calls]).toEqual([1200, 2]);
    const times = rows.map((row) => String(row.changeTime));
    expect([...times].sort()).toEqual(times);
  });

  it("refuses a resourcechanges query of another shape instead of answering it wrongly", async () => {
    // The sandbox parses only the catch-up's shape; a different query must fail loudly in tests.
    const error = await client()
      .queryChanges("resourcechanges | take 10", scope)
      .catch((e: unknown) => e);
    expect(statusCodeOf(error)).toBe(400);
  });
});
