/**
 * How the monitor finds its fleet and reads each account's status. Two ways, one port:
 *
 *   arm             one `databaseAccounts.list()` per configured subscription, a bounded number at
 *                   once; a subscription that fails is reported and its open incidents only get a tick.
 *                   One found without CMK accounts is listed again only every
 *                   CMK_DISCOVERY_INTERVAL_MINUTES (as Resource Graph's index is re-read), so an idle
 *                   cycle lists the subscriptions that hold CMK accounts, not every one in scope;
 *   resource-graph  Resource Graph finds *which* subscriptions hold CMK accounts (and which it can
 *                   see at all); the status comes from one ARM list per such subscription. Resource
 *                   Graph is refreshed only on ARM writes plus an undocumented periodic scan, and a key
 *                   revocation is no write to the account, so its `customerManagedKeyStatus` can be
 *                   missing or stale: it is never trusted alone (docs/azure-behaviour.md). The index is
 *                   kept between cycles and re-read every CMK_DISCOVERY_INTERVAL_MINUTES, or at once
 *                   when a listed subscription failed.
 *
 * In both, an account a list shows without a status is read again with a GET before it is called
 * "unknown".
 */
import { normalizeResourceId, type CmkAccount } from "../domain/account";
import type { AccountSource } from "../ports/accountSource";
import type { Clock } from "../ports/clock";
import { describeFailure } from "../ports/failures";
import type { DiscoveryFailure, DiscoverOptions, FleetDiscovery, FleetListing, StatusSource } from "../ports/fleetDiscovery";
import type { DiscoveryScope, ResourceGraphDiscovery } from "./resourceGraphAccounts";

/** Accounts of one subscription with their status from ARM, and the ARM calls that took. */
export async function listWithStatus(accounts: AccountSource, subscriptionId: string): Promise<{ accounts: CmkAccount[]; calls: number }> {
  const found: CmkAccount[] = [];
  for await (const account of accounts.listAccounts(subscriptionId)) found.push(account);
  let calls = 1;
  for (let i = 0; i < found.length; i++) {
    if (found[i]!.customerManagedKeyStatus !== undefined) continue;
    // A list response without the status proves nothing: ask for the account itself.
    calls += 1;
    const fresh = await accounts.getAccount(found[i]!.id);
    if (fresh) found[i] = fresh;
  }
  return { accounts: found, calls };
}

interface ArmRead {
  accounts: CmkAccount[];
  listed: Set<string>;
  failures: DiscoveryFailure[];
  calls: number;
}

/** Lists `subscriptionIds` with ARM, `concurrency` at once, keeping subscription order. */
async function readWithArm(accounts: AccountSource, subscriptionIds: readonly string[], concurrency: number): Promise<ArmRead> {
  const listed = new Set<string>();
  const failures: DiscoveryFailure[] = [];
  const perSubscription: CmkAccount[][] = subscriptionIds.map(() => []);
  let calls = 0;
  let next = 0;
  const lister = async (): Promise<void> => {
    while (next < subscriptionIds.length) {
      const index = next++;
      const subscriptionId = subscriptionIds[index]!;
      try {
        const read = await listWithStatus(accounts, subscriptionId);
        calls += read.calls;
        listed.add(subscriptionId.toLowerCase());
        perSubscription[index] = read.accounts;
      } catch (error) {
        calls += 1;
        const info = describeFailure(error);
        failures.push({ scope: subscriptionId, reason: info.reason, message: info.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, subscriptionIds.length)) }, lister));
  return { accounts: perSubscription.flat(), listed, failures, calls };
}

function subscriptionsOf(accounts: readonly CmkAccount[]): number {
  return new Set(accounts.map((account) => account.subscriptionId.toLowerCase())).size;
}

export interface ArmFleetOptions {
  /** Subscriptions listed at once (CMK_ARM_CONCURRENCY). */
  concurrency: number;
  /** CMK_DISCOVERY_INTERVAL_MINUTES, in milliseconds: how long a subscription found without CMK accounts is not listed. */
  refreshIntervalInMs: number;
  clock: Clock;
}

export class ArmFleetDiscovery implements FleetDiscovery {
  readonly mode = "arm" as const;
  /**
   * Subscriptions (lower-cased) whose last list, at the time kept, had no CMK account. Most of a
   * tenant's subscriptions hold none; listing each every cycle would cost an ARM read apiece for nothing.
   */
  private readonly emptySince = new Map<string, number>();

  constructor(
    private readonly accounts: AccountSource,
    private readonly subscriptionIds: readonly string[],
    private readonly options: ArmFleetOptions,
  ) {}

  async discover(options: DiscoverOptions = {}): Promise<FleetListing> {
    const now = this.options.clock.now().getTime();
    // A subscription with an open incident is always listed, so a removed account is seen removed.
    const alsoRead = new Set(((await options.alsoRead) ?? []).map((id) => id.toLowerCase()));
    const resting = (subscriptionId: string): boolean => {
      const key = subscriptionId.toLowerCase();
      const since = this.emptySince.get(key);
      return since !== undefined && now - since < this.options.refreshIntervalInMs && !alsoRead.has(key);
    };
    const toRead = this.subscriptionIds.filter((id) => !resting(id));
    const read = await readWithArm(this.accounts, toRead, this.options.concurrency);
    const withAccounts = new Set(read.accounts.map((account) => account.subscriptionId.toLowerCase()));
    for (const subscriptionId of toRead) {
      const key = subscriptionId.toLowerCase();
      // Listed and empty: rest until the interval is up. Failed or holding accounts: list next cycle.
      if (read.listed.has(key) && !withAccounts.has(key)) this.emptySince.set(key, now);
      else this.emptySince.delete(key);
    }
    const skipped = this.subscriptionIds.length - toRead.length;
    return {
      source: "arm",
      accounts: read.accounts,
      // Only what was listed this cycle: a resting subscription has no open incident to declare removed.
      covers: (subscriptionId) => read.listed.has(subscriptionId.toLowerCase()),
      failures: read.failures,
      calls: read.calls,
      throttledInMs: 0,
      confirmChanges: false,
      statusSource: "arm",
      statusCalls: read.calls,
      subscriptionsInScope: this.subscriptionIds.length,
      // A resting subscription was readable (and empty) when last listed, within the interval.
      subscriptionsReadable: read.listed.size + skipped,
      subscriptionsWithCmk: withAccounts.size,
    };
  }
}

export interface ResourceGraphFleetOptions {
  scope: DiscoveryScope;
  /** CMK_STATUS_SOURCE. */
  statusSource: StatusSource;
  /** CMK_DISCOVERY_INTERVAL_MINUTES, in milliseconds: how long the index is kept. */
  refreshIntervalInMs: number;
  /** CMK_ARM_CONCURRENCY: subscriptions listed at once. */
  armConcurrency: number;
  clock: Clock;
  /** With statusSource "resource-graph": accounts compared with an ARM GET each cycle. */
  sampleSize?: number;
}

/** What Resource Graph said when last asked. */
interface FleetIndex {
  at: number;
  /** Subscriptions in scope Resource Graph can see (lower-cased). */
  visible: Set<string>;
  /** Configured subscriptions it cannot see: failures until it can. */
  invisible: string[];
  /** Subscriptions holding CMK accounts (lower-cased, as Resource Graph spells them). */
  withCmk: string[];
  /** The accounts with whatever status Resource Graph had: kept only with CMK_STATUS_SOURCE=resource-graph, the one use. */
  accounts: CmkAccount[];
}

const DEFAULT_SAMPLE_SIZE = 3;

export class ResourceGraphFleetDiscovery implements FleetDiscovery {
  readonly mode = "resource-graph" as const;
  private index: FleetIndex | undefined;
  /** A listed subscription failed: ask Resource Graph again next cycle. */
  private stale = false;
  /** Until then, CMK_STATUS_SOURCE=resource-graph is not trusted (a calibration or a sample disagreed). */
  private armUntil = 0;
  private sampleOffset = 0;
  /** When every account's Resource Graph status is next compared with ARM's (a full calibration). */
  private calibrateAt = 0;
  /** Accounts whose Resource Graph status differed from ARM's at a calibration: first seen then (ms). */
  private disagreeingSince = new Map<string, number>();
  /** The longest an account has been seen to lag ARM in Resource Graph, in minutes (measured at calibrations). */
  private lagInMinutes: number | undefined;

  constructor(
    private readonly graph: ResourceGraphDiscovery,
    private readonly accounts: AccountSource,
    private readonly options: ResourceGraphFleetOptions,
  ) {}

  async discover(options: DiscoverOptions = {}): Promise<FleetListing> {
    const now = this.options.clock.now().getTime();
    const callsBefore = this.graph.callsMade;
    const failures: DiscoveryFailure[] = [];
    let throttledInMs = 0;
    // Resource Graph is read every cycle when it is the status source; else only when the index is old.
    const proving = this.options.statusSource === "resource-graph" && now >= this.armUntil;
    if (proving || this.stale || !this.index || now - this.index.at >= this.options.refreshIntervalInMs) {
      try {
        const refreshed = await this.readIndex(now);
        throttledInMs += refreshed.throttledInMs;
        this.index = refreshed.index;
        this.stale = false;
      } catch (error) {
        const info = describeFailure(error);
        failures.push({ scope: "resource-graph", reason: info.reason, message: info.message });
        // Keep the last index if there is one; read again next cycle.
        this.stale = true;
      }
    }
    const index = this.index;
    const configured = this.options.scope.subscriptionIds.map((id) => id.toLowerCase());
    const inScope = (subscriptionId: string): boolean =>
      configured.includes(subscriptionId.toLowerCase()) || (index?.visible.has(subscriptionId.toLowerCase()) ?? false);
    for (const subscriptionId of index?.invisible ?? []) {
      failures.push({
        scope: subscriptionId,
        reason: "auth",
        message: "Resource Graph cannot see this subscription: the monitor's identity cannot read it (Reader), or it does not exist",
      });
    }
    const invisible = new Set(index?.invisible ?? []);
    const alsoRead = ((await options.alsoRead) ?? []).map((id) => id.toLowerCase()).filter((id) => inScope(id) && !invisible.has(id));
    // Without an index (Resource Graph failing since start), the configured subscriptions are read one by one.
    const toRead = index ? [...new Set([...index.withCmk, ...alsoRead])] : [...new Set([...configured, ...alsoRead])];
    const subscriptionsInScope = index ? new Set([...configured, ...index.visible]).size : configured.length;
    const graphCalls = () => this.graph.callsMade - callsBefore;

    if (proving && index && !this.stale && now >= this.calibrateAt) {
      // A sample of three finds a stale status only by luck; every interval (and first) all of Resource
      // Graph's statuses are compared with ARM's. The calibration's own ARM read is the cycle's status.
      this.calibrateAt = now + this.options.refreshIntervalInMs;
      const read = await readWithArm(this.accounts, toRead, this.options.armConcurrency);
      const disagreement = read.failures.length > 0 ? "an ARM list failed during the calibration" : this.calibrate(index.accounts, read.accounts, now);
      if (disagreement) this.armUntil = now + this.options.refreshIntervalInMs;
      return this.fromArm(read, failures, graphCalls(), throttledInMs, subscriptionsInScope, index, 0, disagreement ?? "");
    }
    if (proving && index && !this.stale) {
      const disagreement = await this.sampleDisagreement(index.accounts);
      if (disagreement.reason === undefined) {
        const listed = new Set(index.withCmk);
        return {
          source: "resource-graph",
          accounts: index.accounts,
          // A subscription Resource Graph can see and that holds no CMK account has none to miss.
          covers: (subscriptionId) => index.visible.has(subscriptionId.toLowerCase()) || listed.has(subscriptionId.toLowerCase()),
          failures,
          calls: graphCalls(),
          throttledInMs,
          confirmChanges: true,
          statusSource: "resource-graph",
          statusCalls: disagreement.calls,
          subscriptionsInScope,
          subscriptionsReadable: index.visible.size,
          subscriptionsWithCmk: index.withCmk.length,
          ...this.lag(),
        };
      }
      this.armUntil = now + this.options.refreshIntervalInMs;
      const read = await readWithArm(this.accounts, toRead, this.options.armConcurrency);
      return this.fromArm(read, failures, graphCalls(), throttledInMs, subscriptionsInScope, index, disagreement.calls, disagreement.reason);
    }
    const read = await readWithArm(this.accounts, toRead, this.options.armConcurrency);
    const fallback =
      this.options.statusSource !== "resource-graph"
        ? undefined
        : proving
          ? "Resource Graph could not be read this cycle"
          : "Resource Graph disagreed with ARM within the last interval";
    return this.fromArm(read, failures, graphCalls(), throttledInMs, subscriptionsInScope, index, 0, fallback);
  }

  private fromArm(
    read: ArmRead,
    failures: DiscoveryFailure[],
    graphCalls: number,
    throttledInMs: number,
    subscriptionsInScope: number,
    index: FleetIndex | undefined,
    sampleCalls: number,
    fallback: string | undefined,
  ): FleetListing {
    if (read.failures.length > 0) this.stale = true;
    const visible = index?.visible;
    return {
      source: "resource-graph",
      accounts: read.accounts,
      // Listed with ARM this cycle (every subscription with an open incident is: alsoRead).
      covers: (subscriptionId) => read.listed.has(subscriptionId.toLowerCase()),
      failures: [...failures, ...read.failures],
      calls: graphCalls + read.calls,
      throttledInMs,
      confirmChanges: false,
      statusSource: "arm",
      statusCalls: read.calls + sampleCalls,
      subscriptionsInScope,
      subscriptionsReadable: visible ? [...visible].filter((id) => !read.failures.some((f) => f.scope.toLowerCase() === id)).length : read.listed.size,
      subscriptionsWithCmk: subscriptionsOf(read.accounts),
      ...(fallback ? { statusSourceFallback: fallback } : {}),
      ...this.lag(),
    };
  }

  /** What the calibrations measured: only with CMK_STATUS_SOURCE=resource-graph. */
  private lag(): Pick<FleetListing, "statusSourceLagMinutes" | "statusSourceDisagreements"> {
    if (this.options.statusSource !== "resource-graph") return {};
    return {
      statusSourceDisagreements: this.disagreeingSince.size,
      ...(this.lagInMinutes !== undefined ? { statusSourceLagMinutes: this.lagInMinutes } : {}),
    };
  }

  /**
   * Compares Resource Graph's status of every account with ARM's. An account that differs is timed
   * from the first calibration that saw it differ: when it agrees again, the time between is a
   * measured lag (at least; the change may be older than the first calibration that saw it).
   * Returns why Resource Graph is not to be trusted, or undefined when it agrees throughout.
   */
  private calibrate(graphAccounts: readonly CmkAccount[], armAccounts: readonly CmkAccount[], now: number): string | undefined {
    const graph = new Map(graphAccounts.map((account) => [normalizeResourceId(account.id), account.customerManagedKeyStatus]));
    let first: string | undefined;
    const differing = new Set<string>();
    for (const account of armAccounts) {
      const id = normalizeResourceId(account.id);
      const shown = graph.get(id);
      if (shown === (account.customerManagedKeyStatus ?? undefined) && shown !== undefined) continue;
      differing.add(id);
      first ??=
        shown === undefined
          ? `Resource Graph has no customerManagedKeyStatus for ${account.id}`
          : `Resource Graph's status for ${account.id} differs from ARM's`;
    }
    for (const [id, since] of this.disagreeingSince) {
      if (differing.has(id)) continue;
      this.disagreeingSince.delete(id);
      this.lagInMinutes = Math.max(this.lagInMinutes ?? 0, Math.round((now - since) / 60_000));
    }
    for (const id of differing) if (!this.disagreeingSince.has(id)) this.disagreeingSince.set(id, now);
    for (const since of this.disagreeingSince.values()) this.lagInMinutes = Math.max(this.lagInMinutes ?? 0, Math.round((now - since) / 60_000));
    return first === undefined ? undefined : differing.size > 1 ? `${first} (and ${differing.size - 1} more)` : first;
  }

  private async readIndex(now: number): Promise<{ index: FleetIndex; throttledInMs: number }> {
    const scope = this.options.scope;
    const [coverage, fleet] = [await this.graph.visibleSubscriptions(scope), await this.graph.discover(scope)];
    const visible = coverage.subscriptionIds;
    const invisible = scope.subscriptionIds.filter((id) => !visible.has(id.toLowerCase()));
    const withCmk = [...new Set(fleet.accounts.map((account) => account.subscriptionId.toLowerCase()))];
    // Resource Graph's accounts are read only as a proven status source: otherwise not worth an interval in memory.
    const accounts = this.options.statusSource === "resource-graph" ? fleet.accounts : [];
    return { index: { at: now, visible, invisible, withCmk, accounts }, throttledInMs: coverage.throttledInMs + fleet.throttledInMs };
  }

  /**
   * CMK_STATUS_SOURCE=resource-graph only while it shows what ARM shows: a few accounts, a different
   * few each cycle, are read with a GET; one missing or different status sends the cycle to ARM.
   */
  private async sampleDisagreement(accounts: readonly CmkAccount[]): Promise<{ reason?: string; calls: number }> {
    if (accounts.length === 0) return { calls: 0 };
    const size = Math.min(this.options.sampleSize ?? DEFAULT_SAMPLE_SIZE, accounts.length);
    const sorted = [...accounts].sort((a, b) => (normalizeResourceId(a.id) < normalizeResourceId(b.id) ? -1 : 1));
    let calls = 0;
    for (let i = 0; i < size; i++) {
      const account = sorted[(this.sampleOffset + i) % sorted.length]!;
      if (account.customerManagedKeyStatus === undefined) {
        this.sampleOffset += size;
        return { reason: `Resource Graph has no customerManagedKeyStatus for ${account.id}`, calls };
      }
      calls += 1;
      try {
        const fresh = await this.accounts.getAccount(account.id);
        if ((fresh?.customerManagedKeyStatus ?? "") !== account.customerManagedKeyStatus) {
          this.sampleOffset += size;
          return { reason: `Resource Graph's status for ${account.id} differs from ARM's`, calls };
        }
      } catch (error) {
        this.sampleOffset += size;
        return { reason: `the ARM GET that checks Resource Graph failed (${describeFailure(error).message})`, calls };
      }
    }
    this.sampleOffset += size;
    return { calls };
  }
}
