import type { Incident } from "../../src/domain/incident";
import {
  csvCell,
  durationsByCause,
  incidentsCsv,
  incidentsPerDay,
  parseIncidentQuery,
  percentile,
  selectIncidents,
  summarizeIncident,
  windowStart,
  type IncidentQuery,
} from "../../src/web/incidentHistory";
import { makeIncident } from "../fixtures/incidents";

const NOW = new Date("2026-11-29T12:00:00.000Z");

/** An incident resolved after `fix` and `recover` minutes, detected on `day` at 07:00. */
function resolved(id: string, day: string, fix: number | null, recover: number, overrides: Partial<Incident> = {}): Incident {
  const detected = Date.parse(`${day}T07:00:00.000Z`);
  const fixedAt = fix === null ? undefined : new Date(detected + fix * 60_000).toISOString();
  const clock = fixedAt ?? new Date(detected).toISOString();
  return makeIncident({
    id,
    state: "resolved",
    detectedAt: new Date(detected).toISOString(),
    ...(fixedAt ? { fixObservedAt: fixedAt, fixSource: "acknowledged" as const } : { fixSource: "detection" as const }),
    clockStartedAt: clock,
    resolvedAt: new Date(Date.parse(clock) + recover * 60_000).toISOString(),
    resolution: "recovered",
    ...overrides,
  });
}

describe("summarizeIncident", () => {
  it.each<[string, Incident, [number | null, number | null, number | null]]>([
    // Owner fixed after 30 min, Azure recovered 45 min later.
    ["owner fix", resolved("a", "2026-11-28", 30, 45), [30, 45, 75]],
    // Nobody fixes an outage: no time to fix; recovery runs from detection.
    ["outage", resolved("b", "2026-11-28", null, 90, { cause: "service-side-outage" }), [null, 90, 90]],
    // Still open: only what has happened so far.
    ["open, fixed", makeIncident({ state: "recovering", fixObservedAt: "2026-11-29T07:25:00.000Z", fixSource: "observed" }), [10, null, null]],
    ["open, unfixed", makeIncident(), [null, null, null]],
  ])("%s", (_name, incident, [fix, recover, total]) => {
    const summary = summarizeIncident(incident);
    expect([summary.timeToFixInMinutes, summary.timeToRecoverInMinutes, summary.durationInMinutes]).toEqual([fix, recover, total]);
  });
});

describe("parseIncidentQuery", () => {
  it.each<[string, string, IncidentQuery | RegExp]>([
    // Nothing asked: everything.
    ["empty", "", {}],
    ["state", "state=resolved", { state: "resolved" }],
    // Days back from now, or a UTC date or date-time.
    ["days", "since=7d", { since: "2026-11-22T12:00:00.000Z" }],
    ["date", "since=2026-11-01", { since: "2026-11-01T00:00:00.000Z" }],
    ["date-time", "since=2026-11-01T06:30:00Z", { since: "2026-11-01T06:30:00.000Z" }],
    // Refused with a reason rather than ignored: an API caller should know.
    ["bad state", "state=healthy", /^state must be one of open, resolved, revoked, recovering, escalated$/],
    ["bad since", "since=yesterday", /^since must be/],
    // A date-time without a zone would be read in the server's zone: refused.
    ["local time", "since=2026-11-01T06:30:00", /^since must be/],
  ])("%s", (_name, search, expected) => {
    const parsed = parseIncidentQuery(new URLSearchParams(search), NOW);
    if (expected instanceof RegExp) expect(parsed.ok ? "accepted" : parsed.error).toMatch(expected);
    else expect(parsed).toEqual({ ok: true, query: expected });
  });
});

describe("selectIncidents", () => {
  const all = [
    summarizeIncident(resolved("old", "2026-10-01", 10, 10)),
    summarizeIncident(resolved("recent", "2026-11-25", 10, 10)),
    summarizeIncident(makeIncident({ id: "open-old", detectedAt: "2026-10-02T07:00:00.000Z" })),
    summarizeIncident(makeIncident({ id: "esc", state: "escalated" })),
  ];
  it.each<[string, IncidentQuery, string[]]>([
    // Newest detection first.
    ["everything", {}, ["esc", "recent", "open-old", "old"]],
    ["open", { state: "open" }, ["esc", "open-old"]],
    ["escalated", { state: "escalated" }, ["esc"]],
    // Since: detected since, or still open then (an old open incident overlaps the window).
    ["since", { since: "2026-11-01T00:00:00.000Z" }, ["esc", "recent", "open-old"]],
  ])("%s", (_name, query, ids) => {
    expect(selectIncidents(all, query).map((i) => i.id)).toEqual(ids);
  });
});

describe("trends", () => {
  const incidents = [
    resolved("a", "2026-11-27", 10, 20),
    resolved("b", "2026-11-27", 30, 40),
    resolved("c", "2026-11-29", 50, 60),
    resolved("d", "2026-11-20", 70, 80),
    makeIncident({ id: "e", state: "escalated", detectedAt: "2026-11-28T23:00:00.000Z", escalatedAt: "2026-11-29T01:00:00.000Z" }),
  ].map(summarizeIncident);

  it("counts detections, escalations and resolutions per UTC day, today last, outside the window dropped", () => {
    // Emails by the UTC day they were sent; one before the window is left out.
    const sent = ["2026-11-26T23:59:59.000Z", "2026-11-27T00:00:00.000Z", "2026-11-29T11:00:00.000Z", "2026-11-29T11:30:00.000Z"];
    expect(incidentsPerDay(incidents, sent, 3, NOW)).toEqual([
      { date: "2026-11-27", detected: 2, escalated: 0, resolved: 2, emailsSent: 1 },
      { date: "2026-11-28", detected: 1, escalated: 0, resolved: 0, emailsSent: 0 },
      { date: "2026-11-29", detected: 1, escalated: 1, resolved: 1, emailsSent: 2 },
    ]);
    expect(incidentsPerDay(incidents, [], 90, NOW)).toHaveLength(90);
    // The store is asked for emails from the window's first midnight.
    expect(windowStart(3, NOW).toISOString()).toBe("2026-11-27T00:00:00.000Z");
  });

  it("gives median and p90 per cause over the incidents that have each measure", () => {
    const [row] = durationsByCause(incidents);
    // Four resolved owner fixes (10, 30, 50, 70 min) and one open escalation without a fix.
    expect(row).toMatchObject({
      cause: "default-identity-unauthorized",
      incidents: 5,
      timeToFix: { count: 4, medianInMinutes: 30, p90InMinutes: 70 },
      timeToRecover: { count: 4, medianInMinutes: 40, p90InMinutes: 80 },
    });
  });

  it.each<[number[], number, number | null]>([
    // Nearest rank: no interpolation, always a value that occurred.
    [[], 50, null],
    [[5], 90, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3], 50, 2],
  ])("percentile(%j, %i) = %p", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe("CSV", () => {
  it.each<[string, string | number | null, string]>([
    ["plain", "orders-db", "orders-db"],
    ["null", null, ""],
    ["number", 42, "42"],
    // Quotes, commas and newlines are quoted per RFC 4180.
    ["comma", "a,b", '"a,b"'],
    ["quote", 'say "hi"', '"say ""hi"""'],
    // A spreadsheet formula from a hostile name is neutralised.
    ["formula", '=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ["at sign", "@SUM(A1)", "'@SUM(A1)"],
  ])("%s", (_name, value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it("has a header and one CRLF line per incident", () => {
    const csv = incidentsCsv([summarizeIncident(makeIncident())]);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(
      "id,accountId,accountName,subscriptionId,resourceGroup,state,cause,code,detectedAt,fixObservedAt,fixSource,escalatedAt,resolvedAt,resolution,reminderCount,timeToFixInMinutes,timeToRecoverInMinutes,durationInMinutes,emailsSent",
    );
    expect(lines[1]).toMatch(
      /^inc-orders-db-20261129T0715,\/subscriptions\/.*,orders-db,.*,revoked,default-identity-unauthorized,4002,2026-11-29T07:15:00.000Z,/,
    );
    expect(lines).toHaveLength(3);
  });
});
