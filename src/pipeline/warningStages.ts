/**
 * Warnings before revocation: healthy accounts are probed at most once a UTC day; what could
 * revoke them goes to each recipient in one daily digest, only when something changed.
 *
 * Storage (WarningStore): a row per account in the "warning-checks" partition says when it was
 * last probed and what was found, so an idle cycle reads that partition and writes nothing. A
 * recipient's digest is recorded in one ETag-guarded transaction with the state that says which
 * findings it reported; the digest's key (recipient + UTC date) makes a second one that day
 * impossible.
 */
import { describeFailure } from "../adapters/azureErrors";
import { StateConflictError, type StoredAccountCheck } from "../adapters/tableStore";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { classifyStatus } from "../domain/classifier";
import {
  digestMessage,
  mergeWithPrevious,
  planDigest,
  utcDate,
  warningFindings,
  type CheckedAccount,
} from "../domain/warnings";
import { lifecycleContext, type SubscriptionListing } from "./observeStages";
import { PROBE_CONCURRENCY, probeSessionFor } from "./probeStages";
import { mapWithConcurrency, type CycleContext, type Stage } from "./stage";

const DEFAULT_KEY_EXPIRY_WARNING_DAYS = 30;
const MAX_DIGEST_ATTEMPTS = 3;

/** Returns the recipients whose digest was recorded this cycle. */
export const warningsStage: Stage<SubscriptionListing, string> = {
  name: "warnings",
  async run(ctx, listings) {
    const { warnings, log } = ctx.deps;
    const session = probeSessionFor(ctx);
    if (!session || !warnings) return [];
    const healthy = listings
      .flatMap((listing) => (listing.ok ? listing.accounts : []))
      .filter((account) => classifyStatus(account.customerManagedKeyStatus).health === "healthy");
    if (healthy.length === 0) return [];

    const today = utcDate(ctx.now);
    const stored = new Map<string, StoredAccountCheck>();
    for (const entry of await warnings.listAccountChecks()) stored.set(normalizeResourceId(entry.check.accountId), entry);
    const due = healthy.filter((account) => stored.get(normalizeResourceId(account.id))?.check.checkedOn !== today);
    if (due.length === 0) return [];

    const fresh = new Map<string, CheckedAccount>();
    const options = { keyExpiryWarningDays: ctx.deps.settings.keyExpiryWarningDays ?? DEFAULT_KEY_EXPIRY_WARNING_DAYS };
    await mapWithConcurrency(due, PROBE_CONCURRENCY, async (account) => {
      try {
        const facts = await session.probe(account);
        ctx.stats.accountsProbed += 1;
        const previous = stored.get(normalizeResourceId(account.id));
        const check: CheckedAccount = {
          accountId: account.id,
          accountName: account.name,
          subscriptionId: account.subscriptionId,
          resourceGroup: account.resourceGroup,
          checkedOn: today,
          checkedAt: ctx.now.toISOString(),
          findings: mergeWithPrevious(previous?.check.findings, warningFindings(account, facts, ctx.now, options)),
        };
        // False: another instance recorded today's check first, and plans the digest itself.
        if (await warnings.putAccountCheck(check, previous?.etag)) fresh.set(normalizeResourceId(account.id), check);
      } catch (error) {
        log.warn(`cmk-monitor: daily check of ${account.id} failed: ${describeFailure(error).message}`);
      }
    });
    if (fresh.size === 0) return [];

    // Every recipient of a freshly checked account gets their digest planned over all their healthy accounts.
    const recipients = new Map<string, { recipient: string; accounts: CheckedAccount[]; affected: boolean }>();
    for (const account of healthy) {
      const key = normalizeResourceId(account.id);
      const check = fresh.get(key) ?? stored.get(key)?.check;
      if (!check) continue;
      for (const recipient of recipientsOf(ctx, account)) {
        const entry = recipients.get(recipient.toLowerCase()) ?? { recipient, accounts: [], affected: false };
        entry.accounts.push(check);
        entry.affected ||= fresh.has(key);
        recipients.set(recipient.toLowerCase(), entry);
      }
    }
    const recorded: string[] = [];
    for (const entry of recipients.values()) {
      if (entry.affected && (await recordDigest(ctx, entry.recipient, entry.accounts, today))) recorded.push(entry.recipient);
    }
    return recorded;
  },
};

/** Owners as for incidents; nobody to tell falls back to the escalation contacts. */
function recipientsOf(ctx: CycleContext, account: CmkAccount): string[] {
  const owners = lifecycleContext(ctx.deps.settings).resolveOwners(account).recipients;
  return owners.length > 0 ? owners : [...ctx.deps.settings.escalationRecipients];
}

async function recordDigest(ctx: CycleContext, recipient: string, accounts: CheckedAccount[], today: string): Promise<boolean> {
  const warnings = ctx.deps.warnings!;
  for (let attempt = 1; attempt <= MAX_DIGEST_ATTEMPTS; attempt++) {
    try {
      const { state, etag } = await warnings.getDigestState(recipient);
      const plan = planDigest(state, accounts, today);
      if (!plan.send) return false;
      await warnings.commitDigest(plan.next, etag, digestMessage(plan.facts, ctx.now));
      ctx.stats.warningDigestsRecorded += 1;
      return true;
    } catch (error) {
      // Another instance recorded it (or changed the state) first: read again and re-plan.
      if (error instanceof StateConflictError) continue;
      ctx.deps.log.error(`cmk-monitor: could not record the warning digest for a recipient: ${describeFailure(error).message}`);
      return false;
    }
  }
  return false;
}
