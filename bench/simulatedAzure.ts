/**
 * The sandbox fleet the benchmark runs against, in this process (for the test suite) or in a
 * child process (for `npm run bench`). In Azure, ARM, Resource Graph, Key Vault and ACS are other
 * machines; with the sandbox in the benchmark's own process, every simulated response would cost
 * the engine's CPU too, and a big fleet would measure the stand-in instead of the monitor.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { Agent } from "node:https";
import type { TokenCredential } from "@azure/core-auth";
import { LocalSandbox, type ArmThrottle } from "../src/sandbox";
import { createVaultAgent } from "../src/sandbox/vaultAgent";
import { buildFleet, type BenchFleet, type FleetOptions } from "./fleet";
import type { HostResolver } from "../src/ports/hostResolver";

export interface SentSummary {
  key: string;
  subject: string;
}

export interface SimulatedAzure {
  readonly url: string;
  readonly ca: string;
  readonly acsConnectionString: string;
  readonly credential: TokenCredential;
  readonly keyVaultAgent: Agent;
  readonly hostResolver: HostResolver;
  readonly fleet: BenchFleet;
  /** The child process serving the simulation (undefined in process: its CPU is this process's). */
  readonly pid?: number;
  /** ARM's read bucket and Resource Graph's quota, fresh. */
  throttle(arm: ArmThrottle, resourceGraph: { queries: number; windowInMs: number }): Promise<void>;
  clearRequests(): Promise<void>;
  /** Requests since the last clear, by sandbox route. */
  calls(): Promise<Record<string, number>>;
  armThrottledCount(): Promise<number>;
  sentEmails(): Promise<SentSummary[]>;
  stop(): Promise<void>;
}

export interface SimulatedAzureOptions extends FleetOptions {
  latencyInMs: number;
}

const TOKEN = "sandbox-access-token";
const credential: TokenCredential = { getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** In this process: simple, and what the test suite uses (no build step). */
export async function startInProcess(options: SimulatedAzureOptions): Promise<SimulatedAzure> {
  const sandbox = await LocalSandbox.start({ latencyInMs: options.latencyInMs });
  const fleet = buildFleet(sandbox, options);
  return {
    url: sandbox.url,
    ca: sandbox.ca,
    acsConnectionString: sandbox.acsConnectionString,
    credential: sandbox.credential,
    keyVaultAgent: sandbox.keyVaultAgent,
    hostResolver: sandbox.resolver,
    fleet,
    throttle: async (arm, graph) => {
      sandbox.setArmThrottle(arm);
      sandbox.resourceGraph.setQuota(graph);
    },
    clearRequests: async () => sandbox.clearRequests(),
    calls: async () => countRoutes(sandbox),
    armThrottledCount: async () => sandbox.armThrottledCount(),
    sentEmails: async () => summarize(sandbox),
    stop: () => sandbox.stop(),
  };
}

/** In a child process (this file compiled, run with `--child`): its own CPU, like the real services. */
export async function startChildProcess(options: SimulatedAzureOptions): Promise<SimulatedAzure> {
  const child = fork(__filename, ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let next = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on("message", (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the simulated Azure process exited (${code})`));
    pending.clear();
  });
  const call = <T>(command: string, args?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, command, args });
    });
  const started = await call<{ url: string; ca: string; acsConnectionString: string; port: number; fleet: BenchFleet }>("start", options);
  // The bench fleet's vaults all exist: every vault host name resolves to the sandbox.
  const resolves = (host: string): boolean => host.toLowerCase().endsWith(".vault.azure.net");
  return {
    url: started.url,
    ca: started.ca,
    acsConnectionString: started.acsConnectionString,
    credential,
    keyVaultAgent: createVaultAgent({ ca: started.ca, port: started.port, resolves }),
    hostResolver: {
      lookup: async (hostname) => {
        if (resolves(hostname)) return ["127.0.0.1"];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname });
      },
    },
    fleet: started.fleet,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    throttle: (arm, graph) => call("throttle", { arm, graph }),
    clearRequests: () => call("clearRequests"),
    calls: () => call("calls"),
    armThrottledCount: () => call("armThrottledCount"),
    sentEmails: () => call("sentEmails"),
    stop: async () => {
      if (child.exitCode === null) {
        await call("stop").catch(() => undefined);
        child.disconnect();
      }
      await exited;
    },
  };
}

function countRoutes(sandbox: LocalSandbox): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of sandbox.requests()) {
    const route = request.route ?? "unrouted";
    counts[route] = (counts[route] ?? 0) + 1;
  }
  return counts;
}

function summarize(sandbox: LocalSandbox): SentSummary[] {
  return sandbox.sentEmails().map((email) => ({ key: email.headers["X-CMK-Monitor-Key"] ?? "", subject: email.subject }));
}

/** The child's side: one sandbox, driven over IPC. */
async function serve(child: ChildProcess | NodeJS.Process): Promise<void> {
  let sandbox: LocalSandbox | undefined;
  child.on("disconnect", () => process.exit(0));
  child.on("message", async (message: { id: number; command: string; args?: unknown }) => {
    const reply = (result: unknown): void => void process.send!({ id: message.id, result });
    try {
      switch (message.command) {
        case "start": {
          const options = message.args as SimulatedAzureOptions;
          sandbox = await LocalSandbox.start({ latencyInMs: options.latencyInMs });
          const fleet = buildFleet(sandbox, options);
          const port = Number(new URL(sandbox.url).port);
          return reply({ url: sandbox.url, ca: sandbox.ca, acsConnectionString: sandbox.acsConnectionString, port, fleet });
        }
        case "throttle": {
          const { arm, graph } = message.args as { arm: ArmThrottle; graph: { queries: number; windowInMs: number } };
          sandbox!.setArmThrottle(arm);
          sandbox!.resourceGraph.setQuota(graph);
          return reply(null);
        }
        case "clearRequests":
          sandbox!.clearRequests();
          return reply(null);
        case "calls":
          return reply(countRoutes(sandbox!));
        case "armThrottledCount":
          return reply(sandbox!.armThrottledCount());
        case "sentEmails":
          return reply(summarize(sandbox!));
        case "stop":
          await sandbox?.stop();
          return reply(null);
        default:
          throw new Error(`unknown command ${message.command}`);
      }
    } catch (error) {
      process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

if (require.main === module && process.argv.includes("--child")) void serve(process);
