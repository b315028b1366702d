/**
 * The fleet benchmark: a sandbox fleet of the requested size (a share of it revoked), every
 * sandbox response delayed by the requested latency, ARM's per-subscription read bucket (250,
 * refilled 25/s) and Resource Graph's quota (15 queries per 5 s) enforced, and full cycles of the
 * real engine — the same composition root, SDK clients and stages as the Function App — against
 * Azurite. In fan-out the benchmark plays one Functions instance's queue listener, as host.json
 * configures it (see `playHost`): it takes work items off the Azurite queue while the timer is
 * still putting them there and runs the queue handler's code on them, several at once, sharing
 * the instance's call slots.
 *
 * `npm run bench` runs the sandbox in a child process: in Azure those services are other machines,
 * and in the benchmark's own process every simulated response would cost the engine's CPU.
 *
 * Per mode it measures a cold cycle (empty state: every revocation is new, every healthy account
 * gets its first daily check) and an idle cycle (five minutes later, nothing changed in Azure),
 * and computes the lower bound for the cold cycle from the calls it made (see `lowerBound`), and
 * for the idle cycle from the calls no idle cycle can avoid (see `idleLowerBound`).
 *
 * Resource Graph never shows the revocations (bench/fleet.ts): every mode must find them from ARM.
 * Modes: "arm" (ARM lists every subscription in scope), "resource-graph" (Resource Graph finds which
 * subscriptions hold CMK accounts, ARM lists those) and "resource-graph-status" (the same with
 * CMK_STATUS_SOURCE=resource-graph, trusted only while a sample agrees with ARM).
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { QueueClient } from "@azure/storage-queue";
import { createMonitorDeps } from "../src/composition";
import { loadConfig } from "../src/config";
import { startAzurite, type AzuriteInstance } from "../src/sandbox";
import { SANDBOX_ESCALATION, SANDBOX_SENDER } from "../src/sandbox/environment";
import { startChildProcess, startInProcess, type SimulatedAzure } from "./simulatedAzure";
import type { GraphStatus } from "./fleet";
import type { Logger } from "../src/ports/logger";
import { runCycle, type CycleReport } from "../src/app/runCycle";
import { processWorkBatch } from "../src/app/processWorkBatch";
import { PROBE_CONCURRENCY } from "../src/pipeline/probeStage";
import type { MonitorDeps } from "../src/pipeline/monitorDeps";

export type BenchMode = "arm" | "resource-graph" | "resource-graph-status";

export const BENCH_MODES: readonly BenchMode[] = ["arm", "resource-graph", "resource-graph-status"];

export interface BenchOptions {
  accounts: number;
  subscriptions: number;
  latencyInMs: number;
  modes: BenchMode[];
  /** Share of accounts revoked (whole subscriptions behind one deleted shared key). Default 0.01. */
  revokedShare?: number;
  /** Subscriptions in scope without a CMK account, beside `subscriptions`. Default 0. */
  emptySubscriptions?: number;
  /** What Resource Graph shows as the accounts' status (never "revoked"). Default "healthy". */
  graphStatus?: GraphStatus;
  /**
   * The queue listener of the one simulated Functions instance: messages fetched at once, and how
   * few may still be running before it fetches more. Default: host.json's `extensions.queues`.
   */
  host?: Partial<HostQueueSettings>;
  /** CMK_FANOUT for the run. Default auto. */
  fanout?: "auto" | "queue" | "inline";
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Run the next UTC day's first cycle too. Default true; leaving it out shortens a run that only looks at cold and idle. */
  nextDay?: boolean;
  /** Where the sandbox runs. Default "in-process" (the test suite); the CLI uses "child-process". */
  simulation?: "in-process" | "child-process";
}

/** Store traffic of one cycle, counted on the storage clients' pipelines. */
export interface StoreTraffic {
  reads: number;
  /** Write requests, excluding the heartbeat row. */
  writes: number;
  /** Entities written, counting each entity of a batch transaction. */
  entitiesWritten: number;
  /** The one heartbeat row the status page reads (meta table), written every cycle by design. */
  heartbeatWrites: number;
}

export interface BenchResult {
  mode: BenchMode;
  /** CMK_STATUS_SOURCE of the mode. */
  statusSource: "arm" | "resource-graph";
  /** Where the idle cycle's statuses actually came from, and why not Resource Graph when it was asked for. */
  idleStatusSourceUsed: "arm" | "resource-graph";
  idleStatusSourceFallback: string;
  accounts: number;
  /** Subscriptions holding the CMK accounts (the `--subscriptions` option). */
  subscriptions: number;
  /** Subscriptions in scope, as the monitor counted them: those with CMK accounts and the empty ones. */
  subscriptionsInScope: number;
  /** Subscriptions holding CMK accounts, as the monitor counted them. */
  subscriptionsWithCmk: number;
  latencyMs: number;
  /** What Resource Graph showed as the status (ARM had the revocations). */
  graphStatus: GraphStatus;
  revokedAccounts: number;
  /** Revoked accounts (by ARM) with an open incident after the cold cycle. */
  detectedRevoked: number;
  /** ARM calls that read status in the idle cycle (list calls and account GETs), counted at the simulated Azure. */
  statusCalls: number;
  /** The same as the monitor counted it (its heartbeat's figure). */
  statusCallsReported: number;
  /** Calls by API in the cold cycle (sandbox routes). */
  callsByApi: Record<string, number>;
  discoveryCalls: number;
  /** Per-account ARM GETs (confirmations of state changes). */
  armCalls: number;
  /** Key Vault probes: ARM vault reads, data-plane key reads, role assignments. */
  keyVaultCalls: number;
  emailCalls: number;
  /** ARM reads the per-subscription bucket answered with 429. */
  armThrottled: number;
  coldFanout: "inline" | "queue";
  workItems: number;
  coldCycleMs: number;
  /** CPU this process (engine, sandbox and the simulated host together) used in the cold cycle. */
  coldCycleCpuMs: number;
  /**
   * Where the machine's CPU went during the cold cycle (Linux only): this process, the simulated
   * Azure child, Azurite, everything else on the machine, and time the hypervisor took (steal).
   * A ratio measured while `otherMs` or `stealMs` is large measured a contended machine. A VM can
   * also slow down without showing either (seen here: no steal, yet the same cold cycle took 11 s
   * of this process's CPU instead of 8-9): compare `coldCycleCpuMs` between runs of the same code.
   */
  coldCycleMachineCpu?: MachineCpu;
  idleCycleMs: number;
  /** CPU this process used in the idle cycle, and where the machine's went (as for the cold cycle). */
  idleCycleCpuMs: number;
  idleCycleMachineCpu?: MachineCpu;
  /** See `idleLowerBound`. */
  idleLowerBoundMs: number;
  idleLowerBound: { statusMs: number; probeMs: number; sendMs: number; statusCalls: number; probeCalls: number };
  idleRatio: number;
  /**
   * The first cycle of the next UTC day: every healthy account's daily check is due again, so it
   * re-probes the fleet and replaces each check row under its ETag (and open incidents remind).
   */
  nextDayCycleMs: number;
  /** Entities the next-day cycle wrote (a check row per healthy account, plus reminders). */
  nextDayCycleWrites: number;
  nextDayCycleEmails: number;
  /** Cycles between cold and idle that sent what pacing held back and read the sent emails' final status. */
  settleCycles: number;
  lowerBoundMs: number;
  lowerBound: {
    discoveryMs: number;
    workMs: number;
    sendMs: number;
    throttleFloorMs: number;
    concurrency: { discovery: number; work: number; send: number };
  };
  ratio: number;
  coldCycleReads: number;
  coldCycleWrites: number;
  idleCycleReads: number;
  idleCycleWrites: number;
  idleCycleHeartbeatWrites: number;
  idleCycleCalls: Record<string, number>;
  emailsSent: number;
  digestsSent: number;
  messagesInDigests: number;
  idleCycleEmails: number;
  warnings: number;
  errors: number;
  /** Peak RSS of this process through the cold and idle cycles (the target's figure). */
  peakRssMb: number;
  /** Peak RSS including the next day's first cycle. */
  nextDayPeakRssMb: number;
  /** Azurite's own peak RSS over the whole run, the next day included (Linux only). */
  azuritePeakRssMb?: number;
}

/** CPU by consumer over one cycle, in ms (see BenchResult.coldCycleMachineCpu). */
export interface MachineCpu {
  cores: number;
  benchProcessMs: number;
  simulatedAzureMs?: number;
  azuriteMs: number;
  otherMs: number;
  stealMs: number;
}

const ARM_THROTTLE = { capacity: 250, refillPerSecond: 25 };
const RESOURCE_GRAPH_QUOTA = { queries: 15, windowInMs: 5000 };
const KEY_VAULT_ROUTES = ["kv-vaults", "kv-deleted-vaults", "kv-key", "kv-deleted-key", "role-assignments", "role-definitions"];

export async function runBenchmark(options: BenchOptions): Promise<BenchResult[]> {
  const progress = options.progress ?? (() => {});
  const started = Date.now();
  const fleetOptions = {
    accounts: options.accounts,
    subscriptions: options.subscriptions,
    revokedShare: options.revokedShare ?? 0.01,
    emptySubscriptions: options.emptySubscriptions ?? 0,
    graphStatus: options.graphStatus ?? "healthy",
    latencyInMs: options.latencyInMs,
  };
  const [azure, azurite] = await Promise.all([
    options.simulation === "child-process" ? startChildProcess(fleetOptions) : startInProcess(fleetOptions),
    startAzurite(),
  ]);
  try {
    const fleet = azure.fleet;
    progress(
      `fleet: ${options.accounts} accounts in ${options.subscriptions} subscriptions (+${fleetOptions.emptySubscriptions} empty), ${fleet.revokedAccounts} revoked (${Date.now() - started} ms to start)`,
    );
    const results: BenchResult[] = [];
    for (const mode of options.modes) results.push(await runMode(azure, azurite, mode, options, progress));
    return results;
  } finally {
    await Promise.all([azure.stop(), azurite.stop()]);
  }
}

async function runMode(
  azure: SimulatedAzure,
  azurite: AzuriteInstance,
  mode: BenchMode,
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<BenchResult> {
  const fleet = azure.fleet;
  await azure.throttle(ARM_THROTTLE, RESOURCE_GRAPH_QUOTA);
  const fromHostJson = hostQueueSettings();
  const batchSize = options.host?.batchSize ?? fromHostJson.batchSize;
  // A batch size given alone gets the host's default threshold for it (half).
  const newBatchThreshold =
    options.host?.newBatchThreshold ?? (options.host?.batchSize !== undefined ? Math.floor(batchSize / 2) : fromHostJson.newBatchThreshold);
  const host: HostQueueSettings = { ...fromHostJson, ...options.host, batchSize, newBatchThreshold };
  const traffic = new TrafficCounter();
  const logs = { warnings: 0, errors: 0, firstErrors: [] as string[] };
  const log: Logger = {
    info: (message) => {
      if (process.env.BENCH_DEBUG) process.stderr.write(`${new Date().toISOString()} ${message}\n`);
    },
    warn: (message) => {
      logs.warnings += 1;
      if (process.env.BENCH_DEBUG) process.stderr.write(`${new Date().toISOString()} WARN ${message}\n`);
    },
    error: (message) => {
      logs.errors += 1;
      if (logs.firstErrors.length < 5) logs.firstErrors.push(message);
    },
  };
  // Simulated wall clock: real time, plus whatever the benchmark skips between cycles.
  let skippedMs = 0;
  // Each mode starts on its own day: incident ids (and so ACS operation ids) derive from the detection time.
  const base = Date.parse("2026-12-01T08:00:00.000Z") + BENCH_MODES.indexOf(mode) * 86_400_000 - Date.now();
  const clock = { now: () => new Date(Date.now() + base + skippedMs) };
  const table = `bench${mode.replace(/-/g, "")}${Date.now().toString(36)}`;
  const queueName = `bench-${mode}-${Date.now().toString(36)}`;
  const env = {
    CMK_EMAIL_SENDER: SANDBOX_SENDER,
    CMK_EMAIL_DOMAIN_KIND: "custom",
    CMK_ESCALATION_RECIPIENTS: SANDBOX_ESCALATION,
    // The simulated fleet's owners and contacts are all on contoso.com, as in the sandbox environment.
    CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com,*.contoso.com",
    ACS_CONNECTION_STRING: azure.acsConnectionString,
    CMK_STATE_CONNECTION: azurite.connectionString,
    CMK_ARM_ENDPOINT: azure.url,
    CMK_SUBSCRIPTION_IDS: fleet.subscriptionIds.join(","),
    CMK_DISCOVERY: mode === "arm" ? "arm" : "resource-graph",
    CMK_STATUS_SOURCE: mode === "resource-graph-status" ? "resource-graph" : "arm",
    CMK_STATE_TABLE: table,
    CMK_WORK_QUEUE: queueName,
    CMK_FANOUT: options.fanout ?? "auto",
  };
  const config = loadConfig(env);
  // The composition the sandbox uses everywhere (sandboxOverrides), here with a sandbox that may be in another process.
  const deps = createMonitorDeps(config, {
    credential: azure.credential,
    tlsCa: azure.ca,
    keyVaultAgent: azure.keyVaultAgent,
    hostResolver: azure.hostResolver,
    clock,
    log,
    storagePolicies: [traffic.policy()],
    // The benchmark plays the Functions host: it takes the work items off the queue itself.
    fanOutOverQueue: true,
  });
  const queue = new QueueClient(azurite.connectionString, queueName);
  // The host listens from the start (in Azure the queue is there before the first cycle).
  await queue.createIfNotExists();

  const cycle = async (): Promise<{
    report: CycleReport;
    workItems: number;
    ms: number;
    cpuMs: number;
    machine?: MachineCpu;
    calls: Record<string, number>;
    store: StoreTraffic;
    emails: number;
    digests: number;
    messagesInDigests: number;
  }> => {
    await azure.clearRequests();
    traffic.reset();
    const emailsBefore = (await azure.sentEmails()).length;
    const machineBefore = machineCpuSnapshot(azure.pid, azurite.pid);
    const began = performance.now();
    const cpuBefore = process.cpuUsage();
    // The host's listener runs while the timer works: a work item can start as soon as it is queued.
    const timer = runCycle(deps);
    const [report, workItems] = await Promise.all([timer, playHost(deps, queue, host, timer)]);
    const ms = performance.now() - began;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const machine = machineCpuBetween(machineBefore, machineCpuSnapshot(azure.pid, azurite.pid));
    const sent = (await azure.sentEmails()).slice(emailsBefore);
    const digests = sent.filter((email) => email.key.startsWith("digest."));
    const messagesInDigests = digests.reduce((total, email) => total + Number(/ (\d+) Cosmos DB accounts?/.exec(email.subject)?.[1] ?? 0), 0);
    return {
      report,
      workItems,
      ms,
      cpuMs,
      ...(machine ? { machine } : {}),
      calls: await azure.calls(),
      store: traffic.snapshot(),
      emails: sent.length,
      digests: digests.length,
      messagesInDigests,
    };
  };

  progress(`${mode}: cold cycle…`);
  const cold = await cycle();
  // Counted before the settle cycles: what the cold cycle alone detected.
  const revoked = new Set(fleet.revokedAccountIds);
  const detectedRevoked = (await deps.store.listOpenRecords()).filter((record) => revoked.has(record.accountId.toLowerCase())).length;
  progress(
    `${mode}: cold cycle ${Math.round(cold.ms)} ms, ${Math.round(cold.cpuMs)} ms CPU in this process (${cold.report.fanout}, ${cold.workItems} work items, ${cold.emails} emails, ${detectedRevoked} revocations detected)`,
  );
  // Whatever pacing held back goes out a minute at a time, and the sent emails get their one final-status
  // read (due five minutes after the send), before the idle cycle is measured.
  const unsettled = async () =>
    (await deps.store.listMessages()).some((stored) => stored.status === "pending" || (stored.status === "sent" && stored.outcomeCheckAt !== undefined));
  let settleCycles = 0;
  while ((await unsettled()) && settleCycles < 120) {
    skippedMs += 60_000;
    await cycle();
    settleCycles += 1;
  }
  skippedMs += 5 * 60_000;
  progress(`${mode}: idle cycle…`);
  const idle = await cycle();
  progress(`${mode}: idle cycle ${Math.round(idle.ms)} ms, ${Math.round(idle.cpuMs)} ms CPU in this process`);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  // Five minutes into the next UTC day.
  skippedMs += nextUtcDayPlus5Minutes(clock.now()) - clock.now().getTime();
  let nextDay = { ms: 0, store: { entitiesWritten: 0 } as StoreTraffic, emails: 0 };
  if (options.nextDay ?? true) {
    progress(`${mode}: next day's first cycle…`);
    nextDay = await cycle();
    progress(`${mode}: next day's first cycle ${Math.round(nextDay.ms)} ms (${nextDay.store.entitiesWritten} entities written, ${nextDay.emails} emails)`);
  }
  if (logs.firstErrors.length > 0) progress(`${mode}: ${logs.errors} error(s) logged, first: ${logs.firstErrors.join(" | ")}`);

  const calls = cold.calls;
  const sum = (routes: string[], from = calls) => routes.reduce((total, route) => total + (from[route] ?? 0), 0);
  const discoveryCalls = sum(["resource-graph", "arm-list", "arm-subscriptions"]);
  const armCalls = sum(["arm-get"]);
  const keyVaultCalls = sum(KEY_VAULT_ROUTES);
  const emailCalls = sum(["acs-send", "acs-poll"]);
  const bound = lowerBound({
    latencyInMs: options.latencyInMs,
    graphCalls: sum(["resource-graph"]),
    armListCalls: sum(["arm-list", "arm-subscriptions"]),
    workCalls: armCalls + keyVaultCalls,
    emailCalls,
    armConcurrency: config.armConcurrency,
    fanout: cold.report.fanout,
    invocations: cold.report.fanout === "queue" ? Math.min(cold.workItems, host.batchSize + host.newBatchThreshold) : 1,
  });
  const idleBound = idleLowerBound({
    latencyInMs: options.latencyInMs,
    subscriptionsWithCmk: idle.report.subscriptionsWithCmk,
    probeCalls: sum(KEY_VAULT_ROUTES, idle.calls),
    emailCalls: sum(["acs-send", "acs-poll"], idle.calls),
    armConcurrency: config.armConcurrency,
  });
  const usage = process.resourceUsage();
  return {
    mode,
    statusSource: config.statusSource,
    idleStatusSourceUsed: idle.report.statusSource,
    idleStatusSourceFallback: idle.report.statusSourceFallback,
    accounts: options.accounts,
    subscriptions: options.subscriptions,
    subscriptionsInScope: idle.report.subscriptionsInScope,
    subscriptionsWithCmk: idle.report.subscriptionsWithCmk,
    latencyMs: options.latencyInMs,
    graphStatus: options.graphStatus ?? "healthy",
    revokedAccounts: fleet.revokedAccounts,
    detectedRevoked,
    statusCalls: sum(["arm-list", "arm-get"], idle.calls),
    statusCallsReported: idle.report.statusCalls,
    callsByApi: calls,
    discoveryCalls,
    armCalls,
    keyVaultCalls,
    emailCalls,
    armThrottled: await azure.armThrottledCount(),
    coldFanout: cold.report.fanout,
    workItems: cold.workItems,
    coldCycleMs: Math.round(cold.ms),
    coldCycleCpuMs: Math.round(cold.cpuMs),
    ...(cold.machine ? { coldCycleMachineCpu: cold.machine } : {}),
    idleCycleMs: Math.round(idle.ms),
    idleCycleCpuMs: Math.round(idle.cpuMs),
    ...(idle.machine ? { idleCycleMachineCpu: idle.machine } : {}),
    idleLowerBoundMs: Math.round(idleBound.totalMs),
    idleLowerBound: {
      statusMs: idleBound.statusMs,
      probeMs: idleBound.probeMs,
      sendMs: idleBound.sendMs,
      statusCalls: idleBound.statusCalls,
      probeCalls: idleBound.probeCalls,
    },
    idleRatio: Math.round((idle.ms / Math.max(1, idleBound.totalMs)) * 100) / 100,
    nextDayCycleMs: Math.round(nextDay.ms),
    nextDayCycleWrites: nextDay.store.entitiesWritten,
    nextDayCycleEmails: nextDay.emails,
    settleCycles,
    lowerBoundMs: Math.round(bound.totalMs),
    lowerBound: {
      discoveryMs: Math.round(bound.discoveryMs),
      workMs: Math.round(bound.workMs),
      sendMs: Math.round(bound.sendMs),
      throttleFloorMs: Math.round(bound.throttleFloorMs),
      concurrency: bound.concurrency,
    },
    ratio: Math.round((cold.ms / Math.max(1, bound.totalMs)) * 100) / 100,
    coldCycleReads: cold.store.reads,
    coldCycleWrites: cold.store.writes,
    idleCycleReads: idle.store.reads,
    idleCycleWrites: idle.store.entitiesWritten,
    idleCycleHeartbeatWrites: idle.store.heartbeatWrites,
    idleCycleCalls: idle.calls,
    emailsSent: cold.emails,
    digestsSent: cold.digests,
    messagesInDigests: cold.messagesInDigests,
    idleCycleEmails: idle.emails,
    warnings: logs.warnings,
    errors: logs.errors,
    peakRssMb,
    nextDayPeakRssMb: Math.round(usage.maxRSS / 1024),
    ...azuriteRss(azurite.pid),
  };
}

function nextUtcDayPlus5Minutes(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 0, 5);
}

/** The Functions host's queue listener settings (host.json `extensions.queues`). */
export interface HostQueueSettings {
  /** Messages fetched (and started) at once. */
  batchSize: number;
  /** Fetch again once this few are still running. */
  newBatchThreshold: number;
  /** Longest wait between polls of an empty queue. */
  maxPollingIntervalInMs: number;
}

/** Reads host.json's queue settings, with the host's defaults for any left out. */
export function hostQueueSettings(hostJsonPath = findHostJson()): HostQueueSettings {
  const queues = (JSON.parse(readFileSync(hostJsonPath, "utf8")) as { extensions?: { queues?: Record<string, unknown> } }).extensions?.queues ?? {};
  const batchSize = typeof queues.batchSize === "number" ? queues.batchSize : 16;
  const newBatchThreshold = typeof queues.newBatchThreshold === "number" ? queues.newBatchThreshold : Math.floor(batchSize / 2);
  const interval = typeof queues.maxPollingInterval === "string" ? /^(\d+):(\d+):(\d+)$/.exec(queues.maxPollingInterval) : null;
  const maxPollingIntervalInMs = interval ? ((Number(interval[1]) * 60 + Number(interval[2])) * 60 + Number(interval[3])) * 1000 : 60_000;
  return { batchSize, newBatchThreshold, maxPollingIntervalInMs };
}

function findHostJson(): string {
  // dist/bench/ when built, bench/ under jest: host.json is at the repository root above either.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "host.json"))) return join(dir, "host.json");
    if (dirname(dir) === dir) throw new Error("host.json not found above the benchmark");
  }
}

/**
 * Plays one Functions instance's queue listener while the timer runs: fetches up to `batchSize`
 * work items whenever no more than `newBatchThreshold` are running, runs the queue handler's code
 * on each (concurrently, sharing the instance's call slots), deletes the message when done, and
 * backs off up to `maxPollingInterval` while the queue is empty. Ends once the timer is done and
 * the queue is drained. Returns how many work items it processed.
 */
async function playHost(deps: MonitorDeps, queue: QueueClient, host: HostQueueSettings, timer: Promise<unknown>): Promise<number> {
  let processed = 0;
  let timerDone = false;
  const timerSettled = timer.then(
    () => void (timerDone = true),
    () => void (timerDone = true),
  );
  const running = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let pollWaitInMs = 0;
  for (;;) {
    if (failures.length > 0) throw failures[0];
    if (running.size > host.newBatchThreshold) {
      await Promise.race(running);
      continue;
    }
    const drainedBefore = timerDone;
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: Math.min(32, host.batchSize), visibilityTimeout: 300 });
    for (const message of receivedMessageItems) {
      const job: Promise<void> = (async () => {
        await processWorkBatch(deps, JSON.parse(Buffer.from(message.messageText, "base64").toString("utf8")));
        await queue.deleteMessage(message.messageId, message.popReceipt);
        processed += 1;
      })()
        .catch((error: unknown) => void failures.push(error))
        .finally(() => running.delete(job));
      running.add(job);
    }
    if (receivedMessageItems.length > 0) {
      pollWaitInMs = 0;
      continue;
    }
    if (drainedBefore && running.size === 0) return processed;
    // An empty queue: wait a little longer each time, or until something changes.
    pollWaitInMs = Math.min(host.maxPollingIntervalInMs, pollWaitInMs === 0 ? 50 : pollWaitInMs * 2);
    await Promise.race([new Promise((resolve) => setTimeout(resolve, pollWaitInMs)), timerSettled, ...running]);
  }
}

interface BoundInput {
  latencyInMs: number;
  /** Resource Graph pages (and retries). */
  graphCalls: number;
  /** ARM list calls (and subscription lists). */
  armListCalls: number;
  workCalls: number;
  emailCalls: number;
  armConcurrency: number;
  fanout: "inline" | "queue";
  /** Work items running at once on the one instance (1 inline). */
  invocations: number;
}

/**
 * The fastest a cycle could be with the calls it made, at the concurrency the engine allows
 * itself, if storage and CPU cost nothing:
 *
 *   discovery  Resource Graph pages follow each other (each needs the previous skip token): calls × latency,
 *              and no faster than its quota allows (15 per 5 s); then ARM lists, `CMK_ARM_CONCURRENCY` at once;
 *   work       confirmation GETs and Key Vault probes, 8 at a time: the instance's call slots, which every
 *              work item running on it shares;
 *   send       one email at a time per invocation; with several invocations at once, sends overlap other
 *              batches' work (the bound takes the larger of the two), otherwise they follow it.
 */
export function lowerBound(input: BoundInput): {
  totalMs: number;
  discoveryMs: number;
  workMs: number;
  sendMs: number;
  throttleFloorMs: number;
  concurrency: { discovery: number; work: number; send: number };
} {
  const { latencyInMs: latency } = input;
  const throttleFloorMs = Math.max(0, Math.ceil(input.graphCalls / RESOURCE_GRAPH_QUOTA.queries) - 1) * RESOURCE_GRAPH_QUOTA.windowInMs;
  const discoveryMs = Math.max(input.graphCalls * latency, throttleFloorMs) + Math.ceil(input.armListCalls / input.armConcurrency) * latency;
  const workConcurrency = PROBE_CONCURRENCY;
  const sendConcurrency = input.fanout === "queue" ? Math.max(1, input.invocations) : 1;
  const workMs = Math.ceil(input.workCalls / workConcurrency) * latency;
  const sendMs = Math.ceil(input.emailCalls / sendConcurrency) * latency;
  // Several invocations at once overlap one batch's sends with another's probes; one at a time cannot.
  const totalMs = discoveryMs + (sendConcurrency > 1 ? Math.max(workMs, sendMs) : workMs + sendMs);
  return {
    totalMs,
    discoveryMs,
    workMs,
    sendMs,
    throttleFloorMs,
    concurrency: { discovery: input.armConcurrency, work: workConcurrency, send: sendConcurrency },
  };
}

/**
 * The fastest an idle cycle (nothing changed in Azure since the last) could be, if storage and CPU
 * cost nothing, from the calls no idle cycle can avoid:
 *
 *   status  one ARM list per subscription holding CMK accounts (the status must come from ARM every
 *           cycle; Resource Graph may lag), `CMK_ARM_CONCURRENCY` at once. Not the lists the cycle
 *           made: a mode listing every subscription in scope shows as a worse ratio, not a laxer bound.
 *           Resource Graph is not read (its answer is kept for CMK_DISCOVERY_INTERVAL_MINUTES);
 *   probes  the Key Vault calls the cycle made for its open incidents (revoked accounts are probed
 *           every cycle, per vault), `PROBE_CONCURRENCY` at once, after discovery;
 *   send    the ACS calls it made (none when idle), one at a time.
 */
export function idleLowerBound(input: { latencyInMs: number; subscriptionsWithCmk: number; probeCalls: number; emailCalls: number; armConcurrency: number }): {
  totalMs: number;
  statusMs: number;
  probeMs: number;
  sendMs: number;
  statusCalls: number;
  probeCalls: number;
} {
  const statusMs = Math.ceil(input.subscriptionsWithCmk / input.armConcurrency) * input.latencyInMs;
  const probeMs = Math.ceil(input.probeCalls / PROBE_CONCURRENCY) * input.latencyInMs;
  const sendMs = input.emailCalls * input.latencyInMs;
  return { totalMs: statusMs + probeMs + sendMs, statusMs, probeMs, sendMs, statusCalls: input.subscriptionsWithCmk, probeCalls: input.probeCalls };
}

/** Counts requests on the storage clients' pipelines. */
class TrafficCounter {
  private counts: StoreTraffic = { reads: 0, writes: 0, entitiesWritten: 0, heartbeatWrites: 0 };

  policy(): PipelinePolicy {
    return {
      name: "benchStorageTraffic",
      sendRequest: async (request, next) => {
        if (request.method === "GET" || request.method === "HEAD") this.counts.reads += 1;
        else if (/RowKey='last-cycle'/.test(decodeURIComponent(request.url))) this.counts.heartbeatWrites += 1;
        else {
          this.counts.writes += 1;
          const body = typeof request.body === "string" ? request.body : "";
          const parts = /\$batch/.test(request.url) ? (body.match(/^(POST|PUT|PATCH|MERGE|DELETE) /gm) ?? []).length : 1;
          this.counts.entitiesWritten += Math.max(1, parts);
        }
        return next(request);
      },
    };
  }

  reset(): void {
    this.counts = { reads: 0, writes: 0, entitiesWritten: 0, heartbeatWrites: 0 };
  }

  snapshot(): StoreTraffic {
    return { ...this.counts };
  }
}

interface MachineCpuSnapshot {
  /** Jiffies since boot, from /proc/stat's first line. */
  busy: number;
  steal: number;
  bench: number;
  simulatedAzure?: number;
  azurite: number;
}

/** Linux only (/proc); undefined elsewhere or when a process is gone. */
function machineCpuSnapshot(simulatedAzurePid: number | undefined, azuritePid: number): MachineCpuSnapshot | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    const child = simulatedAzurePid !== undefined ? processJiffies(simulatedAzurePid) : undefined;
    return {
      busy: user + nice + system + irq + softirq,
      steal,
      bench: processJiffies(process.pid),
      ...(child !== undefined ? { simulatedAzure: child } : {}),
      azurite: processJiffies(azuritePid),
    };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, in jiffies. */
function processJiffies(pid: number): number {
  // The command name (field 2) may hold spaces; the fields after it are space-separated.
  const after = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()!.split(" ");
  return Number(after[11]) + Number(after[12]);
}

function machineCpuBetween(before: MachineCpuSnapshot | undefined, after: MachineCpuSnapshot | undefined): MachineCpu | undefined {
  if (!before || !after) return undefined;
  // Linux reports jiffies at USER_HZ, 100 a second on every architecture Node runs on.
  const ms = (jiffies: number): number => jiffies * 10;
  const bench = after.bench - before.bench;
  const child = after.simulatedAzure !== undefined && before.simulatedAzure !== undefined ? after.simulatedAzure - before.simulatedAzure : undefined;
  const azurite = after.azurite - before.azurite;
  return {
    cores: availableParallelism(),
    benchProcessMs: ms(bench),
    ...(child !== undefined ? { simulatedAzureMs: ms(child) } : {}),
    azuriteMs: ms(azurite),
    otherMs: ms(Math.max(0, after.busy - before.busy - bench - (child ?? 0) - azurite)),
    stealMs: ms(after.steal - before.steal),
  };
}

/** Azurite runs as a child process; its peak RSS is its own (Linux only). */
function azuriteRss(pid: number): { azuritePeakRssMb?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? { azuritePeakRssMb: Math.round(kb / 1024) } : {};
  } catch {
    return {};
  }
}
