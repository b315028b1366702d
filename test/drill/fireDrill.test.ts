/**
 * The built-in fire drill, run the way `npm start` runs it (the CLI, the real engine with its
 * probes, the sandbox and Azurite), with its timeline checked minute by minute. Expectations
 * are written out as numbers so a change in the engine's behaviour fails here; where the
 * scenario implies a number (poll grid, policy deadlines, the minute of a fix), that is
 * checked too.
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
import { MESSAGE_KINDS, type DrillIncident, type DrillSummary, type TimelineEntry } from "../../src/drill/timeline";
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
  // Generous: the drill takes seconds alone, but CI runs it beside the other suites on two cores.
}, 120_000);

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

it("exits 0 and reports progress as plain lines", () => {
  expect(exitCode).toBe(0);
  // A buffered io is not a terminal: a few plain lines, no carriage returns.
  expect(stderr.trim().split("\n")).toHaveLength(3);
  expect(stderr).not.toContain("\r");
  // How long it took is reported (realTimeInMs), not asserted: speed is measured by the benchmark.
  expect(doc.realTimeInMs).toBeGreaterThan(0);
  // Every sandbox event applied, every ack found its incident, the engine complained about nothing.
  expect(doc.warnings).toEqual([]);
});

describe("detection", () => {
  it.each<[string, CauseId, number]>([
    // Revoked before the drill starts, with the facts broken too ("match-status"): the very first poll sees it.
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
    ["shipping-db", "default-identity-unauthorized", 70],
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
    const revokedCauses = [
      "default-identity-unauthorized",
      "aad-token-acquisition",
      "key-not-found",
      "invalid-default-identity",
      "invalid-key-vault-uri",
      "unwrap-failure",
      "key-vault-dns-unresolved",
      "key-disabled-or-expired",
      "key-vault-network-blocked",
      "service-side-outage",
      "unrecognized",
    ];
    expect([...doc.summary.causesSeen].sort()).toEqual(revokedCauses.sort());
  });

  it("follows a cause change once, on reports-db at minute 50", () => {
    // The open firewall revealed a missing key permission: a new cause, a new clock.
    expect(doc.timeline.filter((e) => e.type === "cause-changed").map((e) => [e.atMinute, e.account, e.cause])).toEqual([
      [50, "reports-db", "default-identity-unauthorized"],
    ]);
    expect(doc.incidents.find((i) => i.account === "reports-db")!.causes).toEqual(["key-vault-network-blocked", "default-identity-unauthorized"]);
  });
});

describe("fixes", () => {
  it("sees these fixes without anyone acknowledging them, at the first poll after the sandbox change", () => {
    const observed = doc.timeline.filter((e) => e.type === "fix-observed");
    expect(observed.map((e) => [e.atMinute, e.account, e.cause])).toEqual([
      [25, "orders-db", "default-identity-unauthorized"],
      [30, "reports-db", "key-vault-network-blocked"],
      [35, "ledger-db", "unwrap-failure"],
      [55, "search-db", "invalid-key-vault-uri"],
      [55, "loyalty-db", "default-identity-unauthorized"],
      [90, "shipping-db", "default-identity-unauthorized"],
      // Bob's change at 97 is seen at the 100 poll.
      [100, "payments-db", "aad-token-acquisition"],
      [110, "telemetry-db", "key-vault-dns-unresolved"],
      // The second fix on reports-db is for the new cause, after the cause change.
      [120, "reports-db", "default-identity-unauthorized"],
      [125, "shipping-db", "default-identity-unauthorized"],
      [130, "inventory-db", "key-not-found"],
      [140, "billing-db", "key-disabled-or-expired"],
    ]);
    for (const entry of observed) {
      // A sandbox event on the account since the previous poll, and no acknowledgment: the monitor saw it itself.
      const fix = SCENARIO.events.filter((e) => e.account === entry.account && e.sandbox && nextPoll(e.atMinute) === entry.atMinute);
      expect([entry.account, fix.length]).toEqual([entry.account, 1]);
      expect(SCENARIO.events.filter((e) => e.account === entry.account && e.ack)).toEqual([]);
      // Owner-fixable causes: the recovery clock starts at the observed fix; a fix seen again after an
      // undo (shipping-db at 125) keeps the escalation of the cause's first observed fix.
      if (getCause(entry.cause!).policy.clockStartsAt === "fix") {
        const first = observed.find((e) => e.account === entry.account && e.cause === entry.cause)!;
        expect([entry.expectedRecoveryAtMinute, entry.escalateAtMinute]).toEqual([entry.atMinute + 60, first.atMinute + 120]);
      }
    }
  });

  it("says what the probes saw in each observed fix", () => {
    expect(entries("orders-db", "fix-observed")[0]!.detail).toMatch(
      /^permission granted: the vault's access policy for principal 5c0ffee0-0001-.* grants get, wrapKey and unwrapKey$/,
    );
    expect(entries("ledger-db", "fix-observed")[0]!.detail).toBe("key restored: key ledger-cmk in vault kv-ledger-prod exists and is enabled");
    expect(entries("telemetry-db", "fix-observed")[0]!.detail).toBe("DNS resolves: kv-telemetry-prod.vault.azure.net resolves again");
  });

  it("keeps the one acknowledged fix: catalog-db at minute 50, and no observed fix on top of it", () => {
    expect(doc.timeline.filter((e) => e.type === "fix-acknowledged").map((e) => [e.atMinute, e.account, e.by, e.escalateAtMinute])).toEqual([
      [50, "catalog-db", "farid@contoso.com", 170],
    ]);
    // The probes saw the identity fixed at the same poll, but the incident was already recovering.
    expect(entries("catalog-db", "fix-observed")).toEqual([]);
  });

  it("notices the fix undone on shipping-db, then the fix made again", () => {
    expect(doc.timeline.filter((e) => e.type === "fix-undone").map((e) => [e.atMinute, e.account, e.detail])).toEqual([
      [105, "shipping-db", expect.stringMatching(/^the vault uses access policies and has no access policy for principal 5c0ffee0-0010-/)],
    ]);
    expect(doc.incidents.find((i) => i.account === "shipping-db")).toMatchObject({
      fixObservedAtMinutes: [90, 125],
      fixUndoneAtMinutes: [105],
      fixAcknowledgedAtMinutes: [],
      resolvedAtMinute: 170,
    });
  });
});

describe("emails", () => {
  it("sends exactly these numbers of each kind", () => {
    expect(doc.summary.emailsByKind).toEqual({
      revoked: 13,
      reminder: 4,
      "cause-changed": 1,
      "fix-acknowledged": 1,
      "fix-observed": 11,
      "fix-undone": 1,
      escalation: 2,
      resolved: 12,
      // archive-db's closed firewall at the first check; seven more pushed by Azure's change events before the revocations.
      "at-risk": 8,
      "warning-digest": 3,
    });
    expect(doc.summary.emails).toBe(56);
    const emails = doc.timeline.filter((e) => e.type === "email");
    expect(emails).toHaveLength(56);
    // Every email is attributed: a kind the drill knows, and an account (or a digest's recipient).
    expect(emails.filter((e) => !e.kind || !MESSAGE_KINDS.includes(e.kind) || e.account === "(unknown account)")).toEqual([]);
  });

  it.each<[string, Array<[number, string]>]>([
    // Alice restores the permission at 25 without telling anyone: the probes see it; healthy at 68.
    [
      "orders-db",
      [
        [0, "revoked"],
        [25, "fix-observed"],
        [70, "resolved"],
      ],
    ],
    // Reminded once before Bob's fix is seen at 100; never recovers, escalated at 100+120.
    [
      "payments-db",
      [
        // The default identity rewritten at 15 raises Azure's change event: warned at once, before Azure revokes at 20.
        [15, "at-risk"],
        [20, "revoked"],
        [80, "reminder"],
        [100, "fix-observed"],
        [220, "escalation"],
      ],
    ],
    // Nobody acts for two hours: hourly reminders at 60 and 120, then the key is restored and recovers.
    [
      "inventory-db",
      [
        [0, "revoked"],
        [60, "reminder"],
        [120, "reminder"],
        [130, "fix-observed"],
        [170, "resolved"],
      ],
    ],
    // The one acknowledged fix: the "recovering" email goes out at the ack.
    [
      "catalog-db",
      [
        [32, "at-risk"],
        [35, "revoked"],
        [50, "fix-acknowledged"],
        [95, "resolved"],
      ],
    ],
    [
      "search-db",
      [
        [40, "revoked"],
        [55, "fix-observed"],
        [110, "resolved"],
      ],
    ],
    [
      "ledger-db",
      [
        [5, "revoked"],
        [35, "fix-observed"],
        [80, "resolved"],
      ],
    ],
    // The cause change at 50 resets the fix: reminders restart (50+60=110) until the second fix.
    [
      "reports-db",
      [
        // Two urgent findings from one change (firewall closed, permission removed): one at-risk email each, before the revoked one.
        [10, "at-risk"],
        [10, "at-risk"],
        [10, "revoked"],
        [30, "fix-observed"],
        [50, "cause-changed"],
        [110, "reminder"],
        [120, "fix-observed"],
        [160, "resolved"],
      ],
    ],
    // DNS: the vault recovered at 110 is seen before the first reminder (60+60=120) is due.
    [
      "telemetry-db",
      [
        [60, "at-risk"],
        [60, "revoked"],
        [110, "fix-observed"],
        [150, "resolved"],
      ],
    ],
    // Fixed, undone, fixed again: the first fix and the undo are emails, the fix made again is on the
    // timeline only (a flapping probe must not mail twice per flap); no reminder falls due in between.
    [
      "shipping-db",
      [
        // The permission removed at 65 is pushed by Azure's change event: warned five minutes before Azure revokes.
        [65, "at-risk"],
        [70, "revoked"],
        [90, "fix-observed"],
        [105, "fix-undone"],
        [170, "resolved"],
      ],
    ],
    // Pushed by Azure's change event at 15, before the next poll; Azure revokes at 45 and the incident links back.
    [
      "loyalty-db",
      [
        [15, "at-risk"],
        [45, "revoked"],
        [55, "fix-observed"],
        [90, "resolved"],
      ],
    ],
    // Service side: no reminders (nothing for the owner to do), recovers on its own.
    [
      "profiles-db",
      [
        [85, "revoked"],
        [135, "resolved"],
      ],
    ],
    // Unrecognized: no reminders, escalated at detection+120, resolved after support fixed it.
    [
      "legacy-db",
      [
        [105, "revoked"],
        [225, "escalation"],
        [265, "resolved"],
      ],
    ],
    [
      "billing-db",
      [
        [120, "revoked"],
        [140, "fix-observed"],
        [185, "resolved"],
      ],
    ],
  ])("%s gets exactly these emails", (account, expected) => {
    expect(entries(account, "email").map((e) => [e.atMinute, e.kind])).toEqual(expected);
  });

  it("sends owner notices to the cmk-owner tag, escalations to support with the owners copied", () => {
    for (const email of doc.timeline.filter((e) => e.type === "email" && e.kind !== "warning-digest")) {
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
});

describe("warnings before revocation", () => {
  it("finds what could revoke the healthy accounts at the first poll of the day, and at once when Azure's change events say something changed", () => {
    expect(doc.timeline.filter((e) => e.type === "warning").map((e) => [e.atMinute, e.account, e.finding, e.severity])).toEqual([
      [0, "sessions-db", "key-expires-soon", "medium"],
      [0, "audit-db", "purge-protection-off", "medium"],
      [0, "archive-db", "firewall-blocks-trusted-services", "high"],
      // Pushed: each at the minute of the change, before the poll (and before the revocation where one follows).
      [10, "reports-db", "identity-lacks-permission", "critical"],
      [10, "reports-db", "firewall-blocks-trusted-services", "high"],
      [15, "payments-db", "default-identity-invalid", "critical"],
      [15, "loyalty-db", "identity-lacks-permission", "critical"],
      [32, "catalog-db", "default-identity-invalid", "critical"],
      [60, "telemetry-db", "vault-deleted", "critical"],
      [65, "shipping-db", "identity-lacks-permission", "critical"],
    ]);
    // The hourly per-vault key re-read (CMK_RISK_CHECK_INTERVAL_MINUTES) at 23:00 re-checks catalog-db and loyalty-db, healthy
    // again since 95 and 90, and finds their pushed findings gone. Liam moved the expiry at 150; Tuesday's first check
    // (00:00, minute 180) finds it gone, and the pushed findings of the accounts fixed since.
    expect(doc.timeline.filter((e) => e.type === "warning-resolved").map((e) => [e.atMinute, e.account, e.finding])).toEqual([
      [120, "catalog-db", "default-identity-invalid"],
      [120, "loyalty-db", "identity-lacks-permission"],
      [180, "reports-db", "identity-lacks-permission"],
      [180, "reports-db", "firewall-blocks-trusted-services"],
      [180, "telemetry-db", "vault-deleted"],
      [180, "shipping-db", "identity-lacks-permission"],
      [180, "sessions-db", "key-expires-soon"],
    ]);
  });

  it("sends one digest per owner and day, only when something is new or resolved", () => {
    const digests = doc.timeline.filter((e) => e.kind === "warning-digest");
    expect(digests.map((e) => [e.atMinute, e.account, e.to, e.accounts])).toEqual([
      [0, "liam@contoso.com", ["liam@contoso.com"], ["sessions-db"]],
      // Mei's digest has only audit-db's slow-burning finding: archive-db's firewall went out at once as an at-risk email.
      [0, "mei@contoso.com", ["mei@contoso.com"], ["audit-db"]],
      // Tuesday: Liam hears his warning is resolved; Mei's findings are unchanged, so no repeat.
      [180, "liam@contoso.com", ["liam@contoso.com"], ["sessions-db"]],
    ]);
    // The digest recipients are the accounts' owners.
    for (const digest of digests) for (const account of digest.accounts!) expect(owners(account)).toContain(digest.account);
  });

  it("never opens an incident for a warned account", () => {
    for (const account of ["sessions-db", "audit-db", "archive-db"]) {
      expect(entries(account).filter((e) => e.type !== "warning" && e.type !== "warning-resolved" && e.kind !== "at-risk")).toEqual([]);
    }
  });

  it("emails an urgent finding at once, on its own, exactly once", () => {
    // archive-db's firewall blocks Cosmos DB: revoked at the next key fetch, so it cannot wait for a digest.
    expect(doc.timeline.filter((e) => e.kind === "at-risk").map((e) => [e.atMinute, e.account, e.to, e.subject])).toEqual([
      [0, "archive-db", ["mei@contoso.com"], "[CMK at risk] archive-db: Vault firewall blocks Cosmos DB"],
      [10, "reports-db", ["dan@contoso.com"], "[CMK at risk] reports-db: Vault firewall blocks Cosmos DB"],
      [10, "reports-db", ["dan@contoso.com"], "[CMK at risk] reports-db: Default identity lacks permission on the key"],
      [15, "payments-db", ["bob@contoso.com", "priya@contoso.com"], "[CMK at risk] payments-db: Default identity is not valid"],
      [15, "loyalty-db", ["nina@contoso.com"], "[CMK at risk] loyalty-db: Default identity lacks permission on the key"],
      [32, "catalog-db", ["farid@contoso.com"], "[CMK at risk] catalog-db: Default identity is not valid"],
      [60, "telemetry-db", ["hiro@contoso.com"], "[CMK at risk] telemetry-db: Vault is deleted"],
      [65, "shipping-db", ["nina@contoso.com"], "[CMK at risk] shipping-db: Default identity lacks permission on the key"],
    ]);
  });

  it("pushes loyalty-db's removed permission at minute 15, before the next poll, and the revocation at 45 links back to it", async () => {
    // Azure's change event is handed to the monitor at 15; the poll grid's next poll after it is 20.
    const warning = entries("loyalty-db", "email").find((e) => e.kind === "at-risk")!;
    expect(warning.atMinute).toBe(15);
    expect(warning.atMinute).toBeLessThan(nextPoll(16));
    expect(doc.timeline.find((e) => e.account === "loyalty-db" && e.type === "detected")!.atMinute).toBe(45);
    const revoked = await readFile(path.join(outbox, "0045-loyalty-db-revoked.eml"), "utf8");
    expect(revoked.replace(/=\r?\n/g, "")).toMatch(/We warned at:\s+2026-03-02 21:15 UTC: Default identity lacks permission on the key/);
  });
});

describe("escalation and resolution", () => {
  it("escalates exactly at the policy deadline, from the observed fix or from detection", () => {
    const escalations = doc.timeline.filter((e) => e.type === "escalated");
    expect(escalations.map((e) => [e.account, e.atMinute])).toEqual([
      ["payments-db", 220],
      ["legacy-db", 225],
    ]);
    for (const entry of escalations) {
      const incident = doc.incidents.find((i) => i.account === entry.account)!;
      // Owner-fixable causes: last fix (acknowledged or observed) + 120. DNS, service-side and unrecognized: detection + 120.
      const policy = getCause(entry.cause!).policy;
      const lastFix = Math.max(...incident.fixAcknowledgedAtMinutes, ...incident.fixObservedAtMinutes);
      const clockStart = policy.clockStartsAt === "fix" ? lastFix : incident.detectedAtMinute;
      expect(entry.atMinute).toBe(nextPoll(clockStart + policy.escalateAfterInMinutes));
    }
    // payments-db's deadline was announced with the fix it counts from.
    expect(entries("payments-db", "fix-observed")[0]!.escalateAtMinute).toBe(220);
  });

  it("files one support ticket per escalation, before its email, and the email names it", () => {
    // The drill runs with CMK_SUPPORT_TICKETS=create against the sandbox's Microsoft.Support.
    const tickets = doc.timeline.filter((e) => e.type === "support-ticket");
    expect(tickets.map((e) => [e.atMinute, e.account])).toEqual([
      [220, "payments-db"],
      [225, "legacy-db"],
    ]);
    expect(new Set(tickets.map((e) => e.ticketName)).size).toBe(2);
    for (const ticket of tickets) {
      expect(ticket).toMatchObject({
        type: "support-ticket",
        ticketName: expect.stringMatching(/^cmk-[0-9a-f]{32}$/),
        ticketNumber: expect.stringMatching(/^\d{16}$/),
      });
      const email = doc.timeline.find((e) => e.type === "email" && e.kind === "escalation" && e.account === ticket.account)!;
      expect(doc.timeline.indexOf(email)).toBeGreaterThan(doc.timeline.indexOf(ticket));
      const eml = readFileSync(path.join(outbox, `${String(ticket.atMinute).padStart(4, "0")}-${ticket.account}-escalation.eml`), "utf8").replace(
        /=\r?\n/g,
        "",
      );
      expect(eml).toContain(`The monitor filed support ticket ${ticket.ticketNumber}`);
    }
    expect(doc.summary.supportTickets).toBe(2);
  });

  it("resolves each recovered account at the first poll after Azure confirms access", () => {
    const resolved = doc.timeline.filter((e) => e.type === "resolved");
    expect(resolved.map((e) => [e.atMinute, e.account])).toEqual([
      [70, "orders-db"],
      [80, "ledger-db"],
      [90, "loyalty-db"],
      [95, "catalog-db"],
      [110, "search-db"],
      [135, "profiles-db"],
      [150, "telemetry-db"],
      [160, "reports-db"],
      // Same poll: in the scenario's account order, every run.
      [170, "inventory-db"],
      [170, "shipping-db"],
      [185, "billing-db"],
      [265, "legacy-db"],
    ]);
    for (const entry of resolved) {
      const healthyAt = SCENARIO.events.filter((e) => e.account === entry.account && e.status && classifyStatus(e.status).health === "healthy")[0]!;
      expect(entry.atMinute).toBe(nextPoll(healthyAt.atMinute));
    }
  });

  it("summarises the drill", () => {
    expect(doc.summary).toMatchObject({
      accounts: 16,
      polls: 61,
      incidents: 13,
      incidentsResolved: 12,
      openAtEnd: ["payments-db"],
      escalations: 2,
      escalatedAccounts: ["payments-db", "legacy-db"],
      fixesObserved: 12,
      fixesAcknowledged: 1,
      fixesUndone: 1,
      // Three at the first daily check, seven from re-checks pushed by Azure's change events.
      warningFindings: 10,
      // Tuesday's check: sessions-db's expiry moved, and the pushed findings of accounts since fixed.
      warningFindingsResolved: 7,
      warnedAccounts: ["sessions-db", "audit-db", "archive-db", "reports-db", "payments-db", "loyalty-db", "catalog-db", "telemetry-db", "shipping-db"],
      // Every account was in an incident email or a digest.
      neverEmailed: [],
      // 17→20, 32→35, 83→85 and 102→105 are the only detections off the poll grid: (3+3+2+3)/13.
      meanTimeToDetectMinutes: 0.8,
      maxTimeToDetectMinutes: 3,
      // Detection to resolution over the twelve resolved incidents: 1060 + loyalty-db's 45 minutes.
      meanTimeToResolveMinutes: 92.1,
      // Seven at-risk warnings pushed by change events, each in the minute of its change; archive-db's found by the first poll.
      atRiskWarnings: {
        push: { count: 7, meanMinutesAfterChange: 0, maxMinutesAfterChange: 0 },
        // The catch-up reads the same changes later and finds every re-check already done.
        "catch-up": { count: 0, meanMinutesAfterChange: null, maxMinutesAfterChange: null },
        poll: { count: 1, meanMinutesAfterChange: 0, maxMinutesAfterChange: 0 },
      },
      warnings: 0,
    });
  });
});

describe("the outbox", () => {
  it("holds an .eml and an .html per email, named in send order", async () => {
    const files = (await readdir(outbox)).sort();
    expect(files.filter((f) => f.endsWith(".eml"))).toHaveLength(56);
    expect(files.filter((f) => f.endsWith(".html"))).toHaveLength(56);
    expect(doc.outbox.files).toHaveLength(56);
    // The minute prefix makes a plain listing chronological.
    const minutes = files.filter((f) => f.endsWith(".eml")).map((f) => Number(f.slice(0, 4)));
    expect(minutes).toEqual([...minutes].sort((a, b) => a - b));
    expect(doc.outbox.files).toContain("0000-orders-db-revoked.eml");
    expect(doc.outbox.files).toContain("0025-orders-db-fix-observed.eml");
    expect(doc.outbox.files).toContain("0220-payments-db-escalation.eml");
    // Digests are named after their recipient.
    expect(doc.outbox.files.filter((f) => f.includes("warning-digest"))).toEqual([
      "0000-liam-contoso-com-warning-digest.eml",
      "0000-mei-contoso-com-warning-digest.eml",
      "0180-liam-contoso-com-warning-digest.eml",
    ]);
  });

  it("writes each email as the monitor sent it, dated in simulated time", async () => {
    const eml = await readFile(path.join(outbox, "0220-payments-db-escalation.eml"), "utf8");
    const escalation = entries("payments-db", "email").find((e) => e.kind === "escalation")!;
    // 21:00 plus 220 minutes is 00:40 on Tuesday.
    expect(eml.startsWith("Date: Tue, 03 Mar 2026 00:40:00 +0000\r\n")).toBe(true);
    expect(eml).toContain("\r\nTo: cosmos-support@contoso.com\r\n");
    expect(eml).toContain("\r\nCc: bob@contoso.com, priya@contoso.com\r\n");
    expect(eml.replace(/\r\n /g, " ")).toContain(`\r\nSubject: ${escalation.subject}\r\n`);
    const html = await readFile(path.join(outbox, "0220-payments-db-escalation.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("payments-db");
  });

  it("shows the owners what the probes found: the fix in the fix-observed email, the findings in the digest and the at-risk email", async () => {
    const fix = await readFile(path.join(outbox, "0025-orders-db-fix-observed.html"), "utf8");
    expect(fix).toContain("Expected recovery by");
    const digest = await readFile(path.join(outbox, "0000-mei-contoso-com-warning-digest.html"), "utf8");
    for (const text of ["audit-db", "Purge protection is off"]) expect(digest).toContain(text);
    const atRisk = await readFile(path.join(outbox, "0000-archive-db-at-risk.html"), "utf8");
    for (const text of ["archive-db", "Vault firewall blocks Cosmos DB", "--bypass AzureServices"]) expect(atRisk).toContain(text);
  });

  it("leaves other files in the folder alone when run again", async () => {
    // Only the drill's own NNNN-*.eml/.html names are replaced; anything else is the user's.
    await writeFile(path.join(outbox, "notes.txt"), "mine");
    await writeOutbox(outbox, [], SCENARIO.durationMinutes);
    expect(await readdir(outbox)).toEqual(["notes.txt"]);
  });
});
