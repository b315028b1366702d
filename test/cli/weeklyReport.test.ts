/** `cmk-monitor weekly-report --preview`: the report from the deployment's state, printed or as HTML; nothing recorded or sent. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBufferedIo } from "../../src/cli/io";
import { runWeeklyReport } from "../../src/cli/weeklyReport";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";
import { FakeClock } from "../fakes/fakeClock";
import { makeIncident } from "../fixtures/incidents";

async function monitorWithOneIncident() {
  // Monday of 2026-W49: the report is of 2026-W48, which holds the fixture's detection (29 November).
  const monitor = fakeMonitorDeps({ clock: new FakeClock(new Date("2026-11-30T08:00:00.000Z")) });
  const incident = makeIncident();
  await monitor.store.commit({ accountId: incident.accountId, incident: undefined, etag: undefined }, { reasons: [], incident, events: [], messages: [] });
  return monitor;
}

describe("cmk-monitor weekly-report", () => {
  it("prints the last complete week's report and records nothing", async () => {
    // A preview must never put a report in the outbox: the cycle would then think the week was reported.
    const monitor = await monitorWithOneIncident();
    const io = createBufferedIo();
    expect(await runWeeklyReport(["--preview"], io, () => monitor.deps)).toBe(0);
    expect(io.out).toContain("Subject: [CMK weekly] 2026-W48: 1 incident");
    expect(io.out).toContain("orders-db");
    expect(monitor.store.outbox()).toHaveLength(0);
    expect((await monitor.store.getWeeklyReportState()).lastWeek).toBeUndefined();
  });

  it("writes the HTML to a file, and --at picks the week", async () => {
    // A week later the same incident is last week's only while still open: the report of 2026-W49 lists it too.
    const monitor = await monitorWithOneIncident();
    const file = join(mkdtempSync(join(tmpdir(), "cmk-weekly-")), "report.html");
    const io = createBufferedIo();
    expect(await runWeeklyReport(["--preview", "--html", file, "--at", "2026-12-07T00:00:00Z"], io, () => monitor.deps)).toBe(0);
    expect(io.out).toContain("[CMK weekly] 2026-W49");
    expect(readFileSync(file, "utf8")).toMatch(/^<!DOCTYPE html>[\s\S]*orders-db/);
  });

  it.each<[string[], RegExp]>([
    // Sending is the monitor's job: without --preview the command refuses.
    [[], /only --preview is offered/],
    // A time that is not one.
    [["--preview", "--at", "next monday"], /--at must be a time/],
    // An unknown option.
    [["--preview", "--send"], /Unknown option/],
  ])("%j fails with a usage message", async (args, message) => {
    const monitor = await monitorWithOneIncident();
    const io = createBufferedIo();
    expect(await runWeeklyReport(args, io, () => monitor.deps)).toBe(1);
    expect(io.err).toMatch(message);
    expect(io.err).toContain("usage: cmk-monitor weekly-report --preview");
  });
});
