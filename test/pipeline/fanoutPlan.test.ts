/** How the timer splits a cycle's work into queue messages, and how the handler reads them back. Pure. */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { CmkAccount } from "../../src/domain/account";
import { classifyStatus } from "../../src/domain/classifier";
import { MAX_QUEUE_MESSAGE_BYTES } from "../../src/ports/workQueue";
import { MalformedWorkBatchError, parseWorkBatch } from "../../src/pipeline/workBatch";
import { MAX_ACCOUNTS_PER_BATCH, planWorkBatches } from "../../src/pipeline/fanoutPlan";
import { Slots } from "../../src/pipeline/concurrency";
import { startCycle } from "../../src/pipeline/cycleContext";
import type { CycleContext } from "../../src/pipeline/cycleContext";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const ctx: CycleContext = startCycle(
  {
    settings: {
      ownerTag: "cmk-owner",
      defaultRecipients: [],
      allowedRecipientDomains: [],
      escalationRecipients: ["support@contoso.com"],
      reminderIntervalInMinutes: 60,
    },
    callSlots: new Slots(1),
  } as unknown as MonitorDeps,
  new Date("2026-12-01T08:00:00.000Z"),
);

function account(i: number, owner: string, extraTags: Record<string, string> = {}): CmkAccount {
  return {
    id: `/subscriptions/00000000-0000-4000-8000-${String(i % 50).padStart(12, "0")}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct-${i}`,
    name: `acct-${i}`,
    subscriptionId: `00000000-0000-4000-8000-${String(i % 50).padStart(12, "0")}`,
    resourceGroup: "rg",
    keyVaultKeyUri: `https://kv-${i % 50}.vault.azure.net/keys/k`,
    userAssignedIdentities: {},
    tags: { "cmk-owner": owner, ...extraTags },
    customerManagedKeyStatus: "Access to the configured customer managed key confirmed.",
  };
}

const wireSize = (json: string) => Math.ceil(Buffer.byteLength(json) / 3) * 4;

describe("planWorkBatches", () => {
  it("covers every account once, keeps each owner's accounts in one batch, and fits each message in 64 KiB", () => {
    // 1,000 healthy accounts due their daily check, owners of 10 to 120 accounts.
    const accounts = Array.from({ length: 1000 }, (_, i) => account(i, `owner-${i % 9 === 0 ? "big" : i % 40}@contoso.com`));
    const plan = planWorkBatches(
      ctx,
      "cycle-1",
      [],
      accounts.map((a) => ({ account: a })),
    );
    const seen = plan.messages.flatMap(({ message }) => message.accounts.map((entry) => entry.account.name));
    expect(seen.sort()).toEqual(accounts.map((a) => a.name).sort());
    for (const { message, json } of plan.messages) {
      expect(message.accounts.length).toBeLessThanOrEqual(MAX_ACCOUNTS_PER_BATCH);
      expect(wireSize(json)).toBeLessThanOrEqual(MAX_QUEUE_MESSAGE_BYTES);
      expect(message.batches).toBe(plan.messages.length);
    }
    // No owner's group is split (every group here fits a batch).
    const batchesOf = new Map<string, Set<number>>();
    for (const { message } of plan.messages) {
      for (const entry of message.accounts) {
        const owner = entry.account.tags["cmk-owner"]!;
        batchesOf.set(owner, (batchesOf.get(owner) ?? new Set()).add(message.batch));
      }
    }
    for (const batches of batchesOf.values()) expect(batches.size).toBe(1);
  });

  it("a group too big for one batch starts its own and is cut at digest boundaries, its accounts to decide first", () => {
    // Another owner's 120 accounts come first; the big owner's 450 revoked and 300 healthy accounts follow.
    const revoked = (i: number) => ({ ...account(i, "team-big@contoso.com"), customerManagedKeyStatus: "Access to your account is currently revoked (4002)." });
    const observed = Array.from({ length: 450 }, (_, i) => revoked(i)).map((a) => ({ account: a, classification: classifyStatus(a.customerManagedKeyStatus) }));
    const checks = [
      ...Array.from({ length: 120 }, (_, i) => ({ account: account(1000 + i, "aaa-small@contoso.com") })),
      ...Array.from({ length: 300 }, (_, i) => ({ account: account(2000 + i, "team-big@contoso.com") })),
    ];
    const plan = planWorkBatches(ctx, "cycle-4", observed, checks);
    const shape = plan.messages.map(({ message }) => ({
      owners: [...new Set(message.accounts.map((entry) => entry.account.tags["cmk-owner"]))],
      decide: message.accounts.filter((entry) => entry.decide).length,
      checks: message.accounts.filter((entry) => entry.dailyCheck).length,
    }));
    expect(shape).toEqual([
      { owners: ["aaa-small@contoso.com"], decide: 0, checks: 120 },
      // Four full digests' worth of decisions, then the rest with the daily checks.
      { owners: ["team-big@contoso.com"], decide: 400, checks: 0 },
      { owners: ["team-big@contoso.com"], decide: 50, checks: 300 },
    ]);
  });

  it("marks what each account needs: a decision, its daily check (with the last check's ETag), or both", () => {
    const revoked = { ...account(1, "a@contoso.com"), customerManagedKeyStatus: "Access to your account is currently revoked (4002)." };
    const healthy = account(2, "a@contoso.com");
    const plan = planWorkBatches(
      ctx,
      "cycle-2",
      [{ account: revoked, classification: classifyStatus(revoked.customerManagedKeyStatus) }],
      [{ account: healthy, etag: 'W/"1"' }],
    );
    const [{ json }] = plan.messages;
    const parsed = parseWorkBatch(json);
    expect(parsed).toMatchObject({ type: "cmk-work", version: 1, cycleId: "cycle-2", cycleStartedAt: ctx.now.toISOString(), batch: 1, batches: 1 });
    expect(parsed.accounts).toEqual([
      { account: revoked, decide: true },
      { account: healthy, dailyCheck: { etag: 'W/"1"' } },
    ]);
  });

  it("an account too large for any message is left for the timer to handle itself", () => {
    // Random tag values do not compress: 80 KB of them cannot travel in 64 KiB.
    const huge = account(3, "b@contoso.com", Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, randomBytes(800).toString("base64")])));
    const plan = planWorkBatches(ctx, "cycle-3", [], [{ account: huge }, { account: account(4, "b@contoso.com") }]);
    expect(plan.oversize.map((entry) => entry.account.name)).toEqual(["acct-3"]);
    expect(plan.messages.flatMap(({ message }) => message.accounts.map((entry) => entry.account.name))).toEqual(["acct-4"]);
  });
});

describe("parseWorkBatch", () => {
  it.each<[string, unknown]>([
    // Not JSON at all.
    ["garbage", "not a work item"],
    // JSON, but someone else's message.
    ["another message", { hello: "world" }],
    // A future version this code does not know.
    ["version 2", { type: "cmk-work", version: 2, cycleId: "c", cycleStartedAt: "2026-12-01T08:00:00Z", accounts: [] }],
    // The compressed accounts are corrupt.
    ["corrupt gzip", { type: "cmk-work", version: 1, cycleId: "c", cycleStartedAt: "2026-12-01T08:00:00Z", accountsGzip: "bm90IGd6aXA=" }],
    // An account without the fields every stage reads.
    [
      "an account without a key URI",
      {
        type: "cmk-work",
        version: 1,
        cycleId: "c",
        cycleStartedAt: "2026-12-01T08:00:00Z",
        accounts: [{ account: { id: "x", name: "x", subscriptionId: "s", tags: {} } }],
      },
    ],
  ])("%s is malformed", (_name, raw) => {
    expect(() => parseWorkBatch(raw)).toThrow(MalformedWorkBatchError);
  });

  it("reads the compressed form without changing the message it was given (the host may hand it over again)", () => {
    const wire = {
      type: "cmk-work",
      version: 1,
      cycleId: "c",
      cycleStartedAt: "2026-12-01T08:00:00.000Z",
      batch: 1,
      batches: 1,
      accountsGzip: gzipSync(JSON.stringify([{ account: account(5, "c@contoso.com"), decide: true }])).toString("base64"),
    };
    const copy = JSON.parse(JSON.stringify(wire));
    expect(parseWorkBatch(wire).accounts[0]!.account.name).toBe("acct-5");
    expect(wire).toEqual(copy);
  });
});
