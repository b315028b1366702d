/**
 * `cmk-monitor run`: the monitor loop outside the Functions host (a VM, a container, a
 * laptop). Same settings, same store and outbox as the Function App; stops cleanly on
 * SIGINT/SIGTERM after the cycle in flight.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createMonitorDeps } from "../composition";
import { loadConfig, type Environment } from "../config";
import type { CliIo } from "./io";
import { explainError, terminalText } from "./userFacingErrors";
import { runCycle } from "../app/runCycle";
import type { MonitorDeps } from "../pipeline/monitorDeps";

export const RUN_USAGE = "usage: cmk-monitor run [--once] [--settings local.settings.json] [--verbose]";

export interface LoopOptions {
  intervalInMs: number;
  signal: AbortSignal;
  once?: boolean;
  /** Called after each cycle; a failed cycle is reported and the loop goes on. */
  onCycleError?(error: unknown): void;
}

/** Runs cycles until aborted; an abort never interrupts a cycle, only the wait between cycles. */
export async function runLoop(deps: MonitorDeps, options: LoopOptions): Promise<number> {
  let cycles = 0;
  while (!options.signal.aborted) {
    const started = Date.now();
    try {
      await runCycle(deps);
    } catch (error) {
      options.onCycleError?.(error);
    }
    cycles += 1;
    if (options.once) break;
    await sleep(Math.max(0, options.intervalInMs - (Date.now() - started)), options.signal);
  }
  return cycles;
}

export async function runRun(
  args: string[],
  io: CliIo,
  env: Environment = process.env,
  buildDeps: (env: Environment) => MonitorDeps = (e) => createMonitorDeps(loadConfig(e)),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { once: { type: "boolean" }, settings: { type: "string" }, verbose: { type: "boolean" } } });
  } catch (error) {
    io.stderr(`cmk-monitor run: ${(error as Error).message}\n${RUN_USAGE}`);
    return 1;
  }
  let settings: Environment = env;
  if (parsed.values.settings) {
    const read = readSettingsFile(parsed.values.settings, env);
    if ("problem" in read) {
      io.stderr(`cmk-monitor run: ${read.problem}`);
      return 1;
    }
    settings = read.settings;
  }
  let deps: MonitorDeps;
  try {
    deps = buildDeps(settings);
  } catch (error) {
    io.stderr(`cmk-monitor run: ${explainError(error, "starting")}`);
    return 1;
  }
  const controller = new AbortController();
  const stop = (signal: string) => {
    if (controller.signal.aborted) process.exit(130); // a second signal means "now"
    io.stderr(`cmk-monitor run: ${signal} received; finishing the current cycle, then stopping.`);
    controller.abort();
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const intervalInMs = Number(settings.CMK_POLL_INTERVAL_MINUTES ?? 5) * 60_000 || 300_000;
    const cycles = await runLoop(deps, {
      intervalInMs,
      signal: controller.signal,
      once: parsed.values.once ?? false,
      onCycleError: (error) => {
        io.stderr(`cmk-monitor run: cycle failed: ${explainError(error, "running a cycle")}`);
        if (parsed.values.verbose && error instanceof Error && error.stack) io.stderr(error.stack);
      },
    });
    io.stderr(`cmk-monitor run: stopped after ${cycles} cycle(s).`);
    return 0;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

/** A local.settings.json-style file's Values under the real environment (which wins, as under the Functions host). */
export function readSettingsFile(path: string, env: Environment): { settings: Environment } | { problem: string } {
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { problem: `cannot read settings file ${path}: ${terminalText((error as Error).message, 200)}` };
  }
  const problem = settingsFileProblem(file);
  if (problem !== undefined) return { problem: `settings file ${path}: ${problem}` };
  return { settings: { ...((file as { Values?: Environment }).Values ?? {}), ...env } };
}

/**
 * What is wrong with a local.settings.json-style document, or undefined when it can be used.
 * A value that is not a string used to be dropped silently, leaving the default in force.
 */
function settingsFileProblem(file: unknown): string | undefined {
  const isObject = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
  if (!isObject(file)) return 'must be a JSON object like local.settings.json ({ "Values": { ... } })';
  const { IsEncrypted, Values } = file as Record<string, unknown>;
  if (IsEncrypted === true) return "is encrypted; run `func settings decrypt` first";
  if (Values === undefined) return undefined;
  if (!isObject(Values)) return "Values must be an object of setting names and string values";
  const wrong = Object.entries(Values as Record<string, unknown>)
    .filter(([, value]) => typeof value !== "string")
    .map(([name]) => terminalText(name, 80));
  if (wrong.length > 0) return `${wrong.join(", ")} must be a string (app settings are text: write "5", not 5)`;
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
