/**
 * One Azure change event (Event Grid, at least once): validated and mapped through the fleet index
 * to the accounts it can affect; each healthy one is re-checked at once with the same probes and
 * recorded exactly as a daily check (src/pipeline/dailyChecks.ts), so an urgent finding becomes its
 * at-risk email, which is sent right away (the email budget still applies).
 *
 * Idempotent: a replayed or duplicated event finds the re-check it asked for already started after
 * the change (the per-account claim in the fleet index) and does nothing; if it does re-check, the
 * at-risk keys still allow one email per finding. A flood of events for one account coalesces into
 * one re-check, and the probes keep to the process's call slots like every other run.
 */
import { normalizeResourceId } from "../domain/account";
import type { CheckTrigger } from "../domain/atRisk";
import { parseChangeEvent, type ChangeEventScope, type ChangeTarget, type IgnoredReason } from "../domain/changeEvents";
import { classifyStatus } from "../domain/classifier";
import { withCallDeadline } from "../ports/callDeadline";
import { describeFailure } from "../ports/failures";
import type { StoredMessage } from "../ports/incidentStore";
import { mapWithConcurrency } from "../pipeline/concurrency";
import { INVOCATION_BUDGET_IN_MS, startCycle, type CycleContext } from "../pipeline/cycleContext";
import { recordDailyChecks, type DailyCheckItem } from "../pipeline/dailyChecks";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { drainOutboxIn } from "./drainOutbox";

export interface ChangeEventOutcome {
  /** ignored: invalid, unknown, unwatched or out of scope (counted by reason in the log); handled otherwise. */
  outcome: "ignored" | "handled";
  reason?: IgnoredReason | "probes-off";
  /** Indexed accounts the event can affect. */
  accounts: number;
  /** Re-checked now. */
  rechecked: number;
  /** Left alone: a re-check started after the change already covers them. */
  coalesced: number;
  /** Not healthy (the poll cycle owns incidents) or no longer there. */
  skipped: number;
  /** Could not be read from ARM: their claims are given back, and the catch-up holds its watermark at the earliest such change. */
  failed: number;
  /** The earliest change time among the accounts that could not be read. */
  firstFailedChange?: string;
  /** At-risk emails recorded by the re-checks. */
  atRiskEmails: number;
}

/** Accounts looked at side by side; each takes the process's call slots for its calls. */
const ACCOUNTS_IN_PARALLEL = 4;

export function handleChangeEvent(deps: MonitorDeps, raw: unknown): Promise<ChangeEventOutcome> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => handle(deps, raw));
}

/** Events from subscriptions the monitor watches; with management groups, any (the fleet index only knows the fleet's accounts). */
export function changeEventScope(settings: Pick<MonitorDeps["settings"], "subscriptionIds" | "managementGroups">): ChangeEventScope {
  return settings.managementGroups.length > 0 ? {} : { subscriptionIds: new Set(settings.subscriptionIds.map((id) => id.toLowerCase())) };
}

async function handle(deps: MonitorDeps, raw: unknown): Promise<ChangeEventOutcome> {
  const none = { accounts: 0, rechecked: 0, coalesced: 0, skipped: 0, failed: 0, atRiskEmails: 0 };
  const event = parseChangeEvent(raw, changeEventScope(deps.settings));
  if (!event.relevant) {
    deps.log.info(`cmk-monitor: change event ignored (${event.reason})${event.eventType ? `: ${event.eventType}` : ""}`);
    return { outcome: "ignored", reason: event.reason, ...none };
  }
  if (!deps.probes) {
    // Nothing to re-check with: the ARM status alone is read by the poll cycle.
    deps.log.info(`cmk-monitor: change event ignored (probes-off): ${event.what}`);
    return { outcome: "ignored", reason: "probes-off", ...none };
  }
  const outcome = await recheckChanged(deps, [{ targets: event.targets, changedAt: event.eventTime }], "event");
  deps.log.info(
    `cmk-monitor: change event ${event.eventType} (${event.what}): ${outcome.accounts} account(s), ${outcome.rechecked} re-checked, ${outcome.coalesced} already covered, ${outcome.atRiskEmails} at-risk email(s)`,
  );
  return { outcome: "handled", ...outcome };
}

/** Something Azure changed, and when: what a change event or a `resourcechanges` row says. */
export interface ChangeToRecheck {
  targets: readonly ChangeTarget[];
  changedAt: string;
}

export type RecheckOutcome = Omit<ChangeEventOutcome, "outcome" | "reason">;

/**
 * The coalesced re-check both the push path (one event) and the pull catch-up (a window of changes)
 * end in: the accounts the changes can affect, each claimed for its latest change so a re-check that
 * already started after it is not repeated, re-read from ARM, probed and recorded as a daily check,
 * and its at-risk emails sent at once. Requires the probes (callers check `deps.probes`).
 */
export async function recheckChanged(deps: MonitorDeps, changes: readonly ChangeToRecheck[], trigger: CheckTrigger): Promise<RecheckOutcome> {
  // Per target, its latest change (a window can name one vault many times: one index lookup each)...
  const byTarget = new Map<string, { target: ChangeTarget; changedAt: string }>();
  for (const change of changes) {
    for (const target of change.targets) {
      const key = JSON.stringify(target);
      const seen = byTarget.get(key);
      if (seen === undefined || change.changedAt > seen.changedAt) byTarget.set(key, { target, changedAt: change.changedAt });
    }
  }
  // ...and per account, the latest change of any of its targets: a re-check started after that one sees all of them.
  const latest = new Map<string, string>();
  for (const { target, changedAt } of byTarget.values()) {
    for (const accountId of await deps.fleetIndex.accountsFor([target])) {
      const seen = latest.get(accountId);
      if (seen === undefined || changedAt > seen) latest.set(accountId, changedAt);
    }
  }
  const ctx = startCycle(deps, deps.clock.now());
  const due: DailyCheckItem[] = [];
  let coalesced = 0;
  let skipped = 0;
  let failed = 0;
  let firstFailedChange: string | undefined;
  await mapWithConcurrency([...latest], ACCOUNTS_IN_PARALLEL, async ([accountId, changedAt]) => {
    if (!(await deps.fleetIndex.claimRecheck(accountId, changedAt, ctx.now))) {
      coalesced += 1;
      return;
    }
    const item = await dueItem(ctx, accountId);
    if (item === "failed") {
      failed += 1;
      if (firstFailedChange === undefined || changedAt < firstFailedChange) firstFailedChange = changedAt;
      // Not re-checked after all: a later event or the catch-up's next window may claim it again.
      await deps.fleetIndex.releaseRecheck(accountId, ctx.now).catch((error: unknown) => {
        deps.log.warn(`cmk-monitor: could not release the re-check claim of ${accountId}: ${describeFailure(error).message}`);
      });
    } else if (item) due.push(item);
    else skipped += 1;
  });
  const emailsBefore = ctx.stats.atRiskWarningsRecorded;
  if (due.length > 0) {
    // Recorded as "pending digest": the timer plans the digests, which need the recipients' other accounts.
    await recordDailyChecks(ctx, due, { pendingDigest: true, trigger });
  }
  const atRiskEmails = ctx.stats.atRiskWarningsRecorded - emailsBefore;
  if (atRiskEmails > 0) await sendAtRisk(ctx, due);
  return { accounts: latest.size, rechecked: due.length, coalesced, skipped, failed, atRiskEmails, ...(firstFailedChange ? { firstFailedChange } : {}) };
}

/** The account as ARM shows it now (a key URI or identity may just have changed), if it is still healthy; "failed" if it could not be read. */
async function dueItem(ctx: CycleContext, accountId: string): Promise<DailyCheckItem | undefined | "failed"> {
  try {
    const account = await ctx.slots.run(() => ctx.deps.accounts.getAccount(accountId));
    if (!account || classifyStatus(account.customerManagedKeyStatus).health !== "healthy") return undefined;
    const stored = await ctx.deps.warnings.getAccountCheck(account.id);
    return {
      account,
      ...(stored ? { etag: stored.etag } : {}),
      ...(stored && stored.check.findings.length > 0 ? { previousFindings: stored.check.findings } : {}),
      ...(stored?.check.indexedAs ? { indexedAs: stored.check.indexedAs } : {}),
    };
  } catch (error) {
    // The daily check and the catch-up still cover it.
    ctx.deps.log.warn(`cmk-monitor: could not read ${accountId} for a change re-check: ${describeFailure(error).message}`);
    return "failed";
  }
}

/** Sends the at-risk emails just recorded for these accounts, in this invocation: the warning must beat the revocation. */
async function sendAtRisk(ctx: CycleContext, items: readonly DailyCheckItem[]): Promise<void> {
  const rows: StoredMessage[] = [];
  for (const { account } of items) {
    try {
      const pending = await ctx.deps.store.listMessages({ status: "pending", accountId: account.id });
      rows.push(...pending.filter((row) => row.message.kind === "at-risk" && normalizeResourceId(row.message.accountId) === normalizeResourceId(account.id)));
    } catch (error) {
      // The next drain sends them.
      ctx.deps.log.warn(`cmk-monitor: could not list the at-risk emails of ${account.id}: ${describeFailure(error).message}`);
    }
  }
  if (rows.length > 0) await drainOutboxIn(ctx, { only: rows });
}
