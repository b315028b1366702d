/**
 * Azure's change events against the sandbox (ARM, Key Vault, ACS) and Azurite: the sandbox raises
 * the events Azure would for its ARM-side changes, the handler the Functions host calls maps them
 * through the fleet index to the accounts, re-checks them and sends the at-risk email at once;
 * replays and floods send nothing twice and cost no second probe.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { handleChangeEvent } from "../../src/app/handleChangeEvent";
import { runCycle } from "../../src/app/runCycle";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import type { Logger } from "../../src/ports/logger";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import { healthyAccountSpec, subjectsTo } from "../support/sandboxAccounts";

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;

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

function monitor(subscriptionId: string, extra: Record<string, string> = {}): MonitorDeps {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: subscriptionId, CMK_STATE_TABLE: `changeevents${++tables}`, ...extra });
  return createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 }));
}

function healthyAccount(name: string, subscriptionId: string, owner: string, principalId: string): string {
  return azure.sandbox.putAccount(healthyAccountSpec(name, subscriptionId, owner, principalId));
}

function subjects(address: string): string[] {
  return subjectsTo(azure.sandbox, address);
}

async function deliver(deps: MonitorDeps, events: readonly unknown[]) {
  const outcomes = [];
  for (const event of events) outcomes.push(await handleChangeEvent(deps, event));
  return outcomes;
}

describe("change events", () => {
  it("permission removed at minute 15 → at-risk email at minute 15, before the next poll; replays and a flood send nothing more", async () => {
    const sub = "00000000-0000-0000-0000-00000000c101";
    const owner = "owner-c101@contoso.com";
    const principal = "5c0ffee0-0000-4000-8000-00000000c101";
    healthyAccount("pay-c101", sub, owner, principal);
    const deps = monitor(sub);
    const start = now;
    // The first poll checks the account and indexes its vault.
    await runCycle(deps);
    azure.sandbox.changeFeed.take();
    expect(subjects(owner)).toEqual([]);

    now = new Date(start.getTime() + 15 * MINUTE);
    azure.sandbox.keyVault.removePermission("kv-pay-c101", principal);
    const events = azure.sandbox.changeFeed.take();
    // As Azure raises them: the subscription topic's access-policy write and the vault topic's VaultAccessPolicyChanged.
    expect(events.map((e) => e.eventType)).toEqual(["Microsoft.Resources.ResourceWriteSuccess", "Microsoft.KeyVault.VaultAccessPolicyChanged"]);
    const outcomes = await deliver(deps, events);
    // One re-check: the second event for the same change is already covered.
    expect(outcomes.map((o) => [o.outcome, o.rechecked, o.coalesced, o.atRiskEmails])).toEqual([
      ["handled", 1, 0, 1],
      ["handled", 0, 1, 0],
    ]);
    expect(subjects(owner)).toEqual(["[CMK at risk] pay-c101: Default identity lacks permission on the key"]);

    // Event Grid delivers at least once: the same events again, and a flood of copies.
    azure.sandbox.clearRequests();
    const replay = await deliver(deps, [...events, ...Array.from({ length: 200 }, () => events[0]!)]);
    expect(replay.every((o) => o.outcome === "handled" && o.rechecked === 0)).toBe(true);
    // No probe ran for them, and nothing more was sent.
    expect(azure.sandbox.requests().filter((r) => r.route?.startsWith("kv-") || r.route?.startsWith("role-"))).toEqual([]);
    now = new Date(start.getTime() + 20 * MINUTE);
    await runCycle(deps);
    expect(subjects(owner)).toHaveLength(1);
    expect(azure.sandbox.emailRepeats().filter((e) => e.to.includes(owner))).toHaveLength(0);
  });

  it("a flood of 10,000 events in one minute over 40 accounts: one re-check per account, each owner warned once, within the send rate", async () => {
    // Event Grid retries and fans out: the 80 real events arrive again and again, many at once.
    const sub = "00000000-0000-0000-0000-00000000c901";
    const names = Array.from({ length: 40 }, (_, i) => `pay-c9${String(i).padStart(2, "0")}`);
    const principal = (i: number) => `5c0ffee0-0000-4000-8000-0000000c90${String(i).padStart(2, "0")}`;
    names.forEach((name, i) => healthyAccount(name, sub, `${name}@contoso.com`, principal(i)));
    const deps = monitor(sub);
    const start = now;
    await runCycle(deps);
    azure.sandbox.changeFeed.take();

    now = new Date(start.getTime() + 15 * MINUTE);
    names.forEach((name, i) => azure.sandbox.keyVault.removePermission(`kv-${name}`, principal(i)));
    const events = azure.sandbox.changeFeed.take();
    // Two per vault: ARM's write event and Key Vault's VaultAccessPolicyChanged.
    expect(events).toHaveLength(80);
    const flood = Array.from({ length: 10_000 }, (_, i) => events[i % events.length]!);
    azure.sandbox.clearRequests();
    const outcomes: Array<Awaited<ReturnType<typeof handleChangeEvent>>> = [];
    // Sixteen deliveries in flight at a time, as several host instances would take them.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < flood.length) outcomes.push(await handleChangeEvent(deps, flood[next++]));
      }),
    );

    expect(outcomes.every((o) => o.outcome === "handled")).toBe(true);
    // Coalesced per account: one re-check each, however many copies and however interleaved.
    expect(outcomes.reduce((sum, o) => sum + (o.outcome === "handled" ? o.rechecked : 0), 0)).toBe(40);
    // One ARM read per re-check, none per copy.
    expect(azure.sandbox.requests().filter((r) => r.route === "arm-get")).toHaveLength(40);
    // Sent at once up to the send rate (the sandbox's custom domain: 30 a minute); the rest wait, pending.
    const warned = () => names.filter((name) => subjects(`${name}@contoso.com`).length > 0).length;
    expect(warned()).toBe(30);

    // The next minutes' drains send the rest; every owner has exactly one warning.
    for (const minute of [16, 17]) {
      now = new Date(start.getTime() + minute * MINUTE);
      await runCycle(deps);
    }
    for (const name of names) expect(subjects(`${name}@contoso.com`)).toEqual([`[CMK at risk] ${name}: Default identity lacks permission on the key`]);
    expect(azure.sandbox.emailRepeats()).toEqual([]);
  }, 300_000);

  it.each<[string, (sub: string) => Record<string, unknown>, string]>([
    // Event types nobody subscribed to: ignored and counted (logged by reason).
    [
      "unknown event type",
      (sub) => ({ id: "x", topic: `/subscriptions/${sub}`, subject: "s", eventType: "Microsoft.Storage.BlobCreated", eventTime: now.toISOString(), data: {} }),
      "unknown-event-type",
    ],
    // A subscription the monitor does not watch.
    [
      "another subscription",
      () => ({
        id: "y",
        topic: "/subscriptions/99999999-0000-0000-0000-000000000000",
        subject: "s",
        eventType: "Microsoft.Resources.ResourceWriteSuccess",
        eventTime: now.toISOString(),
        data: {
          operationName: "Microsoft.KeyVault/vaults/write",
          resourceUri: "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x",
        },
      }),
      "out-of-scope",
    ],
  ])("%s is ignored", async (_name, event, reason) => {
    const sub = "00000000-0000-0000-0000-00000000c201";
    const deps = monitor(sub);
    expect(await handleChangeEvent(deps, event(sub))).toMatchObject({ outcome: "ignored", reason, rechecked: 0 });
  });

  it("an event for a vault no indexed account uses re-checks nothing", async () => {
    // The index is the fleet: a change elsewhere in the subscription costs one index query.
    const sub = "00000000-0000-0000-0000-00000000c301";
    const deps = monitor(sub);
    const event = {
      id: "z",
      topic: `/subscriptions/${sub}`,
      subject: "s",
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      eventTime: now.toISOString(),
      data: {
        operationName: "Microsoft.KeyVault/vaults/write",
        resourceUri: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-unrelated`,
      },
    };
    expect(await handleChangeEvent(deps, event)).toMatchObject({ outcome: "handled", accounts: 0, rechecked: 0 });
  });
});
