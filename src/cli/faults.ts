/**
 * `cmk-monitor faults`: the fault-injection suite. Seeded runs of the real engine with faults in
 * ACS, storage, ARM and the work queue, crashes and concurrent instances, some fanned out over the
 * queue and some with mass revocations (digests), compared with fault-free runs.
 */
import { parseArgs } from "node:util";
import { FaultServices, runPlan, type AcsPlay, type RunOutcome } from "../faults/harness";
import { generatePlan } from "../faults/plan";
import { renderTable, summarize } from "../faults/report";
import type { CliIo } from "./io";

export const FAULTS_USAGE =
  "usage: cmk-monitor faults [--runs N] [--first-seed S | --seed S] [--accounts N] [--domain azure-managed|custom] [--dedupe-repeats] [--without-delivery-reports] [--json]";

export async function runFaults(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        runs: { type: "string" },
        seed: { type: "string" },
        "first-seed": { type: "string" },
        accounts: { type: "string" },
        domain: { type: "string" },
        "dedupe-repeats": { type: "boolean" },
        "without-delivery-reports": { type: "boolean" },
        json: { type: "boolean" },
      },
    });
  } catch (error) {
    io.stderr(`cmk-monitor faults: ${(error as Error).message}\n${FAULTS_USAGE}`);
    return 1;
  }
  const number = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${value}"`);
    return n;
  };
  let runs: number, firstSeed: number, accounts: number;
  const domain = parsed.values.domain ?? "azure-managed";
  if (domain !== "azure-managed" && domain !== "custom") {
    io.stderr(`cmk-monitor faults: --domain must be azure-managed or custom, got "${domain}"\n${FAULTS_USAGE}`);
    return 1;
  }
  // --dedupe-repeats: the comparison with the old sandbox, which never delivered a repeated Operation-Id.
  // --without-delivery-reports: a deployment without the Event Grid subscription (every final status is read).
  const acs: AcsPlay = {
    domain,
    ...(parsed.values["dedupe-repeats"] ? { dedupeRepeats: true } : {}),
    ...(parsed.values["without-delivery-reports"] ? { deliveryReports: false } : {}),
  };
  try {
    const seed = parsed.values.seed;
    runs = seed !== undefined ? 1 : number(parsed.values.runs, 60, "runs");
    firstSeed = number(seed ?? parsed.values["first-seed"], 1, "seed");
    accounts = number(parsed.values.accounts, 20, "accounts");
  } catch (error) {
    io.stderr(`cmk-monitor faults: ${(error as Error).message}\n${FAULTS_USAGE}`);
    return 1;
  }
  const outcomes = await runFaultSuite({
    runs,
    firstSeed,
    revokedAccounts: accounts,
    acs,
    onRun: (o, i) =>
      io.stderr(
        `run ${i + 1}/${runs} seed ${o.seed}${o.fannedOut ? " (fan-out)" : ""}: ${o.incidents} incidents, ${o.digests} digests, ` +
          `lost ${o.lost.length}, duplicates ${o.duplicates.length}, late ${o.late.length}${o.anomalies.length > 0 ? `, anomalies ${o.anomalies.length}` : ""}; ` +
          `ACS ${o.sendCalls} sends (${o.acceptedSends} accepted), ${o.statusCalls} status reads, ${o.reportEvents} delivery reports, tail ${o.tailMinutes} min`,
      ),
  });
  const summary = summarize(outcomes, acs);
  io.stdout(parsed.values.json ? JSON.stringify(summary) : renderTable(outcomes, summary));
  return summary.seeds.length > 0 ? 1 : 0;
}

export interface FaultSuiteOptions {
  runs: number;
  firstSeed: number;
  revokedAccounts: number;
  /** How the sandbox plays ACS; Azure-managed domain, repeats delivered, by default. */
  acs?: AcsPlay;
  onRun?(outcome: RunOutcome, index: number): void;
}

export async function runFaultSuite(options: FaultSuiteOptions): Promise<RunOutcome[]> {
  const services = await FaultServices.start();
  try {
    const outcomes: RunOutcome[] = [];
    for (let i = 0; i < options.runs; i++) {
      const plan = generatePlan(options.firstSeed + i, { revokedAccounts: options.revokedAccounts, healthyAccounts: 3 });
      const outcome = await runPlan(services, plan, options.acs);
      outcomes.push(outcome);
      options.onRun?.(outcome, i);
    }
    return outcomes;
  } finally {
    await services.stop();
  }
}
