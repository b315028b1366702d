/** Progress on stderr: a redrawn bar on a terminal, a few plain lines anywhere else. */
import { createProgressReporter } from "../../src/drill/progress";
import type { DrillProgress } from "../../src/drill/runScenario";

const RUN: DrillProgress[] = [
  { phase: "starting" },
  ...[0, 60, 120, 180, 240].map((minute): DrillProgress => ({ phase: "running", minute, durationMinutes: 240, emails: minute / 60 })),
  { phase: "stopping" },
];

function record(tty: boolean): { writes: string[]; lines: string[] } {
  const writes: string[] = [];
  const lines: string[] = [];
  let now = 0;
  const report = createProgressReporter({ tty, write: (t) => void writes.push(t), line: (t) => void lines.push(t) }, () => now);
  for (const progress of RUN) {
    // Three real seconds pass between starting and stopping.
    if (progress.phase === "stopping") now = 3000;
    report(progress);
  }
  return { writes, lines };
}

it("redraws one line on a terminal and clears it at the end", () => {
  const { writes, lines } = record(true);
  expect(lines).toEqual([]);
  expect(writes.every((w) => w.startsWith("\r\u001b[K"))).toBe(true);
  expect(writes).toContain("\r\u001b[Kdrill [############............] 2:00 of 4:00 simulated, 2 emails");
  // The report that follows must start on a clean line.
  expect(writes.at(-1)).toBe("\r\u001b[K");
});

it("writes three plain lines when stderr is not a terminal", () => {
  // CI logs and pipes should get no carriage returns or escape codes.
  const { writes, lines } = record(false);
  expect(writes).toEqual([]);
  expect(lines).toEqual([
    "cmk-monitor drill: starting Azurite and the local Azure sandbox...",
    "cmk-monitor drill: simulating 240 minutes of polling...",
    "cmk-monitor drill: simulated 240 minutes in 3.0 s, 4 emails sent",
  ]);
});
