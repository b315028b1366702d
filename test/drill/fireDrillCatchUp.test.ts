/**
 * The built-in fire drill with Azure's change events switched off (`--change-events off`, as without
 * the Event Grid subscriptions): loyalty-db's removed access policy (minute 15) is found by the
 * Resource Graph `resourcechanges` catch-up within one CMK_CHANGES_INTERVAL_MINUTES, still before the
 * revocation at 45, which links back to the warning; the figures report it as "catch-up", not push.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runDrill } from "../../src/cli/drill";
import { createBufferedIo } from "../../src/cli/io";
import type { DrillSummary, TimelineEntry } from "../../src/drill/timeline";

/** CMK_CHANGES_INTERVAL_MINUTES's default, which the drill runs with. */
const CHANGES_INTERVAL = 15;

let outbox: string;
let exitCode: number;
let doc: { timeline: TimelineEntry[]; summary: DrillSummary };

beforeAll(async () => {
  outbox = await mkdtemp(path.join(os.tmpdir(), "cmk-drill-catchup-"));
  const io = createBufferedIo();
  exitCode = await runDrill(["--change-events", "off", "--json", "--outbox", outbox], io);
  doc = JSON.parse(io.out) as typeof doc;
  // Generous: the drill takes seconds alone, but CI runs it beside the other suites on two cores.
}, 120_000);

afterAll(async () => {
  if (outbox) await rm(outbox, { recursive: true, force: true });
});

describe("fire drill, change events off", () => {
  it("finds loyalty-db's removed permission by catch-up within one interval, and the revocation links back to it", async () => {
    expect(exitCode).toBe(0);
    const warning = doc.timeline.find((e) => e.account === "loyalty-db" && e.type === "email" && e.kind === "at-risk")!;
    // Removed at 15; Resource Graph shows it minutes late, so the catch-up at 30 is the first to see it.
    expect([warning.atMinute, warning.via]).toEqual([30, "catch-up"]);
    expect(warning.atMinute - 15).toBeLessThanOrEqual(CHANGES_INTERVAL);
    expect(doc.timeline.find((e) => e.account === "loyalty-db" && e.type === "detected")!.atMinute).toBe(45);
    const revoked = await readFile(path.join(outbox, "0045-loyalty-db-revoked.eml"), "utf8");
    expect(revoked.replace(/=\r?\n/g, "")).toMatch(/We warned at:\s+2026-03-02 21:30 UTC: Default identity lacks permission on the key/);
  });

  it("reports catch-up latency apart from push and poll", () => {
    expect(doc.summary.atRiskWarnings).toEqual({
      // Nothing pushed: no event reached the monitor.
      push: { count: 0, meanMinutesAfterChange: null, maxMinutesAfterChange: null },
      // loyalty-db only: the other pushed warnings of the drill revoke within 0-5 minutes of their change, before a catch-up sees it.
      "catch-up": { count: 1, meanMinutesAfterChange: 15, maxMinutesAfterChange: 15 },
      // archive-db's, at the first daily check.
      poll: { count: 1, meanMinutesAfterChange: 0, maxMinutesAfterChange: 0 },
    });
  });

  it("says so in the text summary, apart from the poll's", async () => {
    const io = createBufferedIo();
    expect(await runDrill(["--change-events", "off", "--outbox", outbox], io)).toBe(0);
    const summary = io.out.replace(/\s+/g, " ");
    expect(summary).toContain(
      "At risk 1 found by catch-up (resourcechanges or the key re-read), 15 min after the change on average (at most 15); 1 found by a poll",
    );
    expect(summary).not.toContain("pushed by Azure's change events");
  }, 120_000);
});
