/**
 * Finds the fleet (ARM per subscription, or Resource Graph over the scope). A failed subscription
 * or a failed Resource Graph query is reported, not fatal: open incidents it hides get a tick.
 */
import type { DiscoverOptions, FleetDiscovery, FleetListing } from "../ports/fleetDiscovery";
import type { CycleContext } from "./cycleContext";

export async function discoverFleet(ctx: CycleContext, discovery: FleetDiscovery, options: DiscoverOptions = {}): Promise<FleetListing> {
  const { stats, deps } = ctx;
  const listing = await discovery.discover(options);
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
  stats.subscriptionsListed += listing.subscriptionsReadable;
  stats.subscriptionsInScope = listing.subscriptionsInScope;
  stats.subscriptionsWithCmk = listing.subscriptionsWithCmk;
  stats.statusSource = listing.statusSource;
  stats.statusCalls += listing.statusCalls;
  if (listing.statusSourceFallback) {
    stats.statusSourceFallback = listing.statusSourceFallback;
    deps.log.warn(`cmk-monitor: CMK_STATUS_SOURCE=resource-graph is not trusted this cycle (${listing.statusSourceFallback}); statuses come from ARM`);
  }
  return listing;
}
