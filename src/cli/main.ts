/**
 * The `cmk-monitor` command line: a plain table of commands. To add one, add a row; `help`
 * lists the table, so nothing else needs to change.
 */
import { ACK_USAGE, runAck } from "./ack";
import { DOCTOR_USAGE, runDoctorCommand } from "./doctor";
import { DRILL_USAGE, runDrill } from "./drill";
import { EXPLAIN_USAGE, runExplain } from "./explain";
import { FAULTS_USAGE, runFaults } from "./faults";
import { RUN_USAGE, runRun } from "./run";
import { SCAN_USAGE, runScan } from "./scan";
import { WEEKLY_REPORT_USAGE, runWeeklyReport } from "./weeklyReport";
import { type CliIo, processIo } from "./io";

export interface CliCommand {
  /** One line for `cmk-monitor help`. */
  summary: string;
  /** The usage line `cmk-monitor help <command>` prints, when the command has one. */
  usage?: string;
  /** Returns the process exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  explain: {
    summary: "Explain a CMK status, error message or sub-status code, with the steps to fix it",
    usage: EXPLAIN_USAGE,
    run: runExplain,
  },
  ack: {
    summary: "Tell the monitor an account's cause is fixed; starts the recovery clock",
    usage: ACK_USAGE,
    run: (args, io) => runAck(args, io),
  },
  scan: {
    summary: "One read-only pass over your subscriptions with your own Azure sign-in (exit 2 if any account is revoked)",
    usage: SCAN_USAGE,
    run: (args, io) => runScan(args, io),
  },
  run: {
    summary: "Run the monitor loop outside the Functions host, with the same settings and state",
    usage: RUN_USAGE,
    run: (args, io) => runRun(args, io),
  },
  doctor: {
    summary:
      "Check the deployment with its own settings and identity: subscriptions, status source, vaults, storage, email, links (exit 2 warnings, 1 failures)",
    usage: DOCTOR_USAGE,
    run: (args, io) => runDoctorCommand(args, io),
  },
  drill: {
    summary: "Run the real monitor over simulated hours against a local Azure stand-in (what `npm start` runs)",
    usage: DRILL_USAGE,
    run: (args, io) => runDrill(args, io),
  },
  faults: {
    summary: "The fault-injection suite: seeded runs with ACS/storage/ARM faults and crashes, compared with fault-free runs",
    usage: FAULTS_USAGE,
    run: (args, io) => runFaults(args, io),
  },
  "weekly-report": {
    summary: "Preview the weekly report of the last complete ISO week from the deployment's state (prints it, or writes its HTML); sends nothing",
    usage: WEEKLY_REPORT_USAGE,
    run: (args, io) => runWeeklyReport(args, io),
  },
  help: {
    summary: "List the commands, or show one command's usage",
    usage: "usage: cmk-monitor help [COMMAND]",
    run: runHelp,
  },
};

const USAGE = "usage: cmk-monitor <command> [options]";

function findCommand(name: string): CliCommand | undefined {
  // Own properties only, so "constructor" or "__proto__" are not commands.
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function commandList(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((name) => name.length));
  return names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`).join("\n");
}

async function runHelp(args: string[], io: CliIo): Promise<number> {
  const [name, ...extra] = args;
  if (name === undefined) {
    io.stdout(`${USAGE}\n\nCommands:\n${commandList()}`);
    return 0;
  }
  const command = findCommand(name);
  if (!command || extra.length > 0) {
    io.stderr(`cmk-monitor help: unknown command ${[name, ...extra].join(" ")}. Commands: ${Object.keys(COMMANDS).sort().join(", ")}`);
    return 1;
  }
  io.stdout(`${command.usage ?? `usage: cmk-monitor ${name}`}\n\n${command.summary}`);
  return 0;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--help" || name === "-h") return runHelp([], io);
  const command = name === undefined ? undefined : findCommand(name);
  if (!command) {
    const problem = name === undefined ? "no command given" : `unknown command ${name}`;
    io.stderr(`cmk-monitor: ${problem}. ${USAGE}\n\nCommands:\n${commandList()}`);
    return 1;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // Commands report expected problems themselves; this is the last line for the unexpected.
    io.stderr(`cmk-monitor ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
