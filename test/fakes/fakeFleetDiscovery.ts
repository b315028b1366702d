/**
 * Discovery over a FakeAccountSource: ARM (current, no confirmation needed) or Resource Graph
 * (confirmChanges; `lagging` freezes what it shows, as its index trails ARM).
 */
import type { CmkAccount } from "../../src/domain/account";
import type { DiscoveryFailure, FleetDiscovery, FleetListing } from "../../src/ports/fleetDiscovery";
import type { FakeAccountSource } from "./fakeAccountSource";

export class FakeFleetDiscovery implements FleetDiscovery {
  /** Failures the next listings report; a failed subscription is not covered. */
  failures: DiscoveryFailure[] = [];
  /** What Resource Graph still shows while it lags ARM; undefined: it shows ARM as it is. */
  lagging: CmkAccount[] | undefined;
  listings = 0;

  constructor(
    private readonly source: FakeAccountSource,
    readonly mode: "arm" | "resource-graph" = "arm",
  ) {}

  async discover(): Promise<FleetListing> {
    this.listings += 1;
    const failures = [...this.failures];
    const failed = new Set(failures.map((failure) => failure.scope.toLowerCase()));
    const wholeQueryFailed = failed.has("resource-graph");
    const accounts = wholeQueryFailed ? [] : (this.lagging ?? this.source.all()).filter((account) => !failed.has(account.subscriptionId.toLowerCase()));
    return {
      source: this.mode,
      accounts: structuredClone(accounts),
      covers: (subscriptionId) => !wholeQueryFailed && subscriptionId !== "" && !failed.has(subscriptionId.toLowerCase()),
      failures,
      calls: 1,
      throttledInMs: 0,
      confirmChanges: this.mode === "resource-graph",
      statusSource: this.mode,
      statusCalls: 1,
      subscriptionsInScope: new Set(accounts.map((account) => account.subscriptionId.toLowerCase())).size + failed.size,
      subscriptionsReadable: new Set(accounts.map((account) => account.subscriptionId.toLowerCase())).size,
      subscriptionsWithCmk: new Set(accounts.map((account) => account.subscriptionId.toLowerCase())).size,
    };
  }
}
