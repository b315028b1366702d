/**
 * Fan-out through the Functions entry points, invoked directly: the timer discovers and puts
 * batches on the work queue (Azurite), the queue handler processes them as the host would hand
 * them over. A re-delivered or duplicated message sends nothing twice; a poison message is
 * reported; the open incidents discovery cannot see are handled by the timer, once.
 */
import { InvocationContext, type Timer } from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { QueueClient } from "@azure/storage-queue";
import { getMonitorDeps, setCompositionOverrides } from "../../src/composition";
import { pollTimer } from "../../src/functions/pollTimer";
import { poisonWorkItemHandler, workQueueHandler } from "../../src/functions/workQueue";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import { MalformedWorkBatchError, parseWorkBatch, type WorkBatchWire } from "../../src/pipeline/workBatch";
import { PROBE_CONCURRENCY } from "../../src/pipeline/probeStage";

const SUB = "00000000-0000-4000-8000-0000000000f1";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const REVOKED = `Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit ${GUIDE}#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const QUEUE = "cmk-work-test";
const TABLE = "fanouttable";

let azure: LocalAzure;
let now = new Date("2026-11-30T10:00:00.000Z");
const logs: string[] = [];
const savedEnv = { ...process.env };
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

function context(functionName: string): InvocationContext {
  return new InvocationContext({
    invocationId: `${functionName}-${now.toISOString()}-${Math.random()}`,
    functionName,
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
}

function account(name: string, status: string, owner = `${name}@contoso.com`): string {
  return azure.sandbox.putAccount({
    name,
    subscriptionId: SUB,
    resourceGroup: "rg-fan",
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/k`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned" },
    tags: { "cmk-owner": owner },
    status,
  });
}

/** What the Functions host does: take messages off the queue, decode base64, parse JSON. */
async function takeWorkItems(): Promise<WorkBatchWire[]> {
  const queue = new QueueClient(azure.azurite.connectionString, QUEUE);
  const items: WorkBatchWire[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return items;
    for (const message of receivedMessageItems) {
      items.push(JSON.parse(Buffer.from(message.messageText, "base64").toString("utf8")) as WorkBatchWire);
      await queue.deleteMessage(message.messageId, message.popReceipt);
    }
  }
}

async function tableSnapshot(): Promise<Map<string, string>> {
  const client = TableClient.fromConnectionString(azure.azurite.connectionString, TABLE, { allowInsecureConnection: true });
  const rows = new Map<string, string>();
  for await (const row of client.listEntities()) rows.set(`${row.partitionKey}/${row.rowKey}`, row.etag);
  return rows;
}

const emailsFor = (name: string) => azure.sandbox.sentEmails().filter((email) => email.subject.includes(`${name}:`) || email.subject.includes(`${name} `));

beforeAll(async () => {
  azure = await startLocalAzure();
  account("fan-a", REVOKED);
  account("fan-b", REVOKED);
  account("fan-gone", REVOKED);
  for (let i = 0; i < 4; i++) account(`fan-ok${i}`, HEALTHY);
  Object.assign(
    process.env,
    sandboxEnvironment(azure.sandbox, azure.azurite, {
      CMK_SUBSCRIPTION_IDS: SUB,
      CMK_STATE_TABLE: TABLE,
      CMK_FANOUT: "queue",
      CMK_WORK_QUEUE: QUEUE,
    }),
  );
  setCompositionOverrides(sandboxOverrides(azure.sandbox, { clock: { now: () => now }, maxRetries: 0 }));
});

afterAll(async () => {
  setCompositionOverrides({});
  process.env = savedEnv;
  await azure?.stop();
});

describe("the timer fans out, the queue handler does the work", () => {
  let firstItems: WorkBatchWire[] = [];
  const accountsOf = (items: WorkBatchWire[]) => items.flatMap((item) => parseWorkBatch(item).accounts);

  it("the timer only enqueues; each work item is processed by the queue handler and emails its owners", async () => {
    await pollTimer(timer, context("cmkPoll"));
    expect(azure.sandbox.sentEmails()).toHaveLength(0);
    firstItems = await takeWorkItems();
    expect(firstItems.length).toBeGreaterThanOrEqual(1);
    // Revoked accounts to decide, healthy ones due their daily check; every account exactly once.
    const accounts = accountsOf(firstItems);
    expect(
      accounts
        .filter((entry) => entry.decide)
        .map((entry) => entry.account.name)
        .sort(),
    ).toEqual(["fan-a", "fan-b", "fan-gone"]);
    expect(
      accounts
        .filter((entry) => entry.dailyCheck)
        .map((entry) => entry.account.name)
        .sort(),
    ).toEqual(["fan-ok0", "fan-ok1", "fan-ok2", "fan-ok3"]);
    expect(new Set(firstItems.map((item) => item.cycleId)).size).toBe(1);

    for (const item of firstItems) await workQueueHandler(item, context("cmkWork"));
    expect(emailsFor("fan-a")).toHaveLength(1);
    expect(emailsFor("fan-b")).toHaveLength(1);
    expect(emailsFor("fan-gone")).toHaveLength(1);
    expect(azure.sandbox.sentEmails()).toHaveLength(3);
  });

  it("a re-delivered work item changes nothing and sends nothing", async () => {
    const before = await tableSnapshot();
    for (const item of firstItems) await workQueueHandler(item, context("cmkWork"));
    expect(azure.sandbox.sentEmails()).toHaveLength(3);
    expect(await tableSnapshot()).toEqual(before);
  });

  it("the same work item delivered twice at once sends each email once", async () => {
    account("fan-c", REVOKED);
    account("fan-d", REVOKED);
    now = new Date(now.getTime() + 5 * 60_000);
    await pollTimer(timer, context("cmkPoll"));
    const items = await takeWorkItems();
    await Promise.all([...items, ...items, ...items].map((item) => workQueueHandler(item, context("cmkWork"))));
    expect(emailsFor("fan-c")).toHaveLength(1);
    expect(emailsFor("fan-d")).toHaveLength(1);
    expect(azure.sandbox.sentEmails()).toHaveLength(5);
    expect(azure.sandbox.emailRepeats()).toHaveLength(0);
  });

  it("work items running at once on one instance share its call slots", async () => {
    // host.json lets the host run several work items at once; together they keep to the instance's calls in flight.
    for (let i = 0; i < 12; i++) account(`fan-s${i}`, HEALTHY);
    now = new Date(now.getTime() + 5 * 60_000);
    await pollTimer(timer, context("cmkPoll"));
    const items = await takeWorkItems();
    const slots = getMonitorDeps().callSlots!;
    const run = slots.run.bind(slots);
    let inFlight = 0;
    let peak = 0;
    let calls = 0;
    const spy = jest.spyOn(slots, "run").mockImplementation(<T>(work: () => Promise<T>) =>
      run(async () => {
        calls += 1;
        peak = Math.max(peak, ++inFlight);
        try {
          return await work();
        } finally {
          inFlight -= 1;
        }
      }),
    );
    try {
      // Three invocations at once (the same batch delivered three times: each probes on its own).
      await Promise.all([...items, ...items, ...items].map((item) => workQueueHandler(item, context("cmkWork"))));
    } finally {
      spy.mockRestore();
    }
    // Twelve new vaults, each a DNS lookup, a vault read and a key read, per invocation; all through the one set of slots.
    expect(calls).toBeGreaterThanOrEqual(3 * 12 * 3);
    expect(peak).toBeLessThanOrEqual(PROBE_CONCURRENCY);
  });

  it("an account gone from Azure is resolved by the timer itself, once, and is in no work item", async () => {
    azure.sandbox.removeAccount("fan-gone");
    now = new Date(now.getTime() + 5 * 60_000);
    await pollTimer(timer, context("cmkPoll"));
    const items = await takeWorkItems();
    expect(accountsOf(items).some((entry) => entry.account.name === "fan-gone")).toBe(false);
    const resolved = emailsFor("fan-gone").filter((email) => /resolved|removed|no longer/i.test(email.subject));
    expect(resolved).toHaveLength(1);
    for (const item of items) await workQueueHandler(item, context("cmkWork"));
    // A second timer run (overlapping or late) does not resolve it again.
    await pollTimer(timer, context("cmkPoll"));
    await takeWorkItems();
    expect(emailsFor("fan-gone").filter((email) => /resolved|removed|no longer/i.test(email.subject))).toHaveLength(1);
  });

  it("a work item older than two poll intervals is dropped: later cycles have covered its accounts", async () => {
    const stale = { ...firstItems[0]!, cycleStartedAt: new Date(now.getTime() - 11 * 60_000).toISOString() };
    const before = await tableSnapshot();
    await workQueueHandler(stale, context("cmkWork"));
    expect(logs.some((line) => line.startsWith("cmk-monitor: dropped a stale work item"))).toBe(true);
    expect(await tableSnapshot()).toEqual(before);
  });

  it("the handler accepts the message as the host may pass it: parsed, a JSON string, or base64", async () => {
    const sent = azure.sandbox.sentEmails().length;
    const fresh = { ...firstItems[0]!, cycleStartedAt: now.toISOString() };
    await workQueueHandler(JSON.stringify(fresh), context("cmkWork"));
    await workQueueHandler(Buffer.from(JSON.stringify(fresh)).toString("base64"), context("cmkWork"));
    expect(azure.sandbox.sentEmails()).toHaveLength(sent);
  });

  it("a message that is not a work item fails loudly (so the host retries it into the poison queue)", async () => {
    await expect(workQueueHandler("not a work item", context("cmkWork"))).rejects.toBeInstanceOf(MalformedWorkBatchError);
    await expect(
      workQueueHandler({ type: "cmk-work", version: 1, cycleId: "x", cycleStartedAt: now.toISOString(), accounts: [{}] }, context("cmkWork")),
    ).rejects.toBeInstanceOf(MalformedWorkBatchError);
    expect(logs.some((line) => line.startsWith("cmk-monitor: work item failed"))).toBe(true);
  });

  it("a poison work item is reported: the log line the alert counts, and the count on the heartbeat", async () => {
    await poisonWorkItemHandler(firstItems[0], context("cmkWorkPoison"));
    await poisonWorkItemHandler("garbage", context("cmkWorkPoison"));
    const lines = logs.filter((line) => line.startsWith("cmk-monitor: poison work item"));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(firstItems[0]!.cycleId);
    expect(lines[1]).toContain("unreadable");
    now = new Date(now.getTime() + 5 * 60_000);
    await pollTimer(timer, context("cmkPoll"));
    await takeWorkItems();
    expect(await getMonitorDeps().heartbeat.lastCycle()).toMatchObject({ poisonWorkItems: 2 });
  });
});
