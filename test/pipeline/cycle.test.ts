/**
 * Exactly-once under concurrency and crashes: several monitor instances share one store
 * (Azurite) and one ACS (the sandbox); every email must be delivered exactly once.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { EmailSender, OutgoingEmail } from "../../src/ports/emailSender";
import type { Logger } from "../../src/ports/logger";
import { acknowledgeFix } from "../../src/app/acknowledgeFix";
import { runCycle } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const status = (code: number) =>
  `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let now = new Date("2026-11-29T05:00:00.000Z");
const clock = { now: () => now };
let table = 0;

/** A fresh table per test keeps the cases independent on one Azurite. */
function instances(count: number, subscriptionId: string, tableName = `cycle${++table}`): MonitorDeps[] {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: subscriptionId, CMK_STATE_TABLE: tableName });
  return Array.from({ length: count }, () => createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 })));
}

function fleet(subscriptionId: string, count: number, code: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    azure.sandbox.putAccount({
      name: `acct-${subscriptionId.slice(-4)}-${i}`,
      subscriptionId,
      resourceGroup: "rg",
      keyVaultKeyUri: `https://kv-${i}.vault.azure.net/keys/k`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}` },
      tags: { "cmk-owner": `owner${i}@contoso.com` },
      status: status(code),
    }),
  );
}

function emailsFor(prefix: string) {
  return azure.sandbox.sentEmails().filter((e) => e.subject.includes(prefix));
}

beforeAll(async () => {
  azure = await startLocalAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("concurrent instances", () => {
  it.each([
    // The common case of an overlapping timer run (scale-out or a slow cycle).
    [2, "00000000-0000-0000-0000-00000000c002"],
    // Three at once: conflicts resolve in any order.
    [3, "00000000-0000-0000-0000-00000000c003"],
  ])("%i instances running the same cycle send each email exactly once", async (count, sub) => {
    fleet(sub, 6, 4003);
    const monitors = instances(count, sub);
    await Promise.all(monitors.map((deps) => runCycle(deps)));
    const first = emailsFor(`acct-${sub.slice(-4)}`);
    expect(first).toHaveLength(6);
    expect(new Set(first.map((e) => e.to[0])).size).toBe(6);

    // And again an hour later: reminders, also once each.
    now = new Date(now.getTime() + 61 * 60_000);
    await Promise.all(monitors.map((deps) => runCycle(deps)));
    expect(emailsFor(`acct-${sub.slice(-4)}`)).toHaveLength(12);
    expect(azure.sandbox.emailRepeats()).toHaveLength(0);
  });
});

describe("crash between sending and recording", () => {
  it("a message ACS accepted but the process never recorded is read back, not sent again (ACS would deliver a repeat)", async () => {
    // The process dies after ACS accepted the email but before the outbox row says "sent".
    const sub = "00000000-0000-0000-0000-00000000d001";
    fleet(sub, 1, 4002);
    const [deps] = instances(1, sub, "crashtable");
    const real = deps!.email;
    let crashes = 1;
    const crashingSender: EmailSender = {
      async send(email: OutgoingEmail) {
        const result = await real.send(email);
        if (crashes-- > 0) throw new Error("process crashed after send");
        return result;
      },
      readOperationStatus: (operationId) => real.readOperationStatus(operationId),
    };
    await runCycle({ ...deps!, email: crashingSender });
    expect(emailsFor(`acct-${sub.slice(-4)}`)).toHaveLength(1);

    // After the lease and backoff expire, a fresh instance picks the message up again.
    now = new Date(now.getTime() + 10 * 60_000);
    const [fresh] = instances(1, sub, "crashtable");
    azure.sandbox.clearRequests();
    await runCycle(fresh!);
    expect(emailsFor(`acct-${sub.slice(-4)}`)).toHaveLength(1);
    // One status read answered Succeeded, and no second POST went out.
    expect(azure.sandbox.requests().filter((r) => r.route === "acs-send")).toHaveLength(0);
    expect(azure.sandbox.requests().filter((r) => r.route === "acs-poll")).toHaveLength(1);
    const sentRows = await deps!.store.listMessages({ status: "sent" });
    expect(sentRows).toHaveLength(1);
  });
});

describe("ACS reports the operation Failed", () => {
  it("the one status read after the 202 finds it, and it goes out under a new operation id, delivered exactly once", async () => {
    // A Failed operation was definitely not delivered: its row is sent again under a new id.
    const sub = "00000000-0000-0000-0000-00000000d002";
    fleet(sub, 1, 4005);
    const [deps] = instances(1, sub);
    azure.sandbox.injectFault({ route: "acs-send", status: 202, operationStatus: "Failed" });
    await runCycle(deps!);
    const prefix = `acct-${sub.slice(-4)}`;
    expect(emailsFor(prefix)).toHaveLength(0);
    // Accepted (202): recorded as sent at once, its final status read due later.
    const [accepted] = await deps!.store.listMessages({ status: "sent" });
    expect(accepted).toMatchObject({ generation: 0, attempts: 1 });
    expect(accepted!.outcomeCheckAt).toBeDefined();

    now = new Date(now.getTime() + 5 * 60_000);
    await runCycle(deps!);
    expect(emailsFor(prefix)).toHaveLength(1);
    expect(await deps!.store.listMessages({ status: "sent" })).toMatchObject([{ generation: 1 }]);
  });
});

describe("acknowledging a fix", () => {
  it("starts the recovery clock once, emails the owners, and escalation follows the ack time", async () => {
    const sub = "00000000-0000-0000-0000-00000000e001";
    const [accountId] = fleet(sub, 1, 4002);
    const [deps] = instances(1, sub);
    await runCycle(deps!);
    now = new Date(now.getTime() + 20 * 60_000);
    const ackAt = now;
    const result = await acknowledgeFix(deps!, accountId!, "owner0@contoso.com");
    expect(result).toMatchObject({
      outcome: "acknowledged",
      expectedRecoveryBy: new Date(ackAt.getTime() + 60 * 60_000).toISOString(),
      escalateAt: new Date(ackAt.getTime() + 120 * 60_000).toISOString(),
    });
    // A second ack (another owner) changes nothing.
    expect(await acknowledgeFix(deps!, accountId!, "someone@contoso.com")).toMatchObject({ outcome: "already-recovering" });
    const prefix = `acct-${sub.slice(-4)}`;
    expect(emailsFor(prefix).map((e) => e.subject)).toHaveLength(2);

    // Still revoked at ack + 120 → escalation to support with the timeline.
    now = new Date(ackAt.getTime() + 119 * 60_000);
    await runCycle(deps!);
    expect(emailsFor(prefix)).toHaveLength(2);
    now = new Date(ackAt.getTime() + 121 * 60_000);
    await runCycle(deps!);
    const escalation = emailsFor(prefix).find((e) => e.to.includes("cosmos-support@contoso.com"))!;
    expect(escalation).toBeDefined();
    expect(escalation.plainText).toMatch(/Fix acknowledged.*owner0@contoso\.com/);
    expect(escalation.plainText).toContain(accountId!);

    azure.sandbox.setStatus(accountId!, HEALTHY);
    now = new Date(now.getTime() + 5 * 60_000);
    await runCycle(deps!);
    expect(emailsFor(prefix)).toHaveLength(4);
    expect(await acknowledgeFix(deps!, accountId!, "late@contoso.com")).toEqual({ outcome: "no-open-incident" });
  });
});

describe("state reads beside discovery", () => {
  /** Discovery that waits (up to 2 s) for the state reads to start, and notes whether they did. */
  function gatedDiscovery(deps: MonitorDeps, started: Set<string>, outcome: "lists" | "fails") {
    const inner = deps.discovery!;
    const seen: string[][] = [];
    deps.discovery = {
      mode: inner.mode,
      discover: async () => {
        for (let waited = 0; started.size < 2 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        seen.push([...started].sort());
        if (outcome === "fails") throw new Error("discovery broke");
        return inner.discover();
      },
    };
    return seen;
  }

  function watchReads(deps: MonitorDeps, failReads = false): Set<string> {
    const started = new Set<string>();
    const store = deps.store;
    const warnings = deps.warnings!;
    const listOpenRecords = store.listOpenRecords.bind(store);
    const listAccountChecks = warnings.listAccountChecks.bind(warnings);
    store.listOpenRecords = async () => {
      started.add("open records");
      if (failReads) throw new Error("storage down");
      return listOpenRecords();
    };
    warnings.listAccountChecks = async () => {
      started.add("daily checks");
      if (failReads) throw new Error("storage down");
      return listAccountChecks();
    };
    return started;
  }

  it("reads the open incidents and the daily checks while discovery runs, not after it", async () => {
    const sub = "00000000-0000-0000-0000-00000000c0a1";
    fleet(sub, 2, 4003);
    const [deps] = instances(1, sub);
    const seen = gatedDiscovery(deps!, watchReads(deps!), "lists");

    const report = await runCycle(deps!);

    // Both reads had started by the time discovery was under way.
    expect(seen).toEqual([["daily checks", "open records"]]);
    expect(report.revokedSeen).toBe(2);
    expect(emailsFor(`acct-${sub.slice(-4)}`)).toHaveLength(2);
  });

  it("fails with discovery's error when discovery fails, even if the reads beside it failed too (nothing unhandled)", async () => {
    const sub = "00000000-0000-0000-0000-00000000c0a2";
    const [deps] = instances(1, sub);
    gatedDiscovery(deps!, watchReads(deps!, true), "fails");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await expect(runCycle(deps!)).rejects.toThrow("discovery broke");
      // Give a stray rejection a turn of the event loop to surface.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
