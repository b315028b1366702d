/**
 * Warnings before revocation, part two: what could revoke a recipient's healthy accounts goes to
 * them in one daily digest, only when something changed. A recipient's digest is recorded in one
 * ETag-guarded transaction with the state that says which findings it reported; the digest's key
 * (recipient + UTC date) makes a second one that day impossible.
 *
 * Fanned out, a work batch records its accounts' checks marked "pending digest" (it does not see
 * the recipients' other accounts); the timer's next cycle plans those recipients' digests over
 * the whole fleet and clears the marks. Planning twice is harmless: the digest key holds.
 */
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { urgencyOf } from "../domain/atRisk";
import { digestMessage, planDigest, utcDate, type CheckedAccount } from "../domain/warnings";
import { StateConflictError } from "../ports/errors";
import { describeFailure } from "../ports/failures";
import type { StoredAccountCheck } from "../ports/warningStore";
import type { CycleContext } from "./cycleContext";
import { dueForDailyCheck, recordDailyChecks, type AccountChecks } from "./dailyChecks";

const MAX_DIGEST_ATTEMPTS = 3;

/** Inline: checks the healthy accounts that are due and plans the digests they affect. Returns the recipients whose digest was recorded. */
export async function checkAndWarn(ctx: CycleContext, healthy: readonly CmkAccount[], checks: AccountChecks): Promise<string[]> {
  if (!ctx.probeSession || healthy.length === 0) return [];
  const stored = await checks.byAccount();
  const due = dueForDailyCheck(ctx, healthy, stored);
  if (due.length === 0) return [];
  const fresh = await recordDailyChecks(ctx, due, { pendingDigest: false });
  if (fresh.size === 0) return [];
  const { recorded } = await planDigests(ctx, healthy, stored, fresh);
  return recorded;
}

/**
 * Timer: plans the digests of every recipient with an account whose check a work batch recorded,
 * then clears those marks. A mark stays when its recipient's planning failed.
 */
export async function planPendingDigests(ctx: CycleContext, healthy: readonly CmkAccount[], checks: AccountChecks): Promise<string[]> {
  if (!ctx.deps.probes) return [];
  const warnings = ctx.deps.warnings;
  const stored = await checks.byAccount();
  const pending = new Map<string, CheckedAccount>();
  for (const [key, entry] of stored) if (entry.pendingDigest) pending.set(key, entry.check);
  if (pending.size === 0) return [];
  const { recorded, failedAccounts } = await planDigests(ctx, healthy, stored, pending);
  for (const [key] of pending) {
    if (failedAccounts.has(key)) continue;
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
      entry.accounts.push(slowBurning(check));
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

/** The digest's part of a check: urgent findings went out at once as at-risk emails (src/pipeline/atRiskWarnings.ts). */
function slowBurning(check: CheckedAccount): CheckedAccount {
  return { ...check, findings: check.findings.filter((finding) => urgencyOf(finding.kind) === "digest") };
}

/** Owners as for incidents; nobody to tell falls back to the escalation contacts. */
function recipientsOf(ctx: CycleContext, account: CmkAccount): string[] {
  const owners = ctx.lifecycle.resolveOwners(account).recipients;
  return owners.length > 0 ? owners : [...ctx.settings.escalationRecipients];
}

async function recordDigest(ctx: CycleContext, recipient: string, accounts: CheckedAccount[], today: string): Promise<"recorded" | "unchanged" | "failed"> {
  const warnings = ctx.deps.warnings;
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
