/**
 * Delivery reports recorded on the real outbox rows and counted in the real meta table (Azurite):
 * at-least-once and out-of-order delivery, ETag-guarded writes beside the sender's, unmatched and
 * junk events, and the escalations reported on the heartbeat. Each case gets fresh tables.
 */
import { TableClient } from "@azure/data-tables";
import { TableMonitorMeta } from "../../src/adapters/monitorMetaTable";
import { TableIncidentStore } from "../../src/adapters/tableStore";
import { recordDeliveryReport } from "../../src/app/recordDeliveryReport";
import { classifyStatus } from "../../src/domain/classifier";
import { EMAIL_DELIVERY_REPORT_EVENT } from "../../src/domain/deliveryReport";
import type { MessageKind } from "../../src/domain/incident";
import { decide } from "../../src/domain/lifecycle";
import type { StoredMessage } from "../../src/ports/incidentStore";
import { lifecycleContext } from "../../src/pipeline/lifecycleContext";
import { startAzurite, type AzuriteInstance } from "../../src/sandbox";
import { FakeClock } from "../fakes/fakeClock";
import { testSettings } from "../fakes/fakeMonitorDeps";
import { RecordingLogger } from "../fakes/recordingLogger";
import { ACCOUNT_ID, makeAccount } from "../fixtures/incidents";

const ACS = "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs";
const OPERATION = "0a1b2c3d-0000-5000-8000-000000000001";
const T0 = new Date("2026-11-29T07:15:00.000Z");

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

let tables = 0;
function tableClient(prefix: string): TableClient {
  tables += 1;
  return TableClient.fromConnectionString(azurite.connectionString, `${prefix}${tables}${Date.now().toString(36)}`, { allowInsecureConnection: true });
}

interface World {
  store: TableIncidentStore;
  meta: TableMonitorMeta;
  logger: RecordingLogger;
  /** The outbox row as stored now. */
  row(): Promise<StoredMessage>;
  record(event: unknown): ReturnType<typeof recordDeliveryReport>;
}

/** A committed first notice whose email (of `kind`) was sent under OPERATION, or only claimed for it. */
async function world(options: { kind?: MessageKind; sent?: boolean; acsResourceId?: string | null } = {}): Promise<World> {
  const store = new TableIncidentStore(tableClient("deliv"));
  const meta = new TableMonitorMeta(tableClient("delivmeta"));
  const account = makeAccount();
  const decision = decide(
    undefined,
    { kind: "observed", account, classification: classifyStatus(account.customerManagedKeyStatus) },
    T0,
    lifecycleContext(testSettings()),
  );
  const messages = decision.messages.map((m) => ({ ...m, kind: options.kind ?? m.kind }));
  await store.commit({ accountId: ACCOUNT_ID, incident: undefined, etag: undefined }, { ...decision, messages });
  const [pending] = await store.listMessages();
  const claimed = await store.claimMessage(pending!, T0, 300, { operationId: OPERATION });
  if (options.sent !== false) await store.markSent(claimed!, T0, OPERATION, { outcomeCheckAt: new Date(T0.getTime() + 300_000) });
  const logger = new RecordingLogger();
  const settings = { ...testSettings(), ...(options.acsResourceId === null ? {} : { acsResourceId: options.acsResourceId ?? ACS }) };
  const deps = { deliveryReports: { store, log: meta }, settings, clock: new FakeClock(T0), log: logger };
  return {
    store,
    meta,
    logger,
    row: async () => (await store.getMessage(ACCOUNT_ID, messages[0]!.key))!,
    record: (event) => recordDeliveryReport(deps, event),
  };
}

/** The owner address the fixture's first notice goes to. */
const OWNER = "orders-team@contoso.com";

function report(status: string, at: string, id: string, data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    topic: ACS,
    subject: `sender/cmk-monitor@contoso.com/message/${OPERATION}`,
    eventType: EMAIL_DELIVERY_REPORT_EVENT,
    data: {
      sender: "cmk-monitor@contoso.com",
      recipient: OWNER,
      internetMessageId: "<x@contoso.com>",
      messageId: OPERATION,
      status,
      deliveryStatusDetails: { statusMessage: status === "Delivered" ? "No error." : "550 5.1.1 mailbox unavailable" },
      deliveryAttemptTimestamp: at,
      ...data,
    },
    dataVersion: "1.0",
    metadataVersion: "1",
    eventTime: at,
  };
}

const EARLY = "2026-11-29T07:16:00.000Z";
const LATE = "2026-11-29T07:20:00.000Z";

describe("recordDeliveryReport", () => {
  it("records a recipient's result on the outbox row and leaves the send state as it was", async () => {
    const w = await world();
    const before = await w.row();

    const result = await w.record(report("Delivered", EARLY, "e1"));

    expect(result).toEqual({ outcome: "recorded", rowsChanged: 1 });
    const after = await w.row();
    expect(after.deliveryResults).toEqual({ [OWNER]: { status: "Delivered", at: EARLY, details: "No error.", eventId: "e1", operationId: OPERATION } });
    // The sender's fields are untouched: only the delivery column was merged.
    const { etag: _a, deliveryResults: _r, ...sendState } = after;
    const { etag: _b, ...sendStateBefore } = before;
    expect(sendState).toEqual(sendStateBefore);
    expect(await w.meta.deliveryReportTally()).toMatchObject({ recorded: 1, unchanged: 0, unmatched: 0, lastEventAt: T0.toISOString() });
  });

  it("takes a redelivered event and an overtaken one without changing the row (at least once, any order)", async () => {
    const w = await world();
    await w.record(report("Bounced", LATE, "e2"));
    const etag = (await w.row()).etag;

    // The same event again, and an earlier attempt that arrives after the later one.
    expect(await w.record(report("Bounced", LATE, "e2"))).toEqual({ outcome: "unchanged", rowsChanged: 0 });
    expect(await w.record(report("Delivered", EARLY, "e1"))).toEqual({ outcome: "unchanged", rowsChanged: 0 });

    const row = await w.row();
    expect(row.deliveryResults?.[OWNER]?.status).toBe("Bounced");
    // Nothing was written: the sender's ETag-guarded updates are not disturbed.
    expect(row.etag).toBe(etag);
    expect(await w.meta.deliveryReportTally()).toMatchObject({ recorded: 1, unchanged: 2 });
  });

  it("merges into the row as it is now when the sender changed it in between (ETag-guarded)", async () => {
    const w = await world();
    const stale = await w.row();
    // The sender moves the row on (its final status read) after the report's lookup read it.
    const moved = await w.store.markOutcomeChecked(stale);
    expect(moved).toBeDefined();
    const store = w.store;
    const lookup = store.findMessagesByOperation.bind(store);
    store.findMessagesByOperation = async () => [stale];
    try {
      expect(await w.record(report("Delivered", EARLY, "e1"))).toEqual({ outcome: "recorded", rowsChanged: 1 });
    } finally {
      store.findMessagesByOperation = lookup;
    }
    const row = await w.row();
    expect(row.deliveryResults?.[OWNER]?.status).toBe("Delivered");
    // The sender's change survived the report's write.
    expect(row.outcomeCheckAt).toBeUndefined();
  });

  it("finds an attempt whose acceptance is not recorded yet (claimed under the operation id)", async () => {
    const w = await world({ sent: false });

    expect(await w.record(report("Delivered", EARLY, "e1"))).toEqual({ outcome: "recorded", rowsChanged: 1 });
    expect((await w.row()).status).toBe("sending");
  });

  it.each([
    // An operation no row was sent under (another sender's mail, or one from before this store).
    { case: "unknown operation", event: report("Delivered", EARLY, "e1", { messageId: "0a1b2c3d-0000-5000-8000-0000000000ff" }) },
    // A recipient the row never addressed.
    { case: "recipient not on the row", event: report("Delivered", EARLY, "e1", { recipient: "someone@contoso.com" }) },
  ])("counts a report that matches no email as unmatched: $case", async ({ event }) => {
    const w = await world();

    expect(await w.record(event)).toEqual({ outcome: "unmatched", rowsChanged: 0 });
    expect((await w.row()).deliveryResults).toBeUndefined();
    expect(await w.meta.deliveryReportTally()).toMatchObject({ unmatched: 1 });
  });

  it("ignores and counts junk and other resources' events, never throwing", async () => {
    const w = await world();
    const events: unknown[] = [
      // Not an object.
      "junk",
      // Another event type on the same topic.
      { ...report("Delivered", EARLY, "e1"), eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived" },
      // Another resource's topic.
      { ...report("Delivered", EARLY, "e2"), topic: ACS.replace("/acs", "/other") },
      // No messageId.
      report("Delivered", EARLY, "e3", { messageId: undefined }),
    ];
    const outcomes = [];
    for (const event of events) outcomes.push(await w.record(event));

    expect(outcomes.map((o) => o.ignoredReason)).toEqual(["not-an-event", "other-event-type", "other-topic", "malformed"]);
    expect((await w.meta.deliveryReportTally())?.ignored).toEqual({ "not-an-event": 1, "other-event-type": 1, "other-topic": 1, malformed: 1 });
    expect((await w.row()).deliveryResults).toBeUndefined();
  });

  it("ignores every report while CMK_ACS_RESOURCE_ID is not set, and says why", async () => {
    const w = await world({ acsResourceId: null });

    expect(await w.record(report("Delivered", EARLY, "e1"))).toEqual({ outcome: "ignored", ignoredReason: "other-topic", rowsChanged: 0 });
    expect(w.logger.lines.map((l) => l.message)).toEqual([expect.stringContaining("CMK_ACS_RESOURCE_ID is not set")]);
  });

  it("reports a bounced escalation on the heartbeat until a later report says Delivered", async () => {
    const w = await world({ kind: "escalation" });
    await w.meta.recordCycle({
      startedAt: T0.toISOString(),
      finishedAt: T0.toISOString(),
      durationInMs: 1,
      accountsSeen: 1,
      revokedSeen: 1,
      changes: 0,
      emailsSent: 1,
      emailsRetrying: 0,
      subscriptionsFailed: 0,
    });

    await w.record(report("Bounced", EARLY, "e1"));
    const row = await w.row();
    expect((await w.meta.lastCycle())?.deliveryReports).toEqual({
      recorded: 1,
      unchanged: 0,
      unmatched: 0,
      ignored: 0,
      undeliveredEscalations: [
        {
          key: row.message.key,
          accountId: ACCOUNT_ID,
          incidentId: row.message.incidentId,
          recipient: OWNER,
          status: "Bounced",
          at: EARLY,
          details: "550 5.1.1 mailbox unavailable",
        },
      ],
    });
    expect(w.logger.lines.some((l) => l.level === "warn" && l.message.includes("was not delivered: Bounced"))).toBe(true);

    // A later attempt got through: the escalation leaves the list.
    await w.record(report("Delivered", LATE, "e2"));
    expect((await w.meta.lastCycle())?.deliveryReports?.undeliveredEscalations).toEqual([]);
  });
});
