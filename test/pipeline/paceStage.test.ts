/** The send budget's priority classes and the share of it warning digests can never take, on the fakes. */
import type { MessageKind } from "../../src/domain/incident";
import { digestLimits, paceStage } from "../../src/pipeline/paceStage";
import { priorityOf, type SendTally, type SendUnit } from "../../src/pipeline/sendUnit";
import type { StoredMessage } from "../../src/ports/incidentStore";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

/** A unit of one row of `kind`: pacing reads nothing else. */
function unitOf(kind: MessageKind, key = kind): SendUnit {
  return { members: [{ message: { kind, key }, generation: 0, attempts: 0 } as unknown as StoredMessage] };
}

async function pace(env: Record<string, string>, units: SendUnit[], alreadyUsed = 0) {
  const monitor = fakeMonitorDeps({ env });
  const limits = { perMinute: monitor.deps.settings.emailRatePerMinute, perHour: monitor.deps.settings.emailRatePerHour };
  if (alreadyUsed > 0) await monitor.sendBudget.reserveEmailSends(new Date(monitor.clock.now().getTime() - 10 * 60_000), alreadyUsed, limits);
  const tally: SendTally = { reserved: 0, used: 0 };
  const passed = await paceStage(tally).run(monitor.context(), units);
  return { passed: passed.map((unit) => unit.members[0]!.message.key), tally };
}

describe("priorityOf", () => {
  it.each<[MessageKind, number]>([
    // Escalations first: the people who act when owners do not.
    ["escalation", 0],
    // A new or worse outage.
    ["revoked", 1],
    ["cause-changed", 1],
    ["fix-undone", 1],
    // An urgent warning: the revocation it announces is not there yet, but may be within the hour.
    ["at-risk", 2],
    // A running incident's reminder.
    ["reminder", 3],
    // Good news can wait a little.
    ["fix-acknowledged", 4],
    ["fix-observed", 4],
    ["resolved", 4],
    // Warnings about keys that still work, slow-burning: last.
    ["warning-digest", 5],
    // The weekly report never holds back anything.
    ["weekly-report", 6],
  ])("%s → %i", (kind, priority) => {
    expect(priorityOf(unitOf(kind))).toBe(priority);
  });
});

describe("paceStage", () => {
  it.each<{ case: string; env: Record<string, string>; used: number; units: MessageKind[]; passed: string[] }>([
    {
      // Azure-managed defaults (5/min, 10/h): the revocation gets the one send left; the digest waits.
      case: "azure-managed, 9 of 10 used this hour",
      env: {},
      used: 9,
      units: ["revoked", "warning-digest"],
      passed: ["revoked"],
    },
    {
      // Half the hour is kept for incident mail: with 5 of 10 used, a digest may not take the sixth.
      case: "azure-managed, 5 of 10 used, only a digest due",
      env: {},
      used: 5,
      units: ["warning-digest"],
      passed: [],
    },
    {
      // Below the digests' share they go out.
      case: "azure-managed, 4 of 10 used, only a digest due",
      env: {},
      used: 4,
      units: ["warning-digest"],
      passed: ["warning-digest"],
    },
    {
      // The last send of the hour goes to the revocation, not to the weekly report.
      case: "azure-managed, 9 of 10 used, a revocation and the weekly report due",
      env: {},
      used: 9,
      units: ["weekly-report", "revoked"],
      passed: ["revoked"],
    },
    {
      // The weekly report is in the digests' class: it may not take the half of the hour kept for incident mail.
      case: "azure-managed, 5 of 10 used, only the weekly report due",
      env: {},
      used: 5,
      units: ["weekly-report"],
      passed: [],
    },
    {
      // A custom domain's defaults (30/min): everything due fits.
      case: "custom domain, nothing used",
      env: { CMK_EMAIL_DOMAIN_KIND: "custom" },
      used: 0,
      units: ["escalation", "revoked", "warning-digest"],
      passed: ["escalation", "revoked", "warning-digest"],
    },
  ])("$case → $passed", async ({ env, used, units, passed }) => {
    const result = await pace(
      env,
      units.map((kind) => unitOf(kind)),
      used,
    );
    expect(result.passed).toEqual(passed);
    expect(result.tally.reserved).toBe(passed.length);
  });

  it("a deferred budget (ACS said 429) passes nothing", async () => {
    const monitor = fakeMonitorDeps();
    await monitor.sendBudget.deferEmailCalls(new Date(monitor.clock.now().getTime() + 60_000));
    const passed = await paceStage({ reserved: 0, used: 0 }).run(monitor.context(), [unitOf("escalation")]);
    expect(passed).toEqual([]);
  });
});

describe("digestLimits", () => {
  it.each([
    // Azure-managed sends: digests may fill 2 of 5 a minute and 5 of 10 an hour.
    [5, 10, 2, 5],
    // Custom domain: 15 of 30, 50 of 100.
    [30, 100, 15, 50],
    // Never below one, or digests would never go out on a tiny budget.
    [1, 1, 1, 1],
  ])("%i/min %i/h → %i/min %i/h", (perMinute, perHour, digestPerMinute, digestPerHour) => {
    expect(digestLimits({ perMinute, perHour })).toEqual({ perMinute: digestPerMinute, perHour: digestPerHour });
  });
});
