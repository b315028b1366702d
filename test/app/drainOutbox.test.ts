/** The drain's one final-status read of accepted emails, on the fakes (ACS delivers every accepted POST). */
import { drainOutbox } from "../../src/app/drainOutbox";
import { operationIdFor, OUTCOME_CHECK_DELAY_IN_MINUTES } from "../../src/pipeline/sendStage";
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
