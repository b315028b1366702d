/** The drain's one final-status read of accepted emails, on the fakes (ACS delivers every accepted POST). */
import { drainOutbox } from "../../src/app/drainOutbox";
import { DELIVERY_REPORT_WAIT_IN_MINUTES, operationIdFor, OUTCOME_CHECK_DELAY_IN_MINUTES } from "../../src/pipeline/sendStage";
import type { EmailOperationStatus } from "../../src/ports/emailSender";
import { namedAccount, openIncident } from "../fixtures/storedIncidents";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

describe("drainOutbox, the final-status read of an accepted email", () => {
  it.each<{ status: EmailOperationStatus | undefined; reads: number; posts: number; delivered: number; generation: number; checkLeft: boolean }>([
    // Succeeded: done; one read, nothing more.
    { status: "Succeeded", reads: 1, posts: 1, delivered: 1, generation: 0, checkLeft: false },
    // Still running after the delay: ACS has it; read at most once, so done too.
    { status: "Running", reads: 1, posts: 1, delivered: 1, generation: 0, checkLeft: false },
    // No longer known after a 202: ACS accepted it; nothing to re-send.
    { status: undefined, reads: 1, posts: 1, delivered: 1, generation: 0, checkLeft: false },
    // Failed: sent again in the same drain under a new operation id, which is delivered.
    { status: "Failed", reads: 1, posts: 2, delivered: 1, generation: 1, checkLeft: true },
  ])("$status → $reads read(s), $posts POST(s), generation $generation", async ({ status, reads, posts, delivered, generation, checkLeft }) => {
    const monitor = fakeMonitorDeps();
    await openIncident(monitor, namedAccount("orders-db"));
    const key = (await monitor.store.listMessages())[0]!.message.key;
    if (status === "Failed") monitor.email.failNext(1, "operation-failed");
    await drainOutbox(monitor.deps);
    expect(monitor.email.statusReads).toEqual([]);
    if (status !== "Failed") monitor.email.setOperationStatus(operationIdFor(key), status as EmailOperationStatus);
    if (status === undefined) (monitor.email as unknown as { operations: Map<string, string> }).operations.delete(operationIdFor(key));

    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);
    await drainOutbox(monitor.deps);

    expect(monitor.email.statusReads).toHaveLength(reads);
    expect(monitor.email.attempts.map((email) => email.operationId)).toEqual([operationIdFor(key), operationIdFor(key, 1)].slice(0, posts));
    expect(monitor.email.delivered).toHaveLength(delivered);
    const [row] = await monitor.store.listMessages();
    expect(row).toMatchObject({ status: "sent", generation });
    // A re-sent email gets its own later read; a finished one none.
    expect(row!.outcomeCheckAt !== undefined).toBe(checkLeft);

    // Nothing is read again for a finished check.
    monitor.clock.advance(60);
    await drainOutbox(monitor.deps);
    expect(monitor.email.statusReads).toHaveLength(checkLeft ? reads + 1 : reads);
  });

  it("a check not yet due is not read", async () => {
    const monitor = fakeMonitorDeps();
    await openIncident(monitor, namedAccount("orders-db"));
    await drainOutbox(monitor.deps);
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES - 1);
    await drainOutbox(monitor.deps);
    expect(monitor.email.statusReads).toEqual([]);
  });
});

describe("drainOutbox, concurrent instances", () => {
  it("two drains at once read an accepted email's status once", async () => {
    // Both instances list the same due check; the ETag-guarded lease lets one of them read it.
    const monitor = fakeMonitorDeps();
    await openIncident(monitor, namedAccount("orders-db"));
    await drainOutbox(monitor.deps);
    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);

    await Promise.all([drainOutbox(monitor.deps), drainOutbox(monitor.deps)]);

    expect(monitor.email.statusReads).toHaveLength(1);
    expect((await monitor.store.listMessages())[0]!.outcomeCheckAt).toBeUndefined();
  });
});

describe("drainOutbox, the final-status read with delivery reports wired (CMK_DELIVERY_REPORTS=on)", () => {
  const REPORTS_ON = {
    CMK_DELIVERY_REPORTS: "on",
    CMK_ACS_RESOURCE_ID: "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs",
  };

  it.each<{ report?: { status: string; forOperation: "this" | "another" }; at: number; reads: number; checkLeft: boolean }>([
    // Delivered for this operation: ACS processed it, the read is skipped, the check is done.
    { report: { status: "Delivered", forOperation: "this" }, at: OUTCOME_CHECK_DELAY_IN_MINUTES, reads: 0, checkLeft: false },
    // Bounced is a delivery attempt too: ACS had the email.
    { report: { status: "Bounced", forOperation: "this" }, at: OUTCOME_CHECK_DELAY_IN_MINUTES, reads: 0, checkLeft: false },
    // Failed proves nothing about the operation (it may be the operation's own failure): read now.
    { report: { status: "Failed", forOperation: "this" }, at: OUTCOME_CHECK_DELAY_IN_MINUTES, reads: 1, checkLeft: false },
    // A report about an earlier operation of the row says nothing about this one: wait, as with none.
    { report: { status: "Delivered", forOperation: "another" }, at: OUTCOME_CHECK_DELAY_IN_MINUTES, reads: 0, checkLeft: true },
    // No report yet, 5 minutes on: the read waits for one.
    { at: OUTCOME_CHECK_DELAY_IN_MINUTES, reads: 0, checkLeft: true },
    // No report 30 minutes after the 202 (late or dropped by Event Grid): the status is read after all.
    { at: DELIVERY_REPORT_WAIT_IN_MINUTES, reads: 1, checkLeft: false },
  ])("report $report.status for $report.forOperation operation at minute $at → $reads read(s)", async ({ report, at, reads, checkLeft }) => {
    const monitor = fakeMonitorDeps({ env: REPORTS_ON });
    await openIncident(monitor, namedAccount("orders-db"));
    await drainOutbox(monitor.deps);
    const [sent] = await monitor.store.listMessages();
    const operationId = operationIdFor(sent!.message.key, report?.forOperation === "another" ? 7 : 0);
    if (report) {
      const recipient = sent!.message.to[0]!.toLowerCase();
      await monitor.store.recordDeliveryResults(sent!, {
        [recipient]: { status: report.status, at: monitor.clock.now().toISOString(), eventId: "e1", operationId },
      });
    }

    // Every drain up to `at` (one a minute): only the last may read.
    for (let minute = 1; minute <= at; minute++) {
      monitor.clock.advance(1);
      await drainOutbox(monitor.deps);
    }

    expect(monitor.email.statusReads).toHaveLength(reads);
    const [row] = await monitor.store.listMessages();
    expect(row!.outcomeCheckAt !== undefined).toBe(checkLeft);
    // Nothing was sent again: the operation did not fail.
    expect(monitor.email.attempts).toHaveLength(1);
  });

  it("waits for the report until 30 minutes after the 202, then reads once and re-sends a Failed operation", async () => {
    const monitor = fakeMonitorDeps({ env: REPORTS_ON });
    await openIncident(monitor, namedAccount("orders-db"));
    monitor.email.failNext(1, "operation-failed");
    await drainOutbox(monitor.deps);
    const key = (await monitor.store.listMessages())[0]!.message.key;

    monitor.clock.advance(OUTCOME_CHECK_DELAY_IN_MINUTES);
    await drainOutbox(monitor.deps);
    // Postponed to minute 30, no read.
    expect(monitor.email.statusReads).toEqual([]);
    expect((await monitor.store.listMessages())[0]!.outcomeCheckAt).toBe(new Date(Date.parse(monitor.clock.now().toISOString()) + 25 * 60_000).toISOString());

    monitor.clock.advance(DELIVERY_REPORT_WAIT_IN_MINUTES - OUTCOME_CHECK_DELAY_IN_MINUTES);
    await drainOutbox(monitor.deps);
    expect(monitor.email.statusReads).toEqual([operationIdFor(key)]);
    expect(monitor.email.attempts.map((email) => email.operationId)).toEqual([operationIdFor(key), operationIdFor(key, 1)]);
    expect(monitor.email.delivered).toHaveLength(1);
  });
});
