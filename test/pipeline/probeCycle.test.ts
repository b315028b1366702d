/**
 * Full cycles with the probes, against the sandbox (ARM, Key Vault, authorization, ACS) and
 * Azurite: the fix is seen without an acknowledgment and starts the clock, a fix undone is
 * reported, and healthy accounts get one warning digest per recipient per day.
 */
import { TableClient } from "@azure/data-tables";
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import type { SentEmail } from "../../src/sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const status = (code: number) =>
  `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let azure: LocalAzure;
let now = new Date("2026-11-29T05:00:00.000Z");
const clock = { now: () => now };
let tables = 0;

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.setClock(() => now);
});
afterAll(async () => {
  await azure?.stop();
});

function monitor(subscriptionId: string, extra: Record<string, string> = {}): { deps: MonitorDeps; table: string } {
  const table = `probecycle${++tables}`;
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: subscriptionId, CMK_STATE_TABLE: table, ...extra });
  return { deps: createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 })), table };
}

function account(name: string, subscriptionId: string, code: number | "healthy", owner: string, principalId: string): string {
  return azure.sandbox.putAccount({
    name,
    subscriptionId,
    resourceGroup: `rg-${name}`,
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId },
    tags: { "cmk-owner": owner },
    status: code === "healthy" ? HEALTHY : status(code),
    // A revoked account starts with the fact its code is about broken (4002: no permission…).
    keyVault: "match-status",
  });
}

function sentTo(address: string): SentEmail[] {
  return azure.sandbox.sentEmails().filter((e) => e.to.includes(address));
}

function subjects(address: string): string[] {
  return sentTo(address).map((e) => e.subject);
}

async function at(minutesFromStart: number, start: Date, deps: MonitorDeps): Promise<void> {
  now = new Date(start.getTime() + minutesFromStart * MINUTE);
  await runCycle(deps);
}

async function snapshot(table: string): Promise<Map<string, string>> {
  const client = TableClient.fromConnectionString(azure.azurite.connectionString, table, { allowInsecureConnection: true });
  const rows = new Map<string, string>();
  for await (const row of client.listEntities()) rows.set(`${row.partitionKey}/${row.rowKey}`, row.etag);
  return rows;
}

describe("fix observed by the monitor", () => {
  it("4002: permission granted at minute 20 → 'fix confirmed' at 20, escalation at 140 if Azure never recovers", async () => {
    // Nobody acknowledges anything: the probes see the access policy and the clock starts then.
    const sub = "00000000-0000-0000-0000-00000000a101";
    const owner = "owner-a101@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000a101";
    account("orders-a101", sub, 4002, owner, principal);
    const { deps } = monitor(sub);
    const start = now;

    await at(0, start, deps);
    expect(subjects(owner)).toEqual(["[CMK revoked] orders-a101: Default identity has no permission on the key (4002)"]);
    const first = sentTo(owner)[0]!;
    for (const body of [first.plainText!, first.html!]) {
      expect(body).toContain("What we checked");
      expect(body).toContain(`The vault uses access policies and has no access policy for principal ${principal}.`);
      // The exact fix, narrowed by what was found: this vault, this resource group, this principal.
      expect(body).toContain(
        `az keyvault set-policy --name kv-orders-a101 --resource-group rg-orders-a101 --subscription ${sub} --object-id ${principal} --key-permissions get wrapKey unwrapKey`,
      );
    }

    await at(10, start, deps);
    azure.sandbox.keyVault.grantPermission("kv-orders-a101", principal, "access-policy");
    await at(20, start, deps);
    const fix = sentTo(owner)[1]!;
    expect(fix.subject).toBe("[CMK recovering, fix confirmed] orders-a101: Default identity has no permission on the key (4002)");
    const expected = new Date(start.getTime() + 80 * MINUTE).toISOString().slice(0, 16).replace("T", " ");
    const escalate = new Date(start.getTime() + 140 * MINUTE).toISOString().slice(0, 16).replace("T", " ");
    expect(fix.plainText).toContain(`Expected recovery by:     ${expected} UTC`);
    expect(fix.plainText).toContain(`Escalation to support at: ${escalate} UTC`);
    expect(fix.plainText).toContain("no acknowledgment was needed");

    // Still revoked: nothing until the deadline that follows from the observed fix, then support.
    await at(139, start, deps);
    expect(sentTo(owner)).toHaveLength(2);
    await at(141, start, deps);
    const escalation = azure.sandbox.sentEmails().find((e) => e.subject.startsWith("[CMK escalation] orders-a101"))!;
    expect(escalation.plainText).toMatch(/Fix observed: permission granted: the vault's access policy for principal/);
    expect(escalation.plainText).toContain("What we checked");
    expect(escalation.cc).toEqual([owner]);
    expect(azure.sandbox.sentEmails().filter((e) => e.subject.includes("orders-a101"))).toHaveLength(3);
  });

  it("4003: key recovered → fix observed; Azure confirms → resolved; exactly three emails", async () => {
    const sub = "00000000-0000-0000-0000-00000000a102";
    const owner = "owner-a102@contoso.com";
    account("orders-a102", sub, 4003, owner, "5c0ffee0-0000-4000-8000-00000000a102");
    const { deps } = monitor(sub);
    const start = now;

    await at(0, start, deps);
    expect(sentTo(owner)[0]!.plainText).toMatch(/Key cmk in vault kv-orders-a102 was deleted on .* and can be recovered until .*\./);
    expect(sentTo(owner)[0]!.plainText).toContain("az keyvault key recover --vault-name kv-orders-a102 --name cmk");

    azure.sandbox.keyVault.recoverKey("kv-orders-a102", "cmk");
    await at(15, start, deps);
    azure.sandbox.setStatus("orders-a102", HEALTHY);
    await at(50, start, deps);
    await at(55, start, deps);
    expect(subjects(owner).map((s) => s.replace(/:.*/, ""))).toEqual([
      "[CMK revoked] orders-a102",
      "[CMK recovering, fix confirmed] orders-a102",
      "[CMK recovered] orders-a102",
    ]);
  });

  it("a fix undone is reported and reminders resume", async () => {
    // Someone grants the permission and a policy removes it again ten minutes later.
    const sub = "00000000-0000-0000-0000-00000000a103";
    const owner = "owner-a103@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000a103";
    account("orders-a103", sub, 4002, owner, principal);
    const { deps } = monitor(sub);
    const start = now;

    await at(0, start, deps);
    azure.sandbox.keyVault.grantPermission("kv-orders-a103", principal, "access-policy");
    await at(10, start, deps);
    azure.sandbox.keyVault.removePermission("kv-orders-a103", principal, "access-policy");
    await at(20, start, deps);
    await at(79, start, deps);
    await at(81, start, deps);
    expect(subjects(owner).map((s) => s.replace(/\] .*/, "]"))).toEqual([
      "[CMK revoked]",
      "[CMK recovering, fix confirmed]",
      "[CMK revoked again, fix undone]",
      "[CMK still revoked, reminder 1]",
    ]);
    expect(sentTo(owner)[2]!.plainText).toContain(`has no access policy for principal ${principal}`);
  });
});

describe("daily warning digest", () => {
  it("one digest per recipient per day, nothing when nothing changed, resolved warnings reported once", async () => {
    const sub = "00000000-0000-0000-0000-00000000a201";
    const alice = "alice-a201@contoso.com";
    const bob = "bob-a201@contoso.com";
    account("pay-a201", sub, "healthy", alice, "5c0ffee0-0000-4000-8000-00000000a201");
    account("inv-a201", sub, "healthy", `${alice}; ${bob}`, "5c0ffee0-0000-4000-8000-00000000a202");
    account("ok-a201", sub, "healthy", bob, "5c0ffee0-0000-4000-8000-00000000a203");
    const { deps, table } = monitor(sub);
    now = new Date("2026-12-01T06:00:00.000Z");
    azure.sandbox.keyVault.setKeyExpiry("kv-pay-a201", "cmk", new Date(now.getTime() + 10 * DAY));
    azure.sandbox.keyVault.setPurgeProtection("kv-inv-a201", false);
    const start = now;

    await at(0, start, deps);
    expect(subjects(alice)).toEqual(["[CMK warnings] 2026-12-01: 2 warnings on 2 accounts"]);
    expect(subjects(bob)).toEqual(["[CMK warnings] 2026-12-01: 1 warning on 1 account"]);
    const digest = sentTo(alice)[0]!;
    expect(digest.plainText).toContain("Key expires in 10 days (new)");
    expect(digest.plainText).toContain("az keyvault key set-attributes --vault-name kv-pay-a201 --name cmk --expires <new-expiry-utc>");
    expect(digest.plainText).toContain("Purge protection is off (new)");
    expect(digest.plainText).not.toContain("ok-a201");

    // The rest of the day: each cycle reads the check list and writes nothing (after the digests' one
    // final-status read, which the first drain five minutes on records on their outbox rows).
    await at(5, start, deps);
    const before = await snapshot(table);
    await at(10, start, deps);
    await at(600, start, deps);
    expect(await snapshot(table)).toEqual(before);

    // Next day, nothing changed: probed again, no email.
    await at(DAY / MINUTE, start, deps);
    expect(sentTo(alice)).toHaveLength(1);

    // The owner moves the expiry out of the window: reported once as resolved, then silence.
    azure.sandbox.keyVault.setKeyExpiry("kv-pay-a201", "cmk", new Date(start.getTime() + 400 * DAY));
    await at((2 * DAY) / MINUTE, start, deps);
    await at((3 * DAY) / MINUTE, start, deps);
    expect(subjects(alice)).toEqual(["[CMK warnings] 2026-12-01: 2 warnings on 2 accounts", "[CMK warnings] 2026-12-03: 1 warning on 1 account"]);
    expect(sentTo(alice)[1]!.plainText).toMatch(/Resolved since the last digest[\s\S]*pay-a201 \| Key expires in 10 days/);
    expect(subjects(bob)).toHaveLength(1);
  });

  it("two instances at once: one at-risk email per urgent finding, one digest per recipient, then 'resolved' once", async () => {
    // The at-risk key (account + kind + first seen), the digest key (recipient + UTC date) and the ETags make the race harmless.
    const sub = "00000000-0000-0000-0000-00000000a301";
    const carol = "carol-a301@contoso.com";
    account("pay-a301", sub, "healthy", carol, "5c0ffee0-0000-4000-8000-00000000a301");
    azure.sandbox.keyVault.setKeyEnabled("kv-pay-a301", "cmk", false);
    azure.sandbox.keyVault.setPurgeProtection("kv-pay-a301", false);
    const table = `probecycle${++tables}`;
    const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: sub, CMK_STATE_TABLE: table });
    const instances = [0, 1].map(() => createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 })));
    now = new Date("2026-12-10T06:00:00.000Z");
    await Promise.all(instances.map((deps) => runCycle(deps)));
    now = new Date(now.getTime() + 10 * MINUTE);
    await Promise.all(instances.map((deps) => runCycle(deps)));
    // The disabled key goes out at once on its own; purge protection (slow-burning) stays in the digest.
    expect(subjects(carol).sort()).toEqual(["[CMK at risk] pay-a301: Key is disabled", "[CMK warnings] 2026-12-10: 1 warning on 1 account"]);
    const warning = sentTo(carol).find((e) => e.subject.startsWith("[CMK at risk]"))!;
    expect(warning.plainText).toContain("az keyvault key set-attributes --vault-name kv-pay-a301 --name cmk --enabled true");
    // The owner enables the key again: the next day's check reports it resolved, once.
    azure.sandbox.keyVault.setKeyEnabled("kv-pay-a301", "cmk", true);
    now = new Date(now.getTime() + DAY);
    await Promise.all(instances.map((deps) => runCycle(deps)));
    now = new Date(now.getTime() + 10 * MINUTE);
    await Promise.all(instances.map((deps) => runCycle(deps)));
    expect(subjects(carol).filter((s) => s.startsWith("[CMK at risk"))).toEqual([
      "[CMK at risk] pay-a301: Key is disabled",
      "[CMK at risk, resolved] pay-a301: Key is disabled",
    ]);
    expect(azure.sandbox.emailRepeats().filter((e) => e.to.includes(carol))).toHaveLength(0);
  });

  it("permission removed from a healthy account → at-risk email; Azure revokes later → the revocation says 'we warned at'", async () => {
    // The warning is worth sending only if the incident that follows links back to it.
    const sub = "00000000-0000-0000-0000-00000000a501";
    const erin = "erin-a501@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000a501";
    account("pay-a501", sub, "healthy", erin, principal);
    const { deps } = monitor(sub);
    const start = new Date("2026-12-15T09:12:00.000Z");
    azure.sandbox.keyVault.removePermission("kv-pay-a501", principal);
    await at(0, start, deps);
    await at(5, start, deps);
    expect(subjects(erin)).toEqual(["[CMK at risk] pay-a501: Default identity lacks permission on the key"]);
    // Cosmos DB notices an hour later.
    azure.sandbox.setStatus("pay-a501", status(4002));
    await at(60, start, deps);
    await at(65, start, deps);
    expect(subjects(erin)[1]).toBe("[CMK revoked] pay-a501: Default identity has no permission on the key (4002)");
    expect(sentTo(erin)[1]!.plainText).toMatch(/We warned at:\s+2026-12-15 09:12 UTC: Default identity lacks permission on the key/);
    const [incident] = await deps.store.listIncidents({ accountId: sentTo(erin)[1]!.plainText!.match(/\/subscriptions\/\S+pay-a501/)![0] });
    const events = await deps.store.listEvents(incident!.accountId, incident!.id);
    expect(events[0]!.detail).toContain("we warned at 09:12 UTC on 2026-12-15");
  });

  it("under the Azure-managed limits (5/min, 10/h) a morning of warning digests never holds a revocation notice back", async () => {
    // Twelve owners each get a digest at the daily check; revocations arrive while they queue.
    // Digests take at most half of each minute's and hour's sends; incident mail goes first.
    const sub = "00000000-0000-0000-0000-00000000a901";
    const warned = Array.from({ length: 12 }, (_, i) => `warned-a9${String(i).padStart(2, "0")}`);
    warned.forEach((name, i) => account(name, sub, "healthy", `${name}@contoso.com`, `5c0ffee0-0000-4000-8000-0000000a90${String(i).padStart(2, "0")}`));
    const ops = "ops-a901@contoso.com";
    account("orders-a901", sub, 4003, ops, "5c0ffee0-0000-4000-8000-00000000a9f1");
    account("billing-a901", sub, 4003, ops, "5c0ffee0-0000-4000-8000-00000000a9f2");
    now = new Date("2026-12-21T06:00:00.000Z");
    const start = now;
    for (const name of warned) azure.sandbox.keyVault.setKeyExpiry(`kv-${name}`, "cmk", new Date(start.getTime() + 10 * DAY));
    azure.sandbox.acs.configure({ enforceLimits: true, domain: "azure-managed", clock: () => now.getTime() });
    const throttledBefore = azure.sandbox.acs.counts.throttled;
    try {
      const { deps } = monitor(sub, { CMK_EMAIL_DOMAIN_KIND: "azure-managed" });
      const digestsSent = () => warned.filter((name) => sentTo(`${name}@contoso.com`).length > 0).length;

      // Digests sent per minute, to hold them to their half of every minute and rolling hour.
      const digestMinutes: number[] = [];
      const cycleAt = async (minute: number) => {
        const before = digestsSent();
        await at(minute, start, deps);
        for (let n = digestsSent() - before; n > 0; n--) digestMinutes.push(minute);
      };

      // Minute 0: both revocation notices first; the digests get only what is left below their half (none).
      await cycleAt(0);
      expect(subjects(ops)).toHaveLength(2);
      expect(digestsSent()).toBe(0);

      // Minutes 1 and 2: digests while the hour's sends stay under half of it.
      await cycleAt(1);
      await cycleAt(2);
      expect(digestsSent()).toBeGreaterThan(0);

      // Minute 3: a new revocation goes out at once: the hour's other half was kept for it.
      account("inventory-a901", sub, 4003, ops, "5c0ffee0-0000-4000-8000-00000000a9f3");
      await cycleAt(3);
      expect(subjects(ops)).toHaveLength(3);
      // No 429 was needed to keep to the limits: the shared budget did it.
      expect(azure.sandbox.acs.counts.throttled - throttledBefore).toBe(0);

      // The following hours: the waiting digests go out, each once, never more than half an hour's or a minute's sends.
      for (const hour of [1, 2, 3, 4, 5]) for (let minute = 60 * hour + 2; minute <= 60 * hour + 6; minute++) await cycleAt(minute);
      for (const name of warned) expect(sentTo(`${name}@contoso.com`)).toHaveLength(1);
      for (const minute of digestMinutes) {
        expect(digestMinutes.filter((m) => m === minute).length).toBeLessThanOrEqual(2);
        expect(digestMinutes.filter((m) => m > minute - 60 && m <= minute).length).toBeLessThanOrEqual(5);
      }
    } finally {
      azure.sandbox.acs.resetBehaviour();
    }
  });

  it("CMK_PROBES=off: no Key Vault calls, no digest", async () => {
    // The switch for tenants where the monitor may not read vaults at all.
    const sub = "00000000-0000-0000-0000-00000000a401";
    const dave = "dave-a401@contoso.com";
    account("pay-a401", sub, "healthy", dave, "5c0ffee0-0000-4000-8000-00000000a401");
    azure.sandbox.keyVault.setKeyEnabled("kv-pay-a401", "cmk", false);
    const { deps } = monitor(sub, { CMK_PROBES: "off" });
    azure.sandbox.clearRequests();
    now = new Date("2026-12-20T06:00:00.000Z");
    await runCycle(deps);
    expect(azure.sandbox.requests().filter((r) => r.route?.startsWith("kv-") || r.route?.startsWith("role-"))).toEqual([]);
    expect(sentTo(dave)).toEqual([]);
  });
});
