/**
 * The benchmark, small: 300 accounts in 30 subscriptions (one of them revoked behind its shared
 * key) and 20 empty subscriptions in scope, every mode, real engine, sandbox and Azurite. Resource
 * Graph shows every account healthy; only ARM has the revocations. Call counts and store traffic,
 * not times: a test machine's speed says nothing about the engine.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_MODES, hostQueueSettings, idleLowerBound, lowerBound, runBenchmark, type BenchResult } from "../../bench/benchmark";

jest.setTimeout(120_000);

let results: BenchResult[];

beforeAll(async () => {
  results = await runBenchmark({ accounts: 300, subscriptions: 30, emptySubscriptions: 20, latencyInMs: 0, modes: [...BENCH_MODES], revokedShare: 0.01 });
});

const byMode = (mode: string) => results.find((result) => result.mode === mode)!;

describe("npm run bench, small", () => {
  it("Resource Graph finds which subscriptions hold CMK accounts in two queries; the status is one ARM list per such subscription", () => {
    expect(byMode("resource-graph")).toMatchObject({ discoveryCalls: 2 + 30, callsByApi: expect.objectContaining({ "resource-graph": 2, "arm-list": 30 }) });
    // ARM discovery's first cycle lists every subscription in scope, the 20 empty ones too.
    expect(byMode("arm")).toMatchObject({ discoveryCalls: 50, callsByApi: expect.not.objectContaining({ "resource-graph": expect.anything() }) });
  });

  it.each(BENCH_MODES)("%s: Resource Graph shows every account healthy, yet each revocation ARM has gets an incident in the cold cycle", (mode) => {
    expect(byMode(mode)).toMatchObject({ graphStatus: "healthy", revokedAccounts: 10, detectedRevoked: 10 });
  });

  it.each(BENCH_MODES)("%s: an idle cycle reads status with one ARM list per subscription holding CMK accounts, not one per subscription in scope", (mode) => {
    // The simulated Azure's count and the monitor's own agree.
    expect(byMode(mode)).toMatchObject({ subscriptionsInScope: 50, subscriptionsWithCmk: 30, statusCalls: 30, statusCallsReported: 30 });
    expect(byMode(mode).idleCycleCalls["resource-graph"]).toBeUndefined();
  });

  it.each([
    ["arm", "arm"],
    ["resource-graph", "arm"],
    // Asked for, but the first cycle's calibration finds Resource Graph disagreeing with ARM: ARM for the interval.
    ["resource-graph-status", "resource-graph"],
  ])("%s: reports the status source it was configured with and the one the idle cycle used", (mode, configured) => {
    expect(byMode(mode)).toMatchObject({ statusSource: configured, idleStatusSourceUsed: "arm" });
  });

  it.each([
    ["arm", 10],
    ["resource-graph", 10],
    // The calibration compares with ARM's lists, so no sample GET: the same confirmations as the other modes.
    ["resource-graph-status", 10],
  ])("%s: every account of the revoked subscription is confirmed with one ARM GET, nothing else is", (mode, gets) => {
    // A fanned-out batch's snapshot may be stale: its state changes are confirmed whichever discovery found them.
    const result = byMode(mode);
    expect(result.revokedAccounts).toBe(10);
    expect(result.armCalls).toBe(gets);
  });

  it.each(BENCH_MODES)("%s: Key Vault is probed per vault, not per account", (mode) => {
    // 30 vaults (one per subscription, shared by its 10 accounts): a few calls each, never 300+.
    const result = byMode(mode);
    expect(result.keyVaultCalls).toBeGreaterThanOrEqual(30 * 3);
    expect(result.keyVaultCalls).toBeLessThanOrEqual(30 * 4 + 10);
  });

  it.each(BENCH_MODES)("%s: the owner of the ten revoked accounts gets one digest, and the cold cycle fans out", (mode) => {
    const result = byMode(mode);
    expect(result).toMatchObject({ emailsSent: 1, digestsSent: 1, messagesInDigests: 10, coldFanout: "queue" });
    expect(result.workItems).toBeGreaterThanOrEqual(1);
  });

  it.each(BENCH_MODES)("%s: an idle cycle writes no entity and sends no email", (mode) => {
    const result = byMode(mode);
    expect(result).toMatchObject({ idleCycleWrites: 0, idleCycleEmails: 0, idleCycleHeartbeatWrites: 1, errors: 0, armThrottled: 0 });
    // Per-account calls in an idle cycle: only the probes of the ten open incidents' one vault.
    expect(result.idleCycleCalls["arm-get"]).toBeUndefined();
  });

  it.each([
    ["arm", 0],
    ["resource-graph", 0],
    // CMK_STATUS_SOURCE=resource-graph falling back to ARM says so once a cycle: cold, idle, next day, and each settle cycle.
    ["resource-graph-status", 3],
  ])("%s: the next UTC day's first cycle re-checks every healthy account, replacing its row under its ETag", (mode, perRunCycles) => {
    const result = byMode(mode);
    const warnings = perRunCycles === 0 ? 0 : perRunCycles + result.settleCycles;
    // 290 healthy accounts: one replaced check row each (a stale ETag would leave a row out), plus the
    // open incidents' reminder rows; the ten reminders go out as one digest to their owner.
    expect(result.nextDayCycleWrites).toBeGreaterThanOrEqual(290);
    expect(result.nextDayCycleWrites).toBeLessThan(290 + 10 * 10);
    expect(result).toMatchObject({ nextDayCycleEmails: 1, errors: 0, warnings });
  });

  (process.platform === "linux" ? it.each(BENCH_MODES) : it.skip.each(BENCH_MODES))(
    "%s: says where the machine's CPU went in the cold cycle, so a contended run shows",
    (mode) => {
      const cpu = byMode(mode).coldCycleMachineCpu!;
      // In the suite the sandbox runs in this process: no separate simulated-Azure figure.
      expect(cpu.simulatedAzureMs).toBeUndefined();
      expect(cpu.cores).toBeGreaterThanOrEqual(1);
      // The engine did work in this process and Azurite stored it; the rest are counters, never negative.
      expect(cpu.benchProcessMs).toBeGreaterThan(0);
      expect(cpu.azuriteMs).toBeGreaterThan(0);
      expect(cpu.otherMs).toBeGreaterThanOrEqual(0);
      expect(cpu.stealMs).toBeGreaterThanOrEqual(0);
    },
  );
});

describe("the lower bound", () => {
  it.each([
    // Resource Graph pages follow each other; 10 pages are within one quota window.
    [{ graphCalls: 10, armListCalls: 0, workCalls: 0, emailCalls: 0 }, 10 * 20],
    // 20 pages need two quota windows: the floor is one window.
    [{ graphCalls: 20, armListCalls: 0, workCalls: 0, emailCalls: 0 }, 5000],
    // Two queries, then the ARM lists of the subscriptions they found, 8 at once.
    [{ graphCalls: 2, armListCalls: 80, workCalls: 0, emailCalls: 0 }, 2 * 20 + 10 * 20],
    // ARM lists 8 subscriptions at once.
    [{ graphCalls: 0, armListCalls: 1000, workCalls: 0, emailCalls: 0 }, 125 * 20],
    // Work at 8 at once, sends one at a time, after it (inline).
    [{ graphCalls: 0, armListCalls: 8, workCalls: 80, emailCalls: 4 }, 20 + 10 * 20 + 4 * 20],
    // Fanned out, four work items at once still share the instance's 8 call slots; their sends overlap the work.
    [{ graphCalls: 0, armListCalls: 8, workCalls: 80, emailCalls: 4, fanout: "queue" as const, invocations: 4 }, 20 + 10 * 20],
    // Fanned out one at a time: nothing overlaps the sends.
    [{ graphCalls: 0, armListCalls: 8, workCalls: 80, emailCalls: 4, fanout: "queue" as const, invocations: 1 }, 20 + 10 * 20 + 4 * 20],
  ])("%j → %d ms at 20 ms a call", (input, expected) => {
    expect(lowerBound({ latencyInMs: 20, armConcurrency: 8, fanout: "inline", invocations: 1, ...input }).totalMs).toBe(expected);
  });
});

describe("the idle lower bound", () => {
  it.each([
    // 1,000 subscriptions hold CMK accounts: 125 rounds of 8 lists, whatever the scope's size.
    [{ subscriptionsWithCmk: 1000, probeCalls: 0, emailCalls: 0 }, 125 * 20],
    // A partial round still costs a round trip.
    [{ subscriptionsWithCmk: 9, probeCalls: 0, emailCalls: 0 }, 2 * 20],
    // The open incidents' Key Vault probes, 8 at once, after the lists.
    [{ subscriptionsWithCmk: 8, probeCalls: 40, emailCalls: 0 }, 20 + 5 * 20],
    // An email an idle cycle should not send still costs its calls one at a time.
    [{ subscriptionsWithCmk: 8, probeCalls: 0, emailCalls: 2 }, 20 + 2 * 20],
  ])("%j → %d ms at 20 ms a call", (input, expected) => {
    expect(idleLowerBound({ latencyInMs: 20, armConcurrency: 8, ...input }).totalMs).toBe(expected);
  });
});

describe("the simulated host reads host.json's queue settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "host-json-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    // This repository's host.json: what the Function App runs with.
    ["the repository's", undefined, { batchSize: 4, newBatchThreshold: 2, maxPollingIntervalInMs: 2000 }],
    // Nothing set: the host's defaults (16, half of it, one minute).
    ["an empty", {}, { batchSize: 16, newBatchThreshold: 8, maxPollingIntervalInMs: 60_000 }],
    // A batch size alone: the threshold defaults to half of it.
    [
      "a batch-size-only",
      { extensions: { queues: { batchSize: 6, maxPollingInterval: "00:00:10" } } },
      { batchSize: 6, newBatchThreshold: 3, maxPollingIntervalInMs: 10_000 },
    ],
  ])("%s host.json", (_name, hostJson, expected) => {
    const path = hostJson === undefined ? undefined : join(dir, `${Math.random().toString(36).slice(2)}.json`);
    if (path) writeFileSync(path, JSON.stringify({ version: "2.0", ...hostJson }));
    expect(hostQueueSettings(path)).toEqual(expected);
  });
});
