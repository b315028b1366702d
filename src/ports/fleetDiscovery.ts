/** Port: how the monitor finds its fleet (ARM per subscription, or Resource Graph over the scope). */
import type { CmkAccount } from "../domain/account";
import type { FailureReason } from "./failures";

export interface DiscoveryFailure {
  /** A subscription id, or "resource-graph" for the whole query. */
  scope: string;
  reason: FailureReason;
  message: string;
}

export interface FleetListing {
  source: "arm" | "resource-graph";
  accounts: CmkAccount[];
  /** True when discovery read this subscription completely, so an account of it that is not listed is gone. */
  covers(subscriptionId: string): boolean;
  failures: DiscoveryFailure[];
  /** Listing calls made (ARM list calls, or Resource Graph pages and retries). */
  calls: number;
  /** Time spent waiting for Resource Graph's quota or Retry-After. */
  throttledInMs: number;
  /** Observations may lag ARM: state changes must be confirmed with an ARM GET first. */
  confirmChanges: boolean;
}

/** Port: the fleet, once per cycle. Never throws: failures are in the listing. */
export interface FleetDiscovery {
  readonly mode: "arm" | "resource-graph";
  discover(): Promise<FleetListing>;
}
