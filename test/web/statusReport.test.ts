import type { Incident } from "../../src/domain/incident";
import { countdownText, formatSpan } from "../../src/web/dashboardPage";
import { buildStatusReport, historyDaysFrom, nextDeadline, type StatusInput } from "../../src/web/statusReport";
import { makeIncident, makeRecoveringIncident } from "../fixtures/incidents";

const at = (hhmm: string) => `2026-11-29T${hhmm}:00.000Z`;
const NOW = new Date(at("08:00"));
const OPTIONS: StatusInput["options"] = { pollIntervalInMinutes: 5, ownerTag: "cmk-owner", allowedRecipientDomains: [] };

function input(incidents: Incident[]): StatusInput {
  return {
    open: incidents.map((incident) => ({ incident, events: [] })),
    all: incidents,
    checks: [],
    sentTimes: [],
    lastCycle: undefined,
    filter: {},
    historyDays: 7,
    options: OPTIONS,
  };
}

describe("nextDeadline", () => {
  it.each<[string, Partial<Incident>, ReturnType<typeof nextDeadline>]>([
    // Owner-fixable, no fix yet: the only clock is the reminder.
    ["revoked, reminder due", { state: "revoked", nextReminderAt: at("08:15") }, { kind: "reminder", at: at("08:15") }],
    // A snooze moves the reminder to the snooze's end …
    ["revoked, snoozed", { state: "revoked", nextReminderAt: at("08:15"), remindersSnoozedUntil: at("12:00") }, { kind: "reminder", at: at("12:00") }],
    // … but never past the escalation, which comes first.
    [
      "snoozed past the escalation",
      { state: "revoked", nextReminderAt: at("08:15"), remindersSnoozedUntil: at("12:00"), expectedRecoveryBy: at("07:30"), escalateAt: at("09:00") },
      { kind: "escalation", at: at("09:00") },
    ],
    // Recovering: expected recovery first, then escalation.
    [
      "recovering",
      { state: "recovering", nextReminderAt: undefined, expectedRecoveryBy: at("08:30"), escalateAt: at("09:30") },
      { kind: "expected-recovery", at: at("08:30") },
    ],
    [
      "recovering, overdue recovery",
      { state: "recovering", nextReminderAt: undefined, expectedRecoveryBy: at("07:30"), escalateAt: at("08:30") },
      { kind: "escalation", at: at("08:30") },
    ],
    // Everything passed (the next poll escalates): show the escalation as overdue.
    [
      "all overdue",
      { state: "recovering", nextReminderAt: undefined, expectedRecoveryBy: at("06:30"), escalateAt: at("07:30") },
      { kind: "escalation", at: at("07:30") },
    ],
    // Escalated: nothing else happens on its own.
    ["escalated", { state: "escalated", nextReminderAt: undefined, escalateAt: at("07:00") }, null],
  ])("%s", (_name, overrides, expected) => {
    expect(nextDeadline(makeIncident(overrides), NOW)).toEqual(expected);
  });
});

describe("buildStatusReport", () => {
  it("counts open incidents by state and cause and leaves resolved ones out", () => {
    // The page is about now: a resolved incident row is history.
    const incidents = [
      makeIncident({ id: "a" }),
      makeRecoveringIncident({ id: "b", accountId: "/subscriptions/x/resourceGroups/y/providers/Microsoft.DocumentDB/databaseAccounts/b" }),
      makeIncident({ id: "c", cause: "key-disabled-or-expired", state: "escalated" }),
      makeIncident({ id: "d", state: "resolved" }),
    ];
    const report = buildStatusReport(input(incidents), NOW);
    expect(report.counts).toEqual({
      open: 3,
      byState: { escalated: 1, revoked: 1, recovering: 1 },
      byCause: { "default-identity-unauthorized": 2, "key-disabled-or-expired": 1 },
    });
    // Most urgent first.
    expect(report.incidents.map((i) => i.state)).toEqual(["escalated", "revoked", "recovering"]);
    expect(report.lastCycle).toBeNull();
    // The resolved one is history: it counts on the day it was detected, not as open.
    expect(report.history.perDay.at(-1)).toEqual({ date: "2026-11-29", detected: 4, escalated: 0, resolved: 0, emailsSent: 0 });
    // Durations cover the window only: an incident detected before it is left out.
    const old = makeIncident({ id: "old", state: "resolved", detectedAt: "2026-10-01T00:00:00.000Z", resolvedAt: "2026-10-01T01:00:00.000Z" });
    const withOld = buildStatusReport({ ...input(incidents), all: [...incidents, old] }, NOW);
    expect(withOld.history.durationsByCause.map((row) => [row.cause, row.incidents])).toEqual(
      report.history.durationsByCause.map((row) => [row.cause, row.incidents]),
    );
    expect(report.history.durationsByCause.map((row) => row.incidents)).toEqual([3, 1]);
  });

  it.each<[string, string, number]>([
    // The three windows offered by the page.
    ["7 days", "days=7", 7],
    ["90 days", "days=90", 90],
    // Anything else falls back to the default rather than failing the page.
    ["not offered", "days=1000", 30],
    ["missing", "", 30],
  ])("history window: %s", (_name, query, days) => {
    expect(historyDaysFrom(new URLSearchParams(query))).toBe(days);
  });
});

describe("countdown text", () => {
  it.each<[number, string]>([
    // Seconds matter only in the last hour, and are zero-padded so the width is steady.
    [12_000, "in 12 s"],
    [4 * 60_000 + 9_000, "in 4 min 09 s"],
    [65 * 60_000, "in 1 h 5 min"],
    [27 * 3_600_000, "in 1 d 3 h"],
    // Past the deadline the same span is shown as overdue.
    [-90_000, "1 min 30 s overdue"],
  ])("%i ms → %s", (ms, text) => {
    expect(countdownText(new Date(NOW.getTime() + ms).toISOString(), NOW)).toBe(text);
    expect(formatSpan(ms)).toBe(text.replace(/^in | overdue$/g, ""));
  });
});

describe("status report: the support ticket", () => {
  it.each<[string, Incident["supportTicket"], unknown]>([
    // No ticket mode, or not escalated yet.
    ["none", undefined, null],
    // Filed: its number and the status last read.
    [
      "filed",
      { state: "filed", name: "cmk-1", ticketNumber: "2612030010001234", filedAt: at("07:10"), subscriptionId: "s", status: "Open" },
      { state: "filed", name: "cmk-1", ticketNumber: "2612030010001234", status: "Open", reason: null },
    ],
    // Being filed, after a transient error.
    [
      "creating",
      { state: "creating", name: "cmk-1", firstTriedAt: at("07:10"), attempts: 1, lastError: "transient: 503" },
      { state: "creating", name: "cmk-1", ticketNumber: null, status: null, reason: "transient: 503" },
    ],
    // Refused: why, so nobody waits for a ticket that will not come.
    [
      "not filed",
      { state: "not-filed", name: "cmk-1", reason: "no support plan", at: at("07:10") },
      { state: "not-filed", name: "cmk-1", ticketNumber: null, status: null, reason: "no support plan" },
    ],
  ])("%s", (_case, supportTicket, expected) => {
    const incident = makeIncident({ state: "escalated", escalatedAt: at("07:10"), ...(supportTicket ? { supportTicket } : {}) });
    const report = buildStatusReport(input([incident]), NOW);
    expect(report.incidents[0]!.supportTicket).toEqual(expected);
  });
});
