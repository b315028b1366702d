import { benchOperatorView } from "../../bench/operatorView";
import { MAX_ACCOUNT_ROWS } from "../../src/web/dashboardPage";

describe("bench:operator-view", () => {
  it("measures a fleet larger than the page lists: the page stops at its row cap, the JSON has every account", () => {
    // 1,200 accounts, 600 incidents: big enough to pass the 500-row cap, small enough for CI.
    const result = benchOperatorView(1200, 600, 0.05);
    expect(result).toMatchObject({ accounts: 1200, incidents: 600, open: 30 });
    expect(result.statusBuildInMs).toBeGreaterThanOrEqual(0);
    // Every account's entry is in the JSON (a few hundred bytes each) …
    expect(result.statusJsonBytes).toBeGreaterThan(1200 * 300);
    // … while the page lists MAX_ACCOUNT_ROWS of them, so it grows far slower.
    expect(result.dashboardBytes).toBeLessThan(MAX_ACCOUNT_ROWS * 2000);
    expect(result.dashboardBytes).toBeLessThan(result.statusJsonBytes / 2);
  });
});
