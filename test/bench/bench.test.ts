/**
 * The benchmark, small: 300 accounts in 30 subscriptions (one of them revoked behind its shared
 * key), both discovery modes, real engine, sandbox and Azurite. Call counts and store traffic, not
 * times: a test machine's speed says nothing about the engine.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostQueueSettings, lowerBound, runBenchmark, type BenchResult } from "../../bench/benchmark";

jest.setTimeout(120_000);

let results: BenchResult[];

beforeAll(async () => {
  results = await runBenchmark({ accounts: 300, subscriptions: 30, latencyInMs: 0, modes: ["resource-graph", "arm"], revokedShare: 0.01 });
});

const byMode = (mode: string) => results.find((result) => result.mode === mode)!;

describe("npm run bench, small", () => {
  it("Resource Graph finds which subscriptions hold CMK accounts in two queries; the status is one ARM list per such subscription", () => {
    expect(byMode("resource-graph")).toMatchObject({ discoveryCalls: 2 + 30, callsByApi: expect.objectContaining({ "resource-graph": 2, "arm-list": 30 }) });
    expect(byMode("arm")).toMatchObject({ discoveryCalls: 30, callsByApi: expect.not.objectContaining({ "resource-graph": expect.anything() }) });
  });

  it.each(["resource-graph", "arm"])("%s: every account of the revoked subscription is confirmed with one ARM GET, nothing else is", (mode) => {
    // A fanned-out batch's snapshot may be stale: its state changes are confirmed whichever discovery found them.
    const result = byMode(mode);
    expect(result.revokedAccounts).toBe(10);
    expect(result.armCalls).toBe(10);
  });

  it.each(["resource-graph", "arm"])("%s: Key Vault is probed per vault, not per account", (mode) => {
    // 30 vaults (one per subscription, shared by its 10 accounts): a few calls each, never 300+.
    const result = byMode(mode);
    expect(result.keyVaultCalls).toBeGreaterThanOrEqual(30 * 3);
    expect(result.keyVaultCalls).toBeLessThanOrEqual(30 * 4 + 10);
  });

  it.each(["resource-graph", "arm"])("%s: the owner of the ten revoked accounts gets one digest, and the cold cycle fans out", (mode) => {
    const result = byMode(mode);
    expect(result).toMatchObject({ emailsSent: 1, digestsSent: 1, messagesInDigests: 10, coldFanout: "queue" });
    expect(result.workItems).toBeGreaterThanOrEqual(1);
  });

  it.each(["resource-graph", "arm"])("%s: an idle cycle writes no entity and sends no email", (mode) => {
    const result = byMode(mode);
    expect(result).toMatchObject({ idleCycleWrites: 0, idleCycleEmails: 0, idleCycleHeartbeatWrites: 1, errors: 0, armThrottled: 0 });
    // Per-account calls in an idle cycle: only the probes of the ten open incidents' one vault.
    expect(result.idleCycleCalls["arm-get"]).toBeUndefined();
  });

  it.each(["resource-graph", "arm"])("%s: the next UTC day's first cycle re-checks every healthy account, replacing its row under its ETag", (mode) => {
    const result = byMode(mode);
    // 290 healthy accounts: one replaced check row each (a stale ETag would leave a row out), plus the
    // open incidents' reminder rows; the ten reminders go out as one digest to their owner.
    expect(result.nextDayCycleWrites).toBeGreaterThanOrEqual(290);
    expect(result.nextDayCycleWrites).toBeLessThan(290 + 10 * 10);
    expect(result).toMatchObject({ nextDayCycleEmails: 1, errors: 0, warnings: 0 });
  });

  (process.platform === "linux" ? it.each(["resource-graph", "arm"]) : it.skip.each(["resource-graph", "arm"]))(
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
    [{ mode: "resource-graph" as const, discoveryCalls: 10, workCalls: 0, emailCalls: 0 }, 10 * 20],
    // 20 pages need two quota windows: the floor is one window.
    [{ mode: "resource-graph" as const, discoveryCalls: 20, workCalls: 0, emailCalls: 0 }, 5000],
    // ARM lists 8 subscriptions at once.
    [{ mode: "arm" as const, discoveryCalls: 1000, workCalls: 0, emailCalls: 0 }, 125 * 20],
    // Work at 8 at once, sends one at a time, after it (inline).
    [{ mode: "arm" as const, discoveryCalls: 8, workCalls: 80, emailCalls: 4 }, 20 + 10 * 20 + 4 * 20],
    // Fanned out, four work items at once still share the instance's 8 call slots; their sends overlap the work.
    [{ mode: "arm" as const, discoveryCalls: 8, workCalls: 80, emailCalls: 4, fanout: "queue" as const, invocations: 4 }, 20 + 10 * 20],
    // Fanned out one at a time: nothing overlaps the sends.
    [{ mode: "arm" as const, discoveryCalls: 8, workCalls: 80, emailCalls: 4, fanout: "queue" as const, invocations: 1 }, 20 + 10 * 20 + 4 * 20],
  ])("%j → %d ms at 20 ms a call", (input, expected) => {
    expect(lowerBound({ latencyInMs: 20, armConcurrency: 8, fanout: "inline", invocations: 1, ...input }).totalMs).toBe(expected);
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
