/**
 * `npm run bench:operator-view -- [--accounts 10000] [--incidents 5000] [--open-share 0.02]`
 * How long the status report and the dashboard take to build and render, and how large they are,
 * for a fleet of that size: the pure part of GET /api/status and /api/dashboard (the store reads,
 * two range queries plus the open incidents' events, are the bench's other half: bench/run.ts).
 */
import { parseArgs } from "node:util";
import type { CmkAccount } from "../src/domain/account";
import type { Incident, IncidentEvent } from "../src/domain/incident";
import type { CheckedAccount } from "../src/domain/warnings";
import type { CycleHeartbeat } from "../src/ports/heartbeat";
import { renderDashboard } from "../src/web/dashboardPage";
import { buildStatusReport } from "../src/web/statusReport";

const DAY = 86_400_000;

export interface OperatorViewResult {
  accounts: number;
  incidents: number;
  open: number;
  statusBuildInMs: number;
  statusJsonBytes: number;
  dashboardRenderInMs: number;
  dashboardBytes: number;
}

export function benchOperatorView(accounts: number, incidents: number, openShare: number, now = new Date("2026-11-29T12:00:00.000Z")): OperatorViewResult {
  const sub = (i: number) => `00000000-0000-0000-0000-${String(i % 1000).padStart(12, "0")}`;
  const account = (i: number): CmkAccount => ({
    id: `/subscriptions/${sub(i)}/resourceGroups/rg-${i % 300}/providers/Microsoft.DocumentDB/databaseAccounts/acct-${i}`,
    name: `acct-${i}`,
    subscriptionId: sub(i),
    resourceGroup: `rg-${i % 300}`,
    keyVaultKeyUri: `https://kv-${i % 500}.vault.azure.net/keys/cmk`,
    userAssignedIdentities: {},
    tags: { "cmk-owner": `team-${i % 50}@contoso.com` },
  });
  const open = Math.round(incidents * openShare);
  const all: Incident[] = [];
  for (let n = 0; n < incidents; n++) {
    const a = account(n % accounts);
    const detected = new Date(now.getTime() - ((n * 7919) % (90 * DAY)));
    const isOpen = n < open;
    all.push({
      id: `${a.name}-${n}`,
      accountId: a.id,
      state: isOpen ? (["revoked", "recovering", "escalated"] as const)[n % 3] : "resolved",
      cause: (["default-identity-unauthorized", "key-disabled-or-expired", "service-side-outage"] as const)[n % 3],
      code: 4002,
      statusText: "Access to your account is currently revoked (4002).",
      detectedAt: detected.toISOString(),
      fixObservedAt: new Date(detected.getTime() + ((n % 120) + 5) * 60_000).toISOString(),
      fixSource: "acknowledged",
      clockStartedAt: new Date(detected.getTime() + ((n % 120) + 5) * 60_000).toISOString(),
      ...(isOpen ? {} : { resolvedAt: new Date(detected.getTime() + ((n % 240) + 60) * 60_000).toISOString(), resolution: "recovered" as const }),
      reminderCount: 1,
      notified: [],
      account: a,
      eventCount: 4,
    });
  }
  const events = (incident: Incident): IncidentEvent[] =>
    [1, 2, 3, 4].map((seq) => ({ incidentId: incident.id, seq, at: incident.detectedAt, type: "reminded", cause: incident.cause, detail: `Reminder ${seq}` }));
  const checks: CheckedAccount[] = [];
  for (let i = 0; i < accounts; i++) {
    const a = account(i);
    checks.push({
      accountId: a.id,
      accountName: a.name,
      subscriptionId: a.subscriptionId,
      resourceGroup: a.resourceGroup,
      checkedOn: "2026-11-29",
      checkedAt: "2026-11-29T06:00:00.000Z",
      findings:
        i % 20 === 0 ? [{ kind: "key-expires-soon", severity: "medium", title: "Key expires in 20 days", detail: "", commands: [], fingerprint: "x" }] : [],
    });
  }
  const lastCycle: CycleHeartbeat = {
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    durationInMs: 60_000,
    accountsSeen: accounts,
    revokedSeen: open,
    changes: 0,
    emailsSent: 0,
    emailsRetrying: 0,
    subscriptionsFailed: 0,
  };
  const started = performance.now();
  const report = buildStatusReport(
    {
      open: all.filter((i) => i.state !== "resolved").map((incident) => ({ incident, events: events(incident) })),
      all,
      checks,
      sentTimes: [],
      lastCycle,
      filter: {},
      historyDays: 90,
      options: { pollIntervalInMinutes: 5, ownerTag: "cmk-owner", allowedRecipientDomains: [] },
    },
    now,
  );
  const built = performance.now();
  const json = JSON.stringify(report, null, 2);
  const rendering = performance.now();
  const page = renderDashboard(report, { nonce: "bench" }).html;
  const rendered = performance.now();
  return {
    accounts,
    incidents,
    open,
    statusBuildInMs: Math.round(built - started),
    statusJsonBytes: Buffer.byteLength(json),
    dashboardRenderInMs: Math.round(rendered - rendering),
    dashboardBytes: Buffer.byteLength(page),
  };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      accounts: { type: "string", default: "10000" },
      incidents: { type: "string", default: "5000" },
      "open-share": { type: "string", default: "0.02" },
    },
  });
  const result = benchOperatorView(Number(values.accounts), Number(values.incidents), Number(values["open-share"]));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
