/**
 * The pull catch-up against the sandbox (ARM, Key Vault, Resource Graph's `resourcechanges`, ACS)
 * and Azurite, with Azure's change events switched off (taken from the sandbox and dropped): a
 * permission removed from a healthy account is emailed within one CMK_CHANGES_INTERVAL_MINUTES, the
 * sandbox's Resource Graph showing the change minutes late; overlapping windows and two instances
 * running at once send nothing twice, and a window past the 14-day retention is clamped and reported.
 * On an RBAC vault the permission is a role assignment, which `resourcechanges` does not carry: the
 * catch-up's `authorizationresources` read finds its removal the same way, within one interval.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { catchUpChanges } from "../../src/app/catchUpChanges";
import { runCycle } from "../../src/app/runCycle";
import { DEFAULT_CHANGE_LAG_IN_MS, DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS } from "../../src/sandbox/resourceGraphRoutes";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import type { Logger } from "../../src/ports/logger";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import { healthyAccountSpec, subjectsTo } from "../support/sandboxAccounts";

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;
const INTERVAL = 15;

let azure: LocalAzure;
let now = new Date("2026-12-01T09:00:00.000Z");
const clock = { now: () => now };
let tables = 0;

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.setClock(() => now);
});
afterAll(async () => {
  await azure?.stop();
});

/** One monitor instance; `table` shares the state (and meta) table with another instance. */
function monitor(subscriptionId: string, table = `catchup${++tables}`): MonitorDeps {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, {
    CMK_SUBSCRIPTION_IDS: subscriptionId,
    CMK_STATE_TABLE: table,
    CMK_CHANGES_INTERVAL_MINUTES: String(INTERVAL),
  });
  return createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 }));
}

function healthyAccount(name: string, subscriptionId: string, owner: string, principalId: string): string {
  const id = azure.sandbox.putAccount(healthyAccountSpec(name, subscriptionId, owner, principalId));
  // Setting the account up (its access policy) is not a change anyone made.
  azure.sandbox.changeFeed.take();
  azure.sandbox.changeFeed.clearHistory();
  return id;
}

/** A healthy account whose vault grants by RBAC: the default identity's permission is one role assignment on the key. */
function healthyRbacAccount(name: string, subscriptionId: string, owner: string, principalId: string): string {
  const vault = `kv-${name}`;
  azure.sandbox.keyVault.createVault({ name: vault, subscriptionId, resourceGroup: `rg-${name}`, permissionModel: "rbac" });
  azure.sandbox.keyVault.createKey(vault, "cmk");
  azure.sandbox.keyVault.grantPermission(vault, principalId, "rbac", { keyName: "cmk" });
  const id = azure.sandbox.putAccount(healthyAccountSpec(name, subscriptionId, owner, principalId, "none"));
  // Setting the world up is not a change: no history, no events, and Resource Graph already shows the assignment.
  azure.sandbox.keyVault.settleRoleAssignments();
  azure.sandbox.changeFeed.take();
  azure.sandbox.changeFeed.clearHistory();
  return id;
}

function subjects(address: string): string[] {
  return subjectsTo(azure.sandbox, address);
}

/** What the poll timer does every 5 minutes: the cycle, then the catch-up when it is due. */
async function tick(deps: MonitorDeps) {
  await runCycle(deps);
  return catchUpChanges(deps);
}

describe("change catch-up (events off)", () => {
  it("permission removed at minute 15 → at-risk email within one interval; later windows and a second instance send nothing more", async () => {
    const sub = "00000000-0000-0000-0000-00000000d101";
    const owner = "owner-d101@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000d101";
    healthyAccount("pay-d101", sub, owner, principal);
    const table = `catchup${++tables}`;
    const deps = monitor(sub, table);
    const other = monitor(sub, table);
    const start = now;
    const at = (minute: number) => (now = new Date(start.getTime() + minute * MINUTE));

    // Minute 0: the first poll checks the account and indexes its vault; the first catch-up reads one interval back.
    // An access-policy vault: its permission is in the vault's own changes, so no role assignments are watched.
    expect(await tick(deps)).toMatchObject({ outcome: "done", rows: 0, advanced: true, roles: { watched: 0 } });
    azure.sandbox.changeFeed.take();

    at(15);
    azure.sandbox.keyVault.removePermission("kv-pay-d101", principal);
    // Events off: Event Grid never delivers them.
    azure.sandbox.changeFeed.take();
    // Minute 15: due, but Resource Graph does not show the change yet (the sandbox's lag).
    expect(await tick(deps)).toMatchObject({ outcome: "done", rows: 0 });
    at(20);
    expect(await tick(deps)).toMatchObject({ outcome: "not-due" });
    at(25);
    expect(await tick(deps)).toMatchObject({ outcome: "not-due" });
    expect(subjects(owner)).toEqual([]);

    // Minute 30, one interval after the change: the window (10, 30] shows it; both instances run at once.
    at(30);
    await runCycle(deps);
    const [mine, theirs] = await Promise.all([catchUpChanges(deps), catchUpChanges(other)]);
    expect(subjects(owner)).toEqual(["[CMK at risk] pay-d101: Default identity lacks permission on the key"]);
    // Exactly one moved the watermark (ETag-guarded); the other's advance was refused, not overwritten.
    expect([mine.advanced, theirs.advanced].sort()).toEqual([false, true]);
    // Between them, one re-check and one email: the other found the account claimed or its warning recorded.
    expect(mine.recheck.atRiskEmails + theirs.recheck.atRiskEmails).toBe(1);

    // Minute 45: the next window reaches an hour back and reads the change again, but the re-check
    // that started at minute 30 came after it: nothing is re-checked.
    at(45);
    expect(await tick(deps)).toMatchObject({ outcome: "done", relevant: 1, recheck: { rechecked: 0, coalesced: 1 } });
    expect(subjects(owner)).toHaveLength(1);
    expect(azure.sandbox.emailRepeats().filter((e) => e.to.includes(owner))).toHaveLength(0);
  });

  it("RBAC vault: role assignment removed at minute 15 → at-risk email within one interval; replays and a second instance send nothing more", async () => {
    const sub = "00000000-0000-0000-0000-00000000d601";
    const owner = "owner-d601@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000d601";
    healthyRbacAccount("pay-d601", sub, owner, principal);
    const table = `catchup${++tables}`;
    const deps = monitor(sub, table);
    const other = monitor(sub, table);
    const start = now;
    const at = (minute: number) => (now = new Date(start.getTime() + minute * MINUTE));

    // Minute 0: the poll indexes the account with its RBAC principal; the catch-up records its assignments without a re-check.
    expect(await tick(deps)).toMatchObject({ outcome: "done", roles: { watched: 1, changed: 0, firstSight: 1 }, recheck: { rechecked: 0 } });
    const firstSeen = await deps.fleetIndex.roleFingerprints();
    azure.sandbox.changeFeed.take();

    at(15);
    azure.sandbox.keyVault.removePermission("kv-pay-d601", principal, "rbac");
    // Events off: Event Grid never delivers them.
    azure.sandbox.changeFeed.take();
    // Minute 15: due, but Resource Graph still shows the assignment (the sandbox's lag); resourcechanges has nothing on the vault.
    expect(await tick(deps)).toMatchObject({ outcome: "done", relevant: 0, roles: { watched: 1, changed: 0, firstSight: 0 } });
    at(20);
    expect(await tick(deps)).toMatchObject({ outcome: "not-due" });
    at(25);
    expect(await tick(deps)).toMatchObject({ outcome: "not-due" });
    expect(subjects(owner)).toEqual([]);

    // Minute 30, one interval after the removal (and past the lag): both instances run at once; one email between them.
    expect(15 * MINUTE).toBeGreaterThan(DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS);
    at(30);
    await runCycle(deps);
    const [mine, theirs] = await Promise.all([catchUpChanges(deps), catchUpChanges(other)]);
    expect(subjects(owner)).toEqual(["[CMK at risk] pay-d601: Default identity lacks permission on the key"]);
    // Found by the role-assignment read, not by resourcechanges (which never shows the assignment's removal on the vault).
    expect([mine.relevant, theirs.relevant]).toEqual([0, 0]);
    expect(mine.roles.changed + theirs.roles.changed).toBeGreaterThanOrEqual(1);
    expect(mine.recheck.atRiskEmails + theirs.recheck.atRiskEmails).toBe(1);

    // Minute 45: the new fingerprint is stored, so nothing has changed and nothing is re-checked.
    at(45);
    expect(await tick(deps)).toMatchObject({ outcome: "done", roles: { changed: 0 }, recheck: { rechecked: 0 } });

    // A replay from before the record (the old fingerprint put back, as if a run died after its re-check): re-checked, not re-sent.
    const [current] = await deps.fleetIndex.roleFingerprints();
    expect(await deps.fleetIndex.recordRoleFingerprint(firstSeen[0]!, current)).toBe(true);
    const read = await deps.changes!.watermark.readChangeWatermark();
    await deps.changes!.watermark.advanceChangeWatermark(read, start.toISOString());
    expect(await catchUpChanges(deps)).toMatchObject({ roles: { changed: 1 }, recheck: { atRiskEmails: 0 } });
    expect(subjects(owner)).toHaveLength(1);
    expect(azure.sandbox.emailRepeats().filter((e) => e.to.includes(owner))).toHaveLength(0);
  });

  it("a change Resource Graph shows 40 minutes late is still read: the window reaches an hour back", async () => {
    const sub = "00000000-0000-0000-0000-00000000d501";
    const owner = "owner-d501@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000d501";
    healthyAccount("pay-d501", sub, owner, principal);
    const deps = monitor(sub);
    const start = now;
    const at = (minute: number) => (now = new Date(start.getTime() + minute * MINUTE));
    azure.sandbox.resourceGraph.setChangeLag(40 * MINUTE);
    try {
      // Minute 0: the first poll indexes the vault; the first catch-up sets the watermark.
      expect(await tick(deps)).toMatchObject({ outcome: "done", advanced: true });
      azure.sandbox.changeFeed.take();
      at(5);
      azure.sandbox.keyVault.removePermission("kv-pay-d501", principal);
      azure.sandbox.changeFeed.take();
      // Minutes 16 and 31: the watermark moves past the change while Resource Graph does not show it yet.
      for (const minute of [16, 31]) {
        at(minute);
        expect(await catchUpChanges(deps)).toMatchObject({ outcome: "done", relevant: 0, advanced: true });
      }
      expect(subjects(owner)).toEqual([]);
      // Minute 46: it shows now (45 minutes after it was made), behind the watermark but inside the overlap.
      at(46);
      expect(await catchUpChanges(deps)).toMatchObject({ outcome: "done", relevant: 1, recheck: { rechecked: 1 } });
      expect(subjects(owner)).toEqual(["[CMK at risk] pay-d501: Default identity lacks permission on the key"]);
    } finally {
      azure.sandbox.resourceGraph.setChangeLag(DEFAULT_CHANGE_LAG_IN_MS);
    }
  });

  it("a window replayed over the same change re-checks nothing and sends nothing", async () => {
    const sub = "00000000-0000-0000-0000-00000000d201";
    const owner = "owner-d201@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000d201";
    healthyAccount("pay-d201", sub, owner, principal);
    const deps = monitor(sub);
    const start = now;
    await tick(deps);
    now = new Date(start.getTime() + 1 * MINUTE);
    azure.sandbox.keyVault.removePermission("kv-pay-d201", principal);
    azure.sandbox.changeFeed.take();
    now = new Date(start.getTime() + 16 * MINUTE);
    expect((await catchUpChanges(deps)).recheck).toMatchObject({ rechecked: 1, atRiskEmails: 1 });

    // The watermark put back (a restored row, a crash before the advance): the same window is read again.
    const read = await deps.changes!.watermark.readChangeWatermark();
    expect(await deps.changes!.watermark.advanceChangeWatermark(read, start.toISOString())).toBe(true);
    const replay = await catchUpChanges(deps);
    // The change is read again and coalesced by the re-check claim: no probe, no email.
    expect(replay).toMatchObject({ outcome: "done", relevant: 1, recheck: { rechecked: 0, coalesced: 1, atRiskEmails: 0 } });
    expect(subjects(owner)).toHaveLength(1);
  });

  it("an account that cannot be read holds the watermark at its change; the next run re-checks it and warns once", async () => {
    const sub = "00000000-0000-0000-0000-00000000d401";
    const owner = "owner-d401@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000d401";
    healthyAccount("pay-d401", sub, owner, principal);
    const deps = monitor(sub);
    const start = now;
    await tick(deps);
    now = new Date(start.getTime() + 1 * MINUTE);
    const changedAt = now.toISOString();
    azure.sandbox.keyVault.removePermission("kv-pay-d401", principal);
    azure.sandbox.changeFeed.take();

    // ARM fails the account's GET once: the change is read but the account is not re-checked.
    now = new Date(start.getTime() + 16 * MINUTE);
    azure.sandbox.injectFault({ route: "arm-get", status: 503, times: 1 });
    const failed = await catchUpChanges(deps);
    expect(failed).toMatchObject({ relevant: 1, recheck: { rechecked: 0, failed: 1, atRiskEmails: 0 }, watermark: changedAt });
    expect(subjects(owner)).toEqual([]);

    // One interval after the held watermark, the window starts before the change again; its claim was given back.
    now = new Date(start.getTime() + 31 * MINUTE);
    expect(await catchUpChanges(deps)).toMatchObject({ relevant: 1, recheck: { rechecked: 1, failed: 0, atRiskEmails: 1 }, watermark: now.toISOString() });
    expect(subjects(owner)).toHaveLength(1);
  });

  it("a watermark older than the 14-day retention is clamped and the gap reported on the heartbeat", async () => {
    const sub = "00000000-0000-0000-0000-00000000d301";
    healthyAccount("pay-d301", sub, "owner-d301@contoso.com", "5c0ffee0-0000-4000-8000-00000000d301");
    const deps = monitor(sub);
    await runCycle(deps);
    // The app was stopped for 20 days.
    const read = await deps.changes!.watermark.readChangeWatermark();
    await deps.changes!.watermark.advanceChangeWatermark(read, new Date(now.getTime() - 20 * 24 * 60 * MINUTE).toISOString());
    const outcome = await catchUpChanges(deps);
    const oldest = new Date(now.getTime() - 14 * 24 * 60 * MINUTE).toISOString();
    expect(outcome.window).toEqual({ from: oldest, to: now.toISOString(), clamped: true });
    expect((await deps.heartbeat.lastCycle())?.changeCatchUp).toEqual({ watermark: now.toISOString(), gapBefore: oldest });
  });
});
