/**
 * Plays a fault plan twice through the real engine — once fault-free, once with the faults —
 * against the sandbox (ARM, ACS) and Azurite, and compares what was delivered. Only the clock,
 * the transport (fault policies) and the process lifetime (crashes) are simulated.
 *
 * Fan-out plans put each cycle's work on a per-run Azurite queue that a simulated Functions host
 * (queueHost.ts) drains after the timers, retrying failed items a simulated minute later. Deliveries are counted per outbox message: a
 * digest email counts once for each row bound to it, so a message sent alone and again inside a
 * digest, or in two digests, is a duplicate like any other.
 */
import { mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createHttpHeaders, type PipelinePolicy, type PipelineResponse } from "@azure/core-rest-pipeline";
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { TableIncidentStore } from "../adapters/tableStore";
import { createMonitorDeps } from "../composition";
import { loadConfig, type Environment } from "../config";
import { LocalSandbox, startAzurite, type AzuriteInstance, type SentEmail } from "../sandbox";
import type { EmailDomainKind } from "../sandbox/acsRoutes";
import { drainOutbox } from "../app/drainOutbox";
import { recordDeliveryReport } from "../app/recordDeliveryReport";
import { SeededRandom } from "./random";
import { sandboxEnvironment, sandboxOverrides } from "../sandbox/environment";
import type { CrashStep, FaultPlan, FaultSpec } from "./plan";
import { QueueHost, type QueueHostStats } from "./queueHost";
import type { EmailSender } from "../ports/emailSender";
import type { IncidentStore, StoredMessage } from "../ports/incidentStore";
import type { WarningStore } from "../ports/warningStore";
import type { Logger } from "../ports/logger";
import { acknowledgeFix } from "../app/acknowledgeFix";
import { runCycle } from "../app/runCycle";
import type { MonitorDeps } from "../pipeline/monitorDeps";

const MINUTE = 60_000;

/** The sandbox and a disk-backed Azurite, shared by every run (each run uses its own table). */
export class FaultServices {
  private constructor(
    readonly sandbox: LocalSandbox,
    public azurite: AzuriteInstance,
    private readonly persistenceDir: string,
  ) {}

  static async start(): Promise<FaultServices> {
    const persistenceDir = await mkdtemp(path.join(os.tmpdir(), "cmk-faults-"));
    const [sandbox, azurite] = await Promise.all([LocalSandbox.start(), startAzurite({ persistenceDir })]);
    // Simulated hours pass in real seconds: Resource Graph's real-time quota would only slow the suite.
    sandbox.resourceGraph.setQuota({ queries: 1_000_000, windowInMs: 5000 });
    return new FaultServices(sandbox, azurite, persistenceDir);
  }

  /** Restarts whose storage came back older than what it had acknowledged (see restartStorage); each fails its run. */
  storageRollbacks = 0;

  /**
   * Stops Azurite and starts it again on the same files: only what it committed survives.
   *
   * Azurite keeps its metadata in LokiJS, which autosaves every 5 s by writing `<db>.json~` and
   * renaming it. Loki's close skips its own save when nothing changed since an autosave began,
   * and Azurite then reports itself closed while that write is still going: stopped at that
   * moment, it comes back up to 5 s older (seed 39 once re-opened 15 incidents that way). Real
   * storage never forgets an acknowledged write, so a write just before the stop makes the
   * closing save happen (and be awaited), and a save still cut short is finished here.
   */
  async restartStorage(): Promise<void> {
    await this.dirtyMetadata();
    await this.azurite.stop();
    for (const file of await readdir(this.persistenceDir)) {
      if (!file.endsWith(".json~")) continue;
      const cut = path.join(this.persistenceDir, file);
      try {
        // Written whole, it is the newest state: the rename Loki did not get to.
        JSON.parse(await readFile(cut, "utf8"));
        await rename(cut, cut.slice(0, -1));
      } catch {
        this.storageRollbacks += 1;
      }
    }
    this.azurite = await startAzurite({ persistenceDir: this.persistenceDir });
  }

  /** One table write and one queue write, so both Loki databases have something to save on close. */
  private async dirtyMetadata(): Promise<void> {
    const { connectionString } = this.azurite;
    const table = TableClient.fromConnectionString(connectionString, "faultsrestarts", { allowInsecureConnection: true });
    const queue = new QueueClient(connectionString, "faults-restarts");
    await Promise.allSettled([
      table
        .createTable()
        .catch(() => undefined)
        .then(() => table.upsertEntity({ partitionKey: "restart", rowKey: "last", at: new Date().toISOString() })),
      queue.createIfNotExists().then(() => queue.sendMessage("restart", { messageTimeToLive: 60 })),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.sandbox.stop(), this.azurite.stop()]);
    await rm(this.persistenceDir, { recursive: true, force: true });
  }
}

/** One delivered email, by its idempotency key, at the simulated minute it was delivered. */
export interface Delivery {
  key: string;
  /** Same in both runs for the same story step: account, incident ordinal, kind, kind ordinal. */
  id: string;
  atMinute: number;
}

export interface RunOutcome {
  seed: number;
  instances: number;
  faults: FaultSpec[];
  incidents: number;
  expected: number;
  delivered: number;
  lost: string[];
  duplicates: string[];
  late: string[];
  /** Cycles or acks that failed (expected under faults); for the report, not a verdict. */
  failedCycles: number;
  crashes: number;
  /** The cycles put their work on the queue (both runs); `queue` is the faulty run's host. */
  fannedOut: boolean;
  queue?: QueueHostStats;
  /** Digest emails delivered in the faulty run, and the messages inside them; the same for the fault-free run. */
  digests: number;
  messagesInDigests: number;
  faultFreeDigests: number;
  /** Deliveries the harness could not account for (a digest with no rows bound to it, or a member count that disagrees): a failure. */
  anomalies: string[];
  /** Support tickets opened in the faulty run (CMK_SUPPORT_TICKETS=create), tickets beyond one per incident (a failure), and those of the fault-free run. */
  ticketsOpened: number;
  duplicateTickets: number;
  faultFreeTicketsOpened: number;
  /** The faulty run's calls to ACS as the sandbox counted them (429s included), and the sends it accepted. */
  sendCalls: number;
  statusCalls: number;
  acceptedSends: number;
  /** Simulated minutes the faulty run drained past the story's end until its outbox was empty (ACS's hourly limits). */
  tailMinutes: number;
  /** Delivery report events the sandbox handed to the monitor in the faulty run (repeats included), and those it never delivered. */
  reportEvents: number;
  reportsDropped: number;
  /** Of `crashes`, those that went off while the tail drained (a crash armed late in the story). */
  tailCrashes: number;
}

/** How the sandbox plays ACS for a run: always pessimistic (repeats delivered, limits enforced) unless told otherwise. */
export interface AcsPlay {
  domain: EmailDomainKind;
  /** The comparison mode: the sandbox keeps the old Operation-Id dedupe. */
  dedupeRepeats?: boolean;
  /** Delivery reports posted to the monitor's handler, with CMK_DELIVERY_REPORTS=on (default true); false plays a deployment without them. */
  deliveryReports?: boolean;
}

/**
 * How the suite's Event Grid plays delivery reports: at least once (a quarter twice), late by up to
 * 40 simulated minutes (past the monitor's 30-minute wait for some), and 5 % never (retries
 * expired). Neither the delay nor a loss rate is documented; these make both visible in the figures.
 */
export const SUITE_DELIVERY_REPORTS = { dropShare: 0.05, delayInMs: [0, 40 * 60_000] as const, repeatShare: 0.25, bouncedShare: 0.02 };

/** A simulated day: the tail never drains longer than this (an outbox still full then is reported lost). */
const MAX_TAIL_MINUTES = 24 * 60;
/** How long an accepted operation reports Running, at most (simulated): within the monitor's outcome-read delay. */
const MAX_RUNNING_IN_MS = 4 * MINUTE;

class CrashError extends Error {
  override readonly name = "SimulatedCrash";
}

/** Fault state the transport policies read; set by the run as faults come due. */
interface TransportFaults {
  storage503: number;
  acsLostResponses: number;
}

function storageFaultPolicy(faults: TransportFaults): PipelinePolicy {
  return {
    name: "faultInjectionStorage",
    async sendRequest(request, next): Promise<PipelineResponse> {
      if (faults.storage503 > 0) {
        faults.storage503 -= 1;
        return {
          request,
          status: 503,
          headers: createHttpHeaders({ "content-type": "application/json", "x-ms-error-code": "ServerBusy" }),
          bodyAsText: JSON.stringify({ "odata.error": { code: "ServerBusy", message: { lang: "en-US", value: "Injected: the server is busy." } } }),
        };
      }
      return next(request);
    },
  };
}

function emailFaultPolicy(faults: TransportFaults): PipelinePolicy {
  return {
    name: "faultInjectionEmail",
    async sendRequest(request, next): Promise<PipelineResponse> {
      const response = await next(request);
      // The send reached ACS and was accepted; the answer is lost on the way back.
      if (faults.acsLostResponses > 0 && request.method === "POST" && request.url.includes("/emails:send")) {
        faults.acsLostResponses -= 1;
        throw Object.assign(new Error("Injected: the response timed out"), { name: "TimeoutError", code: "ETIMEDOUT" });
      }
      return response;
    },
  };
}

/** A monitor instance whose process can die at a chosen step; once dead, every call fails. */
class Instance {
  dead = false;
  private armed: CrashStep | undefined;
  readonly deps: MonitorDeps;

  constructor(base: MonitorDeps) {
    const store = base.store;
    const email = base.email;
    const guard = (): void => {
      if (this.dead) throw new CrashError("process is gone");
    };
    const crashIf = (step: CrashStep): void => {
      if (this.armed === step) {
        this.armed = undefined;
        this.dead = true;
        throw new CrashError(`crashed ${step}`);
      }
    };
    const wrappedStore: IncidentStore = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          guard();
          if (property === "markSent" && this.armed === "after-mark-sent") {
            await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            crashIf("after-mark-sent");
          }
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (property === "commit") crashIf("after-commit");
          if (property === "claimMessage" && result) crashIf("after-claim");
          return result;
        };
      },
    });
    const wrappedEmail: EmailSender = {
      send: async (message) => {
        guard();
        crashIf("before-send");
        const result = await email.send(message);
        crashIf("after-send");
        return result;
      },
      readOperationStatus: async (operationId) => {
        guard();
        return email.readOperationStatus(operationId);
      },
    };
    // The store is also the warning store: a dead process must not keep writing through that name either.
    const warnings = base.warnings === (store as unknown) ? (wrappedStore as unknown as WarningStore) : base.warnings;
    this.deps = { ...base, store: wrappedStore, email: wrappedEmail, ...(warnings ? { warnings } : {}) };
  }

  arm(step: CrashStep): void {
    this.armed = step;
  }
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

interface PlayResult {
  reportEvents: number;
  reportsDropped: number;
  deliveries: Delivery[];
  sendCalls: number;
  statusCalls: number;
  acceptedSends: number;
  tailMinutes: number;
  tailCrashes: number;
  faultyMinutes: number[];
  incidents: number;
  failedCycles: number;
  crashes: number;
  queue?: QueueHostStats;
  digests: number;
  messagesInDigests: number;
  anomalies: string[];
  ticketsOpened: number;
  duplicateTickets: number;
}

const DIGEST_COUNT = /\] (\d+) Cosmos DB accounts?:/;

/**
 * The outbox rows a delivered digest email carried: those bound to its key. Binding happens in the
 * claim, before the send, and is only undone when ACS reports the send Failed (not delivered), so
 * right after the delivery the rows bound to the key are exactly the email's members.
 */
async function digestMembers(services: FaultServices, table: string, email: SentEmail, key: string): Promise<{ members: StoredMessage[]; anomaly?: string }> {
  let rows: StoredMessage[] | undefined;
  for (let attempt = 0; rows === undefined; attempt++) {
    // A client of the harness's own: no injected faults, and the current Azurite address.
    const store = new TableIncidentStore(TableClient.fromConnectionString(services.azurite.connectionString, table, { allowInsecureConnection: true }));
    try {
      rows = await store.listMessages();
    } catch (error) {
      if (attempt >= 3) return { members: [], anomaly: `digest ${key}: could not read the outbox (${(error as Error).message})` };
    }
  }
  const members = rows.filter((stored) => stored.digestId === key);
  const count = Number(DIGEST_COUNT.exec(email.subject)?.[1] ?? NaN);
  if (members.length === 0) return { members, anomaly: `digest ${key} was delivered but no outbox row is bound to it` };
  if (count !== members.length) return { members, anomaly: `digest ${key} says ${count} account(s) but ${members.length} row(s) are bound to it` };
  const text = email.plainText ?? "";
  const missing = members.filter((stored) => !text.includes(stored.message.accountId.split("/").pop()!));
  if (missing.length > 0) return { members, anomaly: `digest ${key} does not mention ${missing.map((m) => m.message.key).join(", ")}` };
  return { members };
}

/** Plays the plan's story once; with `withFaults`, injects its faults. */
async function play(services: FaultServices, plan: FaultPlan, withFaults: boolean, acs: AcsPlay): Promise<PlayResult> {
  const { sandbox } = services;
  const mode = withFaults ? "x" : "b";
  // Each run gets its own accounts, subscriptions and table, so runs never see each other.
  const subscriptionIds = plan.subscriptionIds.map((id) => id.replace(/-4000-/, withFaults ? "-4001-" : "-4000-"));
  const nameOf = (name: string) => `${mode}${name}`;
  const ownerOf = (story: FaultPlan["accounts"][number]) => `${nameOf(story.owner ?? story.name)}@contoso.com`;
  const table = `f${mode}${plan.seed}`;
  let now = plan.start.getTime();
  const clock = { now: () => new Date(now) };
  // ACS as documented, pessimistically, on the simulated clock: limits per domain, repeats delivered, operations running a while.
  const random = new SeededRandom(plan.seed * 7919 + (withFaults ? 1 : 0));
  sandbox.acs.resetBehaviour();
  sandbox.acs.configure({
    domain: acs.domain,
    enforceLimits: true,
    dedupeRepeats: acs.dedupeRepeats === true,
    clock: () => now,
    random: () => random.next(),
    runningForInMs: [0, MAX_RUNNING_IN_MS],
  });
  const reportsOn = acs.deliveryReports !== false;
  const reports = sandbox.acs.deliveryReports;
  reports.reset();
  // Handed over once a simulated minute (below), on the simulated clock, so a delay is minutes, not milliseconds.
  reports.configure({ enabled: reportsOn, autoDeliver: false, ...SUITE_DELIVERY_REPORTS });
  const transport: TransportFaults = { storage503: 0, acsLostResponses: 0 };
  const policies = { storagePolicies: [storageFaultPolicy(transport)], emailPolicies: [emailFaultPolicy(transport)] };

  const discovery = plan.seed % 2 === 0 ? "resource-graph" : "arm";
  // Its own queue per run, so a leftover work item never reaches another run's monitor.
  const host = plan.fanOut ? new QueueHost(services.azurite.connectionString, `fq${mode}${plan.seed}`) : undefined;
  // ARM faults hit whichever listing the monitor uses.
  const listRoute = discovery === "arm" ? "arm-list" : "resource-graph";
  const ids = new Map<string, string>();
  for (const story of plan.accounts) {
    const id = sandbox.putAccount({
      name: nameOf(story.name),
      subscriptionId: subscriptionIds[plan.subscriptionIds.indexOf(story.subscriptionId)]!,
      resourceGroup: "rg-faults",
      keyVaultKeyUri: `https://kv-${story.vault ?? story.name}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": ownerOf(story) },
      status: story.statuses[0]!.status,
    });
    ids.set(story.name, id);
  }

  const build = (): Instance => {
    const env: Environment = sandboxEnvironment(sandbox, services.azurite, {
      CMK_SUBSCRIPTION_IDS: subscriptionIds.join(","),
      CMK_STATE_TABLE: table,
      // Half the seeds discover through ARM per subscription, half through Resource Graph (with confirmation GETs).
      CMK_DISCOVERY: discovery,
      // Escalations file a support ticket in the sandbox; crashes and concurrent instances must never open two.
      CMK_SUPPORT_TICKETS: "create",
      CMK_SUPPORT_CONTACT_NAME: "Fault Suite",
      CMK_EMAIL_DOMAIN_KIND: acs.domain,
      CMK_DELIVERY_REPORTS: reportsOn ? "on" : "off",
      // Fan-out plans: every cycle queues its accounts for the simulated Functions host.
      ...(host ? { CMK_FANOUT: "queue", CMK_WORK_QUEUE: host.name, AzureWebJobsStorage: services.azurite.connectionString } : {}),
    });
    const overrides = { clock, log: quiet, maxRetries: 0, resourceGraphSleep: async () => {}, ...policies, ...(host ? { fanOutOverQueue: true } : {}) };
    return new Instance(createMonitorDeps(loadConfig(env), sandboxOverrides(sandbox, overrides)));
  };
  await host?.start();
  let instances = Array.from({ length: withFaults ? plan.instances : 1 }, build);
  // The Event Grid trigger: its own invocation in whichever process is up (a throw makes the sandbox redeliver).
  reports.subscribe(async (event) => void (await recordDeliveryReport(instances[0]!.deps, event)));
  const faults = withFaults ? plan.faults : [];
  const pendingAcks = plan.accounts.flatMap((story) => story.acks.map((atMinute) => ({ story, atMinute, done: false })));
  const deliveries: Delivery[] = [];
  /** Minutes at which some fault was still in force (not yet used up), for judging lateness. */
  const faultyMinutes: number[] = [];
  let seenEmails = sandbox.sentEmails().length;
  sandbox.support.reset();
  // Under faults a create stays in progress (and its ticket invisible) for a few polls of its operation.
  sandbox.support.setPollsBeforeDone(withFaults ? 3 : 1);
  // Under faults the first create of the run acts, then answers 500; its ticket shows up 2 simulated minutes later.
  sandbox.support.setClock(() => now);
  if (withFaults) sandbox.support.actThenFailCreates(1);
  let failedCycles = 0;
  let crashes = 0;
  let restartPending = false;
  let digests = 0;
  let messagesInDigests = 0;
  const anomalies: string[] = [];
  const rollbacksBefore = services.storageRollbacks;

  /** Records what the sandbox delivered since the last call: one delivery per outbox message, digests unpacked. */
  const collect = async (minute: number) => {
    const sent = sandbox.sentEmails();
    const fresh = sent.slice(seenEmails);
    seenEmails = sent.length;
    for (const email of fresh) {
      const key = email.headers["X-CMK-Monitor-Key"] ?? email.headers["x-cmk-monitor-key"];
      if (!key) continue;
      if (key.startsWith("digest.")) {
        const { members, anomaly } = await digestMembers(services, table, email, key);
        if (anomaly) anomalies.push(`minute ${minute}: ${anomaly}`);
        digests += 1;
        messagesInDigests += members.length;
        for (const stored of members) deliveries.push({ key: stored.message.key, id: "", atMinute: minute });
      } else if (key.startsWith(`${mode}f`)) {
        deliveries.push({ key, id: "", atMinute: minute });
      }
    }
  };

  for (let minute = 0; minute <= plan.durationMinutes; minute++) {
    now = plan.start.getTime() + minute * MINUTE;
    await reports.deliverPending();
    for (const story of plan.accounts) {
      for (const change of story.statuses) if (change.atMinute === minute && minute > 0) sandbox.setStatus(nameOf(story.name), change.status);
    }
    for (const fault of faults) {
      if (fault.kind === "acs-outage" && fault.untilMinute === minute) sandbox.clearFaults("acs-send");
      if (fault.atMinute !== minute) continue;
      switch (fault.kind) {
        case "acs-5xx":
          sandbox.injectFault({ route: "acs-send", status: 503, times: fault.times });
          break;
        case "acs-429":
          sandbox.injectFault({ route: "acs-send", status: 429, times: fault.times, retryAfterInSeconds: 120 });
          break;
        case "acs-failed":
          sandbox.injectFault({ route: "acs-send", status: 202, times: fault.times, operationStatus: "Failed" });
          break;
        case "acs-timeout":
          transport.acsLostResponses += fault.times;
          break;
        case "acs-outage":
          sandbox.injectFault({ route: "acs-send", status: 503, times: 1_000_000 });
          break;
        case "storage-503":
          transport.storage503 += fault.times;
          break;
        case "storage-restart":
          restartPending = true;
          break;
        case "arm-429":
          sandbox.injectFault({ route: listRoute, status: 429, times: fault.times, retryAfterInSeconds: 30 });
          break;
        case "arm-5xx":
          sandbox.injectFault({ route: listRoute, status: 500, times: fault.times });
          break;
        case "arm-malformed":
          sandbox.injectFault({ route: listRoute, status: 200, times: fault.times, body: '{"value":[{"id":"/subscriptions/' });
          break;
        case "crash":
          instances[fault.instance % instances.length]!.arm(fault.step);
          break;
        case "queue-duplicate":
          if (host) host.duplicatesPending += fault.times;
          break;
        case "queue-redeliver":
          if (host) host.lostDeletesPending += fault.times;
          break;
      }
    }
    // A fault still pending when the minute starts was in force during it, even if used up now.
    const faultPendingAtStart = sandbox.pendingFaults().length > 0 || transport.storage503 > 0 || transport.acsLostResponses > 0;
    for (const ack of pendingAcks) {
      if (ack.done || ack.atMinute > minute) continue;
      const instance = instances[0]!;
      try {
        const result = await acknowledgeFix(instance.deps, ids.get(ack.story.name)!, `${nameOf(ack.story.name)}@contoso.com`);
        // "No open incident" means not detected yet (a fault delayed it): the owner tries again.
        if (result.outcome !== "no-open-incident" && result.outcome !== "busy") ack.done = true;
      } catch {
        failedCycles += 1;
      }
      await collect(minute);
    }
    if (minute % plan.pollIntervalMinutes === 0) {
      const cycles = Promise.allSettled(instances.map((instance) => runCycle(instance.deps)));
      let restarted = false;
      if (restartPending) {
        // Storage goes away while the cycles are in flight, then comes back from its files.
        await new Promise((resolve) => setTimeout(resolve, 5));
        await services.restartStorage();
        restartPending = false;
        restarted = true;
      }
      const results = await cycles;
      failedCycles += results.filter((r) => r.status === "rejected").length;
      // Azurite comes back on new ports: every instance reconnects, as a restarted app would.
      if (restarted) {
        instances = instances.map(() => build());
        host?.reconnect(services.azurite.connectionString);
      }
      await collect(minute);
    }
    if (host && (minute % plan.pollIntervalMinutes === 0 || host.retriesPending)) {
      // The queue trigger's listener, after the timers; a failed item is retried the next minute. Only
      // timers enqueue, so between polls a pass is needed only for what the last one put back.
      await host.pass(instances, minute);
      await collect(minute);
    }
    const crashedNow = faults.some((f) => (f.kind === "crash" || f.kind === "storage-restart") && f.atMinute === minute);
    const dead = instances.filter((instance) => instance.dead).length;
    // An armed crash goes off at the first step it names, which may be minutes after its fault's minute.
    if (dead > 0 || crashedNow || faultPendingAtStart || sandbox.pendingFaults().length > 0 || transport.storage503 > 0 || transport.acsLostResponses > 0) {
      faultyMinutes.push(minute);
    }
    if (dead > 0) {
      crashes += dead;
      instances = instances.map((instance) => (instance.dead ? build() : instance));
    }
  }
  for (const fault of faults) if (fault.kind === "acs-outage") sandbox.clearFaults("acs-send");
  sandbox.clearFaults();
  transport.storage503 = 0;
  transport.acsLostResponses = 0;

  // ACS's hourly limits (10 sends an hour on an Azure-managed domain) can leave mail queued when
  // the story ends: drain on, one poll interval at a time, until nothing is left to send or read.
  let tailMinutes = 0;
  let tailCrashes = 0;
  while (tailMinutes < MAX_TAIL_MINUTES && (await outboxBusy(services, table))) {
    // A crash armed late in the story goes off at its step here, in the tail (seed 4: instance 0
    // "after-send" at minute 280, when only the tail still sends). The host restarts a dead
    // process, so the tail does too: a dead one left draining would fail every call for the rest
    // of the day and its rows would be reported lost although the monitor never dropped them.
    if (instances[0]!.dead) {
      tailCrashes += 1;
      instances[0] = build();
    }
    tailMinutes += plan.pollIntervalMinutes;
    now = plan.start.getTime() + (plan.durationMinutes + tailMinutes) * MINUTE;
    await reports.deliverPending();
    try {
      await drainOutbox(instances[0]!.deps);
    } catch {
      failedCycles += 1;
    }
    await collect(plan.durationMinutes + tailMinutes);
  }
  if (instances[0]!.dead) tailCrashes += 1;
  crashes += tailCrashes;
  const { sendCalls, statusCalls, accepted: acceptedSends } = sandbox.acs.counts;
  const reportEvents = reports.posted.length;
  const reportsDropped = reports.droppedEvents;
  reports.subscribe(undefined);
  reports.reset();

  await host?.dispose();
  if (services.storageRollbacks > rollbacksBefore) {
    anomalies.push("Azurite came back older than it had acknowledged after a restart (the emulator's, not the engine's): rerun the seed");
  }

  const ticketsOpened = sandbox.support.ticketsOpened;
  const duplicateTickets = sandbox.support.duplicateTickets;
  labelDeliveries(deliveries, mode);
  const incidents = new Set(deliveries.map((d) => incidentOf(d.key))).size;
  return {
    deliveries,
    incidents,
    failedCycles,
    crashes,
    faultyMinutes,
    ...(host ? { queue: host.stats } : {}),
    digests,
    messagesInDigests,
    anomalies,
    ticketsOpened,
    duplicateTickets,
    sendCalls,
    statusCalls,
    acceptedSends,
    tailMinutes,
    tailCrashes,
    reportEvents,
    reportsDropped,
  };
}

/** True while some outbox row still waits to be sent, or an accepted email's final-status read is due. */
async function outboxBusy(services: FaultServices, table: string): Promise<boolean> {
  const store = new TableIncidentStore(TableClient.fromConnectionString(services.azurite.connectionString, table, { allowInsecureConnection: true }));
  const rows = await store.listMessages();
  return rows.some((stored) => stored.status === "pending" || stored.status === "sending" || (stored.status === "sent" && stored.outcomeCheckAt !== undefined));
}

function incidentOf(key: string): string {
  return key.slice(0, key.indexOf("."));
}

/** Gives each delivery a story-level id that is the same in the fault-free and faulty runs. */
function labelDeliveries(deliveries: Delivery[], mode: string): void {
  const distinct = [...new Map(deliveries.map((d) => [d.key, d])).values()];
  const incidentsByAccount = new Map<string, string[]>();
  for (const d of distinct) {
    const incident = incidentOf(d.key);
    const account = incident.replace(/-\d{8}T\d{4}Z-[0-9a-f]{8}$/, "").slice(mode.length);
    const list = incidentsByAccount.get(account) ?? [];
    if (!list.includes(incident)) list.push(incident);
    incidentsByAccount.set(account, list);
  }
  for (const list of incidentsByAccount.values()) list.sort();
  const ordinal = new Map<string, number>();
  const byIncidentKind = new Map<string, { key: string; seq: number }[]>();
  for (const d of distinct) {
    const [incident, seq, kind] = splitKey(d.key);
    const group = byIncidentKind.get(`${incident}/${kind}`) ?? [];
    group.push({ key: d.key, seq });
    byIncidentKind.set(`${incident}/${kind}`, group);
  }
  for (const group of byIncidentKind.values()) group.sort((a, b) => a.seq - b.seq).forEach((entry, i) => ordinal.set(entry.key, i + 1));
  for (const d of deliveries) {
    const [incident, , kind] = splitKey(d.key);
    const account = incident.replace(/-\d{8}T\d{4}Z-[0-9a-f]{8}$/, "").slice(mode.length);
    const incidentNumber = incidentsByAccount.get(account)!.indexOf(incident) + 1;
    d.id = `${account}#${incidentNumber}/${kind}#${ordinal.get(d.key)}`;
  }
}

function splitKey(key: string): [string, number, string] {
  const lastDot = key.lastIndexOf(".");
  const firstDot = key.indexOf(".");
  return [key.slice(0, firstDot), Number(key.slice(firstDot + 1, lastDot)), key.slice(lastDot + 1)];
}

export async function runPlan(services: FaultServices, plan: FaultPlan, acs: AcsPlay = { domain: "azure-managed" }): Promise<RunOutcome> {
  const baseline = await play(services, plan, false, acs);
  const faulty = await play(services, plan, true, acs);

  const expected = new Map(baseline.deliveries.map((d) => [d.id, d]));
  // The comparison is only as good as the fault-free run: every revoked account's owner must have heard of it there.
  const unannounced = plan.accounts.filter((story) => story.statuses.length > 1 && !expected.has(`${story.name}#1/revoked#1`));
  const baselineGaps = unannounced.map((story) => `the fault-free run never sent ${story.name}'s first revoked message`);
  const counts = new Map<string, number>();
  for (const d of faulty.deliveries) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
  const lost = [...expected.keys()].filter((id) => !counts.has(id));
  const duplicates: string[] = [];
  for (const [id, count] of counts) {
    // A second delivery of the same step, or a step the fault-free run never had, is a duplicate.
    const surplus = expected.has(id) ? count - 1 : count;
    for (let i = 0; i < surplus; i++) duplicates.push(id);
  }
  const late: string[] = [];
  for (const d of faulty.deliveries) {
    const base = expected.get(d.id);
    if (!base) continue;
    // A fault ends when it is used up (a burst of 429s can outlast its minute), or a crashed
    // instance's lease (one poll) runs out.
    const lastFaultyMinute = Math.max(-Infinity, ...faulty.faultyMinutes.filter((m) => m < d.atMinute));
    const lastFaultEnd = lastFaultyMinute + 1;
    if (d.atMinute > Math.max(base.atMinute, lastFaultEnd) + plan.pollIntervalMinutes) late.push(`${d.id} at ${d.atMinute} (fault-free ${base.atMinute})`);
  }
  return {
    seed: plan.seed,
    instances: plan.instances,
    faults: plan.faults,
    incidents: baseline.incidents,
    expected: expected.size,
    delivered: faulty.deliveries.length,
    lost,
    duplicates,
    late,
    failedCycles: faulty.failedCycles,
    crashes: faulty.crashes,
    fannedOut: plan.fanOut,
    ...(faulty.queue ? { queue: faulty.queue } : {}),
    digests: faulty.digests,
    messagesInDigests: faulty.messagesInDigests,
    faultFreeDigests: baseline.digests,
    ticketsOpened: faulty.ticketsOpened,
    duplicateTickets: faulty.duplicateTickets + baseline.duplicateTickets,
    faultFreeTicketsOpened: baseline.ticketsOpened,
    anomalies: [...baselineGaps, ...baseline.anomalies.map((a) => `fault-free ${a}`), ...faulty.anomalies],
    sendCalls: faulty.sendCalls,
    statusCalls: faulty.statusCalls,
    acceptedSends: faulty.acceptedSends,
    tailMinutes: faulty.tailMinutes,
    tailCrashes: faulty.tailCrashes,
    reportEvents: faulty.reportEvents,
    reportsDropped: faulty.reportsDropped,
  };
}
