/**
 * CMK_SUPPORT_TICKETS=create end to end: the monitor's own SDK clients against the sandbox's
 * Microsoft.Support and Azurite. An account revoked for a reason nobody can fix escalates two hours
 * after detection; the escalation email names the ticket, or says why there is none.
 */
import { runCycle } from "../../src/app/runCycle";
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const UNRECOGNIZED =
  "Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide (4099).";
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
let azure: LocalAzure;

beforeAll(async () => {
  azure = await startLocalAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("support tickets in create mode, end to end", () => {
  it.each<[string, string, (sub: string) => void, RegExp, number]>([
    // A support plan and the role: the ticket is filed before the email, which names it.
    ["filed", "00000000-0000-0000-0000-0000000005a1", () => {}, /The monitor filed support ticket \d{16}/, 1],
    // No support plan: the email goes with the draft, the command and the reason.
    [
      "no support plan",
      "00000000-0000-0000-0000-0000000005a2",
      (sub) => azure.sandbox.support.withoutSupportPlan(sub),
      /could not file the support ticket: .*no support plan/,
      0,
    ],
    // The identity lacks Support Request Contributor: likewise, naming the role.
    [
      "missing role",
      "00000000-0000-0000-0000-0000000005a3",
      (sub) => azure.sandbox.support.denySubscription(sub),
      /could not file the support ticket: .*Support Request Contributor/,
      0,
    ],
  ])("%s", async (name, subscriptionId, arrange, text, tickets) => {
    const account = `support-${name.replace(/\s+/g, "-")}`;
    azure.sandbox.putAccount({
      name: account,
      subscriptionId,
      resourceGroup: "rg-support",
      keyVaultKeyUri: "https://kv-support.vault.azure.net/keys/k",
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned" },
      tags: { "cmk-owner": "owner@contoso.com" },
      status: UNRECOGNIZED,
    });
    arrange(subscriptionId);
    let now = new Date("2026-12-03T03:00:00.000Z");
    const env = sandboxEnvironment(azure.sandbox, azure.azurite, {
      CMK_SUBSCRIPTION_IDS: subscriptionId,
      CMK_STATE_TABLE: `support${subscriptionId.slice(-3)}`,
      CMK_PROBES: "off",
      CMK_SUPPORT_TICKETS: "create",
      CMK_SUPPORT_CONTACT_NAME: "Ada Lovelace",
    });
    const deps = createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { log: quiet, clock: { now: () => now } }));
    const opened = azure.sandbox.support.ticketsOpened;
    const sent = azure.sandbox.sentEmails().length;
    await runCycle(deps);
    now = new Date(now.getTime() + 125 * 60_000);
    await runCycle(deps);
    const escalations = azure.sandbox
      .sentEmails()
      .slice(sent)
      .filter((email) => email.subject.includes("escalation"));
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.plainText).toMatch(text);
    expect(azure.sandbox.support.ticketsOpened - opened).toBe(tickets);
    expect(azure.sandbox.support.duplicateTickets).toBe(0);
  });
});
