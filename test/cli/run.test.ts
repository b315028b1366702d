/** `run`: the monitor loop outside the Functions host, against the sandbox and Azurite. */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig, type Environment } from "../../src/config";
import { createBufferedIo } from "../../src/cli/io";
import { runRun } from "../../src/cli/run";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const SUB = "00000000-0000-0000-0000-0000000000bb";
let azure: LocalAzure;
let env: Environment;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.putAccount({
    name: "run-db",
    subscriptionId: SUB,
    resourceGroup: "rg-run",
    keyVaultKeyUri: "https://kv-run.vault.azure.net/keys/k",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned" },
    tags: { "cmk-owner": "runner@contoso.com" },
    status: "Access to your account is currently revoked because the Azure Cosmos DB account has an undefined default identity (4015).",
  });
  env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_STATE_TABLE: "runtable" });
});
afterAll(async () => {
  await azure?.stop();
});

const build = (e: Environment) => createMonitorDeps(loadConfig(e), sandboxOverrides(azure.sandbox, { log: quiet }));

describe("cmk-monitor run", () => {
  it("--once runs one full cycle with the same engine and exits 0", async () => {
    // A cron job or pipeline step uses --once.
    const io = createBufferedIo();
    expect(await runRun(["--once"], io, env, build)).toBe(0);
    expect(azure.sandbox.sentEmails().map((e) => e.to)).toEqual([["runner@contoso.com"]]);
    expect(io.err).toContain("stopped after 1 cycle(s)");
  });

  it("stops cleanly on SIGTERM after the cycle in flight", async () => {
    // Containers get SIGTERM on shutdown; the cycle must finish, not be cut mid-send.
    const io = createBufferedIo();
    const running = runRun([], io, { ...env, CMK_POLL_INTERVAL_MINUTES: "60" }, build);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.emit("SIGTERM");
    expect(await running).toBe(0);
    expect(io.err).toMatch(/SIGTERM received; finishing the current cycle/);
    expect(io.err).toContain("stopped after 1 cycle(s)");
    // The second cycle was idle: still exactly one email.
    expect(azure.sandbox.sentEmails()).toHaveLength(1);
  });

  it("lists every configuration problem in one message and exits 1", async () => {
    // Start-up fails fast and completely, before any work.
    const io = createBufferedIo();
    expect(await runRun(["--once"], io, { CMK_SUBSCRIPTION_IDS: "nope" })).toBe(1);
    expect(io.err).toMatch(/CMK_SUBSCRIPTION_IDS/);
    expect(io.err).toMatch(/CMK_EMAIL_SENDER/);
    expect(io.err).toMatch(/ACS_ENDPOINT/);
  });

  it("reports an unreachable store in one sentence and keeps going", async () => {
    // Storage down is a failed cycle, not a crash of the loop.
    const io = createBufferedIo();
    const broken = {
      ...env,
      CMK_STATE_CONNECTION:
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    };
    const deps = (e: Environment) => createMonitorDeps(loadConfig(e), sandboxOverrides(azure.sandbox, { log: quiet, maxRetries: 0 }));
    expect(await runRun(["--once"], io, broken, deps)).toBe(0);
    expect(io.err).toMatch(/cycle failed: Could not reach Azure/);
    expect(io.err).not.toMatch(/\n\s+at /);
  });
});
