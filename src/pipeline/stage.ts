/**
 * One stage shape for a poll cycle, after Alertmanager's notify pipeline: each stage takes a
 * batch and returns the next batch; an empty batch ends the chain early.
 */
import type { AccountSource } from "../adapters/armAccounts";
import type { EmailSender } from "../adapters/acsEmail";
import type { IncidentStore, WarningStore } from "../adapters/tableStore";
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
}

export interface CycleContext {
  deps: MonitorDeps;
  now: Date;
  stats: CycleStats;
  /** One probe cache per cycle, shared by the revoked-account and the daily warning probes. */
  probeSession?: ProbeSession;
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
