/** The weekly report's pure parts: ISO weeks, which week is due, and what the report says (src/domain/weeklyReport.ts). */
import type { Incident } from "../../src/domain/incident";
import type { CheckedAccount, WarningFinding } from "../../src/domain/warnings";
import { buildWeeklyReport, isoWeek, reportWeekAt, WEEKLY_REPORT_MAX_ROWS, weeklyReportMessage, weekStart } from "../../src/domain/weeklyReport";
import { renderEmail } from "../../src/email/templates";
import { makeAccount, makeIncident } from "../fixtures/incidents";

describe("isoWeek", () => {
  it.each<[string, string]>([
    // A Thursday in the middle of the year.
    ["2026-12-03T09:00:00Z", "2026-W49"],
    // Monday 00:00 UTC starts the week.
    ["2026-11-30T00:00:00Z", "2026-W49"],
    // Sunday 23:59 UTC still belongs to the week before.
    ["2026-11-29T23:59:59Z", "2026-W48"],
    // 1 January 2027 is a Friday: it belongs to the last week of 2026 (week 1 holds the first Thursday).
    ["2027-01-01T12:00:00Z", "2026-W53"],
    // 29 December 2025 is a Monday whose Thursday is 1 January 2026: week 1 of 2026.
    ["2025-12-29T00:00:00Z", "2026-W01"],
  ])("%s is in %s", (at, week) => {
    expect(isoWeek(new Date(at))).toBe(week);
  });
});

describe("reportWeekAt: the last complete week", () => {
  it.each<[string, string, string]>([
    // The first minute of Monday: the week that just ended is due.
    ["2026-11-30T00:00:00Z", "2026-W48", "2026-11-23T00:00:00.000Z"],
    // Later in the week (a cycle that ran late, or a restart): still last week's, never this one's.
    ["2026-12-03T09:00:00Z", "2026-W48", "2026-11-23T00:00:00.000Z"],
    // The last minute of Sunday: the week before last is still the one due.
    ["2026-11-29T23:59:00Z", "2026-W47", "2026-11-16T00:00:00.000Z"],
  ])("at %s it is %s", (now, week, from) => {
    const due = reportWeekAt(new Date(now));
    expect(due.week).toBe(week);
    expect(due.from.toISOString()).toBe(from);
    expect(due.to.getTime() - due.from.getTime()).toBe(7 * 86_400_000);
    expect(weekStart(due.to).toISOString()).toBe(due.to.toISOString());
  });
});

const WEEK = reportWeekAt(new Date("2026-11-30T00:30:00Z")); // 2026-W48: 23 to 30 November
const ID = (n: string) => `/subscriptions/3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/${n}`;

function incident(name: string, overrides: Partial<Incident>): Incident {
  return makeIncident({ id: `inc-${name}`, accountId: ID(name), account: makeAccount({ id: ID(name), name }), ...overrides });
}

function finding(severity: WarningFinding["severity"], title: string): WarningFinding {
  return { kind: "key-expired", severity, title, detail: title, commands: [], fingerprint: title };
}

function check(name: string, findings: WarningFinding[]): CheckedAccount {
  return {
    accountId: ID(name),
    accountName: name,
    subscriptionId: "s",
    resourceGroup: "rg",
    checkedOn: "2026-11-29",
    checkedAt: "2026-11-29T06:00:00Z",
    findings,
  };
}

const INCIDENTS: Incident[] = [
  // Opened and resolved inside the week after 3 hours.
  incident("a-db", { detectedAt: "2026-11-24T10:00:00.000Z", resolvedAt: "2026-11-24T13:00:00.000Z", state: "resolved" }),
  // Opened inside the week, escalated, still open at the end.
  incident("b-db", { detectedAt: "2026-11-26T08:00:00.000Z", escalatedAt: "2026-11-26T12:00:00.000Z", state: "escalated" }),
  // Opened the week before, resolved this week after 2 days: the slowest recovery.
  incident("c-db", { detectedAt: "2026-11-20T09:00:00.000Z", resolvedAt: "2026-11-22T09:00:00.000Z", state: "resolved" }),
  // Opened the week before, resolved on Monday of this week after 4 days.
  incident("d-db", { detectedAt: "2026-11-19T00:00:00.000Z", resolvedAt: "2026-11-23T00:00:00.000Z", state: "resolved" }),
  // Opened after the week ended: not in this report.
  incident("e-db", { detectedAt: "2026-11-30T00:10:00.000Z", state: "revoked" }),
];

describe("buildWeeklyReport", () => {
  const report = buildWeeklyReport(WEEK, INCIDENTS, [
    check("f-db", [finding("medium", "Key expires in 25 days"), finding("critical", "Purge protection off")]),
    check("g-db", []),
    check("h-db", [finding("high", "Vault firewall blocks trusted services")]),
  ]);

  it("names the week and its bounds", () => {
    // The key and the subject carry the week; the bounds are Monday to Monday, UTC.
    expect(report.week).toBe("2026-W48");
    expect([report.from, report.to]).toEqual(["2026-11-23T00:00:00.000Z", "2026-11-30T00:00:00.000Z"]);
  });

  it.each<[string, (r: typeof report) => unknown, unknown]>([
    // Two opened this week (a, b); c resolved before the week began and is not counted anywhere.
    ["opened", (r) => r.totals.opened, 2],
    // a and d resolved this week (d on Monday 00:00, the first instant of the week).
    ["resolved", (r) => r.totals.resolved, 2],
    // b escalated.
    ["escalated", (r) => r.totals.escalated, 1],
    // b is still open when the week ends; e opened after it and is not this week's.
    ["open at the end", (r) => r.totals.openAtEnd, 1],
    // f and h have warnings; g's check was clean.
    ["accounts at risk", (r) => r.totals.atRiskAccounts, 2],
    // Incidents open at any time in the week, newest first.
    ["incident rows", (r) => r.incidents.map((i) => i.accountName), ["b-db", "a-db", "d-db"]],
    ["escalation rows", (r) => r.escalations.map((i) => i.accountName), ["b-db"]],
    // Longest first: d lasted 4 days, a 3 hours.
    [
      "slowest recoveries",
      (r) => r.slowestRecoveries.map((i) => [i.accountName, i.durationInMinutes]),
      [
        ["d-db", 5760],
        ["a-db", 180],
      ],
    ],
    // Worst first, whatever the account.
    ["at-risk order", (r) => r.atRisk.map((f) => f.severity), ["critical", "high", "medium"]],
    // Monday to Sunday: a opened Tuesday, b Thursday; d resolved Monday, a Tuesday; b escalated Thursday.
    ["opened per day", (r) => r.daily.map((d) => d.opened), [0, 1, 0, 1, 0, 0, 0]],
    ["resolved per day", (r) => r.daily.map((d) => d.resolved), [1, 1, 0, 0, 0, 0, 0]],
    ["escalated per day", (r) => r.daily.map((d) => d.escalated), [0, 0, 0, 1, 0, 0, 0]],
    // Eight weeks ending with this one; c and d opened in W47.
    ["weeks of the trend", (r) => [r.weekly.length, r.weekly.at(-1)?.week, r.weekly.at(-2)], [8, "2026-W48", { week: "2026-W47", opened: 2 }]],
  ])("%s", (_name, pick, expected) => {
    expect(pick(report)).toEqual(expected);
  });

  it("bounds every list and says how many rows it left out", () => {
    // A fleet-wide bad week (one vault revoking hundreds of accounts) must still make a bounded email.
    const many = Array.from({ length: WEEKLY_REPORT_MAX_ROWS + 7 }, (_, i) =>
      incident(`x${i}`, { detectedAt: "2026-11-25T00:00:00.000Z", escalatedAt: "2026-11-25T03:00:00.000Z", state: "escalated" }),
    );
    const bounded = buildWeeklyReport(WEEK, many, []);
    expect(bounded.incidents).toHaveLength(WEEKLY_REPORT_MAX_ROWS);
    expect(bounded.omitted).toEqual({ incidents: 7, escalations: 7, atRisk: 0 });
    expect(bounded.totals.opened).toBe(WEEKLY_REPORT_MAX_ROWS + 7);
  });

  it("is the same report whatever the clock says", () => {
    // Built twice (two instances, or a retry) it must be identical: the email is rendered from it at send time.
    jest.useFakeTimers({ now: new Date("2031-01-01T00:00:00Z") });
    try {
      expect(buildWeeklyReport(WEEK, INCIDENTS, [])).toEqual(buildWeeklyReport(WEEK, INCIDENTS, []));
    } finally {
      jest.useRealTimers();
    }
  });

  it("is keyed by the week", () => {
    // The idempotency key: one report per ISO week, however many cycles record it.
    const message = weeklyReportMessage(report, ["ops@contoso.com"], new Date("2026-11-30T00:30:00Z"));
    expect(message).toMatchObject({ key: "weekly-report:2026-W48", kind: "weekly-report", to: ["ops@contoso.com"], cc: [] });
  });
});

describe("the weekly report email", () => {
  const report = buildWeeklyReport(WEEK, INCIDENTS, [check("f-db", [finding("critical", "Purge protection off")])]);
  const email = renderEmail(report);

  it("says the week's numbers in the subject", () => {
    expect(email.subject).toBe("[CMK weekly] 2026-W48: 2 incidents, 1 escalated, 1 still open, 1 account at risk");
  });

  it.each<[string]>([
    // Every section, in text and HTML alike.
    ["Incidents per day"],
    ["Incidents opened per week"],
    ["Escalations"],
    ["Slowest recoveries"],
    ["At risk"],
    ["Purge protection off"],
    ["4 days"],
  ])("shows %s in text and html", (needle) => {
    expect(email.text).toContain(needle);
    expect(email.html).toContain(needle);
  });

  it("draws the charts as attached PNGs with table bars beside them, and no SVG, scripts or remote images", () => {
    // Gmail and Outlook render no SVG; the only images are our own inline attachments (cid:).
    expect(email.html).not.toMatch(/<svg|<script|<link/i);
    expect(email.html.match(/src="[^"]*"/g)).toEqual(['src="cid:cmk-weekly-daily.png"', 'src="cid:cmk-weekly-weeks.png"']);
    // Clients that block images still get the numbers: bars are table cells.
    expect(email.html).toMatch(/<td style="background:#c50f1f;width:\d+px/);
    // The plain text draws them with characters.
    expect(email.text).toMatch(/Tue 11-24 \| #+=+ 1 \/ 0 \/ 1/);
  });

  it("escapes account names and finding titles from Azure", () => {
    // An account name is untrusted: markup shows as text.
    const hostile = buildWeeklyReport(WEEK, [incident('<img src=x onerror="alert(1)">', { detectedAt: "2026-11-24T10:00:00.000Z" })], []);
    const rendered = renderEmail(hostile);
    expect(rendered.html).not.toContain("<img src=x");
    expect(rendered.html).not.toMatch(/<img[^>]*onerror/i);
    expect(rendered.html).toContain("&lt;img");
  });
});
