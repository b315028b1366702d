/** Confirming suggested state changes with one ARM GET, on the fakes. */
import { decide } from "../../src/domain/lifecycle";
import { confirmStage } from "../../src/pipeline/confirmStage";
import type { PlannedChange } from "../../src/pipeline/workItem";
import type { CmkAccount } from "../../src/domain/account";
import { restError } from "../fakes/faultPlan";
import { fakeMonitorDeps, type FakeMonitor } from "../fakes/fakeMonitorDeps";
import { HEALTHY_STATUS, namedAccount, observed, openIncident } from "../fixtures/storedIncidents";

const revoked = namedAccount("orders-db");
const healthy = namedAccount("orders-db", { customerManagedKeyStatus: HEALTHY_STATUS });

/** The change the listing suggests for `listed`, decided by the real lifecycle from the stored record. */
async function suggested(monitor: FakeMonitor, listed: CmkAccount): Promise<PlannedChange> {
  const ctx = monitor.context();
  const record = await monitor.store.getRecord(listed.id);
  const input = observed(listed);
  return { item: { accountId: listed.id, record, input }, decision: decide(record.incident, input, ctx.now, ctx.lifecycle) };
}

type Case = {
  /** An incident is open before the cycle. */
  open: boolean;
  /** What the (possibly lagging) listing shows. */
  listed: CmkAccount;
  /** What ARM's GET says: an account, gone (undefined) or an error. */
  arm: CmkAccount | undefined | Error;
  kept: string[];
  gets: number;
  overturned: number;
  failed: number;
};

describe("confirmStage(true)", () => {
  it.each<[string, Case]>([
    // A new revocation ARM agrees with: kept, one GET.
    ["new revocation confirmed", { open: false, listed: revoked, arm: revoked, kept: ["first-notice"], gets: 1, overturned: 0, failed: 0 }],
    // Resource Graph says revoked, ARM says healthy already: no incident, no email.
    ["new revocation overturned", { open: false, listed: revoked, arm: healthy, kept: [], gets: 1, overturned: 1, failed: 0 }],
    // A recovery ARM agrees with.
    ["recovery confirmed", { open: true, listed: healthy, arm: healthy, kept: ["recovered"], gets: 1, overturned: 0, failed: 0 }],
    // The account is gone from ARM: the incident ends as removed, not recovered.
    ["account gone", { open: true, listed: healthy, arm: undefined, kept: ["account-removed"], gets: 1, overturned: 1, failed: 0 }],
    // The GET fails: the state change waits (a tick: deadlines only), counted and logged.
    ["failed GET waits a cycle", { open: true, listed: healthy, arm: restError(503), kept: [], gets: 1, overturned: 0, failed: 1 }],
  ])("%s", async (_name, c) => {
    const monitor = fakeMonitorDeps();
    if (c.open) await openIncident(monitor, revoked);
    if (c.arm instanceof Error) monitor.accounts.faults.failNext("getAccount", c.arm);
    else if (c.arm) monitor.accounts.put(c.arm);
    const ctx = monitor.context();
    const result = await confirmStage(true).run(ctx, [await suggested(monitor, c.listed)]);
    expect(result.flatMap((change) => change.decision.reasons)).toEqual(c.kept);
    expect(result.every((change) => change.item.confirmed)).toBe(true);
    expect(monitor.accounts.gets).toHaveLength(c.gets);
    expect(ctx.stats).toMatchObject({ confirmations: c.gets, confirmationsOverturned: c.overturned, confirmationsFailed: c.failed });
    expect(monitor.log.messages("warn")).toHaveLength(c.failed);
  });

  it("does not confirm what is not a state change (a reminder)", async () => {
    const monitor = fakeMonitorDeps();
    await openIncident(monitor, revoked);
    monitor.clock.advance(61);
    const change = await suggested(monitor, revoked);
    expect(change.decision.reasons).toEqual(["reminder-due"]);
    const result = await confirmStage(true).run(monitor.context(), [change]);
    expect(result).toEqual([change]);
    expect(monitor.accounts.gets).toEqual([]);
  });
});

describe("confirmStage(false)", () => {
  it("passes every change through without a GET (ARM discovery is ARM already)", async () => {
    const monitor = fakeMonitorDeps();
    const change = await suggested(monitor, revoked);
    const result = await confirmStage(false).run(monitor.context(), [change]);
    expect(result).toEqual([change]);
    expect(monitor.accounts.gets).toEqual([]);
  });
});
