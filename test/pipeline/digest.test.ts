/**
 * Mass revocation: one shared vault revokes many accounts of one owner. The owner gets one digest
 * listing every account, exactly once, even when the process dies mid-digest; and the outbox keeps
 * to ACS's sending limits, holding the rest (pending, not failed), escalations first.
 */
import { createMonitorDeps, type CompositionOverrides } from "../../src/composition";
import { loadConfig, type Environment } from "../../src/config";
import type { OutboxMessage } from "../../src/domain/incident";
import { QueueClient } from "@azure/storage-queue";
import { groupStage } from "../../src/pipeline/groupStage";
import { paceStage } from "../../src/pipeline/paceStage";
import { startCycle } from "../../src/pipeline/cycleContext";
import { Slots } from "../../src/pipeline/concurrency";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { EmailSender, OutgoingEmail } from "../../src/ports/emailSender";
import type { IncidentStore, StoredMessage } from "../../src/ports/incidentStore";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import { processWorkBatch } from "../../src/app/processWorkBatch";
import type { CycleContext } from "../../src/pipeline/cycleContext";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const KEY_NOT_FOUND = `Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; for more details about this error and how to restore access to your account please visit ${GUIDE}#azure-key-vault-resource-not-found (4003).`;
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let now = new Date("2026-11-30T08:00:00.000Z");
const clock = { now: () => now };
let table = 0;

function monitor(
  subscriptionId: string,
  extra: Environment = {},
  tableName = `digest${++table}`,
  overrides: Omit<CompositionOverrides, "credential" | "tlsCa"> = { log: quiet, maxRetries: 0 },
): MonitorDeps {
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, {
    CMK_SUBSCRIPTION_IDS: subscriptionId,
    CMK_STATE_TABLE: tableName,
    CMK_PROBES: "off",
    ...extra,
  });
  return createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock, ...overrides }));
}

/** `count` accounts behind one shared vault, all owned by `owner`, all revoked with the same cause. */
function sharedVaultFleet(subscriptionId: string, prefix: string, count: number, owner: string, from = 0): string[] {
  return Array.from({ length: count }, (_, i) =>
    azure.sandbox.putAccount({
      name: `${prefix}-${from + i}`,
      subscriptionId,
      resourceGroup: "rg-shared",
      keyVaultKeyUri: `https://kv-${prefix}.vault.azure.net/keys/shared`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": owner },
      status: KEY_NOT_FOUND,
      keyVault: "none",
    }),
  );
}

const to = (address: string) => azure.sandbox.sentEmails().filter((email) => email.to.includes(address));
const keyOf = (email: { headers: Record<string, string> }) => email.headers["X-CMK-Monitor-Key"] ?? email.headers["x-cmk-monitor-key"];

beforeAll(async () => {
  azure = await startLocalAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("one shared vault revokes many accounts", () => {
  it("the owner gets one digest listing every account; a smaller group gets one email per account", async () => {
    const sub = "00000000-0000-4000-8000-00000000d100";
    const big = sharedVaultFleet(sub, "orders", 12, "team-orders@contoso.com");
    sharedVaultFleet(sub, "billing", 4, "team-billing@contoso.com");
    const deps = monitor(sub);
    const report = await runCycle(deps);

    const [digest, ...others] = to("team-orders@contoso.com");
    expect(others).toHaveLength(0);
    expect(digest!.subject).toMatch(/^\[CMK revoked\] 12 Cosmos DB accounts: Key or Key Vault not found \(4003\)$/);
    for (const id of big) {
      expect(digest!.plainText).toContain(id.split("/").pop()!);
      expect(digest!.html).toContain(id.split("/").pop()!);
    }
    // Each account's own fix is in the digest, filled in for that account.
    expect(digest!.plainText!.match(/cmk-monitor ack/g)!.length).toBeGreaterThanOrEqual(12);
    expect(keyOf(digest!)).toMatch(/^digest\.revoked\./);

    // Four is below CMK_DIGEST_THRESHOLD (5): one email each, as before.
    expect(to("team-billing@contoso.com")).toHaveLength(4);
    expect(report).toMatchObject({ emailsSent: 5, digestsSent: 1, messagesInDigests: 12 });

    // Every outbox row of the digest is sent, bound to it, under the digest's one operation id.
    const sent = await deps.store.listMessages({ status: "sent" });
    const digestRows = sent.filter((row) => row.digestId);
    expect(digestRows).toHaveLength(12);
    expect(new Set(digestRows.map((row) => row.digestId))).toEqual(new Set([keyOf(digest!)]));
    expect(new Set(digestRows.map((row) => row.operationId))).toEqual(new Set([digest!.operationId]));
  });

  it("fanned out, an owner too big for one batch gets as many digests as one instance would send", async () => {
    // 500 revoked accounts of one owner, after another owner's 150: the big group starts its own batches
    // and is cut at a digest boundary (400, 100), so five digests of a hundred, not six (250 + 250).
    const sub = "00000000-0000-4000-8000-00000000d1f0";
    const mass = sharedVaultFleet(sub, "mass", 500, "team-mass@contoso.com");
    sharedVaultFleet(sub, "early", 150, "aaa-early@contoso.com");
    const queueName = "digest-fanout";
    const problems: string[] = [];
    const deps = monitor(
      sub,
      {
        CMK_FANOUT: "queue",
        CMK_WORK_QUEUE: queueName,
        AzureWebJobsStorage: azure.azurite.connectionString,
        CMK_EMAIL_RATE_PER_MINUTE: "1000",
        CMK_EMAIL_RATE_PER_HOUR: "10000",
      },
      undefined,
      // The SDKs' own retries, as deployed: this test runs no later cycle to send what a storage hiccup held back.
      { log: { info: () => {}, warn: (m) => problems.push(m), error: (m) => problems.push(m) }, fanOutOverQueue: true },
    );
    const report = await runCycle(deps);
    expect(report).toMatchObject({ fanout: "queue", emailsSent: 0 });
    // The host's part: every work item, as the queue trigger would run it.
    const queue = new QueueClient(azure.azurite.connectionString, queueName);
    const batches: number[] = [];
    for (;;) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) break;
      for (const message of receivedMessageItems) {
        const item = await processWorkBatch(deps, Buffer.from(message.messageText, "base64").toString("utf8"));
        batches.push(item.changes.length);
        await queue.deleteMessage(message.messageId, message.popReceipt);
      }
    }
    expect(batches.sort((x, y) => x - y)).toEqual([100, 150, 400]);

    expect(problems).toEqual([]);
    const digests = to("team-mass@contoso.com");
    expect(digests).toHaveLength(5);
    expect(digests.every((email) => /^\[CMK revoked\] 100 Cosmos DB accounts:/.test(email.subject))).toBe(true);
    // Every account in exactly one of them.
    const listed = mass.map((id) => digests.filter((email) => new RegExp(`\\b${id.split("/").pop()!}\\b`).test(email.plainText!)).length);
    expect(listed.every((count) => count === 1)).toBe(true);
    expect(to("aaa-early@contoso.com")).toHaveLength(2);
  });

  it("a crash after ACS accepted the digest: its operation is read back and recorded, never sent again nor as a second digest", async () => {
    const sub = "00000000-0000-4000-8000-00000000d101";
    sharedVaultFleet(sub, "crashy", 6, "team-crashy@contoso.com");
    const tableName = `digest${++table}`;
    const first = monitor(sub, {}, tableName);
    let crashes = 1;
    const real = first.email;
    const crashingSender: EmailSender = {
      async send(email: OutgoingEmail) {
        const result = await real.send(email);
        if (crashes-- > 0) throw new Error("process died after ACS accepted the send");
        return result;
      },
      readOperationStatus: (operationId) => real.readOperationStatus(operationId),
    };
    await runCycle({ ...first, email: crashingSender });
    expect(to("team-crashy@contoso.com")).toHaveLength(1);
    const [original] = to("team-crashy@contoso.com");

    // Before the retry, three more accounts of the same owner are revoked.
    sharedVaultFleet(sub, "crashy", 3, "team-crashy@contoso.com", 6);
    now = new Date(now.getTime() + 10 * 60_000);
    const repeatsBefore = azure.sandbox.emailRepeats().length;
    azure.sandbox.clearRequests();
    const report = await runCycle(monitor(sub, {}, tableName));

    // The old digest's operation was read (ACS has it) and not POSTed again: ACS would deliver a repeat.
    expect(azure.sandbox.emailRepeats().slice(repeatsBefore)).toEqual([]);
    expect(azure.sandbox.requests().filter((r) => r.route === "acs-poll" && r.path.includes(original!.operationId))).toHaveLength(1);
    // The three new ones are not folded into it.
    const delivered = to("team-crashy@contoso.com");
    expect(delivered).toHaveLength(4);
    expect(delivered.slice(1).every((email) => /^\[CMK revoked\] crashy-\d:/.test(email.subject))).toBe(true);
    expect(report.emailsSent).toBe(4);

    const rows = await first.store.listMessages();
    expect(rows.filter((row) => row.status === "sent")).toHaveLength(9);
    expect(rows.filter((row) => row.digestId === keyOf(original!))).toHaveLength(6);
  });

  it("a process that dies while claiming leaves a digest that goes out whole once its lease ends, and the rest as another", async () => {
    const sub = "00000000-0000-4000-8000-00000000d102";
    sharedVaultFleet(sub, "claimy", 12, "team-claimy@contoso.com");
    const tableName = `digest${++table}`;
    const dying = monitor(sub, {}, tableName);
    let claims = 0;
    const store = dying.store;
    const dyingStore: IncidentStore = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== "claimMessage" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: Parameters<IncidentStore["claimMessage"]>) => {
          if (++claims > 5) throw new Error("process died while claiming");
          return (value as IncidentStore["claimMessage"]).apply(target, args);
        };
      },
    });
    await expect(runCycle({ ...dying, store: dyingStore })).rejects.toThrow("process died while claiming");
    expect(to("team-claimy@contoso.com")).toHaveLength(0);

    // A minute later the five bound rows are still leased: the other seven go as their own digest.
    now = new Date(now.getTime() + 60_000);
    await runCycle(monitor(sub, {}, tableName));
    expect(to("team-claimy@contoso.com")).toHaveLength(1);
    expect(to("team-claimy@contoso.com")[0]!.subject).toMatch(/ 7 Cosmos DB accounts/);

    // After the lease, the first digest goes out with exactly its five rows.
    now = new Date(now.getTime() + 5 * 60_000);
    await runCycle(monitor(sub, {}, tableName));
    const delivered = to("team-claimy@contoso.com");
    expect(delivered.map((email) => email.subject.match(/ (\d+) Cosmos DB accounts/)![1])).toEqual(["7", "5"]);
    // Every account is in exactly one delivered email.
    const listed = delivered.flatMap((email) => [...email.plainText!.matchAll(/^(claimy-\d+) \|/gm)].map((m) => m[1]));
    expect(listed.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `claimy-${i}`).sort());
    const rows = await dying.store.listMessages();
    expect(rows.every((row) => row.status === "sent")).toBe(true);
    expect(new Set(rows.map((row) => row.digestId)).size).toBe(2);
  });

  it("a digest ACS accepted and then reports Failed is regrouped and delivered once under a new operation id", async () => {
    const sub = "00000000-0000-4000-8000-00000000d103";
    sharedVaultFleet(sub, "failed", 5, "team-failed@contoso.com");
    const tableName = `digest${++table}`;
    azure.sandbox.injectFault({ route: "acs-send", status: 202, operationStatus: "Failed" });
    await runCycle(monitor(sub, {}, tableName));
    expect(to("team-failed@contoso.com")).toHaveLength(0);
    // Accepted (202): sent and still bound, its final status read due later.
    const accepted = await monitor(sub, {}, tableName).store.listMessages({ status: "sent" });
    expect(accepted.every((row) => row.digestId && row.outcomeCheckAt)).toBe(true);

    // The read finds it Failed: the rows are freed, regrouped and sent in the same drain.
    now = new Date(now.getTime() + 5 * 60_000);
    await runCycle(monitor(sub, {}, tableName));
    expect(to("team-failed@contoso.com")).toHaveLength(1);
    expect(to("team-failed@contoso.com")[0]!.subject).toMatch(/ 5 Cosmos DB accounts/);
  });
});

describe("pacing under the ACS sending limits", () => {
  it("sends what the budget allows and keeps the rest pending, not failed, oldest first", async () => {
    const sub = "00000000-0000-4000-8000-00000000d104";
    for (let i = 0; i < 5; i++) sharedVaultFleet(sub, `paced${i}`, 1, `owner-paced${i}@contoso.com`);
    const tableName = `digest${++table}`;
    const limits = { CMK_EMAIL_RATE_PER_MINUTE: "2", CMK_EMAIL_RATE_PER_HOUR: "3", CMK_REMINDER_INTERVAL_MINUTES: "10080" };
    const deps = monitor(sub, limits, tableName);
    const paced = () => azure.sandbox.sentEmails().filter((email) => email.to.some((address) => address.startsWith("owner-paced")));

    const first = await runCycle(deps);
    expect(paced()).toHaveLength(2);
    expect(first.emailsDeferred).toBe(3);
    const held = await deps.store.listMessages({ status: "pending" });
    // Held back, not failed: no attempt was made.
    expect(held.map((row) => [row.attempts, row.lastError ?? ""])).toEqual([
      [0, ""],
      [0, ""],
      [0, ""],
    ]);

    // The same minute: nothing more. The next minute: one more (the hour allows three).
    expect((await runCycle(deps)).emailsSent).toBe(0);
    now = new Date(now.getTime() + 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(1);
    now = new Date(now.getTime() + 5 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(0);
    // An hour after the first sends, the rest goes.
    now = new Date(now.getTime() + 60 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(2);
    expect(paced()).toHaveLength(5);
    expect(new Set(paced().map((email) => email.to[0])).size).toBe(5);
  });

  it("an outage's 503 keeps its budget (ACS may count it) and holds the rest back unsent: the mail goes out when the hour frees it, each once", async () => {
    const sub = "00000000-0000-4000-8000-00000000d105";
    for (let i = 0; i < 3; i++) sharedVaultFleet(sub, `refused503-${i}`, 1, `owner-refused503-${i}@contoso.com`);
    const limits = { CMK_EMAIL_RATE_PER_MINUTE: "3", CMK_EMAIL_RATE_PER_HOUR: "3", CMK_REMINDER_INTERVAL_MINUTES: "10080" };
    const deps = monitor(sub, limits);
    const mine = () => azure.sandbox.sentEmails().filter((email) => email.to.some((address) => address.startsWith("owner-refused503")));
    azure.sandbox.injectFault({ route: "acs-send", status: 503, times: 1_000_000 });
    try {
      // One POST, in doubt; the other two are held back unsent (not in doubt, their budget given back).
      const stats = await runCycle(deps);
      expect([stats.emailsRetrying, stats.emailsDeferred]).toEqual([1, 2]);
    } finally {
      azure.sandbox.clearFaults("acs-send");
    }
    // ACS is back: the two held back go out with what the hour has left; the 503 kept its send.
    now = new Date(now.getTime() + 6 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(2);
    // An hour on: the row in doubt is read back (404: never accepted) and sent, once.
    now = new Date(now.getTime() + 60 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(1);
    expect(mine()).toHaveLength(3);
  });

  it("a 429 holds the rest of the drain unsent, defers every instance until its Retry-After, and gives back only what was never POSTed", async () => {
    const sub = "00000000-0000-4000-8000-00000000d106";
    for (let i = 0; i < 3; i++) sharedVaultFleet(sub, `refused429-${i}`, 1, `owner-refused429-${i}@contoso.com`);
    const limits = { CMK_EMAIL_RATE_PER_MINUTE: "3", CMK_EMAIL_RATE_PER_HOUR: "3", CMK_REMINDER_INTERVAL_MINUTES: "10080" };
    const tableName = `digest${++table}`;
    const deps = monitor(sub, limits, tableName);
    const mine = () => azure.sandbox.sentEmails().filter((email) => email.to.some((address) => address.startsWith("owner-refused429")));
    azure.sandbox.injectFault({ route: "acs-send", status: 429, times: 1, retryAfterInSeconds: 120 });
    azure.sandbox.clearRequests();
    await runCycle(deps);
    // One POST, answered 429; the other two were not tried.
    expect(azure.sandbox.requests().filter((r) => r.route === "acs-send")).toHaveLength(1);
    // Within the Retry-After no instance sends, even a fresh one.
    now = new Date(now.getTime() + 60_000);
    expect((await runCycle(monitor(sub, limits, tableName))).emailsSent).toBe(0);
    // After it: the 429 counted (one of three), the two never POSTed were given back.
    now = new Date(now.getTime() + 5 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(2);
    now = new Date(now.getTime() + 60 * 60_000);
    expect((await runCycle(deps)).emailsSent).toBe(1);
    expect(mine()).toHaveLength(3);
  });

  it("escalations go first, then revocations, then reminders; the oldest first within a class", async () => {
    // Pure over stored rows: the order is what the budget is spent on.
    const row = (key: string, kind: OutboxMessage["kind"], createdAt: string, to = [`${key}@contoso.com`]): StoredMessage => ({
      message: {
        key,
        incidentId: key,
        accountId: `/subscriptions/s/resourceGroups/r/providers/Microsoft.DocumentDB/databaseAccounts/${key}`,
        kind,
        to,
        cc: [],
        createdAt,
        facts: {} as never,
      },
      status: "pending",
      attempts: 0,
      generation: 0,
      nextAttemptAt: createdAt,
      etag: "*",
    });
    const rows = [
      row("old-notice", "revoked", "2026-11-30T07:00:00.000Z"),
      row("new-notice", "revoked", "2026-11-30T07:30:00.000Z"),
      row("escalation", "escalation", "2026-11-30T07:45:00.000Z", ["support@contoso.com"]),
      row("oldest-reminder", "reminder", "2026-11-30T06:00:00.000Z"),
    ];
    let granted = 0;
    const ctx: CycleContext = startCycle(
      {
        settings: { emailRatePerMinute: 2, emailRatePerHour: 100, digestThreshold: 5 },
        sendBudget: { reserveEmailSends: async (_now: Date, wanted: number) => (granted = Math.min(wanted, 2)) },
        callSlots: new Slots(1),
        log: quiet,
      } as unknown as MonitorDeps,
      new Date("2026-11-30T08:00:00.000Z"),
    );
    const units = await paceStage({ reserved: 0, used: 0 }).run(ctx, await groupStage.run(ctx, rows));
    expect(granted).toBe(2);
    expect(units.map((unit) => unit.members[0]!.message.key)).toEqual(["escalation", "old-notice"]);
    expect(ctx.stats.emailsDeferred).toBe(2);
  });
});
