/**
 * `cmk-monitor drill`: runs a scenario through the real monitor against local stand-ins for
 * Azure, prints the timeline and summary, and writes every email to an outbox folder.
 * `npm start` runs it with the built-in fire drill.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { createProgressReporter, type ProgressOutput } from "../drill/progress";
import { renderReport } from "../drill/report";
import { runScenario, type DrillResult, type LiveDrill } from "../drill/runScenario";
import { startLocalWebServer, type LocalWebServer } from "../web/localServer";
import { defaultScenarioPath, loadScenario, ScenarioError, type Scenario } from "../drill/scenario";
import { writeOutbox, type WrittenOutbox } from "../drill/outbox";
import { processIo, type CliIo } from "./io";

export const DRILL_USAGE = "usage: cmk-monitor drill [--scenario FILE] [--change-events on|off] [--json] [--outbox DIR] [--serve [--port N]]";

const DRILL_HELP = `${DRILL_USAGE}

Runs the real monitor (the timer function's poll cycle, real Azure SDK clients, its Key Vault
probes) against a local stand-in for Azure Resource Manager, Key Vault and Communication
Services Email, with state in Azurite, over simulated time. No Azure account or setting is
needed. Scenario events change an account's status, acknowledge a fix, or change the facts
behind it (key, vault, permission, DNS, firewall, identity, key URI).

  --scenario FILE  a scenario JSON file (docs/scenarios.md); default: the built-in fire drill,
                   scenarios/fire-drill.json
  --change-events on|off
                   off: no Azure change event reaches the monitor for the whole run (as if the
                   Event Grid subscriptions were not deployed), so changes are found by the
                   Resource Graph resourcechanges catch-up; default: as the scenario says
  --json           print one JSON document (timeline, incidents, summary) instead of text
  --outbox DIR     where to write every email as .eml and .html (default: ./outbox); earlier
                   drill emails in DIR are replaced, other files are left alone
  --serve          after the drill, keep serving the dashboard and status endpoints on
                   http://127.0.0.1:<port>/api/dashboard until Ctrl+C
  --port N         the port for --serve (default: a free one)`;

export interface DrillCliOptions {
  /** Resolves relative paths; default process.cwd(). */
  cwd?: string;
  /** Where progress goes; default stderr, redrawn in place only when stderr is a terminal. */
  progress?: ProgressOutput;
  /** With --serve: resolves when serving should stop; default waits for SIGINT/SIGTERM. */
  untilStopped?(dashboardUrl: string): Promise<void>;
}

export async function runDrill(args: string[], io: CliIo, options: DrillCliOptions = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: false,
      options: {
        scenario: { type: "string" },
        "change-events": { type: "string" },
        json: { type: "boolean" },
        outbox: { type: "string" },
        serve: { type: "boolean" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    io.stderr(`cmk-monitor drill: ${(error as Error).message}\n${DRILL_USAGE}`);
    return 1;
  }
  if (parsed.values.help) {
    io.stdout(DRILL_HELP);
    return 0;
  }
  const port = parsed.values.port === undefined ? 0 : Number(parsed.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (parsed.values.port !== undefined && !parsed.values.serve)) {
    io.stderr(`cmk-monitor drill: --port takes a port number from 0 to 65535 and goes with --serve.\n${DRILL_USAGE}`);
    return 1;
  }
  const changeEvents = parsed.values["change-events"];
  if (changeEvents !== undefined && changeEvents !== "on" && changeEvents !== "off") {
    io.stderr(`cmk-monitor drill: --change-events takes on or off.\n${DRILL_USAGE}`);
    return 1;
  }
  const cwd = options.cwd ?? process.cwd();
  const scenarioFile = parsed.values.scenario !== undefined ? path.resolve(cwd, parsed.values.scenario) : defaultScenarioPath();
  const scenarioLabel = parsed.values.scenario ?? displayPath(scenarioFile, cwd);

  let scenario: Scenario;
  try {
    scenario = await loadScenario(scenarioFile, scenarioLabel);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    io.stderr(
      `cmk-monitor drill: the scenario is not valid:\n${error.problems.map((p) => `  ${p}`).join("\n")}\nThe format is described in docs/scenarios.md.`,
    );
    return 1;
  }

  // "on" keeps the scenario's own per-account switches; "off" switches every event off for the run.
  if (changeEvents === "off") scenario = { ...scenario, changeEvents: "off" };
  const progress = createProgressReporter(options.progress ?? stderrProgress(io));
  const result = await runScenario(scenario, { onProgress: progress, keepRunning: parsed.values.serve === true });
  const outbox = await writeOutbox(path.resolve(cwd, parsed.values.outbox ?? "outbox"), result.emails, scenario.durationMinutes);

  if (parsed.values.json) {
    io.stdout(JSON.stringify(jsonDocument(result, scenarioLabel, outbox), null, 2));
  } else {
    io.stdout(renderReport(result, { scenarioLabel, outboxDir: outbox.dir }));
  }
  if (result.live) return serve(result.live, port, io, options.untilStopped ?? waitForSignal);
  return 0;
}

/** Keeps the dashboard up on loopback until the user stops it. */
async function serve(live: LiveDrill, port: number, io: CliIo, untilStopped: (url: string) => Promise<void>): Promise<number> {
  let web: LocalWebServer | undefined;
  try {
    web = await startLocalWebServer(live.deps, { port });
    const url = `${web.url}/api/dashboard`;
    io.stderr(`Dashboard: ${url}  (status JSON: ${web.url}/api/status) — press Ctrl+C to stop.`);
    await untilStopped(url);
    return 0;
  } finally {
    await web?.stop();
    await live.stop();
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

/** The `--json` document; its field names are documented in docs/scenarios.md. */
function jsonDocument(result: DrillResult, scenarioLabel: string, outbox: WrittenOutbox) {
  const { scenario } = result;
  return {
    scenario: {
      file: scenarioLabel,
      ...(scenario.description !== undefined ? { description: scenario.description } : {}),
      start: result.start.toISOString(),
      durationMinutes: scenario.durationMinutes,
      pollIntervalMinutes: scenario.pollIntervalMinutes,
      accounts: scenario.accounts.length,
    },
    timeline: result.timeline,
    incidents: result.incidents,
    summary: result.summary,
    warnings: result.warnings,
    outbox: { dir: outbox.dir, files: outbox.stems.map((stem) => `${stem}.eml`) },
    realTimeInMs: result.realTimeInMs,
  };
}

/** The terminal gets a redrawn bar; anything else (CI, a pipe, a test's buffer) gets plain lines. */
function stderrProgress(io: CliIo): ProgressOutput {
  const tty = io === processIo && process.stderr.isTTY === true;
  return { tty, write: (text) => void process.stderr.write(text), line: (text) => io.stderr(text) };
}

/** "outbox" rather than "/home/me/project/outbox" when it is under the working directory. */
function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
