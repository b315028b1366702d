/**
 * Joins what Azure shows with what the store remembers: which listed accounts need a decision,
 * which open incidents discovery did not show, and which accounts are healthy.
 */
import { priorWarning } from "../domain/atRisk";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { classifyStatus, type Classification } from "../domain/classifier";
import type { LifecycleInput } from "../domain/lifecycle";
import type { FleetListing } from "../ports/fleetDiscovery";
import type { AccountRecord } from "../ports/incidentStore";
import { mapWithConcurrency } from "./concurrency";
import type { CycleContext } from "./cycleContext";
import type { WorkItem } from "./workItem";

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
 * Healthy accounts with no incident cost nothing; an open incident whose account cannot be
 * observed still gets a tick so its deadlines are honoured. Pure apart from the counters.
 */
export function selectWork(ctx: CycleContext, listing: FleetListing, openRecords: readonly AccountRecord[]): WorkSelection {
  const { stats } = ctx;
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
    stats.accountsSeen += 1;
    const classification = classifyStatus(account.customerManagedKeyStatus);
    countHealth(ctx, classification);
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

/** Counts a revoked or unknown observation. */
export function countHealth(ctx: CycleContext, classification: Classification): void {
  if (classification.health === "revoked") ctx.stats.revokedSeen += 1;
  if (classification.health === "unknown") ctx.stats.unknownSeen += 1;
}

/**
 * Work items for observed accounts; only new revocations pay reads (the account may have a resolved
 * incident row, and an at-risk warning the new incident links back to).
 */
export async function observedItems(ctx: CycleContext, observed: readonly ObservedAccount[], concurrency = 8): Promise<WorkItem[]> {
  return mapWithConcurrency(observed, concurrency, async ({ account, classification, open }) => {
    if (open) return { accountId: account.id, record: open, input: { kind: "observed" as const, account, classification } };
    const [record, warned] = await Promise.all([ctx.deps.store.getRecord(account.id), warningBefore(ctx, account.id)]);
    return { accountId: account.id, record, input: { kind: "observed" as const, account, classification, ...(warned ? { priorWarning: warned } : {}) } };
  });
}

/** The open at-risk warning of an account about to get an incident; a failed read only loses the link. */
async function warningBefore(ctx: CycleContext, accountId: string): Promise<{ at: string; title: string } | undefined> {
  try {
    return priorWarning((await ctx.deps.warnings.getAtRisk(accountId)).state);
  } catch {
    return undefined;
  }
}
