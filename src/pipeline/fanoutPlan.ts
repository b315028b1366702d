/**
 * Fan-out planning: splits a cycle's work into work batches. Pure.
 *
 * Batches keep accounts with the same recipients together (so a mass revocation's emails to one
 * owner meet in one batch and go out as one digest) and, within that, accounts of one vault
 * together (so one probe session reads the vault once). A group too big for one batch starts a
 * batch of its own and is cut into whole batches with the accounts to decide first, so each cut
 * falls on a digest boundary (a batch holds a whole number of full digests): the owner gets as
 * many digests as one instance sending them all would send. A few hundred accounts per batch give
 * the probes enough distinct vaults to keep their concurrent calls busy.
 */
import { randomUUID } from "node:crypto";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import type { CycleContext } from "./cycleContext";
import type { DailyCheckItem } from "./dailyChecks";
import type { ObservedAccount } from "./selectWork";
import { MAX_DIGEST_MEMBERS } from "./sendUnit";
import { encodeWorkBatch, gzipAccounts, type WorkAccount, type WorkBatchMessage } from "./workBatch";

/**
 * Accounts per batch at most, whatever their size: keeps one invocation's work to seconds. A whole
 * number of digests, so a recipient group split over batches is split where its digests would be.
 */
export const MAX_ACCOUNTS_PER_BATCH = 4 * MAX_DIGEST_MEMBERS;

export interface WorkPlan {
  /** Each work batch with its encoded queue message (JSON of WorkBatchWire). */
  messages: Array<{ message: WorkBatchMessage; json: string }>;
  /** Accounts too large for any queue message (huge tags): the timer handles them itself. */
  oversize: WorkAccount[];
}

function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits the cycle's work into queue messages. Pure. */
export function planWorkBatches(ctx: CycleContext, cycleId: string, observed: readonly ObservedAccount[], dailyChecks: readonly DailyCheckItem[]): WorkPlan {
  const entries = new Map<string, WorkAccount>();
  for (const { account } of observed) entries.set(normalizeResourceId(account.id), { account, decide: true });
  for (const { account, etag, previousFindings, indexedAs } of dailyChecks) {
    const key = normalizeResourceId(account.id);
    const check = { ...(etag ? { etag } : {}), ...(previousFindings ? { findings: previousFindings } : {}), ...(indexedAs ? { indexedAs } : {}) };
    const existing = entries.get(key);
    if (existing) existing.dailyCheck = check;
    else entries.set(key, { account, dailyCheck: check });
  }
  const recipientsOf = (account: CmkAccount): string => {
    const owners = ctx.lifecycle.resolveOwners(account).recipients;
    return (owners.length > 0 ? owners : ["(escalation)"])
      .map((address) => address.toLowerCase())
      .sort()
      .join(",");
  };
  const vaultOf = (account: CmkAccount): string => parseKeyVaultKeyUri(account.keyVaultKeyUri)?.vaultHost.toLowerCase() ?? "";
  const ordered = [...entries.values()]
    .map((entry) => ({ entry, recipients: recipientsOf(entry.account), vault: vaultOf(entry.account) }))
    // Ordinal order: the same on every machine, and cheap for a whole fleet. Within a group, the
    // accounts to decide (the ones emails come from) first, so a split group's cuts fall between digests.
    .sort(
      (a, b) =>
        ordinal(a.recipients, b.recipients) ||
        Number(!a.entry.decide) - Number(!b.entry.decide) ||
        ordinal(a.vault, b.vault) ||
        ordinal(a.entry.account.id, b.entry.account.id),
    );

  const envelope = (accounts: WorkAccount[], batch: number): WorkBatchMessage => ({
    type: "cmk-work",
    version: 1,
    cycleId,
    cycleStartedAt: ctx.now.toISOString(),
    batch,
    batches: 0,
    accounts,
  });
  // Whole recipient groups per batch where they fit, so a group is split only when it must be.
  const groupSizes = new Map<string, number>();
  for (const { recipients } of ordered) groupSizes.set(recipients, (groupSizes.get(recipients) ?? 0) + 1);
  const batches: WorkAccount[][] = [];
  let current: WorkAccount[] = [];
  let currentRecipients: string | undefined;
  for (const { entry, recipients } of ordered) {
    const groupSize = groupSizes.get(recipients)!;
    const startsGroup = recipients !== currentRecipients;
    const full = current.length >= MAX_ACCOUNTS_PER_BATCH;
    // A group that fits a batch moves whole to a new one rather than split; one that cannot fit starts its own.
    const groupWouldSplit = startsGroup && (groupSize > MAX_ACCOUNTS_PER_BATCH || current.length + groupSize > MAX_ACCOUNTS_PER_BATCH);
    if (current.length > 0 && (full || groupWouldSplit)) {
      batches.push(current);
      current = [];
    }
    current.push(entry);
    currentRecipients = recipients;
  }
  if (current.length > 0) batches.push(current);

  // Encode; a batch too large even compressed is halved until it fits (a lone account that does not is oversize).
  const encoded: Array<{ accounts: WorkAccount[]; gzip: string }> = [];
  const oversize: WorkAccount[] = [];
  const encode = (accounts: WorkAccount[]): void => {
    const gzip = gzipAccounts(accounts);
    // Sized with the widest batch numbers the envelope can get, so the final message fits too.
    if (encodeWorkBatch({ ...envelope(accounts, 999_999), batches: 999_999 }, gzip) !== undefined) encoded.push({ accounts, gzip });
    else if (accounts.length === 1) oversize.push(accounts[0]!);
    else {
      encode(accounts.slice(0, Math.ceil(accounts.length / 2)));
      encode(accounts.slice(Math.ceil(accounts.length / 2)));
    }
  };
  for (const accounts of batches) encode(accounts);
  const messages = encoded.map(({ accounts, gzip }, index) => {
    const message = { ...envelope(accounts, index + 1), batches: encoded.length };
    return { message, json: encodeWorkBatch(message, gzip)! };
  });
  return { messages, oversize };
}

export function newCycleId(now: Date): string {
  return `${now.toISOString()}#${randomUUID().slice(0, 8)}`;
}
