/** Stages that turn subscriptions into state changes: discover → plan → decide → record. */
import { describeFailure } from "../adapters/azureErrors";
import { StateConflictError, type AccountRecord } from "../adapters/tableStore";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { classifyStatus } from "../domain/classifier";
import type { Incident } from "../domain/incident";
import { decide, type Decision, type LifecycleContext, type LifecycleInput } from "../domain/lifecycle";
import { decideWithProbe } from "../domain/probeDecision";
import type { ProbeFacts } from "../domain/probeFacts";
import { resolveOwnerRecipients } from "../domain/recipients";
import { mapWithConcurrency, type CycleContext, type MonitorSettings, type Stage } from "./stage";

export type SubscriptionListing =
  | { subscriptionId: string; ok: true; accounts: CmkAccount[] }
  | { subscriptionId: string; ok: false };

export interface WorkItem {
  accountId: string;
  record: AccountRecord;
  input: LifecycleInput;
  /** What the probes found this cycle (revoked accounts only; see probeStages.ts). */
  probe?: ProbeFacts;
}

export interface PlannedChange {
  item: WorkItem;
  decision: Decision;
}

/** Lists CMK accounts per subscription; a failed subscription is reported, not fatal. */
export const discoverStage: Stage<string, SubscriptionListing> = {
  name: "discover",
  async run(ctx, subscriptionIds) {
    const { accounts, log, settings } = ctx.deps;
    return mapWithConcurrency(subscriptionIds, settings.listConcurrency, async (subscriptionId) => {
      try {
        const found: CmkAccount[] = [];
        for await (const account of accounts.listAccounts(subscriptionId)) found.push(account);
        ctx.stats.subscriptionsListed += 1;
        return { subscriptionId, ok: true as const, accounts: found };
      } catch (error) {
        const info = describeFailure(error);
        ctx.stats.subscriptionsFailed.push({ subscriptionId, reason: info.reason, message: info.message });
        log.warn(`cmk-monitor: could not list subscription ${subscriptionId} (${info.reason}): ${info.message}`);
        return { subscriptionId, ok: false as const };
      }
    });
  },
};

/**
 * Joins what Azure shows with what the store remembers. Healthy accounts with no incident
 * cost nothing; an open incident whose account cannot be observed still gets a tick so its
 * deadlines are honoured.
 */
export const planStage: Stage<SubscriptionListing, WorkItem> = {
  name: "plan",
  async run(ctx, listings) {
    const { store } = ctx.deps;
    const open = new Map<string, AccountRecord>();
    for (const record of await store.listOpenRecords()) open.set(normalizeResourceId(record.accountId), record);

    const items: WorkItem[] = [];
    const listedOk = new Set<string>();
    for (const listing of listings) {
      if (!listing.ok) continue;
      listedOk.add(listing.subscriptionId.toLowerCase());
      for (const account of listing.accounts) {
        ctx.stats.accountsSeen += 1;
        const key = normalizeResourceId(account.id);
        const classification = classifyStatus(account.customerManagedKeyStatus);
        if (classification.health === "revoked") ctx.stats.revokedSeen += 1;
        if (classification.health === "unknown") ctx.stats.unknownSeen += 1;
        const record = open.get(key);
        open.delete(key);
        if (record) {
          items.push({ accountId: account.id, record, input: { kind: "observed", account, classification } });
        } else if (classification.health === "revoked") {
          // Only new revocations pay a read: the account may have a resolved incident row.
          items.push({ accountId: account.id, record: await store.getRecord(account.id), input: { kind: "observed", account, classification } });
        }
      }
    }
    for (const record of open.values()) {
      const subscriptionId = record.incident?.account.subscriptionId.toLowerCase() ?? "";
      const input: LifecycleInput = listedOk.has(subscriptionId) ? { kind: "account-missing" } : { kind: "tick" };
      items.push({ accountId: record.accountId, record, input });
    }
    return items;
  },
};

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
    const committed: PlannedChange[] = [];
    for (const change of changes) {
      const result = await commitWithRetry(ctx, change);
      if (result) committed.push(result);
    }
    return committed;
  },
};

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
