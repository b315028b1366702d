/**
 * Where the fleet and its status come from (issue: detect from what ARM says now). Resource Graph
 * finds which subscriptions hold CMK accounts and which it can see; the status comes from one ARM
 * list per such subscription, every cycle. The sandbox plays Resource Graph at its least
 * convenient: no status by default, a stale one, subscriptions silently missing, truncated answers.
 * CMK_STATUS_SOURCE=resource-graph is used only while a sample agrees with ARM, and then every
 * state change it suggests is confirmed with a GET.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig, type Environment } from "../../src/config";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const status = (code: number) =>
  `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`;
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
  // Every test builds fresh monitors that each read Resource Graph: more than its per-user quota in real time.
  azure.sandbox.resourceGraph.setQuota({ queries: 1000, windowInMs: 5000 });
  // Each account lives in one of two subscriptions: with more than one, auto discovery is Resource Graph.
  put("steady-a", SUB_A, HEALTHY);
  put("steady-b", SUB_B, HEALTHY);
  created.clear();
});
afterEach(() => {
  azure.sandbox.resourceGraph.thaw();
  azure.sandbox.resourceGraph.setStatusMode("absent");
  azure.sandbox.resourceGraph.setTruncation(undefined);
  azure.sandbox.setListOmitsStatus(false);
  azure.sandbox.clearFaults();
  for (const name of created) if (azure.sandbox.getAccount(name)) azure.sandbox.removeAccount(name);
  created.clear();
});
afterAll(async () => {
  await azure?.stop();
});

describe("Resource Graph finds the fleet, ARM says its status", () => {
  it("a revocation Resource Graph has no status for is detected within one poll from ARM", async () => {
    put("revoked-1", SUB_A, status(4002));
    const deps = monitor();
    const first = await cycle(deps);
    // Two Resource Graph queries (subscriptions it sees, CMK accounts), then one ARM list per subscription holding CMK accounts.
    // The email is one POST: no status poll in the cycle that sends it.
    expect(first.calls).toEqual({ "resource-graph": 2, "arm-list": 2, "acs-send": 1 });
    expect(first.report).toMatchObject({
      statusSource: "arm",
      statusCalls: 2,
      subscriptionsInScope: 2,
      subscriptionsWithCmk: 2,
      decisions: { "first-notice": 1 },
    });
    expect(emailsFor("revoked-1")).toHaveLength(1);
  });

  it("an idle cycle reads no Resource Graph (the index is kept) and one ARM list per subscription holding CMK accounts", async () => {
    const deps = monitor();
    await cycle(deps);
    const idle = await cycle(deps);
    expect(idle.calls).toEqual({ "arm-list": 2 });
    expect(idle.report.changes).toHaveLength(0);
    expect(idle.report.statusCalls).toBe(2);
  });

  it("subscriptions without CMK accounts are never listed, however many are in scope", async () => {
    const empty = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-0000000001${String(i).padStart(2, "0")}`);
    for (const id of empty) azure.sandbox.addSubscription(id);
    const deps = monitor({ CMK_SUBSCRIPTION_IDS: [SUB_A, SUB_B, ...empty].join(",") });
    const { report, calls: made } = await cycle(deps);
    expect(made["arm-list"]).toBe(2);
    expect(report).toMatchObject({ subscriptionsInScope: 7, subscriptionsWithCmk: 2, subscriptionsListed: 7 });
  });

  it("a revocation a stale Resource Graph still shows healthy is detected from ARM", async () => {
    put("stale-revoked", SUB_B, HEALTHY);
    azure.sandbox.resourceGraph.setStatusMode("stale");
    azure.sandbox.setStatus("stale-revoked", status(4003));
    const deps = monitor();
    const { report } = await cycle(deps);
    expect(report.decisions).toEqual({ "first-notice": 1 });
    expect(emailsFor("stale-revoked")).toHaveLength(1);
  });

  it("a recovery is seen from ARM in the next poll, whatever Resource Graph says", async () => {
    put("recovers", SUB_A, status(4003));
    const deps = monitor();
    await cycle(deps);
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("recovers", HEALTHY);
    const next = await cycle(deps);
    expect(next.report.decisions).toEqual({ recovered: 1 });
    expect(emailsFor("recovers").map((email) => email.subject)).toEqual([expect.stringMatching(/revoked/i), expect.stringMatching(/resolved|recovered/i)]);
  });

  it("an account ARM no longer lists is removed, even while Resource Graph still shows it", async () => {
    const id = put("gone", SUB_B, status(4002));
    const deps = monitor();
    await cycle(deps);
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.removeAccount("gone");
    const { report } = await cycle(deps);
    expect(report.decisions).toEqual({ "account-removed": 1 });
    expect((await deps.store.getRecord(id)).incident?.resolution).toBe("account-removed");
  });

  it("a new CMK account in a subscription already holding some is found by the next ARM list, without asking Resource Graph", async () => {
    const deps = monitor();
    await cycle(deps);
    put("late-arrival", SUB_A, status(4016));
    const { report, calls: made } = await cycle(deps);
    expect(made["resource-graph"]).toBeUndefined();
    expect(report.decisions).toEqual({ "first-notice": 1 });
  });

  it("a list response without the status is confirmed with a GET before the account is called unknown", async () => {
    put("no-status-in-list", SUB_A, status(4002));
    azure.sandbox.setListOmitsStatus(true);
    const deps = monitor();
    const { report, calls: made } = await cycle(deps);
    // One GET per account the lists showed without a status (the two steady ones and this one).
    expect(made["arm-get"]).toBe(3);
    expect(report).toMatchObject({ statusCalls: 5, unknownSeen: 0, decisions: { "first-notice": 1 } });
  });

  it("a subscription Resource Graph silently leaves out is reported as failing, and its open incidents are kept", async () => {
    const SUB_C = "00000000-0000-4000-8000-0000000000c3";
    const id = put("behind-403", SUB_C, status(4002));
    const deps = monitor({ CMK_SUBSCRIPTION_IDS: `${SUB_A},${SUB_B},${SUB_C}` });
    await cycle(deps);
    expect((await deps.store.getRecord(id)).incident?.state).toBe("revoked");
    // An hour on (past the window in which a refusal is taken for permissions still propagating), the
    // monitor's Reader role on the subscription is removed: ARM answers 403, Resource Graph just leaves it out.
    now = new Date(now.getTime() + 60 * 60_000);
    azure.sandbox.forbidSubscription(SUB_C);
    const later = monitor({ CMK_SUBSCRIPTION_IDS: `${SUB_A},${SUB_B},${SUB_C}`, CMK_STATE_TABLE: `confirm${table}` });
    const { report } = await cycle(later);
    expect(report.subscriptionsFailed).toEqual([expect.objectContaining({ subscriptionId: SUB_C, reason: "auth" })]);
    expect(report).toMatchObject({ subscriptionsInScope: 3, subscriptionsListed: 2 });
    // The incident keeps its deadlines (its reminder is due after the hour), and nothing says "resolved".
    expect(report.decisions).toEqual({ "reminder-due": 1 });
    expect((await later.store.getRecord(id)).incident?.state).toBe("revoked");
    expect(await later.heartbeat.lastCycle()).toMatchObject({ subscriptionsInScope: 3, subscriptionsReadable: 2, subscriptionsFailed: 1, statusSource: "arm" });
  });

  it("a truncated Resource Graph answer fails discovery; the configured subscriptions are still read with ARM", async () => {
    put("during-truncation", SUB_A, status(4002));
    azure.sandbox.resourceGraph.setTruncation(1);
    const deps = monitor();
    const { report, calls: made } = await cycle(deps);
    expect(report.subscriptionsFailed).toEqual([expect.objectContaining({ subscriptionId: "resource-graph" })]);
    expect(made["arm-list"]).toBe(2);
    expect(report.decisions).toEqual({ "first-notice": 1 });
  });

  it("when Resource Graph fails, the last index is kept and open incidents are read with ARM: none is declared removed", async () => {
    const id = put("during-outage", SUB_A, status(4002));
    const deps = monitor({ CMK_DISCOVERY_INTERVAL_MINUTES: "5" });
    await cycle(deps);
    azure.sandbox.injectFault({ route: "resource-graph", status: 503 });
    const { report, calls: made } = await cycle(deps);
    expect(report.subscriptionsFailed).toEqual([expect.objectContaining({ subscriptionId: "resource-graph", reason: "transient" })]);
    expect(made["arm-list"]).toBe(2);
    expect((await deps.store.getRecord(id)).incident?.state).toBe("revoked");
  });

  it("reads a management group's subscriptions that hold CMK accounts", async () => {
    put("in-group", SUB_B, status(4002));
    azure.sandbox.resourceGraph.setManagementGroup("mg-cosmos", [SUB_B]);
    const deps = monitor({ CMK_SUBSCRIPTION_IDS: "", CMK_MANAGEMENT_GROUPS: "mg-cosmos" });
    const { report, calls: made } = await cycle(deps);
    expect(made["resource-graph"]).toBe(2);
    expect(made["arm-list"]).toBe(1);
    expect(report.changes.map((change) => change.item.accountId.split("/").pop())).toContain("in-group");
  });
});

describe("CMK_STATUS_SOURCE=resource-graph: only with proof", () => {
  it("falls back to ARM when Resource Graph has no status, says why, and still detects the revocation", async () => {
    put("unproven", SUB_A, status(4002));
    const deps = monitor({ CMK_STATUS_SOURCE: "resource-graph" });
    const { report } = await cycle(deps);
    expect(report.statusSource).toBe("arm");
    expect(report.statusSourceFallback).toMatch(/no customerManagedKeyStatus/);
    expect(report.decisions).toEqual({ "first-notice": 1 });
    expect(await deps.heartbeat.lastCycle()).toMatchObject({ statusSourceFallback: expect.stringMatching(/no customerManagedKeyStatus/) });
  });

  it("calibrates against ARM first, then uses Resource Graph and confirms each state change it suggests with a GET", async () => {
    azure.sandbox.resourceGraph.setStatusMode("fresh");
    put("proven", SUB_A, HEALTHY);
    const deps = monitor({ CMK_STATUS_SOURCE: "resource-graph" });
    // The first cycle compares every status Resource Graph shows with ARM's lists: they agree.
    const first = await cycle(deps);
    expect(first.report).toMatchObject({ statusSource: "arm", statusSourceFallback: "", statusSourceDisagreements: 0, decisions: {} });
    expect(first.calls["arm-list"]).toBe(2);
    // Within the interval, Resource Graph is the source: no ARM list, the suggested revocation confirmed by one GET.
    azure.sandbox.setStatus("proven", status(4002));
    const second = await cycle(deps);
    expect(second.report).toMatchObject({ statusSource: "resource-graph", statusSourceFallback: "", confirmations: 1, decisions: { "first-notice": 1 } });
    expect(second.calls["arm-list"]).toBeUndefined();
  });

  it("a revocation a lagging Resource Graph shows but ARM no longer has is overturned by the GET: no incident, no email", async () => {
    azure.sandbox.resourceGraph.setStatusMode("fresh");
    // Three healthy accounts sort first, so the sample (three accounts) does not include "flicker".
    for (const name of ["aa-1", "aa-2", "aa-3"]) put(name, SUB_A, HEALTHY);
    put("flicker", SUB_B, HEALTHY);
    const deps = monitor({ CMK_STATUS_SOURCE: "resource-graph" });
    await cycle(deps);
    // Resource Graph saw a revocation that ARM has already undone.
    azure.sandbox.setStatus("flicker", status(4002));
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("flicker", HEALTHY);
    const { report } = await cycle(deps);
    expect(report).toMatchObject({ statusSource: "resource-graph", confirmations: 1, confirmationsOverturned: 1, decisions: {} });
    expect(emailsFor("flicker")).toHaveLength(0);
    expect((await deps.store.getRecord(azure.sandbox.getAccount("flicker")!.id)).incident).toBeUndefined();
  });

  it("a sample that disagrees sends the cycle to ARM", async () => {
    azure.sandbox.resourceGraph.setStatusMode("fresh");
    put("drifted", SUB_A, HEALTHY);
    const deps = monitor({ CMK_STATUS_SOURCE: "resource-graph" });
    await cycle(deps);
    // After the calibration Resource Graph stops seeing changes; the steady accounts sort first and are sampled.
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("steady-a", status(4002));
    try {
      const { report } = await cycle(deps);
      expect(report).toMatchObject({ statusSource: "arm", statusSourceFallback: expect.stringMatching(/differs/) });
      expect(report.decisions).toEqual({ "first-notice": 1 });
    } finally {
      azure.sandbox.setStatus("steady-a", HEALTHY);
    }
  });

  it("a stale status the rotating sample misses is caught by the next calibration, within one interval, and its lag is reported", async () => {
    azure.sandbox.resourceGraph.setStatusMode("fresh");
    // Many healthy accounts sort before the one that is revoked: a sample of three walks past it for cycles.
    for (let i = 0; i < 12; i++) put(`ab-${String(i).padStart(2, "0")}`, SUB_A, HEALTHY);
    put("zz-hidden", SUB_B, HEALTHY);
    const deps = monitor({ CMK_STATUS_SOURCE: "resource-graph", CMK_DISCOVERY_INTERVAL_MINUTES: "15" });
    await cycle(deps);
    azure.sandbox.resourceGraph.freeze();
    azure.sandbox.setStatus("zz-hidden", status(4003));
    const decisions: Array<Record<string, number>> = [];
    const sources: string[] = [];
    // Cycles five minutes apart: 5 and 10 minutes after the calibration the sample agrees (Resource Graph is trusted,
    // and wrong); at 15 minutes the calibration reads ARM and finds the revocation.
    for (let i = 0; i < 3; i++) {
      const { report } = await cycle(deps);
      decisions.push(report.decisions);
      sources.push(report.statusSource);
    }
    expect(sources).toEqual(["resource-graph", "resource-graph", "arm"]);
    expect(decisions).toEqual([{}, {}, { "first-notice": 1 }]);
    expect(await deps.heartbeat.lastCycle()).toMatchObject({
      statusSourceFallback: expect.stringMatching(/zz-hidden differs/),
      statusSourceDisagreements: 1,
      statusSourceLagMinutes: 0,
    });
    // Resource Graph catches up; the next calibration measures how long it lagged ARM.
    azure.sandbox.resourceGraph.thaw();
    let last;
    for (let i = 0; i < 3; i++) last = await cycle(deps);
    expect(last!.report).toMatchObject({ statusSource: "arm", statusSourceDisagreements: 0, statusSourceLagMinutes: 15 });
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
  // Subscriptions of these tests only: what the monitor remembers about them must not leak into others.
  // Each exists in ARM (an unknown subscription is a 404 SubscriptionNotFound, not an empty list).
  const empty = (tag: string, n: number) =>
    Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${`${tag}${String(i).padStart(2, "0")}`.padStart(12, "0")}`).map((id) => {
      azure.sandbox.addSubscription(id);
      return id;
    });

  it.each([
    // Four cycles five minutes apart, interval 15 minutes: the empty ones rest for two cycles, then are listed again.
    ["15", [2 + 3, 2, 2, 2 + 3]],
    // An interval of one minute: nothing rests, every subscription is listed every cycle (the old behaviour).
    ["1", [2 + 3, 2 + 3, 2 + 3, 2 + 3]],
  ])("CMK_DISCOVERY_INTERVAL_MINUTES=%s: subscriptions found without CMK accounts are listed again only when it is up", async (interval, lists) => {
    const deps = monitor({
      CMK_DISCOVERY: "arm",
      CMK_DISCOVERY_INTERVAL_MINUTES: interval,
      CMK_SUBSCRIPTION_IDS: [SUB_A, SUB_B, ...empty(`e${interval.padStart(2, "0")}`, 3)].join(","),
    });
    const made: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { report, calls: counts } = await cycle(deps);
      made.push(counts["arm-list"] ?? 0);
      // A resting subscription still counts as readable (it was, within the interval) and in scope.
      expect(report).toMatchObject({ subscriptionsInScope: 5, subscriptionsListed: 5, subscriptionsWithCmk: 2, statusCalls: counts["arm-list"] });
    }
    expect(made).toEqual(lists);
  });

  it("a CMK account created in a resting subscription is found when the interval is up, not before", async () => {
    const [quiet1] = empty("f1", 1);
    const deps = monitor({ CMK_DISCOVERY: "arm", CMK_DISCOVERY_INTERVAL_MINUTES: "15", CMK_SUBSCRIPTION_IDS: [SUB_A, SUB_B, quiet1].join(",") });
    await cycle(deps);
    put("arrives-late", quiet1!, status(4003));
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await cycle(deps)).report.decisions);
    // Cycles at +5 and +10 minutes do not list it; the one at +15 does.
    expect(decisions).toEqual([{}, {}, { "first-notice": 1 }]);
  });

  it("a subscription that failed is listed again the next cycle: only a successful empty list rests", async () => {
    const [forbidden, resting] = empty("f2", 2);
    azure.sandbox.forbidSubscription(forbidden!);
    const deps = monitor({ CMK_DISCOVERY: "arm", CMK_SUBSCRIPTION_IDS: [SUB_A, SUB_B, forbidden, resting].join(",") });
    const first = await cycle(deps);
    const second = await cycle(deps);
    expect(first.calls["arm-list"]).toBe(4);
    // The two with CMK accounts and the failing one; the empty readable one rests.
    expect(second.calls["arm-list"]).toBe(3);
    expect(second.report.subscriptionsFailed).toEqual([expect.objectContaining({ subscriptionId: forbidden, reason: "auth" })]);
    expect(second.report).toMatchObject({ subscriptionsInScope: 4, subscriptionsListed: 3 });
  });

  it("a resting subscription with an open incident is listed every cycle, so its account's removal is seen", async () => {
    const [shared] = empty("f3", 1);
    const env = { CMK_DISCOVERY: "arm", CMK_SUBSCRIPTION_IDS: [SUB_A, SUB_B, shared].join(",") };
    const first = monitor(env);
    await cycle(first);
    // Another instance (same state table) opens an incident there while this one thinks it empty.
    const id = put("behind-rest", shared!, status(4002));
    const other = monitor({ ...env, CMK_STATE_TABLE: `confirm${table}` });
    expect((await cycle(other)).report.decisions).toEqual({ "first-notice": 1 });
    azure.sandbox.removeAccount("behind-rest");
    const { report, calls: made } = await cycle(first);
    expect(made["arm-list"]).toBe(3);
    expect(report.decisions).toEqual({ "account-removed": 1 });
    expect((await first.store.getRecord(id)).incident?.resolution).toBe("account-removed");
  });
});
