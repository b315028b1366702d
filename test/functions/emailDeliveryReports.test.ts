/**
 * The Event Grid trigger end to end: the timer's cycle emails owners and escalation contacts
 * through the sandbox ACS, whose delivery reports reach emailDeliveryReportHandler as Event Grid
 * events (parsed JSON, as the host hands them over), at least once and newest first. The results
 * land on the outbox rows; a bounced escalation is reported on the heartbeat.
 */
import { InvocationContext, type Timer } from "@azure/functions";
import { getMonitorDeps, setCompositionOverrides } from "../../src/composition";
import { emailDeliveryReportHandler } from "../../src/functions/emailDeliveryReports";
import { pollTimer } from "../../src/functions/pollTimer";
import { SANDBOX_ESCALATION, sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const SUB = "00000000-0000-4000-8000-0000000000d1";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
// A service-side cause (4001): escalated two hours after detection, whatever the owner does.
const REVOKED = `Access to your account is currently revoked because the Azure Active Directory service is unavailable; for more details about this error and how to restore access to your account please visit ${GUIDE} (4001).`;

let azure: LocalAzure;
let now = new Date("2026-11-30T10:00:00.000Z");
const savedEnv = { ...process.env };
const logs: string[] = [];
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

function context(functionName: string): InvocationContext {
  return new InvocationContext({
    invocationId: `${functionName}-${Math.random()}`,
    functionName,
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
}

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.putAccount({
    name: "reports-a",
    subscriptionId: SUB,
    resourceGroup: "rg-reports",
    keyVaultKeyUri: "https://kv-reports-a.vault.azure.net/keys/k",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned" },
    tags: { "cmk-owner": "owner-a@contoso.com" },
    status: REVOKED,
  });
  Object.assign(process.env, sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_STATE_TABLE: "deliveryreports" }));
  setCompositionOverrides(sandboxOverrides(azure.sandbox, { clock: { now: () => now }, maxRetries: 0 }));
  // The sandbox ACS posts to the Functions handler; handed over when the test says, so the order is the sandbox's.
  azure.sandbox.acs.deliveryReports.configure({ autoDeliver: false, repeatShare: 1, bouncingAddresses: [SANDBOX_ESCALATION] });
  azure.sandbox.acs.deliveryReports.subscribe((event) => emailDeliveryReportHandler(event, context("emailDeliveryReports")));
});

afterAll(async () => {
  setCompositionOverrides({});
  process.env = savedEnv;
  await azure?.stop();
});

describe("delivery reports through the Event Grid trigger", () => {
  it("records the owner's Delivered on the revocation email's row, each event twice changing nothing the second time", async () => {
    await pollTimer(timer, context("cmkPoll"));
    expect(azure.sandbox.sentEmails().length).toBeGreaterThanOrEqual(1);

    await azure.sandbox.acs.deliveryReports.deliverPending();

    const rows = await getMonitorDeps().store.listMessages({ status: "sent" });
    const revoked = rows.find((row) => row.message.kind === "revoked");
    expect(revoked?.deliveryResults?.["owner-a@contoso.com"]).toMatchObject({ status: "Delivered" });
    // Every event came twice (repeatShare 1): one recorded, one unchanged, per recipient.
    const tally = await getMonitorDeps().deliveryReports!.log.deliveryReportTally();
    expect(tally?.recorded).toBeGreaterThanOrEqual(1);
    expect(tally?.unchanged).toBe(tally?.recorded);
    expect(tally?.ignored).toEqual({});
    expect(azure.sandbox.acs.deliveryReports.failedDeliveries).toBe(0);
  });

  it("reports an escalation that bounced on the heartbeat", async () => {
    // Past the escalation deadline (two hours at detection): the escalation goes to the (bouncing) escalation contact.
    now = new Date(now.getTime() + 125 * 60_000);
    await pollTimer(timer, context("cmkPoll"));
    expect(azure.sandbox.sentEmails().some((email) => email.to.includes(SANDBOX_ESCALATION) || email.cc.includes(SANDBOX_ESCALATION))).toBe(true);

    await azure.sandbox.acs.deliveryReports.deliverPending();

    const report = (await getMonitorDeps().heartbeat.lastCycle())?.deliveryReports;
    expect(report?.undeliveredEscalations).toEqual([expect.objectContaining({ recipient: SANDBOX_ESCALATION, status: "Bounced" })]);
    expect(logs.some((line) => line.includes("was not delivered: Bounced"))).toBe(true);
  });

  it("counts an event from another resource and one that is not an event, and answers both without throwing", async () => {
    const before = (await getMonitorDeps().deliveryReports!.log.deliveryReportTally())!;

    await emailDeliveryReportHandler(
      { id: "x", eventType: "Microsoft.Communication.EmailDeliveryReportReceived", topic: "/subscriptions/x/other", data: {} },
      context("e"),
    );
    await emailDeliveryReportHandler("not json at all", context("e"));

    const after = (await getMonitorDeps().deliveryReports!.log.deliveryReportTally())!;
    expect(after.ignored).toEqual({ ...before.ignored, "other-topic": 1, "not-an-event": 1 });
  });
});
