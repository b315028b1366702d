import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A running Azurite child process; only the Table service is used by the project. */
export interface AzuriteInstance {
  /** e.g. `http://127.0.0.1:PORT/devstoreaccount1`. */
  tableEndpoint: string;
  blobEndpoint: string;
  queueEndpoint: string;
  /** Development-storage connection string naming all three endpoints. */
  connectionString: string;
  /** The child's process id, so callers can check it is gone after `stop()`. */
  pid: number;
  /** Shuts Azurite down cleanly (flushing a persistent store) and waits for the child to exit. */
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Keep data in this folder across restarts; default is in-memory only. */
  persistenceDir?: string;
  /** Default 20 000; Azurite usually starts in about a second. */
  startupTimeoutInMs?: number;
}

/** Azurite's well-known development account; not a secret. */
const ACCOUNT_NAME = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const LISTENING_LINE = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/g;
const CLOSED_LINE = /Azurite (Blob|Queue|Table) service successfully closed/g;
const SHUTDOWN_GRACE_IN_MS = 5_000;
const OUTPUT_LIMIT = 20_000;

/**
 * The command line that runs Azurite as a child that exits when its parent goes away.
 * Azurite itself ignores IPC `disconnect`, so a one-line wrapper wires that up before
 * loading Azurite's entry point; `-e` works the same from jest (TypeScript) and compiled JS.
 */
export function azuriteCommandLine(options: Pick<StartAzuriteOptions, "persistenceDir"> = {}): {
  command: string;
  args: string[];
} {
  const entry = require.resolve("azurite/dist/src/azurite.js");
  const azuriteArgs = [
    ...(options.persistenceDir ? ["--location", options.persistenceDir] : ["--inMemoryPersistence"]),
    "--disableTelemetry",
    // Current SDKs send API versions newer than Azurite knows.
    "--skipApiVersionCheck",
    // Access logs are noise here, and a chatty pipe is one more thing to drain.
    "--silent",
    "--blobPort",
    "0",
    "--queuePort",
    "0",
    "--tablePort",
    "0",
  ];
  const wrapper = [
    'process.on("disconnect", () => process.exit(0));',
    `process.argv = [process.argv[0], ${JSON.stringify(entry)}, ...${JSON.stringify(azuriteArgs)}];`,
    `require(${JSON.stringify(entry)});`,
  ].join(" ");
  return { command: process.execPath, args: ["-e", wrapper] };
}

export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  // A private cwd keeps any file Azurite decides to write out of the repository.
  const workDir = await mkdtemp(path.join(os.tmpdir(), "cmk-azurite-"));
  const { command, args } = azuriteCommandLine(options);
  const child = spawn(command, args, { cwd: workDir, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const output = { stdout: "", stderr: "" };
  // Always drain both pipes: a full pipe would block Azurite's console writes.
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output.stdout = tail(output.stdout + chunk)));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output.stderr = tail(output.stderr + chunk)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let endpoints: Record<"Blob" | "Queue" | "Table", string>;
  try {
    endpoints = await waitForEndpoints(child, output, options.startupTimeoutInMs ?? 20_000);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  const withAccount = (url: string): string => `${url.replace(/\/+$/, "")}/${ACCOUNT_NAME}`;
  const blobEndpoint = withAccount(endpoints.Blob);
  const queueEndpoint = withAccount(endpoints.Queue);
  const tableEndpoint = withAccount(endpoints.Table);
  let stopping: Promise<void> | undefined;

  return {
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};AccountKey=${ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    pid: child.pid!,
    stop: () => {
      stopping ??= (async () => {
        await shutDown(child, output, exited);
        await rm(workDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function waitForEndpoints(
  child: ChildProcess,
  output: { stdout: string; stderr: string },
  timeoutInMs: number,
): Promise<Record<"Blob" | "Queue" | "Table", string>> {
  return new Promise((resolve, reject) => {
    const describe = (): string => `\n--- Azurite stderr ---\n${output.stderr || "(empty)"}\n--- Azurite stdout ---\n${output.stdout || "(empty)"}`;
    const cleanUp = (): void => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    const onData = (): void => {
      const found = new Map<string, string>();
      for (const match of output.stdout.matchAll(LISTENING_LINE)) found.set(match[1]!, match[2]!);
      if (found.size === 3) {
        cleanUp();
        resolve({ Blob: found.get("Blob")!, Queue: found.get("Queue")!, Table: found.get("Table")! });
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanUp();
      reject(new Error(`Azurite exited during start-up (code ${code}, signal ${signal}).${describe()}`));
    };
    const onError = (error: Error): void => {
      cleanUp();
      reject(new Error(`Azurite could not be started: ${error.message}${describe()}`));
    };
    const timer = setTimeout(() => {
      cleanUp();
      reject(new Error(`Azurite did not report its ports within ${timeoutInMs} ms.${describe()}`));
    }, timeoutInMs);
    // Listen after the drain listener, so `output.stdout` already holds the new chunk.
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

/** Asks Azurite to close its servers (its own IPC "shutdown"), then cuts the channel so the wrapper exits. */
async function shutDown(child: ChildProcess, output: { stdout: string }, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closedBefore = [...output.stdout.matchAll(CLOSED_LINE)].length;
  if (child.connected) {
    // The callback swallows EPIPE if the child dies meanwhile; `exited` below covers that case.
    child.send("shutdown", () => undefined);
    await Promise.race([until(() => [...output.stdout.matchAll(CLOSED_LINE)].length - closedBefore >= 3, SHUTDOWN_GRACE_IN_MS), exited]);
  }
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill("SIGKILL"), SHUTDOWN_GRACE_IN_MS);
  await exited;
  clearTimeout(timer);
}

function until(condition: () => boolean, timeoutInMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutInMs;
    const check = (): void => {
      if (condition() || Date.now() >= deadline) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

function tail(text: string): string {
  return text.length > OUTPUT_LIMIT ? text.slice(-OUTPUT_LIMIT) : text;
}
