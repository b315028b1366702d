/**
 * Warnings before revocation, part one: healthy accounts are probed at most once a UTC day and the
 * check is recorded per account (a row in the "warning-checks-<shard>" partitions says when it was
 * last probed and what was found), so an idle cycle reads those rows and writes nothing.
 */
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import type { CheckTrigger } from "../domain/atRisk";
import { activeVault } from "../domain/probeConditions";
import type { ProbeFacts } from "../domain/probeFacts";
import { mergeWithPrevious, utcDate, warningFindings, type CheckedAccount, type WarningFinding } from "../domain/warnings";
import { resolveOwnerRecipients } from "../domain/recipients";
import { describeFailure } from "../ports/failures";
import type { FleetIndexEntry } from "../ports/fleetIndex";
import type { StoredAccountCheck, WarningStore } from "../ports/warningStore";
import { recordAtRisk } from "./atRiskWarnings";
import { mapWithConcurrency } from "./concurrency";
import { deferForDeadline, type CycleContext } from "./cycleContext";
import { ACCOUNTS_IN_PROGRESS, byVaultInTurn } from "./probeStage";

/** A healthy account due its daily check, with what its last check left behind. */
export interface DailyCheckItem {
  account: CmkAccount;
  /** The stored check's ETag: the new check replaces exactly that one (or is created when undefined). */
  etag?: string;
  /** The last check's findings, kept for the kinds today's probes cannot decide. */
  previousFindings?: WarningFinding[];
  /** What the last check recorded in the fleet index: unchanged, nothing is written there. */
  indexedAs?: string;
}

/**
 * The stored daily checks, read at most once per run (started beside discovery by the cycle); a
 * failed read is tried again by the next caller.
 */
export class AccountChecks {
  private reading: Promise<StoredAccountCheck[]> | undefined;

  constructor(private readonly warnings: Pick<WarningStore, "listAccountChecks">) {}

  read(): Promise<StoredAccountCheck[]> {
    this.reading ??= this.warnings.listAccountChecks().catch((error: unknown) => {
      this.reading = undefined;
      throw error;
    });
    return this.reading;
  }

  /** The stored checks, keyed by normalized account id. */
  async byAccount(): Promise<Map<string, StoredAccountCheck>> {
    const stored = new Map<string, StoredAccountCheck>();
    for (const entry of await this.read()) stored.set(normalizeResourceId(entry.check.accountId), entry);
    return stored;
  }
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
      ...(previous?.check.indexedAs ? { indexedAs: previous.check.indexedAs } : {}),
    });
  }
  return due;
}

/** Rows written together: the table's transaction limit, all in one of the store's write groups (partitions). */
const CHECKS_PER_WRITE = 100;

type CheckEntry = { check: CheckedAccount; etag: string | undefined; pendingDigest: boolean; matters: boolean; index?: FleetIndexEntry };

/**
 * Probes each due account and records its check, ETag-guarded: a check another instance (or an
 * earlier delivery of the same work batch) recorded first is left alone. Checks are written a
 * hundred at a time per partition while the probes go on. Returns the recorded checks that can
 * change a digest (they have findings, or the check before them had): a clean check after a clean
 * one cannot.
 */
export async function recordDailyChecks(
  ctx: CycleContext,
  due: readonly DailyCheckItem[],
  options: { pendingDigest: boolean; trigger?: CheckTrigger },
): Promise<Map<string, CheckedAccount>> {
  const session = ctx.probeSession;
  const warnings = ctx.deps.warnings;
  const fresh = new Map<string, CheckedAccount>();
  if (!session) return fresh;
  const today = utcDate(ctx.now);
  const findingOptions = { keyExpiryWarningDays: ctx.settings.keyExpiryWarningDays };
  const ownerOptions = { ownerTag: ctx.settings.ownerTag, allowedRecipientDomains: ctx.settings.allowedRecipientDomains };
  // One buffer per write group, so each write is one full transaction.
  const buffers = new Map<string, CheckEntry[]>();
  const writes: Promise<void>[] = [];
  const write = (entries: CheckEntry[]): void => {
    writes.push(
      (async () => {
        try {
          // Rows another instance recorded first are left out: it plans those digests itself.
          const recorded = await warnings.putAccountChecks(entries);
          // Only for checks this run recorded: a re-delivered batch whose checks are already there writes nothing.
          await Promise.all(entries.filter((e) => e.index && recorded.has(e.check.accountId)).map((e) => recordIndex(ctx, e.index!)));
          for (const { check, matters } of entries) if (matters && recorded.has(check.accountId)) fresh.set(normalizeResourceId(check.accountId), check);
        } catch (error) {
          ctx.deps.log.warn(`cmk-monitor: could not record ${entries.length} daily check(s): ${describeFailure(error).message}`);
        }
      })(),
    );
  };
  await mapWithConcurrency(
    byVaultInTurn(due, (item) => item.account),
    ACCOUNTS_IN_PROGRESS,
    async ({ account, etag, previousFindings, indexedAs }) => {
      // A check not started today is still due next cycle: nothing is recorded for it.
      if (deferForDeadline(ctx)) return;
      try {
        const facts = await session.probe(account);
        ctx.stats.accountsProbed += 1;
        const found = warningFindings(account, facts, ctx.now, findingOptions);
        // Urgent findings are emailed now, not in tomorrow's digest.
        await recordAtRisk(ctx, account, found, options.trigger ?? "daily");
        const index = fleetIndexEntry(account, facts);
        const check: CheckedAccount = {
          accountId: account.id,
          accountName: account.name,
          subscriptionId: account.subscriptionId,
          resourceGroup: account.resourceGroup,
          checkedOn: today,
          checkedAt: ctx.now.toISOString(),
          findings: mergeWithPrevious(previousFindings, found),
          owners: resolveOwnerRecipients(account.tags, { ...ownerOptions, defaultRecipients: [] }).recipients,
          indexedAs: index.fingerprint,
        };
        // Only a check with findings, or one whose previous check had some, can change a digest.
        const matters = check.findings.length > 0 || (previousFindings?.length ?? 0) > 0;
        const group = warnings.checkWriteGroup(check.accountId);
        const buffer = buffers.get(group) ?? [];
        // The index is written only when what the account depends on changed since the last check.
        buffer.push({
          check,
          etag,
          pendingDigest: options.pendingDigest && matters,
          matters,
          ...(index.fingerprint !== indexedAs ? { index: index.entry } : {}),
        });
        if (buffer.length >= CHECKS_PER_WRITE) {
          write(buffer);
          buffers.delete(group);
        } else buffers.set(group, buffer);
      } catch (error) {
        ctx.deps.log.warn(`cmk-monitor: daily check of ${account.id} failed: ${describeFailure(error).message}`);
      }
    },
  );
  for (const buffer of buffers.values()) write(buffer);
  await Promise.all(writes);
  return fresh;
}

/** What change events can name for this account (its vault, the vault's ARM id, its identities, its RBAC principal), and a fingerprint of it. */
function fleetIndexEntry(account: CmkAccount, facts: ProbeFacts): { entry: FleetIndexEntry; fingerprint: string } {
  const vaultName = facts.keyUri.reference?.vaultName?.toLowerCase();
  const vault = activeVault(facts);
  const vaultId = vault?.id;
  // Only an RBAC vault's permission is a role assignment (access policies show in the vault's own changes).
  const rolePrincipalId = vault?.permissionModel === "rbac" ? facts.identity.principalId?.toLowerCase() : undefined;
  const entry: FleetIndexEntry = {
    accountId: account.id,
    ...(vaultName ? { vaultName } : {}),
    ...(vaultId ? { vaultId } : {}),
    identityIds: Object.keys(account.userAssignedIdentities ?? {})
      .map(normalizeResourceId)
      .sort(),
    ...(rolePrincipalId ? { rolePrincipalId } : {}),
  };
  return { entry, fingerprint: JSON.stringify(entry) };
}

/** A failed index write leaves the account findable by its old dependencies until they change again; the daily check still covers it. */
async function recordIndex(ctx: CycleContext, entry: FleetIndexEntry): Promise<void> {
  try {
    await ctx.deps.fleetIndex.record(entry);
  } catch (error) {
    ctx.deps.log.warn(`cmk-monitor: could not index ${entry.accountId} for change events: ${describeFailure(error).message}`);
  }
}
