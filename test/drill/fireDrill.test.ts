/**
 * The built-in fire drill, run the way `npm start` runs it (the CLI, the real engine, the
 * sandbox and Azurite), with its timeline checked minute by minute. Expectations are written
 * out as numbers so a change in the engine's behaviour fails here; where the scenario implies
 * a number (poll grid, policy deadlines), that is checked too.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDrill } from "../../src/cli/drill";
import { createBufferedIo } from "../../src/cli/io";
import { getCause, type CauseId } from "../../src/domain/causes";
import { classifyStatus } from "../../src/domain/classifier";
import { splitList } from "../../src/config";
import { writeOutbox } from "../../src/drill/outbox";
import type { DrillIncident, DrillSummary, TimelineEntry } from "../../src/drill/timeline";
import { parseScenario } from "../../src/drill/scenario";

interface DrillDocument {
  timeline: TimelineEntry[];
  incidents: DrillIncident[];
  summary: DrillSummary;
  warnings: string[];
  outbox: { dir: string; files: string[] };
  realTimeInMs: number;
}

const SCENARIO = parseScenario(readFileSync(path.resolve(__dirname, "../../scenarios/fire-drill.json"), "utf8"), "fire-drill.json");
const POLL = SCENARIO.pollIntervalMinutes;
const SUPPORT = "cosmos-support@contoso.com";

let outbox: string;
let exitCode: number;
let stderr: string;
let doc: DrillDocument;

beforeAll(async () => {
  outbox = await mkdtemp(path.join(os.tmpdir(), "cmk-drill-outbox-"));
  const io = createBufferedIo();
  exitCode = await runDrill(["--json", "--outbox", outbox], io);
  stderr = io.err;
  doc = JSON.parse(io.out) as DrillDocument;
}, 30_000);

afterAll(async () => {
  if (outbox) await rm(outbox, { recursive: true, force: true });
});

const nextPoll = (minute: number) => Math.ceil(minute / POLL) * POLL;
const entries = (account: string, type?: TimelineEntry["type"]) =>
  doc.timeline.filter((entry) => entry.account === account && (type === undefined || entry.type === type));
const owners = (account: string) => splitList(SCENARIO.accounts.find((a) => a.name === account)!.tags!["cmk-owner"]);

/** Minutes at which Azure's status for an account became revoked (from healthy), per the scenario. */
function revokedFrom(account: string): number[] {
  const changes = [
    { atMinute: 0, status: SCENARIO.accounts.find((a) => a.name === account)!.status },
    ...SCENARIO.events.filter((e) => e.account === account && e.status !== undefined).map((e) => ({ atMinute: e.atMinute, status: e.status! })),
  ];
  let revoked = false;
  const starts: number[] = [];
  for (const change of changes) {
    const now = classifyStatus(change.status).health === "revoked";
    if (now && !revoked) starts.push(change.atMinute);
    revoked = now;
  }
  return starts;
}

it("exits 0, reports progress as plain lines and finishes well within the test budget", () => {
  expect(exitCode).toBe(0);
  // A buffered io is not a terminal: a few plain lines, no carriage returns.
  expect(stderr.trim().split("\n")).toHaveLength(3);
  expect(stderr).not.toContain("\r");
  expect(doc.realTimeInMs).toBeLessThan(15_000);
  expect(doc.warnings).toEqual([]);
});

describe("detection", () => {
  it.each<[string, CauseId, number]>([
    // Revoked before the drill starts: the very first poll sees it.
    ["orders-db", "default-identity-unauthorized", 0],
    ["inventory-db", "key-not-found", 0],
    ["ledger-db", "unwrap-failure", 5],
    ["reports-db", "key-vault-network-blocked", 10],
    // Revoked at 17, between polls: seen at 20.
    ["payments-db", "aad-token-acquisition", 20],
    // Revoked at 32: seen at 35.
    ["catalog-db", "invalid-default-identity", 35],
    ["search-db", "invalid-key-vault-uri", 40],
    ["telemetry-db", "key-vault-dns-unresolved", 60],
    // Code 4004 (Key Vault unavailable) at 83: a service-side outage, seen at 85.
    ["profiles-db", "service-side-outage", 85],
    // Code 4099 is unknown: still a revocation, cause unrecognized; at 102, seen at 105.
    ["legacy-db", "unrecognized", 105],
    ["billing-db", "key-disabled-or-expired", 120],
  ])("%s: %s detected at minute %i", (account, cause, minute) => {
    expect(entries(account, "detected").map((e) => [e.atMinute, e.cause])).toEqual([[minute, cause]]);
    // The same minute the scenario implies: the first poll at or after Azure reported it.
    expect(revokedFrom(account).map(nextPoll)).toEqual([minute]);
  });

  it("sees every one of the eleven revocation causes", () => {
    const revokedCauses = ["default-identity-unauthorized", "aad-token-acquisition", "key-not-found", "invalid-default-identity",
      "invalid-key-vault-uri", "unwrap-failure", "key-vault-dns-unresolved", "key-disabled-or-expired",
      "key-vault-network-blocked", "service-side-outage", "unrecognized"];
    expect([...doc.summary.causesSeen].sort()).toEqual(revokedCauses.sort());
  });

  it("follows a cause change once, on reports-db at minute 50", () => {
    // The firewall fix revealed a missing key permission: a new cause, a new clock.
    expect(doc.timeline.filter((e) => e.type === "cause-changed").map((e) => [e.atMinute, e.account, e.cause])).toEqual([
      [50, "reports-db", "default-identity-unauthorized"],
    ]);
    expect(doc.incidents.find((i) => i.account === "reports-db")!.causes).toEqual(["key-vault-network-blocked", "default-identity-unauthorized"]);
  });
});

describe("emails", () => {
  it("sends exactly these numbers of each kind", () => {
    expect(doc.summary.emailsByKind).toEqual({
      revoked: 11,
      reminder: 5,
      "cause-changed": 1,
      "fix-acknowledged": 9,
      escalation: 3,
      resolved: 10,
    });
    expect(doc.summary.emails).toBe(39);
    expect(doc.timeline.filter((e) => e.type === "email")).toHaveLength(39);
  });

  it.each<[string, Array<[number, string]>]>([
    // Fixed at 25, healthy at 68: no reminder, resolved at the 70 poll.
    ["orders-db", [[0, "revoked"], [25, "fix-acknowledged"], [70, "resolved"]]],
    // Reminded once before the owner acts at 97; never recovers, escalated at 97+120 → poll 220.
    ["payments-db", [[20, "revoked"], [80, "reminder"], [97, "fix-acknowledged"], [220, "escalation"]]],
    // Nobody acts for two hours: hourly reminders at 60 and 120, then fixed and recovered.
    ["inventory-db", [[0, "revoked"], [60, "reminder"], [120, "reminder"], [130, "fix-acknowledged"], [170, "resolved"]]],
    ["catalog-db", [[35, "revoked"], [50, "fix-acknowledged"], [95, "resolved"]]],
    ["search-db", [[40, "revoked"], [55, "fix-acknowledged"], [110, "resolved"]]],
    ["ledger-db", [[5, "revoked"], [35, "fix-acknowledged"], [80, "resolved"]]],
    // The cause change at 50 resets the fix: reminders restart (50+60=110) until the second ack.
    ["reports-db", [[10, "revoked"], [30, "fix-acknowledged"], [50, "cause-changed"], [110, "reminder"], [120, "fix-acknowledged"], [160, "resolved"]]],
    // DNS: owner reminders while revoked, escalation at detection+120 even without an ack.
    ["telemetry-db", [[60, "revoked"], [120, "reminder"], [180, "escalation"], [200, "resolved"]]],
    // Service side: no reminders (nothing for the owner to do), recovers on its own.
    ["profiles-db", [[85, "revoked"], [135, "resolved"]]],
    // Unrecognized: no reminders, escalated at detection+120, resolved after support fixed it.
    ["legacy-db", [[105, "revoked"], [225, "escalation"], [265, "resolved"]]],
    ["billing-db", [[120, "revoked"], [140, "fix-acknowledged"], [185, "resolved"]]],
  ])("%s gets exactly these emails", (account, expected) => {
    expect(entries(account, "email").map((e) => [e.atMinute, e.kind])).toEqual(expected);
  });

  it("sends owner notices to the cmk-owner tag, escalations to support with the owners copied", () => {
    for (const email of doc.timeline.filter((e) => e.type === "email")) {
      const tagged = owners(email.account);
      if (email.kind === "escalation") {
        expect([email.to, email.cc]).toEqual([[SUPPORT], tagged]);
      } else if (email.kind === "resolved" && entries(email.account, "escalated").length > 0) {
        // Everyone who heard about an escalated incident hears it is over, support included.
        expect(email.to).toEqual([...tagged, SUPPORT]);
      } else {
        expect(email.to).toEqual(tagged);
      }
    }
  });

  it("never emails the healthy accounts, and they have no timeline at all", () => {
    expect(doc.summary.neverEmailed).toEqual(["sessions-db", "audit-db"]);
    expect([...entries("sessions-db"), ...entries("audit-db")]).toEqual([]);
  });
});

describe("escalation and resolution", () => {
  it("escalates exactly at the policy deadline, rounded up to the poll", () => {
    const escalations = doc.timeline.filter((e) => e.type === "escalated");
    expect(escalations.map((e) => [e.account, e.atMinute])).toEqual([
      ["telemetry-db", 180],
      ["payments-db", 220],
      ["legacy-db", 225],
    ]);
    for (const entry of escalations) {
      const incident = doc.incidents.find((i) => i.account === entry.account)!;
      // Owner-fixable causes: ack + 120. DNS, service-side and unrecognized: detection + 120.
      const policy = getCause(entry.cause!).policy;
      const clockStart = policy.clockStartsAt === "fix" ? incident.fixAcknowledgedAtMinutes.at(-1)! : incident.detectedAtMinute;
      expect(entry.atMinute).toBe(nextPoll(clockStart + policy.escalateAfterInMinutes));
    }
  });

  it("resolves each recovered account at the first poll after Azure confirms access", () => {
    const resolved = doc.timeline.filter((e) => e.type === "resolved");
    expect(resolved.map((e) => [e.atMinute, e.account])).toEqual([
      [70, "orders-db"],
      [80, "ledger-db"],
      [95, "catalog-db"],
      [110, "search-db"],
      [135, "profiles-db"],
      [160, "reports-db"],
      [170, "inventory-db"],
      [185, "billing-db"],
      [200, "telemetry-db"],
      [265, "legacy-db"],
    ]);
    for (const entry of resolved) {
      const healthyAt = SCENARIO.events.filter((e) => e.account === entry.account && e.status && classifyStatus(e.status).health === "healthy")[0]!;
      expect(entry.atMinute).toBe(nextPoll(healthyAt.atMinute));
    }
  });

  it("summarises the drill", () => {
    expect(doc.summary).toMatchObject({
      accounts: 13,
      polls: 61,
      incidents: 11,
      incidentsResolved: 10,
      openAtEnd: ["payments-db"],
      escalations: 3,
      escalatedAccounts: ["telemetry-db", "payments-db", "legacy-db"],
      // 17→20, 32→35, 83→85 and 102→105 are the only detections off the poll grid: (3+3+2+3)/11.
      meanTimeToDetectMinutes: 1,
      maxTimeToDetectMinutes: 3,
      // Detection to resolution over the ten resolved incidents: 1010 minutes in all.
      meanTimeToResolveMinutes: 101,
      warnings: 0,
    });
  });
});

describe("the outbox", () => {
  it("holds an .eml and an .html per email, named in send order", async () => {
    const files = (await readdir(outbox)).sort();
    expect(files.filter((f) => f.endsWith(".eml"))).toHaveLength(39);
    expect(files.filter((f) => f.endsWith(".html"))).toHaveLength(39);
    expect(doc.outbox.files).toHaveLength(39);
    // The minute prefix makes a plain listing chronological.
    const minutes = files.filter((f) => f.endsWith(".eml")).map((f) => Number(f.slice(0, 4)));
    expect(minutes).toEqual([...minutes].sort((a, b) => a - b));
    expect(doc.outbox.files).toContain("0000-orders-db-revoked.eml");
    expect(doc.outbox.files).toContain("0220-payments-db-escalation.eml");
  });

  it("writes each email as the monitor sent it, dated in simulated time", async () => {
    const eml = await readFile(path.join(outbox, "0220-payments-db-escalation.eml"), "utf8");
    const escalation = entries("payments-db", "email").find((e) => e.kind === "escalation")!;
    expect(eml.startsWith("Date: Mon, 02 Mar 2026 11:40:00 +0000\r\n")).toBe(true);
    expect(eml).toContain("\r\nTo: cosmos-support@contoso.com\r\n");
    expect(eml).toContain("\r\nCc: bob@contoso.com, priya@contoso.com\r\n");
    expect(eml.replace(/\r\n /g, " ")).toContain(`\r\nSubject: ${escalation.subject}\r\n`);
    const html = await readFile(path.join(outbox, "0220-payments-db-escalation.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("payments-db");
  });

  it("leaves other files in the folder alone when run again", async () => {
    // Only the drill's own NNNN-*.eml/.html names are replaced; anything else is the user's.
    await writeFile(path.join(outbox, "notes.txt"), "mine");
    await writeOutbox(outbox, [], SCENARIO.durationMinutes);
    expect(await readdir(outbox)).toEqual(["notes.txt"]);
  });
});
