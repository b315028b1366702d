/**
 * Finds the fleet (ARM per subscription, or Resource Graph over the scope). A failed subscription
 * or a failed Resource Graph query is reported, not fatal: open incidents it hides get a tick.
 */
import type { FleetDiscovery, FleetListing } from "../ports/fleetDiscovery";
import type { CycleContext } from "./cycleContext";

export async function discoverFleet(ctx: CycleContext, discovery: FleetDiscovery): Promise<FleetListing> {
  const { stats, settings, deps } = ctx;
  const listing = await discovery.discover();
  stats.discoveryMode = listing.source;
  stats.discoveryCalls += listing.calls;
  stats.discoveryThrottledInMs += listing.throttledInMs;
  for (const failure of listing.failures) {
    stats.subscriptionsFailed.push({ subscriptionId: failure.scope, reason: failure.reason, message: failure.message });
    deps.log.warn(
      failure.scope === "resource-graph"
        ? `cmk-monitor: Resource Graph discovery failed (${failure.reason}): ${failure.message}; open incidents only get their deadlines checked`
        : `cmk-monitor: could not list subscription ${failure.scope} (${failure.reason}): ${failure.message}`,
    );
  }
  stats.subscriptionsListed +=
    listing.source === "arm"
      ? settings.subscriptionIds.length - listing.failures.length
      : listing.failures.length > 0
        ? 0
        : new Set(listing.accounts.map((account) => account.subscriptionId.toLowerCase())).size;
  return listing;
}
