/**
 * The drill's progress on stderr: one redrawn line on a terminal, a few plain lines otherwise
 * (CI logs and pipes should not fill up with carriage returns).
 */
import type { DrillProgress } from "./runScenario";

export interface ProgressOutput {
  /** True when stderr is a terminal that understands "\r" and erase-line. */
  tty: boolean;
  /** Writes without a newline (terminal only). */
  write(text: string): void;
  /** Writes one line. */
  line(text: string): void;
}

const BAR_WIDTH = 24;
const CLEAR_LINE = "\r\u001b[K";

export function createProgressReporter(output: ProgressOutput, now: () => number = Date.now): (progress: DrillProgress) => void {
  const startedAt = now();
  let announced = false;
  let last: Extract<DrillProgress, { phase: "running" }> | undefined;
  return (progress) => {
    switch (progress.phase) {
      case "starting":
        if (output.tty) output.write(`${CLEAR_LINE}drill: starting Azurite and the local Azure sandbox...`);
        else output.line("cmk-monitor drill: starting Azurite and the local Azure sandbox...");
        return;
      case "running":
        last = progress;
        if (output.tty) {
          output.write(`${CLEAR_LINE}${bar(progress)}`);
        } else if (!announced) {
          announced = true;
          output.line(`cmk-monitor drill: simulating ${progress.durationMinutes} minutes of polling...`);
        }
        return;
      case "stopping": {
        const seconds = ((now() - startedAt) / 1000).toFixed(1);
        const done = last ? `simulated ${last.minute} minutes in ${seconds} s, ${last.emails} emails sent` : `stopped after ${seconds} s`;
        if (output.tty) output.write(CLEAR_LINE);
        else output.line(`cmk-monitor drill: ${done}`);
        return;
      }
    }
  };
}

function bar(progress: Extract<DrillProgress, { phase: "running" }>): string {
  const fraction = progress.durationMinutes === 0 ? 1 : Math.min(1, progress.minute / progress.durationMinutes);
  const filled = Math.round(fraction * BAR_WIDTH);
  return (
    `drill [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ` +
    `${clock(progress.minute)} of ${clock(progress.durationMinutes)} simulated, ${progress.emails} emails`
  );
}

/** "2:05" for 125 minutes. */
function clock(minutes: number): string {
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
}
