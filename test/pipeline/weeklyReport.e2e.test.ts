/**
 * The weekly report end to end on the sandbox (ARM + ACS) and Azurite: the week turning at Monday
 * 00:00 UTC (injected clock) gives exactly one report email to the escalation contacts, even with
 * two monitor instances running the same cycles concurrently, and never before incident mail.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import { recordWeeklyReport } from "../../src/pipeline/weeklyReport";
import { startCycle } from "../../src/pipeline/cycleContext";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const SUB = "00000000-0000-0000-0000-0000000000e5";
const status = (code: number) => `Access to your account is currently revoked (${code}).`;
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let now = new Date("2026-11-29T06:00:00.000Z"); // Sunday of 2026-W48
const clock = { now: () => now };
let table = 0;

function instances(count: number, env: Record<string, string> = {}): MonitorDeps[] {
  const settings = sandboxEnvironment(azure.sandbox, azure.azurite, {
    CMK_SUBSCRIPTION_IDS: SUB,
    CMK_STATE_TABLE: `weekly${++table}`,
    CMK_WEEKLY_REPORT: "on",
    ...env,
  });
  return Array.from({ length: count }, () => createMonitorDeps(loadConfig(settings), sandboxOverrides(azure.sandbox, { clock, log: quiet, maxRetries: 0 })));
}

const weeklyEmails = () => azure.sandbox.sentEmails().filter((email) => email.subject.startsWith("[CMK weekly]"));

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.sandbox.putAccount({
    name: "weekly-orders-db",
    subscriptionId: SUB,
    resourceGroup: "rg-weekly",
    keyVaultKeyUri: "https://kv-weekly.vault.azure.net/keys/cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: "00000000-0000-0000-0000-0000000000e6" },
    tags: { "cmk-owner": "orders@contoso.com" },
    status: status(4002),
  });
}, 60_000);

afterAll(async () => {
  await azure?.stop();
});

describe("the weekly report across a week rollover", () => {
  it("two instances running every cycle send exactly one report for the week, after Monday 00:00 UTC", async () => {
    const monitors = instances(2);

    // Sunday: the revocation is detected and mailed; a first deployment mid-week reports nothing.
    await Promise.all(monitors.map((deps) => runCycle(deps)));
    const revoked = azure.sandbox.sentEmails().find((email) => email.subject.startsWith("[CMK revoked] weekly-orders-db"));
    // The drain renders the lead with deadlines counted from when the message was recorded (this cycle).
    expect(revoked?.plainText).toMatch(
      /^The Azure Cosmos DB account weekly-orders-db lost access[^\n]*\n\nNext deadline: 2026-11-29 \d\d:\d\d UTC \(in [^)]+\)/,
    );
    expect(weeklyEmails()).toHaveLength(0);

    // Sunday 23:55: the week has not turned yet.
    now = new Date("2026-11-29T23:55:00.000Z");
    await Promise.all(monitors.map((deps) => runCycle(deps)));
    expect(weeklyEmails()).toHaveLength(0);

    // Monday 00:05: both instances see the week turn at once; one report is recorded and sent.
    now = new Date("2026-11-30T00:05:00.000Z");
    await Promise.all(monitors.map((deps) => runCycle(deps)));
    const [report, ...others] = weeklyEmails();
    expect(others).toHaveLength(0);
    expect(report!.subject).toBe("[CMK weekly] 2026-W48: 1 incident, 0 escalated, 1 still open, 0 accounts at risk");
    expect(report!.to).toEqual(monitors[0]!.settings.escalationRecipients.map((address) => address));
    expect(report!.plainText).toContain("weekly-orders-db");
    expect(report!.html).toContain("Incidents per day");
    // Both trend charts travel as inline PNGs that the HTML references by contentId; the table bars stay as the fallback.
    const images = report!.attachments ?? [];
    expect(images.map((image) => image.contentType)).toEqual(["image/png", "image/png"]);
    for (const image of images) {
      expect(report!.html).toContain(`src="cid:${image.contentId}"`);
      expect(Buffer.from(image.contentInBase64, "base64").subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    }
    expect(report!.html).toContain("for mail clients that block images");
    expect(report!.headers?.["X-CMK-Monitor-Key"]).toBe("weekly-report:2026-W48");

    // Later cycles that week, on either instance: nothing more.
    for (const minutes of [60, 24 * 60]) {
      now = new Date(Date.parse("2026-11-30T00:05:00.000Z") + minutes * 60_000);
      await Promise.all(monitors.map((deps) => runCycle(deps)));
    }
    expect(weeklyEmails()).toHaveLength(1);
    expect(azure.sandbox.emailRepeats()).toHaveLength(0);
  }, 120_000);

  it("records nothing when CMK_WEEKLY_REPORT is off (the default)", async () => {
    // Off unless asked for: the stage returns before reading anything.
    const [deps] = instances(1, { CMK_WEEKLY_REPORT: "off" });
    now = new Date("2026-12-07T00:05:00.000Z");
    expect(await recordWeeklyReport(startCycle(deps!, now))).toBe("off");
  }, 60_000);

  it("catches up a missed Monday once a report was recorded, and keeps the state row ETag-guarded", async () => {
    // Two recordings of the same week race on the state row's ETag: one wins, the other is told so.
    const [a, b] = instances(2);
    now = new Date("2026-12-07T00:10:00.000Z");
    const outcomes = await Promise.all([recordWeeklyReport(startCycle(a!, now)), recordWeeklyReport(startCycle(b!, now))]);
    expect(outcomes.filter((outcome) => outcome === "recorded")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "recorded" || outcome === "recorded-elsewhere" || outcome === "already-recorded")).toHaveLength(2);
    // Thursday of the week after: the missed Monday of 2026-W50 is caught up, once.
    now = new Date("2026-12-17T09:00:00.000Z");
    expect(await recordWeeklyReport(startCycle(a!, now))).toBe("recorded");
    expect(await recordWeeklyReport(startCycle(b!, now))).toBe("already-recorded");
    const rows = await a!.store.listMessages({ accountId: "weekly-report" });
    expect(rows.map((row) => row.message.key)).toEqual(["weekly-report:2026-W49", "weekly-report:2026-W50"]);
  }, 60_000);
});
