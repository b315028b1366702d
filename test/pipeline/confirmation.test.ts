/**
 * Resource Graph discovery with ARM confirmation: one query covers the scope; Resource Graph can
 * lag ARM, so a state change it suggests (new incident, resolution, new cause, account gone) is
 * confirmed with one ARM GET of that account before anyone is emailed. Nothing else pays a GET.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig, type Environment } from "../../src/config";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const status = (code: number) => `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const SUB_A = "00000000-0000-4000-8000-0000000000c1";
const SUB_B = "00000000-0000-4000-8000-0000000000c2";
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let now = new Date("2026-11-30T12:00:00.000Z");
const clock = { now: () => now };
let table = 0;

function monitor(extra: Environment = {}): MonitorDeps {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, {
    CMK_SUBSCRIPTION_IDS: `${SUB_A},${SUB_B}`,
    CMK_STATE_TABLE: `confirm${++table}`,
    CMK_PROBES: "off",
    ...extra,
  });
  return createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0, resourceGraphSleep: async () => {} }));
}

/** Accounts a test created; removed after it, so each test's fresh monitor sees only its own. */
const created = new Set<string>();

function put(name: string, subscriptionId: string, accountStatus: string): string {
  created.add(name);
  return azure.sandbox.putAccount({
    name,
    subscriptionId,
    resourceGroup: "rg-confirm",
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/k`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned" },
    tags: { "cmk-owner": `${name}@contoso.com` },
    status: accountStatus,
    keyVault: "none",
  });
}

function calls(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of azure.sandbox.requests()) if (request.route) counts[request.route] = (counts[request.route] ?? 0) + 1;
  return counts;
}

const emailsFor = (name: string) => azure.sandbox.sentEmails().filter((email) => email.to.includes(`${name}@contoso.com`));

async function cycle(deps: MonitorDeps) {
  azure.sandbox.clearRequests();
  now = new Date(now.getTime() + 5 * 60_000);
  const report = await runCycle(deps);
  return { report, calls: calls() };
}

beforeAll(async () => {
  azure = await startLocalAzure();
  // Each account lives in one of two subscriptions: with more than one, auto discovery is Resource Graph.
  put("steady-a", SUB_A, HEALTHY);
  put("steady-b", SUB_B, HEALTHY);
  created.clear();
});
afterEach(() => {
  azure.sandbox.resourceGraph.thaw();
  azure.sandbox.clearFaults();
  for (const name of created) if (azure.sandbox.getAccount(name)) azure.sandbox.removeAccount(name);
  created.clear();
});
afterAll(async () => {
  await azure?.stop();
});

describe("Resource Graph discovery", () => {
  it("one query covers both subscriptions; an idle cycle makes no per-account call", async () => {
    const deps = monitor();
    const { report, calls: made } = await cycle(deps);
    expect(report.discoveryMode).toBe("resource-graph");
    expect(made).toEqual({ "resource-graph": 1 });
    expect(report).toMatchObject({ accountsSeen: expect.any(Number), confirmations: 0 });
  });

  it("a revocation Resource Graph shows is confirmed with one GET before the owner is told; later cycles pay no GET", async () => {
    put("revoked-1", SUB_A, status(4002));
    const deps = monitor();
    const first = await cycle(deps);
    expect(first.calls).toEqual({ "resource-graph": 1, "arm-get": 1, "acs-send": 1, "acs-poll": 1 });
    expect(first.report).toMatchObject({ confirmations: 1, confirmationsOverturned: 0, decisions: { "first-notice": 1 } });
    expect(emailsFor("revoked-1")).toHaveLength(1);

    const idle = await cycle(deps);
    expect(idle.calls).toEqual({ "resource-graph": 1 });
    expect(idle.report.changes).toHaveLength(0);
  });

  it("a revocation ARM no longer has (Resource Graph lagging) is overturned by the GET: no incident, no email", async () => {
    put("flicker", SUB_B, status(4002));
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("flicker", HEALTHY);
    const deps = monitor();
    const { report, calls: made } = await cycle(deps);
    expect(made["arm-get"]).toBe(1);
    expect(report).toMatchObject({ confirmations: 1, confirmationsOverturned: 1, decisions: {} });
    expect(report.changes).toHaveLength(0);
    expect(emailsFor("flicker")).toHaveLength(0);
    expect((await deps.store.getRecord(azure.sandbox.getAccount("flicker")!.id)).incident).toBeUndefined();
  });

  it("a recovery waits until Resource Graph shows it, then is confirmed and resolved once", async () => {
    put("recovers", SUB_A, status(4003));
    const deps = monitor();
    await cycle(deps);
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("recovers", HEALTHY);
    // Resource Graph still says revoked: nothing changes, nothing is read per account.
    const lagging = await cycle(deps);
    expect(lagging.calls["arm-get"]).toBeUndefined();
    azure.sandbox.resourceGraph.thaw();
    const caughtUp = await cycle(deps);
    expect(caughtUp.calls["arm-get"]).toBe(1);
    expect(caughtUp.report.decisions).toEqual({ recovered: 1 });
    expect(emailsFor("recovers").map((email) => email.subject)).toEqual([expect.stringMatching(/revoked/i), expect.stringMatching(/resolved|recovered/i)]);
  });

  it("an account Resource Graph does not show but ARM still has is not declared removed", async () => {
    const id = put("hidden", SUB_B, status(4002));
    const deps = monitor();
    await cycle(deps);
    // Resource Graph's snapshot from before the account existed.
    azure.sandbox.removeAccount("hidden");
    azure.sandbox.resourceGraph.freeze();
    put("hidden", SUB_B, status(4002));
    const { report, calls: made } = await cycle(deps);
    expect(made["arm-get"]).toBe(1);
    expect(report).toMatchObject({ confirmations: 1, confirmationsOverturned: 1 });
    expect((await deps.store.getRecord(id)).incident?.state).toBe("revoked");

    // Really gone: the GET confirms it, and the incident is resolved as removed, once.
    azure.sandbox.resourceGraph.thaw();
    azure.sandbox.removeAccount("hidden");
    const gone = await cycle(deps);
    expect(gone.report.decisions).toEqual({ "account-removed": 1 });
    expect((await deps.store.getRecord(id)).incident?.resolution).toBe("account-removed");
  });

  it("when Resource Graph fails, open incidents only get their deadlines checked: none is declared removed", async () => {
    const id = put("during-outage", SUB_A, status(4002));
    const deps = monitor();
    await cycle(deps);
    azure.sandbox.injectFault({ route: "resource-graph", status: 503 });
    const { report, calls: made } = await cycle(deps);
    expect(report.subscriptionsFailed).toEqual([expect.objectContaining({ subscriptionId: "resource-graph", reason: "transient" })]);
    expect(made["arm-get"]).toBeUndefined();
    expect((await deps.store.getRecord(id)).incident?.state).toBe("revoked");
  });

  it("a confirmation GET that fails defers the change to the next cycle", async () => {
    put("deferred", SUB_B, status(4016));
    const deps = monitor();
    azure.sandbox.injectFault({ route: "arm-get", status: 503 });
    const first = await cycle(deps);
    expect(first.report).toMatchObject({ confirmations: 1, confirmationsFailed: 1 });
    expect(emailsFor("deferred")).toHaveLength(0);
    const second = await cycle(deps);
    expect(second.report.decisions).toEqual({ "first-notice": 1 });
    expect(emailsFor("deferred")).toHaveLength(1);
  });

  it("covers a management group's subscriptions without listing them", async () => {
    put("in-group", SUB_B, status(4002));
    azure.sandbox.resourceGraph.setManagementGroup("mg-cosmos", [SUB_B]);
    const deps = monitor({ CMK_SUBSCRIPTION_IDS: "", CMK_MANAGEMENT_GROUPS: "mg-cosmos" });
    const { report, calls: made } = await cycle(deps);
    expect(made["resource-graph"]).toBe(1);
    expect(made["arm-list"]).toBeUndefined();
    expect(report.changes.map((change) => change.item.accountId.split("/").pop())).toContain("in-group");
  });
});

describe("ARM discovery (CMK_DISCOVERY=arm)", () => {
  it("lists each subscription and acts on the listing without a GET", async () => {
    put("arm-mode", SUB_A, status(4002));
    const deps = monitor({ CMK_DISCOVERY: "arm" });
    const { report, calls: made } = await cycle(deps);
    expect(report.discoveryMode).toBe("arm");
    expect(made["arm-list"]).toBe(2);
    expect(made["arm-get"]).toBeUndefined();
    expect(made["resource-graph"]).toBeUndefined();
  });
});
