/**
 * The retention sweep end to end: real monitor state in Azurite (sandbox ARM + ACS), an injected
 * clock moved past CMK_RETENTION_DAYS. An incident resolved before the window loses its events,
 * sent emails and used link token, keeps its summary (with its email count), and still shows in
 * `/api/incidents` and the dashboard's history; an open incident keeps everything; a stale daily
 * check goes; the sweep stays within its per-cycle budget and finishes on later cycles.
 */
import { applyLinkAction } from "../../src/app/applyLinkAction";
import { runCycle } from "../../src/app/runCycle";
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { linkClaims } from "../../src/domain/linkTokens";
import { startCycle } from "../../src/pipeline/cycleContext";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";
import { sweepRetention } from "../../src/pipeline/retention";
import type { Logger } from "../../src/ports/logger";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalWebServer, type LocalWebServer } from "../../src/web/localServer";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const SUB = "00000000-0000-0000-0000-0000000000dd";
const DAY = 86_400_000;
const T0 = Date.parse("2026-06-01T08:00:00.000Z");
const HEALTHY = "Access to the configured customer managed key confirmed.";
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let web: LocalWebServer;
let deps: MonitorDeps;
let now = new Date(T0);
const ids: Record<string, string> = {};

function account(name: string, status: string): void {
  ids[name] = azure.sandbox.putAccount({
    name,
    subscriptionId: SUB,
    resourceGroup: `rg-${name}`,
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: "9f3c2b1a-1111-2222-3333-444455556666" },
    tags: { "cmk-owner": `${name}@contoso.com` },
    status,
  });
}

const incidentOf = async (name: string) => (await deps.store.listIncidents({ accountId: ids[name]! }))[0]!;

describe("the retention sweep on Azurite", () => {
  let oldIncidentId: string;
  let nonce: string;

  beforeAll(async () => {
    azure = await startLocalAzure();
    web = await startLocalWebServer((url) => {
      const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_PUBLIC_BASE_URL: url, CMK_RETENTION_DAYS: "30" });
      deps = createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock: { now: () => now }, log: quiet, maxRetries: 0 }));
      return deps;
    });
    account("old-db", "Access to your account is currently revoked (4002).");
    account("open-db", "Access to your account is currently revoked (4002).");
    // Healthy, then removed from the fleet: its daily check is never refreshed again.
    account("gone-db", HEALTHY);
    await runCycle(deps);
    azure.sandbox.removeAccount("gone-db");

    // The owner acknowledges through the link (a used-token row), then the account recovers.
    now = new Date(T0 + 10 * 60_000);
    const incident = await incidentOf("old-db");
    oldIncidentId = incident.id;
    const claims = linkClaims(incident, "ack", now);
    nonce = claims.nonce;
    await expect(applyLinkAction(deps, claims, { kind: "acknowledged", by: "old-db@contoso.com" })).resolves.toMatchObject({ outcome: "applied" });
    azure.sandbox.setStatus("old-db", HEALTHY);
    now = new Date(T0 + 30 * 60_000);
    await runCycle(deps);
  }, 120_000);

  afterAll(async () => {
    await web?.stop();
    await azure?.stop();
  });

  it("keeps everything while the resolved incident is inside the window", async () => {
    // Preconditions the later assertions rely on: each kind of row exists before the sweep.
    now = new Date(T0 + 29 * DAY);
    await runCycle(deps);
    const old = await incidentOf("old-db");
    expect(old).toMatchObject({ state: "resolved" });
    expect(old.emailsSent).toBeUndefined();
    expect((await deps.store.listEvents(ids["old-db"]!, oldIncidentId)).length).toBeGreaterThan(2);
    expect((await deps.store.listMessages({ accountId: ids["old-db"]!, status: "sent" })).map((m) => m.message.kind)).toEqual([
      "revoked",
      "fix-acknowledged",
      "resolved",
    ]);
    await expect(deps.store.isLinkTokenUsed(ids["old-db"]!, nonce)).resolves.toBe(true);
    await expect(deps.warnings.getAccountCheck(ids["gone-db"]!)).resolves.toBeDefined();
  }, 60_000);

  it("past the window: prunes within the budget per cycle, then finishes on the next", async () => {
    now = new Date(T0 + 31 * DAY);
    // A budget of 2 writes: one summary and one delete, the rest left for later.
    const first = await sweepRetention(startCycle(deps, now), 2);
    expect(first).toMatchObject({ swept: true, written: 2 });
    expect(first.remaining).toBeGreaterThan(0);
    await runCycle(deps);
    // Finished: the next sweep the same day rests (reads and writes nothing).
    await expect(sweepRetention(startCycle(deps, now))).resolves.toEqual({ swept: false, written: 0, remaining: 0 });
  }, 60_000);

  it("the old incident keeps only its summary, with its email count", async () => {
    const old = await incidentOf("old-db");
    expect(old).toMatchObject({ id: oldIncidentId, state: "resolved", emailsSent: 3, fixSource: "acknowledged" });
    await expect(deps.store.listEvents(ids["old-db"]!, oldIncidentId)).resolves.toEqual([]);
    await expect(deps.store.listMessages({ accountId: ids["old-db"]! })).resolves.toEqual([]);
    await expect(deps.store.isLinkTokenUsed(ids["old-db"]!, nonce)).resolves.toBe(false);
    await expect(deps.warnings.getAccountCheck(ids["gone-db"]!)).resolves.toBeUndefined();
  });

  it("the open incident keeps its events and emails, however old", async () => {
    const open = await incidentOf("open-db");
    expect(open.state).not.toBe("resolved");
    expect((await deps.store.listEvents(ids["open-db"]!, open.id)).length).toBeGreaterThan(0);
    expect((await deps.store.listMessages({ accountId: ids["open-db"]! })).length).toBeGreaterThan(0);
  });

  it("the history views still show the pruned incident", async () => {
    const response = await fetch(`${web.url}/api/incidents?state=resolved`);
    const body = (await response.json()) as { incidents: Array<{ id: string; emailsSent: number | null; durationInMinutes: number | null }> };
    expect(body.incidents).toEqual([expect.objectContaining({ id: oldIncidentId, emailsSent: 3, durationInMinutes: 30 })]);
    // The account's page says what was pruned rather than showing an empty story.
    const page = await (await fetch(`${web.url}/api/dashboard/accounts/${SUB}/rg-old-db/old-db`)).text();
    expect(page).toContain(oldIncidentId);
    expect(page).toContain("Pruned after the retention period: 3 email(s) were sent");
    // The dashboard's 90-day durations by cause still count it beside the open incident of the same cause.
    const dashboard = await (await fetch(`${web.url}/api/dashboard?days=90`)).text();
    const durations = dashboard.slice(dashboard.indexOf('id="durations-by-cause"'));
    expect(durations).toMatch(/<tr data-cause="default-identity-unauthorized"><td>[^<]+<\/td><td>2<\/td>/);
  });
});
