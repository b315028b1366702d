import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { TableClient } from "@azure/data-tables";
import { azuriteCommandLine, startAzurite, type AzuriteInstance } from "../../src/sandbox";

interface IncidentRow {
  partitionKey: string;
  rowKey: string;
  status: string;
}

let azurite: AzuriteInstance;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite.stop();
});

function table(name: string, connectionString = azurite.connectionString): TableClient {
  // Azurite speaks plain http; the SDK refuses that unless told.
  return TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
}

/** True while the process runs; a zombie (exited, not yet reaped by init) counts as gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name in field 2 is parenthesised.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

async function waitUntil(condition: () => boolean, timeoutInMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutInMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

describe("Azurite Table storage through the real TableClient", () => {
  it("exposes every endpoint with /devstoreaccount1, as custom-port connection strings need", () => {
    expect(azurite.tableEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    for (const key of ["BlobEndpoint", "QueueEndpoint", "TableEndpoint"]) {
      expect(azurite.connectionString).toMatch(new RegExp(`${key}=http://127\\.0\\.0\\.1:\\d+/devstoreaccount1;`));
    }
  });

  it("round-trips an entity", async () => {
    const incidents = table("roundtrip");
    await incidents.createTable();

    await incidents.createEntity<IncidentRow>({ partitionKey: "sub", rowKey: "orders-db", status: "open" });
    const row = await incidents.getEntity<IncidentRow>("sub", "orders-db");

    expect(row).toMatchObject({ partitionKey: "sub", rowKey: "orders-db", status: "open" });
    expect(row.etag).toBeTruthy();
  });

  it("refuses an update with a stale ETag with 412, which the monitor's optimistic concurrency relies on", async () => {
    const incidents = table("etags");
    await incidents.createTable();
    await incidents.createEntity<IncidentRow>({ partitionKey: "sub", rowKey: "orders-db", status: "open" });
    const stale = await incidents.getEntity<IncidentRow>("sub", "orders-db");
    await incidents.updateEntity({ partitionKey: "sub", rowKey: "orders-db", status: "notified" }, "Merge", {
      etag: stale.etag,
    });

    const error = await incidents.updateEntity({ partitionKey: "sub", rowKey: "orders-db", status: "closed" }, "Merge", { etag: stale.etag }).then(
      () => undefined,
      (e: unknown) => e as { statusCode?: number },
    );

    expect(error?.statusCode).toBe(412);
  });
});

describe("Azurite process lifecycle", () => {
  it("stop() ends the child, is safe twice, and flushes a persistent store for the next start", async () => {
    // stop() must let Azurite flush its store, or a restarted `npm start` loses incidents.
    const dir = await mkdtemp(path.join(os.tmpdir(), "cmk-azurite-test-"));
    try {
      const first = await startAzurite({ persistenceDir: dir });
      try {
        const incidents = table("persisted", first.connectionString);
        await incidents.createTable();
        await incidents.createEntity<IncidentRow>({ partitionKey: "sub", rowKey: "orders-db", status: "open" });
        expect(isRunning(first.pid)).toBe(true);
      } finally {
        await first.stop();
      }
      await first.stop();
      expect(isRunning(first.pid)).toBe(false);

      const second = await startAzurite({ persistenceDir: dir });
      try {
        const row = await table("persisted", second.connectionString).getEntity<IncidentRow>("sub", "orders-db");
        expect(row.status).toBe("open");
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits by itself when its parent process dies", async () => {
    // A jest worker killed mid-run must not leave Azurite holding ports; a plain node parent
    // stands in for that worker and is killed with SIGKILL, so it cannot clean up.
    const workDir = await mkdtemp(path.join(os.tmpdir(), "cmk-azurite-orphan-"));
    const { command, args } = azuriteCommandLine();
    const parentScript = `
      const { spawn } = require("node:child_process");
      const child = spawn(${JSON.stringify(command)}, ${JSON.stringify(args)}, {
        cwd: ${JSON.stringify(workDir)}, stdio: ["ignore", "pipe", "inherit", "ipc"],
      });
      child.stdout.on("data", (d) => {
        if (/Table service is successfully listening/.test(String(d))) console.log("CHILD " + child.pid);
      });`;
    const parent = spawn(process.execPath, ["-e", parentScript], { stdio: ["ignore", "pipe", "inherit"] });
    let childPid = 0;
    try {
      childPid = await new Promise<number>((resolve, reject) => {
        let out = "";
        parent.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          const match = /CHILD (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        parent.once("exit", () => reject(new Error(`parent exited early: ${out}`)));
      });
      expect(isRunning(childPid)).toBe(true);

      const parentExited = new Promise((resolve) => parent.once("exit", resolve));
      parent.kill("SIGKILL");
      await parentExited;

      expect(await waitUntil(() => !isRunning(childPid), 5_000)).toBe(true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
      if (childPid && isRunning(childPid)) process.kill(childPid, "SIGKILL");
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
