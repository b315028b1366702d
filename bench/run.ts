/**
 * `npm run bench -- --accounts 10000 --subscriptions 1000 --empty-subscriptions 4000 --latency-ms 20 [--mode arm|resource-graph|resource-graph-status] [--json]`
 * Prints, per mode, calls by API, cold and idle cycle wall time against their lower bounds, the
 * revocations detected (Resource Graph never shows them), status calls of an idle cycle, store
 * traffic, emails and peak RSS. See bench/benchmark.ts for what is measured.
 */
import { fork } from "node:child_process";
import { parseArgs } from "node:util";
import { BENCH_MODES, runBenchmark, type BenchMode, type BenchResult } from "./benchmark";
import type { GraphStatus } from "./fleet";

const USAGE =
  "usage: npm run bench -- --accounts N --subscriptions N [--empty-subscriptions N] --latency-ms N [--mode arm|resource-graph|resource-graph-status] [--graph-status healthy|absent] [--revoked-share 0.01] [--batch-size N] [--new-batch-threshold N] [--fanout auto|queue|inline] [--skip-next-day] [--json]";

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        accounts: { type: "string", default: "10000" },
        subscriptions: { type: "string", default: "1000" },
        "empty-subscriptions": { type: "string", default: "0" },
        "graph-status": { type: "string", default: "healthy" },
        "latency-ms": { type: "string", default: "20" },
        mode: { type: "string" },
        "revoked-share": { type: "string", default: "0.01" },
        // Default: host.json's queue settings, which the Function App runs with.
        "batch-size": { type: "string" },
        "new-batch-threshold": { type: "string" },
        fanout: { type: "string", default: "auto" },
        json: { type: "boolean", default: false },
        "skip-next-day": { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const whole = (name: string, min: number): number => {
    const n = Number(values[name as keyof typeof values]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}`);
    return n;
  };
  let accounts: number, subscriptions: number, emptySubscriptions: number, latencyInMs: number, revokedShare: number;
  const host: { batchSize?: number; newBatchThreshold?: number } = {};
  try {
    accounts = whole("accounts", 1);
    subscriptions = whole("subscriptions", 1);
    emptySubscriptions = whole("empty-subscriptions", 0);
    latencyInMs = whole("latency-ms", 0);
    if (values["batch-size"] !== undefined) host.batchSize = whole("batch-size", 1);
    if (values["new-batch-threshold"] !== undefined) host.newBatchThreshold = whole("new-batch-threshold", 0);
    revokedShare = Number(values["revoked-share"]);
    if (!(revokedShare >= 0 && revokedShare <= 1)) throw new Error("--revoked-share must be between 0 and 1");
    if (values.mode !== undefined && !BENCH_MODES.includes(values.mode as BenchMode)) throw new Error(`--mode must be one of ${BENCH_MODES.join(", ")}`);
    if (values["graph-status"] !== "healthy" && values["graph-status"] !== "absent") throw new Error("--graph-status must be healthy or absent");
    if (!["auto", "queue", "inline"].includes(values.fanout!)) throw new Error("--fanout must be auto, queue or inline");
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (!values.mode) {
    // One process per mode: peak RSS is a process's lifetime high, and caches must not carry over.
    const results: BenchResult[] = [];
    for (const mode of BENCH_MODES) results.push(...(await runInChild([...argv, "--mode", mode, "--json"])));
    process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : render(results));
    return 0;
  }
  const modes: BenchMode[] = [values.mode as BenchMode];
  const results = await runBenchmark({
    accounts,
    subscriptions,
    emptySubscriptions,
    graphStatus: values["graph-status"] as GraphStatus,
    latencyInMs,
    modes,
    revokedShare,
    host,
    fanout: values.fanout as "auto" | "queue" | "inline",
    nextDay: !values["skip-next-day"],
    simulation: "child-process",
    progress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : render(results));
  return 0;
}

/** Runs this script for one mode in a child process and returns its JSON results. */
function runInChild(args: string[]): Promise<BenchResult[]> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench ${args.join(" ")} exited with ${code}`));
      try {
        resolve(JSON.parse(out) as BenchResult[]);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

function render(results: BenchResult[]): string {
  const rows: Array<[string, (r: BenchResult) => string]> = [
    ["accounts / subscriptions", (r) => `${r.accounts} / ${r.subscriptions} (${r.revokedAccounts} revoked)`],
    ["subscriptions in scope / with CMK", (r) => `${r.subscriptionsInScope} / ${r.subscriptionsWithCmk}`],
    [
      "status source",
      (r) => `${r.statusSource} (idle cycle used ${r.idleStatusSourceUsed}${r.idleStatusSourceFallback ? `: ${r.idleStatusSourceFallback}` : ""})`,
    ],
    ["revoked detected (cold)", (r) => `${r.detectedRevoked} of ${r.revokedAccounts} (Resource Graph status: ${r.graphStatus})`],
    ["status calls (idle)", (r) => `${r.statusCalls} (monitor's count ${r.statusCallsReported})`],
    ["latency per sandbox response", (r) => `${r.latencyMs} ms`],
    ["discovery calls", (r) => String(r.discoveryCalls)],
    ["ARM GETs (confirmations)", (r) => String(r.armCalls)],
    ["Key Vault probe calls", (r) => String(r.keyVaultCalls)],
    ["ACS calls (send + poll)", (r) => String(r.emailCalls)],
    ["ARM reads throttled (429)", (r) => String(r.armThrottled)],
    [
      "calls by API (cold)",
      (r) =>
        Object.entries(r.callsByApi)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([route, count]) => `${route} ${count}`)
          .join(", "),
    ],
    ["cold cycle", (r) => `${r.coldCycleMs} ms (${r.coldFanout}${r.coldFanout === "queue" ? `, ${r.workItems} work items` : ""})`],
    [
      "lower bound",
      (r) =>
        `${r.lowerBoundMs} ms (discovery ${r.lowerBound.discoveryMs}, work ${r.lowerBound.workMs}, send ${r.lowerBound.sendMs}; throttle floor ${r.lowerBound.throttleFloorMs})`,
    ],
    [
      "allowed concurrency",
      (r) => `discovery ${r.lowerBound.concurrency.discovery}, work ${r.lowerBound.concurrency.work}, send ${r.lowerBound.concurrency.send}`,
    ],
    ["ratio wall ÷ lower bound", (r) => String(r.ratio)],
    ["CPU in the monitor's process (cold)", (r) => `${r.coldCycleCpuMs} ms`],
    [
      "machine CPU (cold)",
      (r) => {
        const m = r.coldCycleMachineCpu;
        if (!m) return "not measured (Linux only)";
        const sandbox = m.simulatedAzureMs !== undefined ? `, simulated Azure ${m.simulatedAzureMs}` : "";
        return `${m.cores} cores: bench ${m.benchProcessMs}${sandbox}, Azurite ${m.azuriteMs}, other processes ${m.otherMs}, steal ${m.stealMs} (ms)`;
      },
    ],
    [
      "idle cycle",
      (r) =>
        `${r.idleCycleMs} ms; lower bound ${r.idleLowerBoundMs} ms (status ${r.idleLowerBound.statusMs}, probes ${r.idleLowerBound.probeMs}, send ${r.idleLowerBound.sendMs}); ratio ${r.idleRatio}`,
    ],
    ["CPU in the monitor's process (idle)", (r) => `${r.idleCycleCpuMs} ms`],
    ["next day's first cycle", (r) => `${r.nextDayCycleMs} ms (${r.nextDayCycleWrites} entities written, ${r.nextDayCycleEmails} emails)`],
    ["idle cycle store reads / writes", (r) => `${r.idleCycleReads} / ${r.idleCycleWrites} (+${r.idleCycleHeartbeatWrites} heartbeat)`],
    ["emails sent (cold) / digests", (r) => `${r.emailsSent} / ${r.digestsSent} (${r.messagesInDigests} messages)`],
    ["emails sent (idle)", (r) => String(r.idleCycleEmails)],
    ["peak RSS (cold and idle)", (r) => `${r.peakRssMb} MB${r.azuritePeakRssMb ? ` (Azurite ${r.azuritePeakRssMb} MB, whole run)` : ""}`],
    ["peak RSS (with the next day)", (r) => `${r.nextDayPeakRssMb} MB`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  // One block per mode: some values are long (calls by API), columns would not stay readable.
  return results
    .map((r) => [`== ${r.mode} ==`, ...rows.map(([label, value]) => `${label.padEnd(width)}  ${value(r)}`)].join("\n"))
    .join("\n\n")
    .concat("\n");
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
