/** The invocation budget against the host's own timeout. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { INVOCATION_BUDGET_IN_MS, STOP_STARTING_WORK_IN_MS } from "../../src/pipeline/cycleContext";

describe("invocation budget", () => {
  it("ends every call before host.json's functionTimeout, with time left to record and log", () => {
    // The host kills an invocation at functionTimeout: a call still running then loses the cycle's record.
    const host = JSON.parse(readFileSync(join(__dirname, "..", "..", "host.json"), "utf8")) as { functionTimeout: string };
    const [h, m, s] = host.functionTimeout.split(":").map(Number);
    const timeoutInMs = ((h! * 60 + m!) * 60 + s!) * 1000;
    expect(INVOCATION_BUDGET_IN_MS).toBeLessThanOrEqual(timeoutInMs - 60_000);
    // Optional work stops well before the calls are cut off.
    expect(STOP_STARTING_WORK_IN_MS).toBeGreaterThan(0);
    expect(STOP_STARTING_WORK_IN_MS).toBeLessThan(INVOCATION_BUDGET_IN_MS / 2);
  });
});
