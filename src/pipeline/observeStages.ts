/** Stages that turn the fleet into state changes: discover → plan → probe → decide → confirm → record. */
import { describeFailure } from "../adapters/azureErrors";
import { ArmFleetDiscovery, type FleetListing } from "../adapters/fleetDiscovery";
import { StateConflictError, type AccountRecord } from "../adapters/tableStore";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { classifyStatus, type Classification } from "../domain/classifier";
import type { Incident } from "../domain/incident";
import { decide, type Decision, type LifecycleContext, type LifecycleInput } from "../domain/lifecycle";
import { decideWithProbe } from "../domain/probeDecision";
import type { ProbeFacts } from "../domain/probeFacts";
import { resolveOwnerRecipients } from "../domain/recipients";
import { mapWithConcurrency, type CycleContext, type MonitorSettings, type Stage } from "./stage";

export interface WorkItem {
  accountId: string;
  record: AccountRecord;
  input: LifecycleInput;
  /** What the probes found this cycle (revoked accounts only; see probeStages.ts). */
  probe?: ProbeFacts;
  /** The input is a fresh ARM GET (src/pipeline/confirmStages.ts), not a possibly lagging listing. */
  confirmed?: boolean;
}

export interface PlannedChange {
  item: WorkItem;
  decision: Decision;
}

/**
 * Finds the fleet (ARM per subscription, or Resource Graph over the scope). A failed subscription
 * or a failed Resource Graph query is reported, not fatal: open incidents it hides get a tick.
 */
export const discoverStage: Stage<Date, FleetListing> = {
  name: "discover",
  async run(ctx) {
    const { deps } = ctx;
    const discovery = deps.discovery ?? new ArmFleetDiscovery(deps.accounts, deps.settings.subscriptionIds, deps.settings.listConcurrency);
    const listing = await discovery.discover();
    ctx.stats.discoveryMode = listing.source;
    ctx.stats.discoveryCalls += listing.calls;
    ctx.stats.discoveryThrottledInMs += listing.throttledInMs;
    ctx.confirmChanges = listing.confirmChanges;
    for (const failure of listing.failures) {
      ctx.stats.subscriptionsFailed.push({ subscriptionId: failure.scope, reason: failure.reason, message: failure.message });
      deps.log.warn(
        failure.scope === "resource-graph"
          ? `cmk-monitor: Resource Graph discovery failed (${failure.reason}): ${failure.message}; open incidents only get their deadlines checked`
          : `cmk-monitor: could not list subscription ${failure.scope} (${failure.reason}): ${failure.message}`,
      );
    }
    ctx.stats.subscriptionsListed +=
      listing.source === "arm"
        ? deps.settings.subscriptionIds.length - listing.failures.length
        : listing.failures.length > 0
          ? 0
          : new Set(listing.accounts.map((account) => account.subscriptionId.toLowerCase())).size;
    return [listing];
  },
};

/** A listed account that needs a decision this cycle: it has an open incident, or it is revoked. */
export interface ObservedAccount {
  account: CmkAccount;
  classification: Classification;
  /** The open incident's record, read with every open incident in one query. */
  open?: AccountRecord;
}

export interface WorkSelection {
  /** Listed accounts needing a decision. */
  observed: ObservedAccount[];
  /** Open incidents whose account was not listed: missing when its subscription was read, else a tick. */
  unobserved: WorkItem[];
  /** Every listed account that is healthy (candidates for the daily warning check). */
  healthy: CmkAccount[];
}

/**
 * Joins what Azure shows with what the store remembers. Healthy accounts with no incident cost
 * nothing; an open incident whose account cannot be observed still gets a tick so its deadlines
 * are honoured. Pure apart from the counters.
 */
export function selectWork(ctx: CycleContext, listing: FleetListing, openRecords: readonly AccountRecord[]): WorkSelection {
  const open = new Map<string, AccountRecord>();
  for (const record of openRecords) open.set(normalizeResourceId(record.accountId), record);
  const observed: ObservedAccount[] = [];
  const healthy: CmkAccount[] = [];
  const seen = new Set<string>();
  for (const account of listing.accounts) {
    const key = normalizeResourceId(account.id);
    // Resource Graph pages are not a snapshot: an account can show up on two of them.
    if (seen.has(key)) continue;
    seen.add(key);
    ctx.stats.accountsSeen += 1;
    const classification = classifyStatus(account.customerManagedKeyStatus);
    if (classification.health === "revoked") ctx.stats.revokedSeen += 1;
    if (classification.health === "unknown") ctx.stats.unknownSeen += 1;
    if (classification.health === "healthy") healthy.push(account);
    const record = open.get(key);
    open.delete(key);
    if (record) observed.push({ account, classification, open: record });
    else if (classification.health === "revoked") observed.push({ account, classification });
  }
  const unobserved: WorkItem[] = [];
  for (const record of open.values()) {
    const subscriptionId = record.incident?.account.subscriptionId ?? "";
    const input: LifecycleInput = listing.covers(subscriptionId) ? { kind: "account-missing" } : { kind: "tick" };
    unobserved.push({ accountId: record.accountId, record, input });
  }
  return { observed, unobserved, healthy };
}

/** Work items for observed accounts; only new revocations pay a read (the account may have a resolved incident row). */
export async function observedItems(ctx: CycleContext, observed: readonly ObservedAccount[], concurrency = 8): Promise<WorkItem[]> {
  return mapWithConcurrency(observed, concurrency, async ({ account, classification, open }) => ({
    accountId: account.id,
    record: open ?? (await ctx.deps.store.getRecord(account.id)),
    input: { kind: "observed" as const, account, classification },
  }));
}

export function lifecycleContext(settings: MonitorSettings): LifecycleContext {
  return {
    reminderIntervalInMinutes: settings.reminderIntervalInMinutes,
    escalationRecipients: settings.escalationRecipients,
    resolveOwners: (account) =>
      resolveOwnerRecipients(account.tags, {
        ownerTag: settings.ownerTag,
        defaultRecipients: settings.defaultRecipients,
        allowedRecipientDomains: settings.allowedRecipientDomains,
      }),
  };
}

/** Pure: what should happen to each account now. Items with nothing to do stop here. */
export const decideStage: Stage<WorkItem, PlannedChange> = {
  name: "decide",
  async run(ctx, items) {
    const lifecycle = lifecycleContext(ctx.deps.settings);
    const changes: PlannedChange[] = [];
    for (const item of items) {
      const { decision, probeStateChanged } = decideItem(item, item.record.incident, ctx.now, lifecycle);
      if (decision.reasons.length > 0 || decision.events.length > 0 || probeStateChanged) changes.push({ item, decision });
    }
    return changes;
  },
};

/**
 * The decision for one item: the lifecycle alone, or with the probes' verdict (which may add
 * "fix-observed"/"fix-undone" and evidence). `probeStateChanged` asks for a commit even without an event.
 */
export function decideItem(
  item: WorkItem,
  incident: Incident | undefined,
  now: Date,
  lifecycle: LifecycleContext,
): { decision: Decision; probeStateChanged: boolean } {
  if (!item.probe) return { decision: decide(incident, item.input, now, lifecycle), probeStateChanged: false };
  const { decision, probeStateChanged } = decideWithProbe(incident, item.input, item.probe, now, lifecycle);
  return { decision, probeStateChanged };
}

const MAX_COMMIT_ATTEMPTS = 4;

/**
 * Commits each change with its outbox rows. On a conflict another instance got there first:
 * reload, decide again from what it wrote, and commit only what is still needed.
 */
export const recordStage: Stage<PlannedChange, PlannedChange> = {
  name: "record",
  async run(ctx, changes) {
    // Each commit is its own account's partition: independent of the others, so several at once.
    const committed = await mapWithConcurrency(changes, RECORD_CONCURRENCY, (change) => commitWithRetry(ctx, change));
    return committed.filter((change): change is PlannedChange => change !== undefined);
  },
};

/** Commits (one partition each) in flight at once. */
const RECORD_CONCURRENCY = 8;

export async function commitWithRetry(ctx: CycleContext, change: PlannedChange): Promise<PlannedChange | undefined> {
  const { store, log } = ctx.deps;
  const lifecycle = lifecycleContext(ctx.deps.settings);
  let current = change;
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    try {
      await store.commit(current.item.record, current.decision);
      for (const reason of current.decision.reasons) ctx.stats.decisions[reason] = (ctx.stats.decisions[reason] ?? 0) + 1;
      return current;
    } catch (error) {
      if (!(error instanceof StateConflictError)) {
        const info = describeFailure(error);
        ctx.stats.commitFailures.push({ accountId: current.item.accountId, message: info.message });
        log.error(`cmk-monitor: could not record state for ${current.item.accountId} (${info.reason}): ${info.message}`);
        return undefined;
      }
      ctx.stats.conflicts += 1;
      const record = await store.getRecord(current.item.accountId);
      const { decision, probeStateChanged } = decideItem(current.item, record.incident, ctx.now, lifecycle);
      if (decision.reasons.length === 0 && decision.events.length === 0 && !probeStateChanged) return undefined; // the other instance did it
      current = { item: { ...current.item, record }, decision };
    }
  }
  log.warn(`cmk-monitor: gave up recording ${current.item.accountId} after ${MAX_COMMIT_ATTEMPTS} conflicts; next cycle retries`);
  return undefined;
}
