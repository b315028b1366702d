/**
 * Integration: the operator's view end to end. Real cycles over the real SDK clients against the
 * sandbox (ARM + Key Vault + ACS) and Azurite build a fleet with history (one incident resolved,
 * one escalated, one still revoked, one healthy account); then the HTTP functions and the local
 * server answer from that state: the fleet overview, the incident list (JSON and CSV), and one
 * account's JSON and page, with hostile text from Azure shown as text.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit, type Timer } from "@azure/functions";
import { getMonitorDeps, setCompositionOverrides } from "../../src/composition";
import { httpAccount } from "../../src/functions/httpAccount";
import { httpAccountPage } from "../../src/functions/httpAccountPage";
import { httpDashboard } from "../../src/functions/httpDashboard";
import { httpIncidents } from "../../src/functions/httpIncidents";
import { httpStatus } from "../../src/functions/httpStatus";
import { pollTimer } from "../../src/functions/pollTimer";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import type { AccountReport } from "../../src/web/accountReport";
import type { IncidentSummary } from "../../src/web/incidentHistory";
import { startLocalWebServer } from "../../src/web/localServer";
import type { StatusReport } from "../../src/web/statusReport";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const SUB = "00000000-0000-0000-0000-0000000000dd";
const BASE = "https://cmk.example.test";
const revoked = (code: number, extra = "") => `Access to your account is currently revoked${extra} (${code}).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const HOSTILE = ` <img src=x onerror="alert(1)"><script>alert("x")</script>`;

let azure: LocalAzure;
const start = new Date("2026-11-29T03:00:00.000Z");
let now = start;
const savedEnv = { ...process.env };
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
const ids: Record<string, string> = {};

function context(name: string): InvocationContext {
  return new InvocationContext({ invocationId: `test-${now.toISOString()}`, functionName: name, logHandler: () => {} });
}

async function pollAt(minutes: number): Promise<void> {
  now = new Date(start.getTime() + minutes * 60_000);
  await pollTimer(timer, context("cmkPoll"));
}

function get(path: string, params: Record<string, string> = {}, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: "GET", url: `${BASE}${path}`, headers, params });
}

function routeOf(name: string): Record<string, string> {
  return { subscriptionId: SUB, resourceGroup: `rg-${name}`, name };
}

function json<T>(response: HttpResponseInit): T {
  return JSON.parse(String(response.body)) as T;
}

beforeAll(async () => {
  azure = await startLocalAzure();
  const accounts = [
    // Fixed by its owner half an hour in: resolved, history.
    ["orders-db", revoked(4002), "alice@contoso.com"],
    // Still revoked; its status text is hostile, and so is its owner tag (an invalid address is dropped, on the timeline).
    ["billing-db", revoked(4002, HOSTILE), `bob@contoso.com, <b>x</b>"@evil`],
    // An outage: nobody fixes it, so two hours after detection it is escalated.
    ["search-db", revoked(4008), "sam@contoso.com"],
    // Never revoked.
    ["quiet-db", HEALTHY, "quinn@contoso.com"],
  ] as const;
  for (const [name, status, owner] of accounts) {
    ids[name] = azure.sandbox.putAccount({
      name,
      subscriptionId: SUB,
      resourceGroup: `rg-${name}`,
      keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: "9f3c2b1a-1111-2222-3333-444455556666" },
      tags: { "cmk-owner": owner },
      status,
    });
  }
  Object.assign(process.env, sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_PUBLIC_BASE_URL: BASE }));
  setCompositionOverrides(sandboxOverrides(azure.sandbox, { clock: { now: () => now }, maxRetries: 0 }));
  await pollAt(0);
  azure.sandbox.setStatus("orders-db", HEALTHY);
  await pollAt(30);
  await pollAt(125);
}, 120_000);

afterAll(async () => {
  setCompositionOverrides({});
  process.env = savedEnv;
  await azure?.stop();
});

describe("GET /api/status: the fleet overview", () => {
  it("puts every account in one state, escalated counted as escalated, and says what Azure reported", async () => {
    const report = json<StatusReport>(await httpStatus(get("/api/status"), context("cmkStatus")));
    const { byState } = report.fleet.accounts;
    // The misleading "4 CMK accounts, 2 revoked": the escalated one is its own state, not revoked.
    expect([byState.escalated, byState.revoked, byState.recovering]).toEqual([1, 1, 0]);
    expect(byState.healthy + byState["at-risk"] + byState.unknown).toBe(2);
    expect(report.fleet.accounts.total).toBe(4);
    expect(report.fleet.accounts.byCause).toEqual({ "service-side-outage": 1, "default-identity-unauthorized": 1 });
    expect(report.fleet.subscriptions).toMatchObject({ failed: 0, propagating: 0 });
    expect(report.fleet.lastCycle.health).not.toBe("none");
    expect(report.accounts.slice(0, 2).map((a) => [a.accountName, a.state])).toEqual([
      ["search-db", "escalated"],
      ["billing-db", "revoked"],
    ]);
    // Owners from the tag: the valid address only.
    expect(report.accounts[1]!.owners).toEqual(["bob@contoso.com"]);
    // History: three incidents detected on the first day, one escalated, one resolved.
    // Emails: three revoked, one resolved, one escalation (an outage sends no reminders; billing-db's is due hourly: two).
    expect(report.history.perDay.at(-1)).toMatchObject({ date: "2026-11-29", detected: 3, escalated: 1, resolved: 1 });
    expect(report.history.perDay.at(-1)!.emailsSent).toBe(azure.sandbox.sentEmails().length);
    const owner = report.history.durationsByCause.find((row) => row.cause === "default-identity-unauthorized");
    expect(owner).toMatchObject({ incidents: 2, duration: { count: 1, medianInMinutes: 30 } });
  });

  it.each<[string, Record<string, string>, string[]]>([
    // The overview's state links.
    ["state", { state: "escalated" }, ["search-db"]],
    // Free text over names and owners.
    ["text", { q: "BILL" }, ["billing-db"]],
    ["owner", { owner: "sam@" }, ["search-db"]],
    // A cause.
    ["cause", { cause: "service-side-outage" }, ["search-db"]],
  ])("filters accounts by %s, in the JSON and on the page", async (_name, query, names) => {
    const search = new URLSearchParams(query).toString();
    const report = json<StatusReport>(await httpStatus(get(`/api/status?${search}`), context("cmkStatus")));
    expect(report.accounts.map((a) => a.accountName)).toEqual(names);
    const page = String((await httpDashboard(get(`/api/dashboard?${search}`), context("cmkDashboard"))).body);
    const listed = [...page.matchAll(/<tr class="account"[^]*?class="account-name"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(listed).toEqual(names);
  });

  it("shows the overview, the trends and the filter on the page, escaped and under the CSP", async () => {
    const response = await httpDashboard(get("/api/dashboard?code=k%22ey"), context("cmkDashboard"));
    const body = String(response.body);
    expect(body).toContain('id="fleet"');
    expect(body).toMatch(/<tr data-state="escalated"><td><span class="badge state-escalated">Escalated<\/span><\/td><td class="count"><a [^>]*>1<\/a>/);
    expect(body).toContain("Azure reported 2 of 4 CMK account(s) revoked");
    expect(body).toContain('<svg id="chart-per-day"');
    expect(body).toContain('<svg id="chart-durations"');
    expect(body).toContain('<svg id="chart-emails"');
    // The chosen history window survives a search; the window links keep the search.
    const weekly = String((await httpDashboard(get("/api/dashboard?days=7&q=db"), context("cmkDashboard"))).body);
    expect(weekly).toContain('<input type="hidden" name="days" value="7">');
    expect(weekly).toContain('href="/api/dashboard?q=db&amp;days=90#history"');
    // The function key the page was opened with travels in its links and form, escaped.
    expect(body).toContain('name="code" value="k&quot;ey"');
    expect(body).toContain("/api/dashboard/accounts/00000000-0000-0000-0000-0000000000dd/rg-billing-db/billing-db?code=k%22ey");
    // Nothing external (Azure's hostile text says "src=" too, but only as escaped text), no markup from it.
    expect(body).not.toMatch(/<[^>]*\bsrc=|<link\b|https?:\/\/(?!learn\.microsoft)/);
    expect(body).not.toContain("<img");
    expect([...body.matchAll(/<script\b[^>]*>/g)]).toHaveLength(1);
  });
});

describe("GET /api/incidents", () => {
  it.each<[string, string, string[]]>([
    // Everything kept, newest first (all three detected at the first poll: by id then).
    ["all", "", ["billing-db", "orders-db", "search-db"]],
    ["resolved", "state=resolved", ["orders-db"]],
    ["open", "state=open", ["billing-db", "search-db"]],
    ["escalated", "state=escalated", ["search-db"]],
    ["since", "since=2026-11-29", ["billing-db", "orders-db", "search-db"]],
    // A later date: the resolved one ended before it; the open ones still overlap it.
    ["since, open only overlap", "since=2026-11-30", ["billing-db", "search-db"]],
  ])("%s", async (_name, query, names) => {
    const response = await httpIncidents(get(`/api/incidents?${query}`), context("cmkIncidents"));
    expect(response.status).toBe(200);
    const body = json<{ count: number; incidents: IncidentSummary[] }>(response);
    expect(body.incidents.map((i) => i.accountName)).toEqual(names);
    expect(body.count).toBe(names.length);
  });

  it("gives the resolved incident's durations", async () => {
    const body = json<{ incidents: IncidentSummary[] }>(await httpIncidents(get("/api/incidents?state=resolved"), context("cmkIncidents")));
    expect(body.incidents[0]).toMatchObject({ state: "resolved", resolution: "recovered", durationInMinutes: 30, resolvedAt: "2026-11-29T03:30:00.000Z" });
  });

  it("exports CSV with a header and one line per incident", async () => {
    const response = await httpIncidents(get("/api/incidents?format=csv"), context("cmkIncidents"));
    expect(response.headers).toMatchObject({
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": 'attachment; filename="cmk-incidents-2026-11-29.csv"',
    });
    const lines = String(response.body).trimEnd().split("\r\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^id,accountId,accountName,/);
  });

  it.each<[string, string]>([
    // Refused with a reason, not silently widened.
    ["state=healthy", "state must be one of"],
    ["since=last-week", "since must be"],
    ["format=xml", "format must be json or csv"],
  ])("400 for %s", async (query, error) => {
    const response = await httpIncidents(get(`/api/incidents?${query}`), context("cmkIncidents"));
    expect(response.status).toBe(400);
    expect(json<{ error: string }>(response).error).toContain(error);
  });

  it.each<[string, Record<string, string>, number]>([
    // Anonymous mode behind App Service Authentication, but the request did not come through it.
    ["no sign-in", {}, 401],
    // Signed in, but not on the allow-list.
    ["signed in, not allowed", { "x-ms-client-principal-id": "99999999-9999-4999-8999-999999999999" }, 403],
    // On the allow-list.
    ["allowed principal", { "x-ms-client-principal-id": "5c0ffee0-0000-4000-8000-00000000a11d" }, 200],
  ])("anonymous mode, like the dashboard: %s", async (_name, headers, status) => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      CMK_DASHBOARD_AUTH: "anonymous",
      WEBSITE_AUTH_ENABLED: "True",
      CMK_DASHBOARD_ALLOWED_PRINCIPALS: "5c0ffee0-0000-4000-8000-00000000a11d",
    });
    try {
      expect((await httpIncidents(get("/api/incidents", {}, headers), context("cmkIncidents"))).status).toBe(status);
      expect((await httpAccount(get("/api/accounts", routeOf("orders-db"), headers), context("cmkAccount"))).status).toBe(status);
      expect((await httpAccountPage(get("/api/dashboard/accounts", routeOf("orders-db"), headers), context("cmkAccountPage"))).status).toBe(status);
    } finally {
      for (const key of ["CMK_DASHBOARD_AUTH", "WEBSITE_AUTH_ENABLED", "CMK_DASHBOARD_ALLOWED_PRINCIPALS"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});

describe("GET /api/accounts/{subscriptionId}/{resourceGroup}/{name}", () => {
  it("tells one account's story: incidents with full timelines, emails, portal links", async () => {
    const response = await httpAccount(get("/api/accounts", routeOf("orders-db")), context("cmkAccount"));
    expect(response.status).toBe(200);
    const report = json<AccountReport>(response);
    expect(report).toMatchObject({
      accountId: ids["orders-db"],
      accountName: "orders-db",
      state: "healthy",
      keyVaultKeyUri: "https://kv-orders-db.vault.azure.net/keys/cmk",
    });
    expect(report.links).toEqual({
      account: `https://portal.azure.com/#@/resource/subscriptions/${SUB}/resourceGroups/rg-orders-db/providers/Microsoft.DocumentDB/databaseAccounts/orders-db/overview`,
      vaults: "https://portal.azure.com/#browse/Microsoft.KeyVault%2Fvaults",
      vaultName: "kv-orders-db",
    });
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0]!.timeline.map((e) => e.type)).toEqual(["detected", "resolved"]);
    // Every email recorded for it, with its recipients and whether it was handed to ACS.
    expect(report.emails.map((e) => [e.kind, e.to, e.status])).toEqual([
      ["revoked", ["alice@contoso.com"], "sent"],
      ["resolved", ["alice@contoso.com"], "sent"],
    ]);
  });

  it.each<[string, Record<string, string>, number]>([
    // Not an Azure subscription id: refused before any read.
    ["bad subscription", { subscriptionId: "../../etc", resourceGroup: "rg", name: "orders-db" }, 400],
    // An account name Azure would never allow.
    ["bad name", { subscriptionId: SUB, resourceGroup: "rg-orders-db", name: "Orders_DB" }, 400],
    // Well-formed, but the monitor never saw it.
    ["unknown", { subscriptionId: SUB, resourceGroup: "rg-x", name: "never-seen" }, 404],
  ])("%s", async (_name, params, status) => {
    expect((await httpAccount(get("/api/accounts", params), context("cmkAccount"))).status).toBe(status);
    expect((await httpAccountPage(get("/api/dashboard/accounts", params), context("cmkAccountPage"))).status).toBe(status);
  });

  it("answers a browser with the page, hostile text escaped, the timeline and the emails listed", async () => {
    const response = await httpAccount(
      get("/api/accounts", routeOf("billing-db"), { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }),
      context("cmkAccount"),
    );
    expect(response.status).toBe(200);
    expect((response.headers as Record<string, string>)["Content-Type"]).toBe("text/html; charset=utf-8");
    const body = String(response.body);
    expect(body).toContain('<span class="badge state-revoked">Revoked</span>');
    expect(body).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;");
    expect(body).not.toContain("<img");
    expect(body).not.toMatch(/<script\b/);
    // The dropped owner address is on the timeline, as text.
    expect(body).toContain("Recipients dropped");
    expect(body).not.toContain("<b>x</b>");
    expect(body).toMatch(/<tr class="email" data-kind="revoked" data-status="sent">/);
    expect(body).toContain('<svg id="strip-0"');
  });
});

describe("the local server", () => {
  it("serves the new routes with the same handlers", async () => {
    const web = await startLocalWebServer(getMonitorDeps());
    try {
      const csv = await fetch(`${web.url}/api/incidents?format=csv&state=resolved`);
      expect(csv.status).toBe(200);
      expect((await csv.text()).split("\r\n")[1]).toContain("orders-db");
      const account = await fetch(`${web.url}/api/accounts/${SUB}/rg-search-db/search-db`);
      expect(((await account.json()) as AccountReport).state).toBe("escalated");
      const page = await fetch(`${web.url}/api/dashboard/accounts/${SUB}/rg-search-db/search-db`);
      expect(await page.text()).toContain('<span class="badge state-escalated">Escalated</span>');
    } finally {
      await web.stop();
    }
  });
});
