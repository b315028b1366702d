/**
 * Plays a fault plan twice through the real engine — once fault-free, once with the faults —
 * against the sandbox (ARM, ACS) and Azurite, and compares what was delivered. Only the clock,
 * the transport (fault policies) and the process lifetime (crashes) are simulated.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createHttpHeaders, type PipelinePolicy, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { EmailSender } from "../adapters/acsEmail";
import type { IncidentStore } from "../adapters/tableStore";
import { createMonitorDeps } from "../composition";
import { loadConfig, type Environment } from "../config";
import { acknowledgeFix, runCycle } from "../pipeline/cycle";
import type { Logger, MonitorDeps } from "../pipeline/stage";
import { LocalSandbox, startAzurite, type AzuriteInstance } from "../sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../sandbox/environment";
import type { CrashStep, FaultPlan, FaultSpec } from "./plan";

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

  /** Stops Azurite and starts it again on the same files: only what it committed survives. */
  async restartStorage(): Promise<void> {
    await this.azurite.stop();
    this.azurite = await startAzurite({ persistenceDir: this.persistenceDir });
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
}

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
    };
    this.deps = { ...base, store: wrappedStore, email: wrappedEmail };
  }

  arm(step: CrashStep): void {
    this.armed = step;
  }
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

interface PlayResult {
  deliveries: Delivery[];
  faultyMinutes: number[];
  incidents: number;
  failedCycles: number;
  crashes: number;
}

/** Plays the plan's story once; with `withFaults`, injects its faults. */
async function play(services: FaultServices, plan: FaultPlan, withFaults: boolean): Promise<PlayResult> {
  const { sandbox } = services;
  const mode = withFaults ? "x" : "b";
  // Each run gets its own accounts, subscriptions and table, so runs never see each other.
  const subscriptionIds = plan.subscriptionIds.map((id) => id.replace(/-4000-/, withFaults ? "-4001-" : "-4000-"));
  const nameOf = (name: string) => `${mode}${name}`;
  const table = `f${mode}${plan.seed}`;
  let now = plan.start.getTime();
  const clock = { now: () => new Date(now) };
  const transport: TransportFaults = { storage503: 0, acsLostResponses: 0 };
  const policies = { storagePolicies: [storageFaultPolicy(transport)], emailPolicies: [emailFaultPolicy(transport)] };

  const discovery = plan.seed % 2 === 0 ? "resource-graph" : "arm";
  // ARM faults hit whichever listing the monitor uses.
  const listRoute = discovery === "arm" ? "arm-list" : "resource-graph";
  const ids = new Map<string, string>();
  for (const story of plan.accounts) {
    const id = sandbox.putAccount({
      name: nameOf(story.name),
      subscriptionId: subscriptionIds[plan.subscriptionIds.indexOf(story.subscriptionId)]!,
      resourceGroup: "rg-faults",
      keyVaultKeyUri: `https://kv-${story.name}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": `${nameOf(story.name)}@contoso.com` },
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
    });
    return new Instance(createMonitorDeps(loadConfig(env), sandboxOverrides(sandbox, { clock, log: quiet, maxRetries: 0, resourceGraphSleep: async () => {}, ...policies })));
  };
  let instances = Array.from({ length: withFaults ? plan.instances : 1 }, build);
  const faults = withFaults ? plan.faults : [];
  const pendingAcks = plan.accounts.flatMap((story) => story.acks.map((atMinute) => ({ story, atMinute, done: false })));
  const deliveries: Delivery[] = [];
  /** Minutes at which some fault was still in force (not yet used up), for judging lateness. */
  const faultyMinutes: number[] = [];
  let seenEmails = sandbox.sentEmails().length;
  let failedCycles = 0;
  let crashes = 0;
  let restartPending = false;

  const collect = (minute: number) => {
    const sent = sandbox.sentEmails();
    for (const email of sent.slice(seenEmails)) {
      const key = email.headers["X-CMK-Monitor-Key"] ?? email.headers["x-cmk-monitor-key"];
      if (key && key.startsWith(`${mode}f`)) deliveries.push({ key, id: "", atMinute: minute });
    }
    seenEmails = sent.length;
  };

  for (let minute = 0; minute <= plan.durationMinutes; minute++) {
    now = plan.start.getTime() + minute * MINUTE;
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
          sandbox.injectFault({ route: "acs-poll", status: 200, times: fault.times, operationStatus: "Failed" });
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
        if (result.outcome !== "no-open-incident") ack.done = true;
      } catch {
        failedCycles += 1;
      }
      collect(minute);
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
      if (restarted) instances = instances.map(() => build());
      collect(minute);
    }
    const crashedNow = faults.some((f) => (f.kind === "crash" || f.kind === "storage-restart") && f.atMinute === minute);
    if (crashedNow || faultPendingAtStart || sandbox.pendingFaults().length > 0 || transport.storage503 > 0 || transport.acsLostResponses > 0) {
      faultyMinutes.push(minute);
    }
    const dead = instances.filter((instance) => instance.dead).length;
    if (dead > 0) {
      crashes += dead;
      instances = instances.map((instance) => (instance.dead ? build() : instance));
    }
  }
  for (const fault of faults) if (fault.kind === "acs-outage") sandbox.clearFaults("acs-send");
  sandbox.clearFaults();
  transport.storage503 = 0;
  transport.acsLostResponses = 0;

  labelDeliveries(deliveries, mode);
  const incidents = new Set(deliveries.map((d) => incidentOf(d.key))).size;
  return { deliveries, incidents, failedCycles, crashes, faultyMinutes };
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


export async function runPlan(services: FaultServices, plan: FaultPlan): Promise<RunOutcome> {
  const baseline = await play(services, plan, false);
  const faulty = await play(services, plan, true);

  const expected = new Map(baseline.deliveries.map((d) => [d.id, d]));
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
  };
}
