/**
 * The operator's pages rendered from hostile data: every name, tag, status text, finding, address
 * and error that comes from Azure or a tag must reach the HTML as text, and no link may be built
 * from an id that does not have Azure's shape.
 */
import type { Incident, IncidentEvent, OutboxMessage } from "../../src/domain/incident";
import type { CheckedAccount } from "../../src/domain/warnings";
import type { StoredMessage } from "../../src/ports/incidentStore";
import { renderAccountPage } from "../../src/web/accountPage";
import { accountIdFromRoute, accountPath, buildAccountReport, portalLinks } from "../../src/web/accountReport";
import { stripSegments } from "../../src/web/charts";
import { MAX_ACCOUNT_ROWS, renderDashboard } from "../../src/web/dashboardPage";
import type { FleetOptions } from "../../src/web/fleetOverview";
import { prefersHtml } from "../../src/web/operatorHandlers";
import { buildStatusReport } from "../../src/web/statusReport";
import { ACCOUNT_ID, makeAccount, makeEvent, makeFacts, makeIncident, RESOURCE_GROUP, SUBSCRIPTION_ID } from "../fixtures/incidents";

const NOW = new Date("2026-11-29T12:00:00.000Z");
const OPTIONS: FleetOptions = { pollIntervalInMinutes: 5, ownerTag: "cmk-owner", allowedRecipientDomains: [] };
const EVIL = `<img src=x onerror="alert(1)"><script>alert(2)</script>"'\``;
/** What the escaping template makes of EVIL. */
const EVIL_ESCAPED = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&quot;&#39;&#96;";

const hostileIncident: Incident = makeIncident({
  statusText: `Revoked ${EVIL}`,
  account: makeAccount({ name: `orders${EVIL}`, tags: { "cmk-owner": `alice@contoso.com`, team: EVIL } }),
  fixAcknowledgedBy: EVIL,
  probe: { cause: "default-identity-unauthorized", verdict: "present", at: "2026-11-29T07:20:00.000Z", detail: EVIL },
});
const hostileCheck: CheckedAccount = {
  accountId: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg${EVIL}/providers/Microsoft.DocumentDB/databaseAccounts/risky`,
  accountName: `risky${EVIL}`,
  subscriptionId: SUBSCRIPTION_ID,
  resourceGroup: `rg${EVIL}`,
  checkedOn: "2026-11-29",
  checkedAt: "2026-11-29T06:00:00.000Z",
  findings: [
    {
      kind: "key-expires-soon",
      severity: "medium",
      title: `Key expires ${EVIL}`,
      detail: EVIL,
      commands: [{ label: EVIL, command: `az ${EVIL}` }],
      fingerprint: "f",
    },
  ],
};

function expectNoMarkupFromAzure(body: string): void {
  expect(body).toContain(EVIL_ESCAPED.slice(0, 40));
  expect(body).not.toContain("<img");
  expect(body).not.toContain("<script>alert");
  expect(body).not.toMatch(/onerror="alert/);
}

describe("the dashboard with hostile names", () => {
  const report = buildStatusReport(
    {
      open: [{ incident: hostileIncident, events: [makeEvent({ detail: EVIL })] }],
      all: [hostileIncident],
      checks: [hostileCheck],
      sentTimes: [],
      lastCycle: undefined,
      filter: { q: EVIL },
      historyDays: 7,
      options: OPTIONS,
    },
    NOW,
  );
  const body = renderDashboard(report, { nonce: "n0nce", functionKey: EVIL }).html;

  it("shows them as text in the overview, the account list, the filter form and the incident tables", () => {
    expectNoMarkupFromAzure(body);
    // The filter echoes the search text back into the form, escaped inside the attribute.
    expect(body).toContain(`name="q" value="${EVIL_ESCAPED}"`);
    // The function key is reflected too: escaped, and URL-encoded in links.
    expect(body).toContain(`name="code" value="${EVIL_ESCAPED}"`);
    expect(body).toContain(`/api/status?${new URLSearchParams({ code: EVIL }).toString()}"`);
    expect([...body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script nonce="n0nce">']);
    // The at-risk count names the kind of finding in words, and links to the filter for it.
    expect(body).toMatch(
      /<tr data-warning="key-expires-soon"><td>Key expires soon<\/td><td><a href="\/api\/dashboard\?cause=key-expires-soon&amp;code=[^"]*#accounts">1<\/a>/,
    );
  });

  it("links an account only when its id has Azure's shape", () => {
    // The incident's account has a valid id: linked (in the account list and the incident table); the
    // checked account's hostile resource group is no Azure name: listed, without a link.
    const links = [...body.matchAll(/href="(\/api\/dashboard\/accounts\/[^"?]*)/g)].map((m) => m[1]);
    expect(links).toEqual([
      `/api/dashboard/accounts/${SUBSCRIPTION_ID}/${RESOURCE_GROUP}/orders-db`,
      `/api/dashboard/accounts/${SUBSCRIPTION_ID}/${RESOURCE_GROUP}/orders-db`,
    ]);
    expect(body).toContain(`<span class="account-name">risky${EVIL_ESCAPED}</span>`);
  });
});

describe("the account list at scale", () => {
  it("lists at most MAX_ACCOUNT_ROWS accounts on the page and points to the JSON for the rest", () => {
    const checks: CheckedAccount[] = Array.from({ length: MAX_ACCOUNT_ROWS + 1 }, (_, i) => ({
      ...hostileCheck,
      accountId: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a-${i}`,
      accountName: `a-${i}`,
      resourceGroup: "rg",
      findings: [],
    }));
    const report = buildStatusReport({ open: [], all: [], checks, sentTimes: [], lastCycle: undefined, filter: {}, historyDays: 7, options: OPTIONS }, NOW);
    const body = renderDashboard(report, { nonce: "n" }).html;
    expect(report.accounts).toHaveLength(MAX_ACCOUNT_ROWS + 1);
    expect(body.match(/<tr class="account"/g)).toHaveLength(MAX_ACCOUNT_ROWS);
    expect(body).toContain(`Showing the first ${MAX_ACCOUNT_ROWS} of ${MAX_ACCOUNT_ROWS + 1}`);
  });
});

describe("the account page with hostile names", () => {
  const message = (overrides: Partial<OutboxMessage>, stored: Partial<StoredMessage> = {}): StoredMessage => ({
    message: {
      key: "k1",
      incidentId: hostileIncident.id,
      accountId: ACCOUNT_ID,
      kind: "revoked",
      to: [`${EVIL}@contoso.com`],
      cc: [],
      createdAt: "2026-11-29T07:15:00.000Z",
      facts: makeFacts("revoked", { evidence: [{ probe: "key", outcome: "problem", text: EVIL, commands: [{ command: `az ${EVIL}` }] }] }),
      ...overrides,
    },
    status: "dead",
    attempts: 5,
    generation: 0,
    nextAttemptAt: "2026-11-29T07:15:00.000Z",
    lastError: EVIL,
    etag: "e",
    ...stored,
  });
  const events: IncidentEvent[] = [makeEvent({ detail: EVIL }), makeEvent({ seq: 2, type: "recipients-dropped", detail: `Dropped ${EVIL}` })];
  const report = buildAccountReport(
    {
      accountId: ACCOUNT_ID,
      incidents: [{ incident: hostileIncident, events }],
      check: hostileCheck,
      // A delivery report's fields come from Event Grid: text like any other.
      messages: [message({}, { deliveryResults: { [`${EVIL}@contoso.com`]: { status: EVIL, at: "2026-11-29T07:16:00.000Z", details: EVIL, eventId: "e" } } })],
    },
    NOW,
    OPTIONS,
  )!;
  const body = renderAccountPage(report, { nonce: "n0nce" }).html;

  it("shows the status text, probe detail, evidence, findings, timeline, recipients and errors as text", () => {
    expectNoMarkupFromAzure(body);
    expect(body).toContain(`<pre class="status-text">Revoked ${EVIL_ESCAPED}</pre>`);
    expect(body).toContain(`Dropped ${EVIL_ESCAPED}`);
    expect(body).toContain(`to ${EVIL_ESCAPED}@contoso.com`);
    expect(body).toContain("Given up after 5 attempts");
    expect(body).toContain(`${EVIL_ESCAPED}@contoso.com: ${EVIL_ESCAPED} 2026-11-29 07:16 UTC (${EVIL_ESCAPED})`);
    // No script at all on this page.
    expect(body).not.toMatch(/<script\b/);
  });

  it("carries the latest email's evidence and every incident's timeline", () => {
    expect(report.incidents[0]!.evidence).toEqual([{ probe: "key", outcome: "problem", text: EVIL, commands: [{ command: `az ${EVIL}` }] }]);
    expect(report.incidents[0]!.timeline.map((e) => e.seq)).toEqual([1, 2]);
    expect(report.state).toBe("revoked");
  });
});

describe("account paths and portal links", () => {
  it.each<[string, Record<string, string>, string | undefined]>([
    // Azure's shapes: a GUID, a resource group (letters, digits, - _ . ( ), not ending in .), a lowercase account name.
    [
      "valid",
      { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg-Orders_(prod).1", name: "orders-db" },
      `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-Orders_(prod).1/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`,
    ],
    ["path traversal in the subscription", { subscriptionId: "..", resourceGroup: "rg", name: "orders-db" }, undefined],
    ["slash in the group", { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg/x", name: "orders-db" }, undefined],
    ["group ending in a dot", { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg.", name: "orders-db" }, undefined],
    ["upper case name", { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg", name: "Orders" }, undefined],
    ["markup in the name", { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg", name: "a<b>c" }, undefined],
    ["missing part", { subscriptionId: SUBSCRIPTION_ID, resourceGroup: "rg" }, undefined],
  ])("%s", (_name, params, id) => {
    expect(accountIdFromRoute(params)).toBe(id);
  });

  it("builds the account's path and portal link from its parts, and a vault link only for a valid vault name", () => {
    expect(accountPath(ACCOUNT_ID)).toBe(`${SUBSCRIPTION_ID}/${RESOURCE_GROUP}/orders-db`);
    expect(accountPath(hostileCheck.accountId)).toBeUndefined();
    const parts = { subscriptionId: SUBSCRIPTION_ID, resourceGroup: RESOURCE_GROUP, name: "orders-db" };
    expect(portalLinks(parts, "https://kv-orders-prod.vault.azure.net/keys/orders-cmk")).toEqual({
      account: `https://portal.azure.com/#@/resource/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.DocumentDB/databaseAccounts/orders-db/overview`,
      vaults: "https://portal.azure.com/#browse/Microsoft.KeyVault%2Fvaults",
      vaultName: "kv-orders-prod",
    });
    // Not a Key Vault URI: no vault link, and nothing from it in any link.
    expect(portalLinks(parts, `javascript:alert(1)`)).toMatchObject({ vaults: null, vaultName: null });
    // An id without Azure's shape gets no account link at all.
    expect(portalLinks({ ...parts, name: "<x>" }, null).account).toBe("");
  });
});

describe("prefersHtml", () => {
  it.each<[string | null, boolean]>([
    // A browser's navigation.
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true],
    // curl and API clients.
    [null, false],
    ["*/*", false],
    ["application/json", false],
    // JSON asked first wins.
    ["application/json, text/html", false],
  ])("%p → %p", (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

describe("stripSegments", () => {
  it.each<[string, Parameters<typeof stripSegments>[0], Array<[string, string, string]>]>([
    // Fixed then resolved: revoked until the fix, recovering until resolution.
    [
      "fixed and resolved",
      { detectedAt: "2026-11-29T07:00:00.000Z", fixObservedAt: "2026-11-29T07:30:00.000Z", escalatedAt: null, resolvedAt: "2026-11-29T08:00:00.000Z" },
      [
        ["revoked", "2026-11-29T07:00:00.000Z", "2026-11-29T07:30:00.000Z"],
        ["recovering", "2026-11-29T07:30:00.000Z", "2026-11-29T08:00:00.000Z"],
      ],
    ],
    // Open and escalated without a fix: revoked, then escalated until now.
    [
      "escalated, open",
      { detectedAt: "2026-11-29T07:00:00.000Z", fixObservedAt: null, escalatedAt: "2026-11-29T09:00:00.000Z", resolvedAt: null },
      [
        ["revoked", "2026-11-29T07:00:00.000Z", "2026-11-29T09:00:00.000Z"],
        ["escalated", "2026-11-29T09:00:00.000Z", NOW.toISOString()],
      ],
    ],
  ])("%s", (_name, incident, expected) => {
    expect(stripSegments(incident, NOW).map((s) => [s.kind, s.from, s.to])).toEqual(expected);
  });
});
