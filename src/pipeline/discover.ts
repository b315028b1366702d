/**
 * Finds the fleet (ARM per subscription, or Resource Graph over the scope). A failed subscription
 * or a failed Resource Graph query is reported, not fatal: open incidents it hides get a tick.
 */
import type { DiscoverOptions, FleetDiscovery, FleetListing } from "../ports/fleetDiscovery";
import type { CycleContext } from "./cycleContext";

/**
 * Role assignments made by the deployment take minutes to reach ARM (longer with cached managed-
 * identity tokens); refusals within this window after the first cycle are logged as propagating.
 */
export const PERMISSION_PROPAGATION_WINDOW_IN_MS = 30 * 60_000;

export async function discoverFleet(
  ctx: CycleContext,
  discovery: FleetDiscovery,
  options: DiscoverOptions = {},
  monitoringSince: () => Promise<Date | undefined> = async () => undefined,
): Promise<FleetListing> {
  const { stats, deps } = ctx;
  const listing = await discovery.discover(options);
  const since = listing.failures.some((f) => f.reason === "auth") ? await monitoringSince() : undefined;
  const propagating = since !== undefined && ctx.now.getTime() - since.getTime() < PERMISSION_PROPAGATION_WINDOW_IN_MS;
  stats.discoveryMode = listing.source;
  stats.discoveryCalls += listing.calls;
  stats.discoveryThrottledInMs += listing.throttledInMs;
  for (const failure of listing.failures) {
    if (propagating && failure.reason === "auth") {
      // Still not covered (its open incidents keep their deadlines), but not an alarm yet.
      stats.subscriptionsFailed.push({ subscriptionId: failure.scope, reason: failure.reason, message: failure.message, propagating: true });
      deps.log.info(
        `cmk-monitor: ${failure.scope === "resource-graph" ? "Resource Graph" : `subscription ${failure.scope}`} refused the monitor (${failure.message}); ` +
          `its role assignments may still be propagating (first ${PERMISSION_PROPAGATION_WINDOW_IN_MS / 60_000} minutes of monitoring), tried again next cycle`,
      );
      continue;
    }
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
  if (listing.statusSourceDisagreements !== undefined) stats.statusSourceDisagreements = listing.statusSourceDisagreements;
  if (listing.statusSourceLagMinutes !== undefined) stats.statusSourceLagMinutes = listing.statusSourceLagMinutes;
  if (listing.statusSourceFallback) {
    stats.statusSourceFallback = listing.statusSourceFallback;
    deps.log.warn(`cmk-monitor: CMK_STATUS_SOURCE=resource-graph is not trusted this cycle (${listing.statusSourceFallback}); statuses come from ARM`);
  }
  return listing;
}
