import type { CheckedAccount, WarningFinding } from "../../src/domain/warnings";
import type { CycleHeartbeat } from "../../src/ports/heartbeat";
import { buildFleet, cycleHealth, filterAccounts, parseFleetQuery, type FleetOptions, type FleetQuery } from "../../src/web/fleetOverview";
import { makeAccount, makeIncident, SUBSCRIPTION_ID } from "../fixtures/incidents";

const NOW = new Date("2026-11-29T08:00:00.000Z");
const OPTIONS: FleetOptions = { pollIntervalInMinutes: 5, ownerTag: "cmk-owner", allowedRecipientDomains: [] };
const idOf = (name: string, sub = SUBSCRIPTION_ID) => `/subscriptions/${sub}/resourceGroups/rg-${name}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`;

function cycle(overrides: Partial<CycleHeartbeat> = {}): CycleHeartbeat {
  return {
    startedAt: "2026-11-29T07:59:00.000Z",
    finishedAt: "2026-11-29T07:59:30.000Z",
    durationInMs: 30_000,
    accountsSeen: 15,
    revokedSeen: 3,
    changes: 0,
    emailsSent: 0,
    emailsRetrying: 0,
    subscriptionsFailed: 0,
    subscriptionsInScope: 4,
    subscriptionsReadable: 4,
    subscriptionsWithCmk: 2,
    ...overrides,
  };
}

const finding = (kind: WarningFinding["kind"], severity: WarningFinding["severity"] = "high"): WarningFinding => ({
  kind,
  severity,
  title: kind,
  detail: "",
  commands: [],
  fingerprint: kind,
});

function check(name: string, findings: WarningFinding[] = [], checkedAt = "2026-11-29T06:00:00.000Z"): CheckedAccount {
  return {
    accountId: idOf(name),
    accountName: name,
    subscriptionId: SUBSCRIPTION_ID,
    resourceGroup: `rg-${name}`,
    checkedOn: checkedAt.slice(0, 10),
    checkedAt,
    findings,
  };
}

function incidentFor(name: string, overrides: Parameters<typeof makeIncident>[0] = {}) {
  const account = makeAccount({ id: idOf(name), name, resourceGroup: `rg-${name}`, tags: { "cmk-owner": `${name}-team@contoso.com` } });
  return makeIncident({ id: `inc-${name}`, accountId: account.id, account, ...overrides });
}

// One account in each state, as the cycle of 15 accounts left them.
const OPEN = [
  incidentFor("esc-db", { state: "escalated", cause: "key-disabled-or-expired" }),
  incidentFor("rev-db"),
  incidentFor("rec-db", { state: "recovering", fixObservedAt: "2026-11-29T07:30:00.000Z", fixSource: "acknowledged" }),
];
const CHECKS = [
  check("risky-db", [finding("key-expires-soon", "medium"), finding("purge-protection-off", "medium")]),
  check("stale-db", [], "2026-11-26T06:00:00.000Z"),
  // Owners from the tag when it was checked, so healthy accounts can be found by owner too.
  { ...check("fine-db"), owners: ["fiona@contoso.com"] },
  // A revoked account's check from before it was revoked: the incident decides its state.
  check("rev-db", [finding("identity-lacks-permission", "critical")]),
];

describe("buildFleet", () => {
  const { overview, accounts } = buildFleet(OPEN, CHECKS, cycle(), NOW, OPTIONS);

  it("counts every account once, in one state, and the unprobed rest of the cycle's accounts as healthy", () => {
    // 15 seen by the cycle; 5 listed are current (the stale one is not), so 10 more were healthy by status alone.
    expect(overview.accounts).toEqual({
      total: 16,
      byState: { escalated: 1, revoked: 1, recovering: 1, "at-risk": 1, unknown: 1, healthy: 11 },
      byCause: { "key-disabled-or-expired": 1, "default-identity-unauthorized": 2 },
      byWarning: { "key-expires-soon": 1, "purge-protection-off": 1 },
      notProbed: 10,
    });
    // Most urgent first, whatever the input order.
    expect(accounts.map((a) => [a.accountName, a.state])).toEqual([
      ["esc-db", "escalated"],
      ["rev-db", "revoked"],
      ["rec-db", "recovering"],
      ["risky-db", "at-risk"],
      ["stale-db", "unknown"],
      ["fine-db", "healthy"],
    ]);
    // The revoked account keeps its warnings beside the incident, and its owner from the tag.
    expect(accounts[1]).toMatchObject({
      cause: "default-identity-unauthorized",
      owners: ["rev-db-team@contoso.com"],
      warnings: [{ kind: "identity-lacks-permission" }],
    });
  });

  it("reports subscriptions as the last cycle read them", () => {
    expect(overview.subscriptions).toEqual({ inScope: 4, readable: 4, withCmk: 2, failed: 0, propagating: 0 });
    expect(buildFleet([], [], undefined, NOW, OPTIONS).overview.subscriptions).toBeNull();
  });

  it.each<[string, FleetQuery, string[]]>([
    // State from the overview's links.
    ["by state", { state: "at-risk" }, ["risky-db"]],
    // A cause matches open incidents …
    ["by incident cause", { cause: "default-identity-unauthorized" }, ["rev-db", "rec-db"]],
    // … and a warning kind matches accounts whose check found it.
    ["by warning kind", { cause: "purge-protection-off" }, ["risky-db"]],
    // Free text: name, resource group, subscription or owner, ignoring case.
    ["by text", { q: "RISKY" }, ["risky-db"]],
    ["by owner text", { q: "rec-db-team@" }, ["rec-db"]],
    ["by owner", { owner: "esc-db-team" }, ["esc-db"]],
    ["by owner of a healthy account", { owner: "FIONA" }, ["fine-db"]],
    ["by subscription", { subscription: "00000000" }, []],
    // Conditions combine.
    ["state and text", { state: "revoked", q: "esc" }, []],
  ])("filters %s", (_name, query, names) => {
    expect(filterAccounts(accounts, query).map((a) => a.accountName)).toEqual(names);
  });
});

describe("parseFleetQuery", () => {
  it.each<[string, string, FleetQuery]>([
    // Every field, trimmed.
    [
      "all fields",
      "q=+orders+&state=revoked&cause=key-not-found&subscription=abc&owner=alice",
      { q: "orders", state: "revoked", cause: "key-not-found", subscription: "abc", owner: "alice" },
    ],
    // A warning kind is a cause for the filter's purpose.
    ["warning kind", "cause=key-expires-soon", { cause: "key-expires-soon" }],
    // Unknown values are dropped (it is a form, not an API contract), empty ones too.
    ["unknown state and cause", "state=on-fire&cause=<script>&q=", {}],
  ])("%s", (_name, search, expected) => {
    expect(parseFleetQuery(new URLSearchParams(search))).toEqual(expected);
  });

  it("caps free text at 200 characters", () => {
    expect(parseFleetQuery(new URLSearchParams(`q=${"x".repeat(500)}`)).q).toHaveLength(200);
  });
});

describe("cycleHealth", () => {
  it.each<[string, CycleHeartbeat | undefined, string, number]>([
    // Nothing recorded yet.
    ["none", undefined, "none", 1],
    // Recent and complete.
    ["ok", cycle(), "ok", 0],
    // A subscription could not be listed: the counts are short.
    ["degraded by a subscription", cycle({ subscriptionsFailed: 2 }), "degraded", 1],
    // Emails waiting to be retried.
    ["degraded by email retries", cycle({ emailsRetrying: 1, statusSourceFallback: "coverage" }), "degraded", 2],
    // An escalation email bounced (ACS delivery report): someone must fix the escalation contacts.
    [
      "degraded by an undelivered escalation",
      cycle({
        deliveryReports: {
          recorded: 2,
          unchanged: 0,
          unmatched: 0,
          ignored: 0,
          undeliveredEscalations: [
            { key: "k", accountId: "a", incidentId: "i", recipient: "oncall@contoso.com", status: "Bounced", at: "2026-11-29T07:50:00.000Z" },
          ],
        },
      }),
      "degraded",
      1,
    ],
    // Delivery reports that all arrived: nothing to say.
    ["ok with delivery reports", cycle({ deliveryReports: { recorded: 2, unchanged: 1, unmatched: 0, ignored: 3, undeliveredEscalations: [] } }), "ok", 0],
    // Three polls (15 minutes at 5) missed: late wins over degraded.
    ["late", cycle({ finishedAt: "2026-11-29T07:40:00.000Z", subscriptionsFailed: 1 }), "late", 2],
    // Just inside the allowance.
    ["on the edge", cycle({ finishedAt: "2026-11-29T07:45:00.000Z" }), "ok", 0],
    // The change catch-up was clamped to the 14-day retention within the last day: changes before it were never read.
    ["degraded by a catch-up gap", cycle({ changeCatchUp: { watermark: "2026-11-29T07:55:00.000Z", gapBefore: "2026-11-15T07:55:00.000Z" } }), "degraded", 1],
    // The same gap two days on: no longer news.
    ["an old catch-up gap", cycle({ changeCatchUp: { watermark: "2026-11-29T07:55:00.000Z", gapBefore: "2026-11-13T07:55:00.000Z" } }), "ok", 0],
  ])("%s", (_name, heartbeat, health, reasons) => {
    const result = cycleHealth(heartbeat, NOW, 5);
    expect(result.health).toBe(health);
    expect(result.reasons).toHaveLength(reasons);
  });
});
