/**
 * Warnings before revocation: healthy accounts are probed at most once a UTC day; what could
 * revoke them goes to each recipient in one daily digest, only when something changed.
 *
 * Storage (WarningStore): a row per account in the "warning-checks-<shard>" partitions says when
 * it was last probed and what was found, so an idle cycle reads those rows and writes nothing. A
 * recipient's digest is recorded in one ETag-guarded transaction with the state that says which
 * findings it reported; the digest's key (recipient + UTC date) makes a second one that day
 * impossible.
 *
 * Fanned out, a work batch records its accounts' checks marked "pending digest" (it does not see
 * the recipients' other accounts); the timer's next cycle plans those recipients' digests over
 * the whole fleet and clears the marks. Planning twice is harmless: the digest key holds.
 */
import { describeFailure } from "../adapters/azureErrors";
import { StateConflictError, type StoredAccountCheck } from "../adapters/tableStore";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import {
  digestMessage,
  mergeWithPrevious,
  planDigest,
  utcDate,
  warningFindings,
  type CheckedAccount,
  type WarningFinding,
} from "../domain/warnings";
import { lifecycleContext } from "./observeStages";
import { ACCOUNTS_IN_PROGRESS, byVaultInTurn, PROBE_CONCURRENCY, probeSessionFor } from "./probeStages";
import { mapWithConcurrency, type CycleContext, type Stage } from "./stage";

const DEFAULT_KEY_EXPIRY_WARNING_DAYS = 30;
const MAX_DIGEST_ATTEMPTS = 3;

/** A healthy account due its daily check, with what its last check left behind. */
export interface DailyCheckItem {
  account: CmkAccount;
  /** The stored check's ETag: the new check replaces exactly that one (or is created when undefined). */
  etag?: string;
  /** The last check's findings, kept for the kinds today's probes cannot decide. */
  previousFindings?: WarningFinding[];
}

/** Inline: checks the healthy accounts that are due and plans the digests they affect. Returns the recipients whose digest was recorded. */
export const warningsStage: Stage<CmkAccount, string> = {
  name: "warnings",
  async run(ctx, healthy) {
    if (!probeSessionFor(ctx) || !ctx.deps.warnings || healthy.length === 0) return [];
    const stored = await accountChecks(ctx);
    const due = dueForDailyCheck(ctx, healthy, stored);
    if (due.length === 0) return [];
    const fresh = await recordDailyChecks(ctx, due, { pendingDigest: false });
    if (fresh.size === 0) return [];
    const { recorded } = await planDigests(ctx, healthy, stored, fresh);
    return recorded;
  },
};

/** The stored daily checks, read once per cycle (a failed read is tried again by the next caller). */
export function readAccountChecks(ctx: CycleContext): Promise<StoredAccountCheck[]> {
  ctx.accountChecks ??= ctx.deps.warnings!.listAccountChecks().catch((error: unknown) => {
    ctx.accountChecks = undefined;
    throw error;
  });
  return ctx.accountChecks;
}

/** The stored daily checks, keyed by normalized account id. */
export async function accountChecks(ctx: CycleContext): Promise<Map<string, StoredAccountCheck>> {
  const stored = new Map<string, StoredAccountCheck>();
  for (const entry of await readAccountChecks(ctx)) stored.set(normalizeResourceId(entry.check.accountId), entry);
  return stored;
}

/** Healthy accounts not yet checked today (UTC). */
export function dueForDailyCheck(ctx: CycleContext, healthy: readonly CmkAccount[], stored: ReadonlyMap<string, StoredAccountCheck>): DailyCheckItem[] {
  const today = utcDate(ctx.now);
  const due: DailyCheckItem[] = [];
  for (const account of healthy) {
    const previous = stored.get(normalizeResourceId(account.id));
    if (previous?.check.checkedOn === today) continue;
    due.push({
      account,
      ...(previous ? { etag: previous.etag } : {}),
      ...(previous && previous.check.findings.length > 0 ? { previousFindings: previous.check.findings } : {}),
    });
  }
  return due;
}

/** Rows written together: the table's transaction limit, all in one of the store's write groups (partitions). */
const CHECKS_PER_WRITE = 100;

/**
 * Probes each due account and records its check, ETag-guarded: a check another instance (or an
 * earlier delivery of the same work item) recorded first is left alone. Checks are written a
 * hundred at a time per partition while the probes go on. Returns the recorded checks that can change a digest
 * (they have findings, or the check before them had): a clean check after a clean one cannot.
 */
export async function recordDailyChecks(
  ctx: CycleContext,
  due: readonly DailyCheckItem[],
  options: { pendingDigest: boolean },
): Promise<Map<string, CheckedAccount>> {
  const session = probeSessionFor(ctx);
  const warnings = ctx.deps.warnings;
  const fresh = new Map<string, CheckedAccount>();
  if (!session || !warnings) return fresh;
  const today = utcDate(ctx.now);
  const findingOptions = { keyExpiryWarningDays: ctx.deps.settings.keyExpiryWarningDays ?? DEFAULT_KEY_EXPIRY_WARNING_DAYS };
  type Entry = { check: CheckedAccount; etag: string | undefined; pendingDigest: boolean; matters: boolean };
  // One buffer per write group, so each write is one full transaction.
  const buffers = new Map<string, Entry[]>();
  const groupOf = (accountId: string): string => warnings.checkWriteGroup?.(accountId) ?? "";
  const writes: Promise<void>[] = [];
  const write = (entries: Entry[]): void => {
    writes.push(
      (async () => {
        try {
          // Rows another instance recorded first are left out: it plans those digests itself.
          const recorded = warnings.putAccountChecks
            ? await warnings.putAccountChecks(entries)
            : new Set(
                (
                  await mapWithConcurrency(entries, PROBE_CONCURRENCY, async (e) =>
                    (await warnings.putAccountCheck(e.check, e.etag, { pendingDigest: e.pendingDigest })) ? e.check.accountId : "",
                  )
                ).filter(Boolean),
              );
          for (const { check, matters } of entries) if (matters && recorded.has(check.accountId)) fresh.set(normalizeResourceId(check.accountId), check);
        } catch (error) {
          ctx.deps.log.warn(`cmk-monitor: could not record ${entries.length} daily check(s): ${describeFailure(error).message}`);
        }
      })(),
    );
  };
  await mapWithConcurrency(byVaultInTurn(due, (item) => item.account), ACCOUNTS_IN_PROGRESS, async ({ account, etag, previousFindings }) => {
    try {
      const facts = await session.probe(account);
      ctx.stats.accountsProbed += 1;
      const check: CheckedAccount = {
        accountId: account.id,
        accountName: account.name,
        subscriptionId: account.subscriptionId,
        resourceGroup: account.resourceGroup,
        checkedOn: today,
        checkedAt: ctx.now.toISOString(),
        findings: mergeWithPrevious(previousFindings, warningFindings(account, facts, ctx.now, findingOptions)),
      };
      // Only a check with findings, or one whose previous check had some, can change a digest.
      const matters = check.findings.length > 0 || (previousFindings?.length ?? 0) > 0;
      const group = groupOf(check.accountId);
      const buffer = buffers.get(group) ?? [];
      buffer.push({ check, etag, pendingDigest: options.pendingDigest && matters, matters });
      if (buffer.length >= CHECKS_PER_WRITE) {
        write(buffer);
        buffers.delete(group);
      } else buffers.set(group, buffer);
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: daily check of ${account.id} failed: ${describeFailure(error).message}`);
    }
  });
  for (const buffer of buffers.values()) write(buffer);
  await Promise.all(writes);
  return fresh;
}

/**
 * Timer, fanned out: plans the digests of every recipient with an account whose check a work
 * batch recorded, then clears those marks. A mark stays when its recipient's planning failed.
 */
export async function planPendingDigests(ctx: CycleContext, healthy: readonly CmkAccount[]): Promise<string[]> {
  const warnings = ctx.deps.warnings;
  if (!warnings || !ctx.deps.probes) return [];
  const stored = await accountChecks(ctx);
  const pending = new Map<string, CheckedAccount>();
  for (const [key, entry] of stored) if (entry.pendingDigest) pending.set(key, entry.check);
  if (pending.size === 0) return [];
  const { recorded, failedAccounts } = await planDigests(ctx, healthy, stored, pending);
  for (const [key] of pending) {
    if (failedAccounts.has(key) || !warnings.clearPendingDigest) continue;
    try {
      await warnings.clearPendingDigest(stored.get(key)!);
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: could not clear a planned daily check: ${describeFailure(error).message}`);
    }
  }
  return recorded;
}

/** Every recipient of an affected account gets their digest planned over all their healthy accounts. */
async function planDigests(
  ctx: CycleContext,
  healthy: readonly CmkAccount[],
  stored: ReadonlyMap<string, StoredAccountCheck>,
  affected: ReadonlyMap<string, CheckedAccount>,
): Promise<{ recorded: string[]; failedAccounts: Set<string> }> {
  const today = utcDate(ctx.now);
  const recipients = new Map<string, { recipient: string; accounts: CheckedAccount[]; keys: string[]; affected: boolean }>();
  for (const account of healthy) {
    const key = normalizeResourceId(account.id);
    const check = affected.get(key) ?? stored.get(key)?.check;
    if (!check) continue;
    for (const recipient of recipientsOf(ctx, account)) {
      const entry = recipients.get(recipient.toLowerCase()) ?? { recipient, accounts: [], keys: [], affected: false };
      entry.accounts.push(check);
      entry.keys.push(key);
      entry.affected ||= affected.has(key);
      recipients.set(recipient.toLowerCase(), entry);
    }
  }
  const recorded: string[] = [];
  const failedAccounts = new Set<string>();
  for (const entry of recipients.values()) {
    if (!entry.affected) continue;
    const outcome = await recordDigest(ctx, entry.recipient, entry.accounts, today);
    if (outcome === "recorded") recorded.push(entry.recipient);
    if (outcome === "failed") for (const key of entry.keys) failedAccounts.add(key);
  }
  return { recorded, failedAccounts };
}

/** Owners as for incidents; nobody to tell falls back to the escalation contacts. */
function recipientsOf(ctx: CycleContext, account: CmkAccount): string[] {
  const owners = lifecycleContext(ctx.deps.settings).resolveOwners(account).recipients;
  return owners.length > 0 ? owners : [...ctx.deps.settings.escalationRecipients];
}

async function recordDigest(ctx: CycleContext, recipient: string, accounts: CheckedAccount[], today: string): Promise<"recorded" | "unchanged" | "failed"> {
  const warnings = ctx.deps.warnings!;
  for (let attempt = 1; attempt <= MAX_DIGEST_ATTEMPTS; attempt++) {
    try {
      const { state, etag } = await warnings.getDigestState(recipient);
      const plan = planDigest(state, accounts, today);
      if (!plan.send) return "unchanged";
      await warnings.commitDigest(plan.next, etag, digestMessage(plan.facts, ctx.now));
      ctx.stats.warningDigestsRecorded += 1;
      return "recorded";
    } catch (error) {
      // Another instance recorded it (or changed the state) first: read again and re-plan.
      if (error instanceof StateConflictError) continue;
      ctx.deps.log.error(`cmk-monitor: could not record the warning digest for a recipient: ${describeFailure(error).message}`);
      return "failed";
    }
  }
  return "failed";
}
