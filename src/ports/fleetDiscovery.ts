/**
 * Port: how the monitor finds its fleet and reads each account's state. Whatever finds the
 * accounts (ARM per subscription, or Resource Graph over the scope), the status a decision uses
 * comes from ARM unless CMK_STATUS_SOURCE=resource-graph proved itself (docs/azure-behaviour.md).
 */
import type { CmkAccount } from "../domain/account";
import type { FailureReason } from "./failures";

export interface DiscoveryFailure {
  /** A subscription id, or "resource-graph" for the whole query. */
  scope: string;
  reason: FailureReason;
  message: string;
}

export type StatusSource = "arm" | "resource-graph";

export interface FleetListing {
  source: "arm" | "resource-graph";
  accounts: CmkAccount[];
  /** True when this subscription was read completely, so an account of it that is not listed is gone. */
  covers(subscriptionId: string): boolean;
  failures: DiscoveryFailure[];
  /** Discovery calls made (ARM list calls, or Resource Graph pages and retries). */
  calls: number;
  /** Time spent waiting for Resource Graph's quota or Retry-After. */
  throttledInMs: number;
  /** Observations may lag ARM: state changes must be confirmed with an ARM GET first. */
  confirmChanges: boolean;
  /** Where the accounts' `customerManagedKeyStatus` came from this cycle. */
  statusSource: StatusSource;
  /** ARM calls that read status this cycle: list calls, and GETs for accounts a list showed without one. */
  statusCalls: number;
  /** Subscriptions in scope: the configured ones, or those Resource Graph sees under the management groups. */
  subscriptionsInScope: number;
  /** Subscriptions in scope the monitor could read this cycle. */
  subscriptionsReadable: number;
  /** Subscriptions holding at least one CMK account. */
  subscriptionsWithCmk: number;
  /** Set when CMK_STATUS_SOURCE=resource-graph fell back to ARM this cycle, with why. */
  statusSourceFallback?: string;
  /** CMK_STATUS_SOURCE=resource-graph: accounts whose Resource Graph status differed from ARM's at the last calibration. */
  statusSourceDisagreements?: number;
  /** CMK_STATUS_SOURCE=resource-graph: the longest Resource Graph was seen to lag ARM, in minutes (measured at calibrations). */
  statusSourceLagMinutes?: number;
}

export interface DiscoverOptions {
  /**
   * Subscriptions that must be read this cycle whatever Resource Graph says (those with open
   * incidents), so an account that is gone is seen gone by ARM, not by a lagging index.
   */
  alsoRead?: Promise<readonly string[]>;
}

/** Port: the fleet, once per cycle. Never throws: failures are in the listing. */
export interface FleetDiscovery {
  readonly mode: "arm" | "resource-graph";
  discover(options?: DiscoverOptions): Promise<FleetListing>;
}
