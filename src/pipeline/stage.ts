/**
 * One stage shape for a poll cycle, after Alertmanager's notify pipeline: each stage takes a
 * batch and returns the next batch; an empty batch ends the chain early.
 */
import type { AccountSource } from "../adapters/armAccounts";
import type { EmailSender } from "../adapters/acsEmail";
import type { FleetDiscovery } from "../adapters/fleetDiscovery";
import type { IncidentStore, StoredAccountCheck, StoredMessage, WarningStore } from "../adapters/tableStore";
import type { WorkQueue } from "../adapters/workQueue";
import type { AccountProber, ProbeSession } from "../probes/accountProber";
import type { MonitorMeta } from "../adapters/monitorMetaTable";

export interface Clock {
  now(): Date;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface MonitorSettings {
  subscriptionIds: readonly string[];
  emailSender: string;
  reminderIntervalInMinutes: number;
  escalationRecipients: readonly string[];
  ownerTag: string;
  defaultRecipients: readonly string[];
  allowedRecipientDomains: readonly string[];
  /** How long a sender holds a message before another instance may retry it. */
  sendLeaseInSeconds: number;
  /** Subscriptions listed at once. */
  listConcurrency: number;
  /** CMK_KEY_EXPIRY_WARNING_DAYS: warn healthy accounts' owners when the key expires within this many days. */
  keyExpiryWarningDays?: number;
  /** CMK_PUBLIC_BASE_URL: where owners' one-click links point; no links in emails when unset. */
  publicBaseUrl?: string;
  /** CMK_DASHBOARD_AUTH: "anonymous" means App Service Authentication stands in front of the dashboard. */
  dashboardAuth?: "function" | "anonymous";
  /** CMK_POLL_INTERVAL_MINUTES: a work item older than two intervals is stale (the next cycle covers it). */
  pollIntervalInMinutes?: number;
  /** CMK_FANOUT / CMK_FANOUT_THRESHOLD; inline when absent. */
  fanout?: { mode: "auto" | "queue" | "inline"; threshold: number };
  /** CMK_DIGEST_THRESHOLD: due messages of one kind to one recipient set that become one digest email (default 5). */
  digestThreshold?: number;
  /** CMK_EMAIL_RATE_PER_MINUTE / _PER_HOUR: the ACS sending limits the outbox paces itself under. */
  emailRatePerMinute?: number;
  emailRatePerHour?: number;
}

/** Everything a cycle needs; built only in src/composition.ts (or by tests). */
export interface MonitorDeps {
  accounts: AccountSource;
  store: IncidentStore;
  email: EmailSender;
  clock: Clock;
  log: Logger;
  settings: MonitorSettings;
  /** Key Vault, identity, DNS and permission probes; absent when CMK_PROBES=off. */
  probes?: AccountProber;
  /** Daily checks of healthy accounts and each recipient's digest state; absent with probes off. */
  warnings?: WarningStore;
  /** Heartbeat of the last completed cycle and the app-kept link key (a table beside the state). */
  meta?: MonitorMeta;
  /** The key that signs owners' one-click links: CMK_LINK_SIGNING_KEY, or the one kept in `meta`. */
  linkSigningKey?: () => Promise<Buffer>;
  /** How the fleet is found (ARM per subscription or Resource Graph); default: ARM over `accounts`. */
  discovery?: FleetDiscovery;
  /** Where work batches go when a cycle fans out; absent: every cycle runs inline. */
  workQueue?: WorkQueue;
  /**
   * The instance's call slots (PROBE_CONCURRENCY), one set per process: the Functions host runs
   * several work items at once (host.json batchSize), and together they keep to the same number
   * of probe and confirmation calls in flight, so one item's tail overlaps the next one's calls.
   * Absent: each cycle or work item gets its own.
   */
  callSlots?: Slots;
}

/** Counters a cycle fills in as it goes; the report is made from them. */
export interface CycleStats {
  subscriptionsListed: number;
  subscriptionsFailed: { subscriptionId: string; reason: string; message: string }[];
  accountsSeen: number;
  revokedSeen: number;
  unknownSeen: number;
  decisions: Record<string, number>;
  conflicts: number;
  commitFailures: { accountId: string; message: string }[];
  emailsSent: number;
  emailsRetrying: number;
  emailsDead: number;
  emailsSkippedByOtherInstance: number;
  /** Accounts the probes looked at (revoked every cycle, healthy once a day). */
  accountsProbed: number;
  warningDigestsRecorded: number;
  /** "arm" (one list per subscription) or "resource-graph" (one paged query over the scope). */
  discoveryMode: "arm" | "resource-graph";
  /** Listing calls made: ARM list calls, or Resource Graph pages and retries. */
  discoveryCalls: number;
  discoveryThrottledInMs: number;
  /** ARM GETs that confirmed (or overturned) a state change Resource Graph suggested. */
  confirmations: number;
  /** Suggested state changes the ARM GET did not bear out (Resource Graph lagging). */
  confirmationsOverturned: number;
  confirmationsFailed: number;
  /** "inline": this process did all the work; "queue": batches went to the work queue. */
  fanout: "inline" | "queue";
  workBatchesEnqueued: number;
  workAccountsEnqueued: number;
  /** Due emails held back by CMK_EMAIL_RATE_PER_MINUTE/_PER_HOUR; they stay pending. */
  emailsDeferred: number;
  /** Digest emails sent, and the outbox messages they carried. */
  digestsSent: number;
  messagesInDigests: number;
}

/** Which outbox rows a drain may send (all due rows when unset). */
export interface OutboxScope {
  /** Only these rows (a work batch sends what it recorded). */
  only?: readonly StoredMessage[];
  /** Only rows created up to this time (the timer leaves this cycle's batches to their workers). */
  createdUpTo?: string;
}

export interface CycleContext {
  deps: MonitorDeps;
  now: Date;
  stats: CycleStats;
  /** One probe cache per cycle, shared by the revoked-account and the daily warning probes. */
  probeSession?: ProbeSession;
  /** Observations came from Resource Graph, which can lag ARM: confirm state changes with a GET. */
  confirmChanges?: boolean;
  /** The cycle's one read of the daily-check rows (started beside discovery; see readAccountChecks). */
  accountChecks?: Promise<StoredAccountCheck[]>;
  outbox?: OutboxScope;
  /** Sends this drain reserved from the shared budget, and how many of them may have reached ACS. */
  sendBudget?: { reserved: number; used: number };
  /**
   * When set, every probe and confirmation GET takes one of these: the decisions and the daily
   * checks can then run side by side and still keep to PROBE_CONCURRENCY calls in flight.
   */
  workSlots?: Slots;
}

/** A counting semaphore: at most `size` of the works passed to `run` at once, first come first served. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

export interface Stage<In, Out> {
  readonly name: string;
  run(ctx: CycleContext, batch: readonly In[]): Promise<Out[]>;
}

/** Runs `first` then `second`, skipping `second` when `first` produced nothing. */
export function chain<A, B, C>(first: Stage<A, B>, second: Stage<B, C>): Stage<A, C> {
  return {
    name: `${first.name} → ${second.name}`,
    async run(ctx, batch) {
      const middle = await first.run(ctx, batch);
      if (middle.length === 0) return [];
      return second.run(ctx, middle);
    },
  };
}

export function newStats(): CycleStats {
  return {
    subscriptionsListed: 0,
    subscriptionsFailed: [],
    accountsSeen: 0,
    revokedSeen: 0,
    unknownSeen: 0,
    decisions: {},
    conflicts: 0,
    commitFailures: [],
    emailsSent: 0,
    emailsRetrying: 0,
    emailsDead: 0,
    emailsSkippedByOtherInstance: 0,
    accountsProbed: 0,
    warningDigestsRecorded: 0,
    discoveryMode: "arm",
    discoveryCalls: 0,
    discoveryThrottledInMs: 0,
    confirmations: 0,
    confirmationsOverturned: 0,
    confirmationsFailed: 0,
    fanout: "inline",
    workBatchesEnqueued: 0,
    workAccountsEnqueued: 0,
    emailsDeferred: 0,
    digestsSent: 0,
    messagesInDigests: 0,
  };
}

/** Runs `work` over items with at most `limit` in flight, keeping result order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}
