/**
 * CMK_SUPPORT_TICKETS=create on the fakes: an escalation email goes out once its ticket is filed
 * (or known not to be), and one incident never gets two tickets across lost replies, retries and
 * two instances working at once.
 */
import { drainOutboxIn } from "../../src/app/drainOutbox";
import { supportTicketStage } from "../../src/pipeline/supportTicketStage";
import { refreshTicketStatuses } from "../../src/pipeline/supportTicketStatus";
import type { SendUnit } from "../../src/pipeline/sendUnit";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import { FakeSupportTickets, type CreateFault } from "../fakes/fakeSupportTickets";
import { decideNow, HEALTHY_STATUS, observed, openIncident } from "../fixtures/storedIncidents";
import { makeAccount } from "../fixtures/incidents";

const ENV = { CMK_SUPPORT_TICKETS: "create", CMK_SUPPORT_CONTACT_NAME: "Ada Lovelace" };

async function escalated(): Promise<{ monitor: FakeMonitor; tickets: FakeSupportTickets; accountId: string }> {
  const tickets = new FakeSupportTickets();
  const monitor = fakeMonitorDeps({ env: ENV, deps: { supportTickets: tickets } });
  const account = makeAccount();
  await openIncident(monitor, account);
  const acked = await decideNow(monitor, account.id, { kind: "acknowledged", by: "ops@contoso.com" });
  await monitor.store.commit(acked.record, acked.decision);
  monitor.clock.advance(24 * 60);
  const tick = await decideNow(monitor, account.id, { kind: "tick" });
  expect(tick.decision.reasons).toContain("escalation-due");
  await monitor.store.commit(tick.record, tick.decision);
  return { monitor, tickets, accountId: account.id };
}

/** One drain of the outbox as a cycle runs it (unused send reservations given back); returns the escalation emails delivered so far. */
async function drain(monitor: FakeMonitor) {
  await drainOutboxIn(monitor.context());
  return monitor.email.delivered.filter((email) => email.subject.includes("escalation"));
}

describe("supportTicketStage", () => {
  it.each<[string, CreateFault | undefined, RegExp, number]>([
    // The plain case: filed, and the email names the ticket.
    ["filed", undefined, /filed support ticket 2612030000000001/, 1],
    // No support plan: the email goes at once with the draft and the reason; nothing is retried.
    ["no support plan", { kind: "refused", refusal: "no-support-plan" }, /could not file the support ticket: refused: no-support-plan/, 0],
    // Missing role: likewise.
    ["missing role", { kind: "refused", refusal: "missing-role" }, /could not file the support ticket: refused: missing-role/, 0],
  ])("%s", async (_case, fault, text, opened) => {
    const { monitor, tickets, accountId } = await escalated();
    if (fault) tickets.failNextCreate(fault);
    const emails = await drain(monitor);
    expect(emails).toHaveLength(1);
    expect(emails[0]!.text).toMatch(text);
    expect(tickets.opened).toHaveLength(opened);
    const record = await monitor.store.getRecord(accountId);
    expect(record.incident!.supportTicket!.state).toBe(opened ? "filed" : "not-filed");
    const events = await monitor.store.listEvents(accountId, record.incident!.id);
    expect(events.filter((event) => event.type === "support-ticket")).toHaveLength(1);
  });

  it.each<[string, boolean, number]>([
    // The create went through but its reply was lost; the ticket is visible at once: found by name next time.
    ["reply lost, ticket visible", true, 1],
    // The create is still running and invisible: no second create within the settle window, found once it finishes.
    ["reply lost, ticket not yet visible", false, 7],
  ])("%s: one ticket, and the email waits for it", async (_case, visible, minutesLater) => {
    const { monitor, tickets } = await escalated();
    tickets.failNextCreate({ kind: "lost-reply", visible });
    expect(await drain(monitor)).toHaveLength(0);
    monitor.clock.advance(1);
    await drain(monitor);
    if (!visible) {
      expect(tickets.calls.filter((call) => call === "createTicket")).toHaveLength(1);
      tickets.finishPending();
    }
    monitor.clock.advance(minutesLater);
    const emails = await drain(monitor);
    expect(emails).toHaveLength(1);
    expect(emails[0]!.text).toMatch(/filed support ticket 2612030000000001/);
    expect(tickets.opened).toHaveLength(1);
    expect(tickets.duplicates).toBe(0);
  });

  it("two instances on one escalation at once open one ticket", async () => {
    // The claim normally keeps them apart; here both hold the unit, so only the intent's ETag does.
    const { monitor, tickets } = await escalated();
    const [row] = await monitor.store.listMessages({ status: "pending" });
    const unit: SendUnit = { members: [row!] };
    await Promise.all([supportTicketStage.run(monitor.context(), [unit]), supportTicketStage.run(monitor.context(), [unit])]);
    monitor.clock.advance(6);
    await drain(monitor);
    expect(tickets.opened).toHaveLength(1);
  });

  it("a transient failure is retried, and after the give-up time the email goes with the reason", async () => {
    const { monitor, tickets } = await escalated();
    for (let i = 0; i < 30; i++) tickets.failNextCreate({ kind: "transient" });
    expect(await drain(monitor)).toHaveLength(0);
    let emails: Awaited<ReturnType<typeof drain>> = [];
    for (let minute = 0; minute < 30 && emails.length === 0; minute += 1) {
      monitor.clock.advance(1);
      emails = await drain(monitor);
    }
    expect(emails).toHaveLength(1);
    expect(emails[0]!.text).toMatch(/could not file the support ticket: Azure did not confirm the ticket within 20 minutes/);
    expect(tickets.opened).toHaveLength(0);
  });

  it("tells the ticket once when the account recovers, and the resolved email names it", async () => {
    const { monitor, tickets, accountId } = await escalated();
    await drain(monitor);
    monitor.clock.advance(30);
    const healthy = await decideNow(monitor, accountId, observed(makeAccount({ customerManagedKeyStatus: HEALTHY_STATUS })));
    expect(healthy.decision.reasons).toContain("recovered");
    await monitor.store.commit(healthy.record, healthy.decision);
    // The first send attempt posts the message but the email fails: the retry must not post it again.
    monitor.email.failNext(1, "not-accepted");
    await drain(monitor);
    monitor.clock.advance(5);
    await drain(monitor);
    expect(tickets.communications.map((c) => c.subject)).toEqual(["Recovered"]);
    expect(tickets.communications[0]!.body).toMatch(/You may close this case/);
    const resolved = monitor.email.delivered.filter((email) => email.subject.includes("recovered"));
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.text).toMatch(/support ticket 2612030000000001 .* may be closed now/);
  });

  it.each<[string, number, string | undefined]>([
    // Within the hour after filing: no read.
    ["not due", 30, undefined],
    // An hour later: read once, for the dashboard.
    ["due", 60, "Open"],
  ])("reads a filed ticket's status on a slow cadence: %s", async (_case, minutes, status) => {
    const { monitor, tickets, accountId } = await escalated();
    await drain(monitor);
    monitor.clock.advance(minutes);
    const reads = tickets.calls.filter((call) => call === "getTicket").length;
    await refreshTicketStatuses(monitor.context(), await monitor.store.listOpenRecords());
    const ticket = (await monitor.store.getRecord(accountId)).incident!.supportTicket;
    expect(ticket?.state === "filed" ? ticket.status : undefined).toBe(status ?? "Open");
    expect(tickets.calls.filter((call) => call === "getTicket").length - reads).toBe(status ? 1 : 0);
  });
});
