/** `cmk-monitor drill`: arguments, scenario errors, and the text report of a small scenario. */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runDrill } from "../../src/cli/drill";
import { createBufferedIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";

const HEALTHY = "Access to the configured customer managed key confirmed.";
const REVOKED_4003 =
  "Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#azure-key-vault-resource-not-found (4003).";
const REVOKED_4006 =
  "Access to your account is currently revoked because the Azure Cosmos DB account's key vault key URI does not follow the expected format; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#improper-syntax-detected-on-the-key-vault-uri-property (4006).";

/** A healthy account in the small scenario; `name` also names its vault and key. */
function account(name: string, owner: string): Record<string, unknown> {
  return {
    name: `${name}-db`,
    subscriptionId: "6f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e",
    resourceGroup: `rg-${name}`,
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/${name}-cmk`,
    identity: { type: "SystemAssigned" },
    defaultIdentity: "SystemAssignedIdentity",
    tags: { "cmk-owner": owner },
    status: HEALTHY,
  };
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cmk-drill-cli-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function scenario(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    start: "2026-03-02T08:00:00Z",
    durationMinutes: 30,
    pollIntervalMinutes: 5,
    accounts: [account("orders", "alice@contoso.com"), account("search", "grace@contoso.com"), account("billing", "kate@contoso.com")],
    events: [
      // billing-db stays healthy, but its key expires within a week: a warning and a digest.
      { atMinute: 0, account: "billing-db", sandbox: { keyExpiresInDays: 5 } },
      { atMinute: 5, account: "search-db", sandbox: { keyVaultKeyUri: "https://kv-search.vault.azure.net/keys/search-cmk/0123456789abcdef0123456789abcdef" } },
      { atMinute: 5, account: "search-db", status: REVOKED_4006 },
      { atMinute: 7, account: "orders-db", sandbox: { key: "deleted" } },
      { atMinute: 7, account: "orders-db", status: REVOKED_4003, note: "Key deleted" },
      { atMinute: 12, account: "orders-db", sandbox: { key: "restored" } },
      { atMinute: 12, account: "orders-db", ack: "fixed", by: "alice@contoso.com", note: "Recovered from soft delete" },
      // Grace fixes the URI without telling anyone: the probes see it at the 20-minute poll.
      { atMinute: 17, account: "search-db", sandbox: { keyVaultKeyUri: "https://kv-search.vault.azure.net/keys/search-cmk" }, note: "Version removed" },
      { atMinute: 25, account: "orders-db", status: HEALTHY },
      { atMinute: 28, account: "search-db", status: HEALTHY },
    ],
    ...overrides,
  };
}

async function drill(args: string[]) {
  const io = createBufferedIo();
  const code = await runDrill(args, io, { cwd: dir });
  return { code, out: io.out, err: io.err };
}

async function scenarioFile(name: string, content: string): Promise<string> {
  await writeFile(path.join(dir, name), content, "utf8");
  return name;
}

describe("arguments", () => {
  it.each<[string[], RegExp]>([
    // Typos in option names must not silently run the default drill.
    [["--scenrio", "x.json"], /Unknown option '--scenrio'/],
    // A bare file name is a common slip for --scenario FILE.
    [["x.json"], /Unexpected argument 'x.json'/],
    [["--scenario"], /--scenario <value>' argument missing/],
    // Only on or off: anything else would silently run with the scenario's own setting.
    [["--change-events", "no"], /--change-events takes on or off/],
  ])("%j is refused with the usage", async (args, message) => {
    const { code, err } = await drill(args);
    expect(code).toBe(1);
    expect(err).toMatch(message);
    expect(err).toContain("usage: cmk-monitor drill [--scenario FILE] [--change-events on|off] [--json] [--outbox DIR]");
  });

  it("--help explains the command", async () => {
    const { code, out } = await drill(["--help"]);
    expect(code).toBe(0);
    expect(out).toContain("--outbox DIR");
  });

  it("is listed by `cmk-monitor help`", async () => {
    const io = createBufferedIo();
    expect(await main(["help"], io)).toBe(0);
    expect(io.out).toMatch(/\n {2}drill +Run the real monitor/);
  });
});

describe("an invalid scenario exits 1 before anything starts, naming the field", () => {
  it.each<[string, string, string]>([
    // A trailing comma: the position matters more than the parser's wording.
    ["bad.json", '{\n  "start": "2026-03-02T08:00:00Z",\n}', "bad.json: not valid JSON:"],
    ["types.json", JSON.stringify(scenario({ durationMinutes: "30" })), "types.json: durationMinutes: must be a whole number from 1 to 10080"],
    [
      "minute.json",
      JSON.stringify(scenario({ events: [{ atMinute: 1.5, account: "orders-db", ack: "fixed" }] })),
      "minute.json: events[0].atMinute: must be a whole number from 0 to 10080",
    ],
    // Unknown fields are errors: a misspelt field would otherwise do nothing.
    ["unknown.json", JSON.stringify(scenario({ pollEveryMinutes: 5 })), "unknown.json: pollEveryMinutes: unknown field"],
    [
      "account.json",
      JSON.stringify(scenario({ events: [{ atMinute: 5, account: "orders", ack: "fixed" }] })),
      'account.json: events[0].account: no account named "orders" in accounts',
    ],
    ["missing.json", JSON.stringify({ ...scenario(), pollIntervalMinutes: undefined }), "missing.json: pollIntervalMinutes: is required"],
    ["nofile.json", "", "nofile.json: cannot read the scenario file (no such file)"],
  ])("%s", async (name, content, message) => {
    const file = name === "nofile.json" ? name : await scenarioFile(name, content);
    const { code, out, err } = await drill(["--scenario", file, "--outbox", "never"]);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain(message);
    expect(err).toContain("docs/scenarios.md");
    // Nothing ran, so nothing was written.
    expect(await readdir(dir)).not.toContain("never");
  });
});

describe("a small scenario, as text", () => {
  let result: { code: number; out: string; err: string };

  beforeAll(async () => {
    const file = await scenarioFile("small.json", JSON.stringify(scenario()));
    result = await drill(["--scenario", file, "--outbox", "mail"]);
  }, 30_000);

  it("prints the timeline with minute, time, account, what happened and who was emailed", () => {
    expect(result.code).toBe(0);
    const lines = result.out.split("\n");
    // The key is deleted and Azure reports it at 7, between polls, in file order: the monitor sees it at the 10-minute poll.
    const deletedAt = lines.findIndex((line) => /^ {3}7 {2}08:07 {2}orders-db +sandbox +key deleted$/.test(line));
    expect(lines[deletedAt + 1]).toMatch(/^ +azure +revoked \(4003\): Key deleted$/);
    // Long lines wrap under the text column.
    const detectedAt = lines.findIndex((line) =>
      /^ {2}10 {2}08:10 {2}orders-db +DETECTED +Key or Key Vault not found \(4003\) \(3 min after Azure reported$/.test(line),
    );
    expect(lines[detectedAt + 1]).toMatch(/^ {36}it\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ +email +revoked -> alice@contoso\.com$/));
    const restoredAt = lines.findIndex((line) => /^ {2}12 {2}08:12 {2}orders-db +sandbox +key restored$/.test(line));
    expect(lines[restoredAt + 1]).toMatch(/^ +ack +alice@contoso\.com says it is fixed: Recovered from soft delete$/);
    // Healthy again at 25, a poll minute: resolved in the same minute, on the lines below it.
    const healthyAt = lines.findIndex((line) => /^ {2}25 {2}08:25 {2}orders-db +azure +key access confirmed$/.test(line));
    expect(lines.slice(healthyAt + 1, healthyAt + 3)).toEqual([
      expect.stringMatching(/^ +RESOLVED +recovered, incident closed after 15 min$/),
      expect.stringMatching(/^ +email +resolved -> alice@contoso\.com$/),
    ]);
  });

  it("shows a fix the probes saw, and a healthy account's warning with its digest", () => {
    const lines = result.out.split("\n");
    // Grace's fix at 17 is seen at the 20-minute poll, with no acknowledgment.
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}20 {2}08:20 {2}search-db +FIX SEEN +key URI corrected:$/));
    expect(result.out).toMatch(/versionless key URI \(no ack needed\); recovery expected by 09:20\n/);
    expect(lines.slice(lines.findIndex((line) => /^ {3}0 {2}08:00 {2}billing-db +sandbox +key expires in 5 days$/.test(line)) + 1).slice(0, 2)).toEqual([
      expect.stringMatching(/^ +warning +Key expires in 5 days \(high\)$/),
      // A digest is about an owner's accounts, so it has a row of its own.
      expect.stringMatching(/^ +\(digest\) +email +warning-digest -> kate@contoso\.com \(billing-db\)$/),
    ]);
  });

  it("summarises and says where the emails are", () => {
    expect(result.out).toMatch(/Incidents +2 opened, 2 resolved\n/);
    expect(result.out).toMatch(/Emails +7 sent: 2 revoked, 1 fix-acknowledged, 1 fix-observed, 2 resolved, 1 warning-digest\n/);
    expect(result.out).toMatch(/Fixes +1 seen by the probes without an ack, 1 acknowledged\n/);
    expect(result.out).toMatch(/Warnings +1 finding on healthy accounts \(billing-db\), 0 since resolved; 1 daily digest sent\n/);
    expect(result.out).toContain(`7 emails written to ${path.join(dir, "mail")}`);
  });

  it("writes the outbox in send order", async () => {
    expect((await readdir(path.join(dir, "mail"))).filter((f) => f.endsWith(".eml")).sort()).toEqual([
      "0000-kate-contoso-com-warning-digest.eml",
      "0005-search-db-revoked.eml",
      "0010-orders-db-revoked.eml",
      "0012-orders-db-fix-acknowledged.eml",
      "0020-search-db-fix-observed.eml",
      "0025-orders-db-resolved.eml",
      "0030-search-db-resolved.eml",
    ]);
    const eml = await readFile(path.join(dir, "mail", "0012-orders-db-fix-acknowledged.eml"), "utf8");
    expect(eml.startsWith("Date: Mon, 02 Mar 2026 08:12:00 +0000\r\n")).toBe(true);
  });

  it("keeps progress to a few plain lines on stderr when it is not a terminal", () => {
    expect(result.err.trim().split("\n")).toEqual([
      "cmk-monitor drill: starting Azurite and the local Azure sandbox...",
      "cmk-monitor drill: simulating 30 minutes of polling...",
      expect.stringMatching(/^cmk-monitor drill: simulated 30 minutes in \d+\.\d s, 7 emails sent$/),
    ]);
  });
});

describe("--serve", () => {
  it("keeps the dashboard and status endpoints up after the drill, then stops cleanly", async () => {
    // The on-call view of the drill's fleet, on loopback, until the user presses Ctrl+C.
    const file = await scenarioFile(
      "serve.json",
      JSON.stringify(scenario({ durationMinutes: 15, events: [{ atMinute: 7, account: "orders-db", status: REVOKED_4003 }] })),
    );
    const io = createBufferedIo();
    let page = "";
    let status: { incidents?: unknown[] } = {};
    const code = await runDrill(["--scenario", file, "--outbox", "served", "--serve"], io, {
      cwd: dir,
      progress: { tty: false, write: () => {}, line: () => {} },
      untilStopped: async (url) => {
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/dashboard$/);
        page = await (await fetch(url)).text();
        status = (await (await fetch(url.replace("/dashboard", "/status"))).json()) as typeof status;
      },
    });
    expect(code).toBe(0);
    expect(io.err).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/api\/dashboard/);
    expect(page).toContain("orders-db");
    expect(status.incidents).toHaveLength(1);
  }, 30_000);

  it("shows the built-in scenario's fleet with its history: incidents, warnings and emails", async () => {
    // What a new user sees after `npm start -- --serve`: every state, the resolved incidents, the at-risk accounts, one account's emails.
    const io = createBufferedIo();
    type Status = { fleet: { accounts: { total: number; byState: Record<string, number> } }; history: { perDay: Array<{ detected: number }> } };
    let status: Status | undefined;
    let incidents: { count: number; incidents: Array<{ state: string }> } | undefined;
    let accountPage = "";
    const code = await runDrill(["--outbox", "served-builtin", "--serve"], io, {
      cwd: dir,
      progress: { tty: false, write: () => {}, line: () => {} },
      untilStopped: async (url) => {
        const api = url.replace("/dashboard", "");
        status = (await (await fetch(`${api}/status?days=7`)).json()) as Status;
        incidents = (await (await fetch(`${api}/incidents`)).json()) as typeof incidents;
        const page = await (await fetch(url)).text();
        const link = /href="(\/api\/dashboard\/accounts\/[^"]+)"/.exec(page)?.[1];
        accountPage = link ? await (await fetch(new URL(link, url))).text() : "";
      },
    });
    expect(code).toBe(0);
    expect(status!.fleet.accounts.total).toBe(16);
    expect(status!.fleet.accounts.byState.escalated).toBeGreaterThan(0);
    expect(status!.fleet.accounts.byState["at-risk"]).toBeGreaterThan(0);
    expect(status!.history.perDay.reduce((n, d) => n + d.detected, 0)).toBe(incidents!.count);
    expect(incidents!.incidents.filter((i) => i.state === "resolved").length).toBeGreaterThan(0);
    expect(accountPage).toMatch(/<tr class="email" data-kind="revoked" data-status="sent">/);
  }, 60_000);

  it("rejects --port without --serve", async () => {
    // A port with nothing to serve is a mistake worth pointing out.
    const io = createBufferedIo();
    expect(await runDrill(["--port", "8080"], io, { cwd: dir })).toBe(1);
    expect(io.err).toContain("--serve");
  });
});
