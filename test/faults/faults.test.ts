/**
 * The fault-injection suite, short form (the long one is `npm run test:faults`): seeded runs of
 * the real engine with faults, compared with the same story fault-free. Nothing may be lost or
 * duplicated; a failure prints its seed for `cmk-monitor faults --seed N`.
 */
import { runFaultSuite } from "../../src/cli/faults";
import { summarize, renderTable } from "../../src/faults/report";

const RUNS = Number(process.env.CMK_FAULT_RUNS ?? 4);

jest.setTimeout(300_000);

describe("fault injection (short form)", () => {
  it(`${RUNS} seeded runs lose nothing and duplicate nothing`, async () => {
    const outcomes = await runFaultSuite({ runs: RUNS, firstSeed: Number(process.env.CMK_FAULT_FIRST_SEED ?? 1), revokedAccounts: 10 });
    const summary = summarize(outcomes);
    const table = renderTable(outcomes, summary);
    // The table is the evidence; print it so a failing seed can be replayed.
    if (summary.lost > 0 || summary.duplicates > 0) console.log(table);
    expect(summary.incidents).toBeGreaterThanOrEqual(RUNS * 8);
    expect({ lost: summary.lost, duplicates: summary.duplicates, seeds: summary.seeds }).toEqual({ lost: 0, duplicates: 0, seeds: [] });
  });
});
