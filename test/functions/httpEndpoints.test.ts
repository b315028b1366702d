/**
 * Integration: the HTTP functions, invoked directly with HttpRequest objects, over the real
 * SDK clients against the sandbox (ARM + ACS) and Azurite. Links are taken from the emails the
 * monitor actually sent; bad ones are made from good ones.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit, type Timer } from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { TableMonitorMeta } from "../../src/adapters/monitorMetaTable";
import { decide } from "../../src/domain/lifecycle";
import { getMonitorDeps, setCompositionOverrides } from "../../src/composition";
import { linkClaims, linkUrl, signLinkToken } from "../../src/domain/linkTokens";
import { httpAck } from "../../src/functions/httpAck";
import { httpDashboard } from "../../src/functions/httpDashboard";
import { httpSnooze } from "../../src/functions/httpSnooze";
import { httpStatus } from "../../src/functions/httpStatus";
import { pollTimer } from "../../src/functions/pollTimer";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import type { SentEmail } from "../../src/sandbox";
import type { StatusReport } from "../../src/web/statusReport";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import { StateConflictError } from "../../src/ports/errors";
import { lifecycleContext } from "../../src/pipeline/lifecycleContext";

const SUB = "00000000-0000-0000-0000-0000000000bb";
const BASE = "https://cmk.example.test";
const KEY = "test-link-signing-key-0123456789abcdef";
const status4002 =
  "Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key (4002).";
const HOUR = 3_600_000;

let azure: LocalAzure;
const start = new Date("2026-11-29T03:00:00.000Z");
let now = start;
const savedEnv = { ...process.env };
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

function context(name: string): InvocationContext {
  return new InvocationContext({ invocationId: `test-${now.toISOString()}`, functionName: name, logHandler: () => {} });
}

function poll(): Promise<void> {
  return pollTimer(timer, context("cmkPoll"));
}

function at(minutesFromStart: number): void {
  now = new Date(start.getTime() + minutesFromStart * 60_000);
}

/** What the host would build: method, URL, route params from the path, a form body for POST. */
function request(method: "GET" | "POST", url: string, form?: Record<string, string>, headers: Record<string, string> = {}): HttpRequest {
  const id = /\/api\/incidents\/([^/]+)\//.exec(new URL(url).pathname)?.[1];
  return new HttpRequest({
    method,
    url,
    headers: form ? { "content-type": "application/x-www-form-urlencoded", ...headers } : headers,
    params: id ? { id: decodeURIComponent(id) } : {},
    ...(form ? { body: { string: new URLSearchParams(form).toString() } } : {}),
  });
}

/** POSTs what the confirmation page's form would: the token (and hours) from the link. */
function confirm(url: string, name?: string): HttpRequest {
  const link = new URL(url);
  const form: Record<string, string> = { token: link.searchParams.get("token") ?? "" };
  if (link.searchParams.has("hours")) form.hours = link.searchParams.get("hours")!;
  if (name) form.name = name;
  return request("POST", `${link.origin}${link.pathname}`, form);
}

const handlers = { ack: httpAck, snooze: httpSnooze };
function call(url: string, req: HttpRequest): Promise<HttpResponseInit> {
  const handler = new URL(url).pathname.endsWith("/snooze") ? handlers.snooze : handlers.ack;
  return handler(req, context("link"));
}

async function status(): Promise<StatusReport> {
  const response = await httpStatus(request("GET", `${BASE}/api/status`), context("cmkStatus"));
  expect(response.status).toBe(200);
  return JSON.parse(String(response.body)) as StatusReport;
}

function incidentOf(report: StatusReport, name: string) {
  return report.incidents.find((i) => i.accountName === name);
}

function emailFor(name: string, subject: RegExp = /revoked\]/): SentEmail {
  const email = azure.sandbox.sentEmails().find((e) => e.subject.includes(name) && subject.test(e.subject));
  if (!email) throw new Error(`no email for ${name} matching ${subject}`);
  return email;
}

function linkIn(email: SentEmail, label: string): string {
  const match = new RegExp(`${label}: (\\S+)`).exec(email.plainText ?? "");
  if (!match) throw new Error(`no "${label}" link in ${email.subject}`);
  return match[1]!;
}

/** The same token, re-signed claims changed: what an attacker without the key can do. */
function tamper(url: string, change: (claims: Record<string, unknown>) => void): string {
  const link = new URL(url);
  const [payload, signature] = link.searchParams.get("token")!.split(".") as [string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  change(claims);
  link.searchParams.set("token", `${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`);
  return link.toString();
}

async function partitionRows(): Promise<Map<string, string>> {
  const client = TableClient.fromConnectionString(azure.azurite.connectionString, "cmkmonitor", { allowInsecureConnection: true });
  const rows = new Map<string, string>();
  for await (const row of client.listEntities()) rows.set(`${row.partitionKey}/${row.rowKey}`, row.etag);
  return rows;
}

const accounts: Record<string, string> = {};

beforeAll(async () => {
  azure = await startLocalAzure();
  for (const [name, owner] of [
    ["orders-db", "alice@contoso.com"],
    ["billing-db", "carol@contoso.com"],
    ["payments-db", "pat@contoso.com"],
  ] as const) {
    accounts[name] = azure.sandbox.putAccount({
      name,
      subscriptionId: SUB,
      resourceGroup: `rg-${name}`,
      keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: "9f3c2b1a-1111-2222-3333-444455556666" },
      tags: { "cmk-owner": owner },
      status: name === "billing-db" ? `${status4002} <script>alert("x")</script>` : status4002,
    });
  }
  Object.assign(
    process.env,
    sandboxEnvironment(azure.sandbox, azure.azurite, {
      CMK_SUBSCRIPTION_IDS: SUB,
      CMK_PUBLIC_BASE_URL: BASE,
      CMK_LINK_SIGNING_KEY: KEY,
    }),
  );
  setCompositionOverrides(sandboxOverrides(azure.sandbox, { clock: { now: () => now }, maxRetries: 0 }));
  at(0);
  await poll();
});

afterAll(async () => {
  setCompositionOverrides({});
  process.env = savedEnv;
  await azure?.stop();
});

describe("GET /api/status", () => {
  it("lists every open incident with its deadlines, counts by state and cause, and the last poll", async () => {
    const response = await httpStatus(request("GET", `${BASE}/api/status`), context("cmkStatus"));
    expect(response.headers).toMatchObject({
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    const report = JSON.parse(String(response.body)) as StatusReport;
    expect(report.generatedAt).toBe(start.toISOString());
    expect(report.counts).toEqual({
      open: 3,
      byState: { escalated: 0, revoked: 3, recovering: 0 },
      byCause: { "default-identity-unauthorized": 3 },
    });
    expect(report.lastCycle).toMatchObject({ finishedAt: start.toISOString(), durationInMs: 0, accountsSeen: 3, revokedSeen: 3, emailsSent: 3 });
    expect(incidentOf(report, "orders-db")).toEqual({
      id: expect.stringMatching(/^orders-db-20261129T0300Z-[0-9a-f]{8}$/),
      accountId: accounts["orders-db"],
      accountName: "orders-db",
      subscriptionId: SUB,
      resourceGroup: "rg-orders-db",
      state: "revoked",
      cause: "default-identity-unauthorized",
      causeTitle: expect.any(String),
      code: 4002,
      statusText: status4002,
      detectedAt: start.toISOString(),
      fixObservedAt: null,
      fixSource: null,
      fixAcknowledgedBy: null,
      expectedRecoveryBy: null,
      escalateAt: null,
      escalatedAt: null,
      nextReminderAt: "2026-11-29T04:00:00.000Z",
      remindersSnoozedUntil: null,
      reminderCount: 0,
      // Owner-fixable cause with no fix yet: only a reminder is scheduled.
      nextDeadline: { kind: "reminder", at: "2026-11-29T04:00:00.000Z" },
      // Not escalated, and CMK_SUPPORT_TICKETS is off.
      supportTicket: null,
      timeline: [{ seq: 1, at: start.toISOString(), type: "detected", detail: expect.stringContaining("Revoked") }],
    });
  });

  const ALLOWED_USER = "00000000-0000-0000-0000-00000000beef";
  const ALLOWED_GROUP = "00000000-0000-0000-0000-0000000a11ce";
  const OTHER = "00000000-0000-0000-0000-00000000bad0";
  /** What App Service Authentication puts in x-ms-client-principal: the token's claims, base64 JSON. */
  const principal = (claims: Array<{ typ: string; val: string }>) => Buffer.from(JSON.stringify({ auth_typ: "aad", claims })).toString("base64");

  it.each<[string, number, Record<string, string>]>([
    // App Service Authentication on, but the request carries no principal: refused.
    ["no principal", 401, {}],
    // Signed in, and on the allow-list.
    ["allowed principal", 200, { "x-ms-client-principal-id": ALLOWED_USER }],
    // Signed in, not on the list, but in a group that is.
    ["member of an allowed group", 200, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal([{ typ: "groups", val: ALLOWED_GROUP }]) }],
    // Signed in (anyone in the tenant can be), on no list.
    ["signed in, not allowed", 403, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal([{ typ: "groups", val: OTHER }]) }],
  ])("CMK_DASHBOARD_AUTH=anonymous behind App Service Authentication, %s → %i", async (_name, expected, headers) => {
    Object.assign(process.env, {
      CMK_DASHBOARD_AUTH: "anonymous",
      WEBSITE_AUTH_ENABLED: "True",
      CMK_DASHBOARD_ALLOWED_PRINCIPALS: `${ALLOWED_USER},${ALLOWED_GROUP}`,
    });
    try {
      for (const handler of [httpStatus, httpDashboard]) {
        const response = await handler(request("GET", `${BASE}/api/status`, undefined, headers), context("web"));
        expect(response.status).toBe(expected);
      }
    } finally {
      for (const name of ["CMK_DASHBOARD_AUTH", "WEBSITE_AUTH_ENABLED", "CMK_DASHBOARD_ALLOWED_PRINCIPALS"]) delete process.env[name];
    }
  });

  it("anonymous mode with App Service Authentication off is refused at start-up, forged header or not", async () => {
    // Without the module nothing strips x-ms-client-principal-id: any client could send it.
    Object.assign(process.env, { CMK_DASHBOARD_AUTH: "anonymous", CMK_DASHBOARD_ALLOWED_PRINCIPALS: ALLOWED_USER });
    try {
      for (const handler of [httpStatus, httpDashboard]) {
        await expect(
          handler(request("GET", `${BASE}/api/status`, undefined, { "x-ms-client-principal-id": ALLOWED_USER }), context("web")),
        ).rejects.toMatchObject({
          name: "ConfigurationError",
          message: expect.stringContaining("WEBSITE_AUTH_ENABLED"),
        });
      }
    } finally {
      for (const name of ["CMK_DASHBOARD_AUTH", "CMK_DASHBOARD_ALLOWED_PRINCIPALS"]) delete process.env[name];
    }
  });
});

describe("GET /api/dashboard", () => {
  it("is self-contained, escaped, and allows only its own nonce'd inline style and script", async () => {
    const response = await httpDashboard(request("GET", `${BASE}/api/dashboard`), context("cmkDashboard"));
    expect(response.status).toBe(200);
    const headers = response.headers as Record<string, string>;
    const body = String(response.body);
    const nonce = /script-src 'nonce-([^']+)'/.exec(headers["Content-Security-Policy"]!)?.[1];
    expect(nonce).toBeDefined();
    expect(headers["Content-Security-Policy"]).toContain("default-src 'none'");
    expect(headers).toMatchObject({ "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
    // Every script and style element carries the nonce; nothing is loaded from anywhere.
    expect([...body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual([`<script nonce="${nonce}">`]);
    expect([...body.matchAll(/<style\b[^>]*>/g)].map((m) => m[0])).toEqual([`<style nonce="${nonce}">`]);
    expect(body).not.toMatch(/\bsrc=|<link\b|https?:\/\/(?!learn\.microsoft)/);
    // Azure's status text is shown escaped, never as markup.
    expect(body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    for (const name of ["orders-db", "billing-db", "payments-db"]) expect(body).toContain(name);
  });
});

describe("the ack link", () => {
  it("is in the revoked email, beside the CLI fallback, and escaped in the HTML", () => {
    const email = emailFor("orders-db");
    const url = linkIn(email, "I have fixed it");
    expect(url).toMatch(new RegExp(`^${BASE}/api/incidents/orders-db-[^/]+/ack\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(email.plainText).toContain("cmk-monitor ack");
    expect(email.html).toContain(`href="${url.replace(/&/g, "&amp;")}"`);
  });

  it("GET shows a confirmation form and changes nothing (mail scanners pre-fetch links)", async () => {
    const url = linkIn(emailFor("orders-db"), "I have fixed it");
    const before = await partitionRows();
    const response = await call(url, request("GET", url));
    expect(response.status).toBe(200);
    expect(String(response.body)).toMatch(/<form method="post" action="ack">/);
    expect(String(response.body)).toContain("Yes, I have fixed it");
    expect(await partitionRows()).toEqual(before);
  });

  it.each<[string, (good: string) => string, number, string]>([
    // Claims changed without the key: the signature no longer matches.
    ["tampered expiry", (good) => tamper(good, (c) => (c.e = 9_999_999_999)), 403, "bad-signature"],
    // Pointing a genuine token at another account's partition is tampering too.
    ["tampered account", (good) => tamper(good, (c) => (c.a = accounts["billing-db"])), 403, "bad-signature"],
    // A good token under another incident's path.
    [
      "wrong incident in path",
      (good) => good.replace(/\/incidents\/orders-db-[^/]+\//, "/incidents/billing-db-20261129T0300Z-00000000/"),
      400,
      "wrong-incident",
    ],
    // The ack token on the snooze endpoint.
    ["wrong action", (good) => good.replace("/ack?", "/snooze?"), 400, "wrong-action"],
    // Cut short when copied from the email.
    ["truncated", (good) => good.slice(0, -10), 403, "bad-signature"],
    // No token at all.
    ["missing", (good) => good.replace(/\?.*$/, ""), 400, "malformed"],
    // Signed with the right key but already past its expiry.
    [
      "expired",
      (good) => {
        const id = /\/incidents\/([^/]+)\//.exec(good)![1]!;
        const claims = linkClaims({ id, accountId: accounts["orders-db"]! }, "ack", new Date(now.getTime() - 8 * 24 * HOUR));
        return linkUrl(BASE, claims, signLinkToken(claims, Buffer.from(KEY)));
      },
      410,
      "expired",
    ],
  ])("%s: a clear page, for GET and POST, and nothing changes", async (_name, make, expectedStatus, problem) => {
    const bad = make(linkIn(emailFor("orders-db"), "I have fixed it"));
    const before = await partitionRows();
    for (const req of [request("GET", bad), confirm(bad)]) {
      const response = await call(bad, req);
      expect(response.status).toBe(expectedStatus);
      expect(String(response.body)).toContain(`data-problem="${problem}"`);
      expect(String(response.body)).toContain("Nothing changed.");
    }
    expect(await partitionRows()).toEqual(before);
  });

  it("POST records the acknowledgment exactly as `cmk-monitor ack` does, and the link then works no more", async () => {
    at(20);
    const url = linkIn(emailFor("orders-db"), "I have fixed it");
    const response = await call(url, confirm(url, "Alice <alice@contoso.com>"));
    expect(response.status).toBe(200);
    expect(String(response.body)).toContain('id="result-state">recovering<');
    // The recovery clock starts at the ack: +60 min expected, +120 min escalation (cause policy).
    const orders = incidentOf(await status(), "orders-db")!;
    expect(orders).toMatchObject({
      state: "recovering",
      fixSource: "acknowledged",
      // The typed name is a claim; whom the link was sent to is signed into it.
      fixAcknowledgedBy: "Alice <alice@contoso.com> (email link sent to alice@contoso.com)",
      fixObservedAt: now.toISOString(),
      expectedRecoveryBy: new Date(now.getTime() + HOUR).toISOString(),
      escalateAt: new Date(now.getTime() + 2 * HOUR).toISOString(),
      nextDeadline: { kind: "expected-recovery", at: new Date(now.getTime() + HOUR).toISOString() },
    });
    // Owners hear at once, as with the CLI.
    expect(emailFor("orders-db", /recovering/).to).toEqual(["alice@contoso.com"]);

    // Reused: a clear page, and not a single row changes.
    const before = await partitionRows();
    for (const req of [confirm(url), request("GET", url)]) {
      const again = await call(url, req);
      expect(again.status).toBe(409);
      expect(String(again.body)).toContain('data-problem="reused"');
    }
    expect(await partitionRows()).toEqual(before);
  });

  it("the used-token row alone blocks a commit, even one with a fresh ETag", async () => {
    // A second writer that read the state after the first use still cannot spend the token again.
    const url = linkIn(emailFor("orders-db"), "I have fixed it");
    const nonce = (JSON.parse(Buffer.from(new URL(url).searchParams.get("token")!.split(".")[0]!, "base64url").toString()) as { n: string }).n;
    const { store } = getMonitorDeps();
    const record = await store.getRecord(accounts["orders-db"]!);
    const decision = decide(
      record.incident,
      { kind: "snoozed", until: new Date(now.getTime() + HOUR).toISOString(), by: "x" },
      now,
      lifecycleContext(getMonitorDeps().settings),
    );
    expect(decision.reasons).toEqual(["snoozed"]);
    const before = await partitionRows();
    await expect(store.commit(record, decision, { consumeLinkToken: { nonce, action: "ack", incidentId: record.incident!.id } })).rejects.toBeInstanceOf(
      StateConflictError,
    );
    expect(await partitionRows()).toEqual(before);
  });

  it("two clicks at once on the same link: one records, the other is told it was used", async () => {
    // The used-token row is committed with the state change, ETag-guarded: only one can win.
    const url = linkIn(emailFor("billing-db"), "I have fixed it");
    const results = await Promise.all([call(url, confirm(url)), call(url, confirm(url))]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const billing = incidentOf(await status(), "billing-db")!;
    expect(billing.state).toBe("recovering");
    expect(billing.timeline.filter((e) => e.type === "fix-acknowledged")).toHaveLength(1);
  });
});

describe("the snooze links", () => {
  it("pause reminders for the signed number of hours; reminders resume after", async () => {
    const email = emailFor("payments-db");
    const four = linkIn(email, "Snooze reminders for 4 hours");
    expect(linkIn(email, "Snooze reminders for 24 hours")).toContain("hours=24");

    // Changing hours=4 to hours=24 in the URL does not buy a longer snooze.
    const stretched = four.replace("hours=4", "hours=24");
    expect((await call(stretched, request("GET", stretched))).status).toBe(400);

    at(20);
    const page = await call(four, request("GET", four));
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain("Pause reminders for 4 hours");
    const response = await call(four, confirm(four));
    expect(response.status).toBe(200);
    const until = new Date(now.getTime() + 4 * HOUR).toISOString();
    const payments = incidentOf(await status(), "payments-db")!;
    expect(payments).toMatchObject({ state: "revoked", remindersSnoozedUntil: until, nextDeadline: { kind: "reminder", at: until } });
    expect((await call(four, confirm(four))).status).toBe(409);

    // The reminder due at minute 60 is held back while snoozed …
    const reminders = () => azure.sandbox.sentEmails().filter((e) => e.subject.includes("payments-db") && /reminder/.test(e.subject));
    at(65);
    await poll();
    expect(reminders()).toHaveLength(0);
    // … and goes out at the first poll after the snooze ends.
    at(20 + 4 * 60 + 5);
    await poll();
    expect(reminders()).toHaveLength(1);
    // The reminder carries fresh links too.
    expect(linkIn(reminders()[0]!, "I have fixed it")).toContain("/ack?token=");
  });
});

describe("re-sent emails", () => {
  it("a message retried after a failed send carries links that work", async () => {
    // Tokens are minted at send time, so the retry's links are as good as the first attempt's.
    accounts["late-db"] = azure.sandbox.putAccount({
      name: "late-db",
      subscriptionId: SUB,
      resourceGroup: "rg-late",
      keyVaultKeyUri: "https://kv-late.vault.azure.net/keys/cmk",
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: "9f3c2b1a-1111-2222-3333-444455556666" },
      tags: { "cmk-owner": "lee@contoso.com" },
      status: status4002,
    });
    azure.sandbox.injectFault({ route: "acs-send", status: 503, times: 1 });
    at(20 + 4 * 60 + 10);
    await poll();
    expect(azure.sandbox.sentEmails().filter((e) => e.subject.includes("late-db"))).toHaveLength(0);
    at(20 + 4 * 60 + 15);
    await poll();
    const url = linkIn(emailFor("late-db"), "I have fixed it");
    const page = await call(url, request("GET", url));
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain("Yes, I have fixed it");
  });
});

describe("the app-kept signing key", () => {
  it("without CMK_LINK_SIGNING_KEY, instances racing to create it all end up with the same key", async () => {
    const table = () => TableClient.fromConnectionString(azure.azurite.connectionString, "keyracemeta", { allowInsecureConnection: true });
    const keys = await Promise.all([1, 2, 3].map(() => new TableMonitorMeta(table()).linkSigningKey()));
    expect(keys[0]!.length).toBe(32);
    expect(keys.map((k) => k.toString("hex"))).toEqual(Array(3).fill(keys[0]!.toString("hex")));
    // And it stays the same for a later instance.
    expect((await new TableMonitorMeta(table()).linkSigningKey()).equals(keys[0]!)).toBe(true);
  });

  it("the heartbeat lives in its own table, never in an account's partition", async () => {
    // Status reads it from the meta table; the state table holds only incident rows.
    expect((await getMonitorDeps().heartbeat.lastCycle())?.finishedAt).toBe(now.toISOString());
    for (const key of (await partitionRows()).keys()) expect(key).toMatch(/^a-[0-9a-f]{40}\//);
  });
});
