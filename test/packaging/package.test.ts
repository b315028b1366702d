/**
 * `npm run package` builds what is deployed: shipped code and production dependencies only, and it
 * starts under the Functions programming model with nothing but its own node_modules (the check
 * runs it from a folder outside the repository, so no module can resolve from ours).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { build, listZip } = require("../../scripts/package.js") as {
  build(options: { dir: string; zip: string; build: boolean }): { dir: string; zip: string; files: number; bytes: number };
  listZip(zip: string): string[];
};

let out: string;
let result: { dir: string; zip: string; files: number; bytes: number };
let names: string[];

beforeAll(() => {
  out = mkdtempSync(path.join(os.tmpdir(), "cmk-package-"));
  result = build({ dir: path.join(out, "package"), zip: path.join(out, "cosmos-cmk-monitor.zip"), build: true });
  names = listZip(result.zip);
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

it.each([
  // What the Functions host needs: the entry points named by package.json "main", host.json, package.json.
  ["dist/src/index.js"],
  ["dist/src/functions/pollTimer.js"],
  ["dist/src/functions/workQueue.js"],
  ["host.json"],
  ["package.json"],
  ["node_modules/@azure/functions/package.json"],
  ["node_modules/@azure/arm-cosmosdb/package.json"],
])("contains %s", (name) => {
  expect(names).toContain(name);
});

it.each([
  // Development tools and their dependencies never ship.
  ["node_modules/azurite/"],
  ["node_modules/jest/"],
  ["node_modules/typescript/"],
  ["node_modules/playwright-core/"],
  ["node_modules/@swc/"],
  ["node_modules/selfsigned/"],
  ["node_modules/prettier/"],
  ["node_modules/dependency-cruiser/"],
  ["dist/src/sandbox/"],
  ["dist/src/drill/"],
  ["dist/src/faults/"],
  ["dist/bench/"],
  ["src/"],
  ["test/"],
])("leaves out %s", (prefix) => {
  expect(names.filter((name) => name.startsWith(prefix))).toEqual([]);
});

it("leaves out source maps and type declarations", () => {
  expect(names.filter((name) => /\.(map|d\.ts)$/.test(name))).toEqual([]);
});

it("ships a package.json without development dependencies or scripts", () => {
  const manifest = JSON.parse(readFileSync(path.join(result.dir, "package.json"), "utf8")) as Record<string, unknown>;
  expect(manifest).not.toHaveProperty("devDependencies");
  expect(manifest).not.toHaveProperty("scripts");
  expect(manifest.main).toBe("dist/src/{index.js,functions/*.js}");
});

it("loads every entry point and builds the monitor's SDK clients from its own node_modules", () => {
  const script = `
    const fs = require("fs");
    for (const f of fs.readdirSync("dist/src/functions")) require("./dist/src/functions/" + f);
    require("./dist/src/index.js");
    const { loadConfig } = require("./dist/src/config.js");
    const { createMonitorDeps } = require("./dist/src/composition.js");
    const deps = createMonitorDeps(loadConfig({
      CMK_SUBSCRIPTION_IDS: "00000000-0000-0000-0000-000000000001",
      CMK_EMAIL_SENDER: "cmk-monitor@contoso.com",
      CMK_ESCALATION_RECIPIENTS: "support@contoso.com",
      CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
      ACS_ENDPOINT: "https://acs-contoso.communication.azure.com",
      AzureWebJobsStorage__accountName: "stcmkmonitor",
    }));
    if (!deps.probes || !deps.store) throw new Error("incomplete monitor");
    console.log("entries loaded");
  `;
  const output = execFileSync(process.execPath, ["-e", script], { cwd: result.dir, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" });
  expect(output).toContain("entries loaded");
});

it("stays small enough to deploy quickly", () => {
  // About 7 MB today; the limit catches a development dependency slipping in (azurite alone is 40 MB).
  expect(result.bytes).toBeLessThan(20 * 1024 * 1024);
});
