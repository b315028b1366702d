/**
 * How the monitor finds its fleet. Two ways, one port:
 *
 *   arm             one `databaseAccounts.list()` per subscription, a bounded number at once; a
 *                   subscription that fails is reported and its open incidents only get a tick;
 *   resource-graph  one paged query over the whole scope (subscriptions, management groups or
 *                   the tenant root group); all or nothing, because half a fleet would look like
 *                   deleted accounts. Resource Graph can lag ARM, so a state change it suggests is
 *                   confirmed with an ARM GET before anyone acts on it (src/pipeline/confirmStage.ts).
 */
import type { CmkAccount } from "../domain/account";
import { describeFailure } from "../ports/failures";
import type { DiscoveryScope, ResourceGraphDiscovery } from "./resourceGraphAccounts";
import type { AccountSource } from "../ports/accountSource";
import type { DiscoveryFailure, FleetDiscovery, FleetListing } from "../ports/fleetDiscovery";

export class ArmFleetDiscovery implements FleetDiscovery {
  readonly mode = "arm" as const;

  constructor(
    private readonly accounts: AccountSource,
    private readonly subscriptionIds: readonly string[],
    /** Subscriptions listed at once (CMK_ARM_CONCURRENCY). */
    private readonly concurrency: number,
  ) {}

  async discover(): Promise<FleetListing> {
    const listed = new Set<string>();
    const failures: DiscoveryFailure[] = [];
    // Kept in subscription order, whatever order the calls finish in.
    const perSubscription: CmkAccount[][] = this.subscriptionIds.map(() => []);
    let next = 0;
    const lister = async (): Promise<void> => {
      while (next < this.subscriptionIds.length) {
        const index = next++;
        const subscriptionId = this.subscriptionIds[index]!;
        try {
          const found: CmkAccount[] = [];
          for await (const account of this.accounts.listAccounts(subscriptionId)) found.push(account);
          listed.add(subscriptionId.toLowerCase());
          perSubscription[index] = found;
        } catch (error) {
          const info = describeFailure(error);
          failures.push({ scope: subscriptionId, reason: info.reason, message: info.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.concurrency, this.subscriptionIds.length)) }, lister));
    return {
      source: "arm",
      accounts: perSubscription.flat(),
      covers: (subscriptionId) => listed.has(subscriptionId.toLowerCase()),
      failures,
      calls: this.subscriptionIds.length,
      throttledInMs: 0,
      confirmChanges: false,
    };
  }
}

export class ResourceGraphFleetDiscovery implements FleetDiscovery {
  readonly mode = "resource-graph" as const;

  constructor(
    private readonly graph: ResourceGraphDiscovery,
    private readonly scope: DiscoveryScope,
  ) {}

  async discover(): Promise<FleetListing> {
    const callsBefore = this.graph.callsMade;
    const inScope = new Set(this.scope.subscriptionIds.map((id) => id.toLowerCase()));
    // A management group (or the tenant root group) covers subscriptions nobody listed here.
    const covers = (subscriptionId: string): boolean => this.scope.managementGroups.length > 0 || inScope.has(subscriptionId.toLowerCase());
    try {
      const result = await this.graph.discover(this.scope);
      return { source: "resource-graph", accounts: result.accounts, covers, failures: [], calls: result.calls, throttledInMs: result.throttledInMs, confirmChanges: true };
    } catch (error) {
      const info = describeFailure(error);
      return {
        source: "resource-graph",
        accounts: [],
        covers: () => false,
        failures: [{ scope: "resource-graph", reason: info.reason, message: info.message }],
        calls: this.graph.callsMade - callsBefore,
        throttledInMs: 0,
        confirmChanges: true,
      };
    }
  }
}
