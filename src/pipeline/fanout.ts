/**
 * Fan-out over the work queue: the timer discovers the fleet and puts the accounts that need work
 * this cycle on the queue in batches; the queue-triggered function runs each batch through the
 * same stages as an inline cycle (probe → decide → confirm → record, side by side with the daily
 * checks), then sends what it recorded, so the per-account work spreads over Azure Functions' own
 * scale-out.
 *
 * Batches keep accounts with the same recipients together (so a mass revocation's emails to one
 * owner meet in one batch and go out as one digest) and, within that, accounts of one vault
 * together (so one probe session reads the vault once). A group too big for one batch starts a
 * batch of its own and is cut into whole batches with the accounts to decide first, so each cut
 * falls on a digest boundary (a batch holds a whole number of full digests): the owner gets as
 * many digests as one instance sending them all would send. The accounts travel gzipped: a queue
 * message holds 64 KiB, and a few hundred accounts per batch give the probes enough distinct
 * vaults to keep their concurrent calls busy.
 *
 * Re-delivery is harmless: every decision is re-made from the stored record and committed under
 * its ETag, daily checks replace exactly the row they read, and only rows this run recorded are
 * sent, each under its lease. The snapshot in a batch may be minutes old by the time it runs, so
 * every state change it suggests is confirmed with an ARM GET first (as for Resource Graph); and a
 * batch older than two poll intervals is dropped: later cycles have covered its accounts.
 */
import { randomUUID } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { MAX_QUEUE_MESSAGE_BYTES } from "../adapters/workQueue";
import type { StoredMessage } from "../adapters/tableStore";
import type { CmkAccount } from "../domain/account";
import { normalizeResourceId } from "../domain/account";
import { classifyStatus } from "../domain/classifier";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import type { WarningFinding } from "../domain/warnings";
import { confirmStage } from "./confirmStages";
import { decideStage, lifecycleContext, observedItems, recordStage, type ObservedAccount, type PlannedChange } from "./observeStages";
import { probeStage, workSlotsFor } from "./probeStages";
import { chain, mapWithConcurrency, newStats, type CycleContext, type CycleStats, type MonitorDeps } from "./stage";
import { drainOutbox, MAX_DIGEST_MEMBERS } from "./sendStages";
import { recordDailyChecks, type DailyCheckItem } from "./warningStages";

/**
 * Accounts per batch at most, whatever their size: keeps one invocation's work to seconds. A whole
 * number of digests, so a recipient group split over batches is split where its digests would be.
 */
export const MAX_ACCOUNTS_PER_BATCH = 4 * MAX_DIGEST_MEMBERS;
const DEFAULT_POLL_INTERVAL_IN_MINUTES = 5;

/** The decision half of a cycle, shared by the inline cycle, the timer's own part and the work batches. */
export const decidePipeline = chain(chain(chain(probeStage, decideStage), confirmStage), recordStage);

/** One account in a work item. */
export interface WorkAccount {
  account: CmkAccount;
  /** It has an open incident or is revoked: decide (and probe) it. */
  decide?: true;
  /** It is healthy and due its daily check; `etag`/`findings` are those of its last check. */
  dailyCheck?: { etag?: string; findings?: WarningFinding[] };
}

/** One batch of one cycle, as the handler works on it. */
export interface WorkItemMessage {
  type: "cmk-work";
  version: 1;
  cycleId: string;
  /** The timer's cycle time. */
  cycleStartedAt: string;
  batch: number;
  batches: number;
  accounts: WorkAccount[];
}

/** On the queue the accounts are gzipped JSON, base64 (`accountsGzip`) instead of `accounts`. */
export type WorkItemWire = Omit<WorkItemMessage, "accounts"> & { accountsGzip: string };

export interface WorkPlan {
  /** Each work item with its encoded queue message (JSON of WorkItemWire). */
  messages: Array<{ message: WorkItemMessage; json: string }>;
  /** Accounts too large for any queue message (huge tags): the timer handles them itself. */
  oversize: WorkAccount[];
}

/**
 * The queue message for a work item; undefined when even compressed it exceeds a queue message.
 * `accountsGzip` reuses the accounts already compressed (the envelope alone changed).
 */
export function encodeWorkItem(message: WorkItemMessage, accountsGzip = gzipAccounts(message.accounts)): string | undefined {
  const { accounts: _accounts, ...envelope } = message;
  const wire: WorkItemWire = { ...envelope, accountsGzip };
  const json = JSON.stringify(wire);
  // The queue stores it base64-encoded: four bytes for every three.
  return Math.ceil(Buffer.byteLength(json) / 3) * 4 <= MAX_QUEUE_MESSAGE_BYTES ? json : undefined;
}

function gzipAccounts(accounts: readonly WorkAccount[]): string {
  return gzipSync(JSON.stringify(accounts)).toString("base64");
}

function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits the cycle's work into queue messages. Pure. */
export function planWorkItems(
  ctx: CycleContext,
  cycleId: string,
  observed: readonly ObservedAccount[],
  dailyChecks: readonly DailyCheckItem[],
): WorkPlan {
  const lifecycle = lifecycleContext(ctx.deps.settings);
  const entries = new Map<string, WorkAccount>();
  for (const { account } of observed) entries.set(normalizeResourceId(account.id), { account, decide: true });
  for (const { account, etag, previousFindings } of dailyChecks) {
    const key = normalizeResourceId(account.id);
    const check = { ...(etag ? { etag } : {}), ...(previousFindings ? { findings: previousFindings } : {}) };
    const existing = entries.get(key);
    if (existing) existing.dailyCheck = check;
    else entries.set(key, { account, dailyCheck: check });
  }
  const recipientsOf = (account: CmkAccount): string => {
    const owners = lifecycle.resolveOwners(account).recipients;
    return (owners.length > 0 ? owners : ["(escalation)"]).map((address) => address.toLowerCase()).sort().join(",");
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

  const envelope = (accounts: WorkAccount[], batch: number): WorkItemMessage => ({
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
    if (encodeWorkItem({ ...envelope(accounts, 999_999), batches: 999_999 }, gzip) !== undefined) encoded.push({ accounts, gzip });
    else if (accounts.length === 1) oversize.push(accounts[0]!);
    else {
      encode(accounts.slice(0, Math.ceil(accounts.length / 2)));
      encode(accounts.slice(Math.ceil(accounts.length / 2)));
    }
  };
  for (const accounts of batches) encode(accounts);
  const messages = encoded.map(({ accounts, gzip }, index) => {
    const message = { ...envelope(accounts, index + 1), batches: encoded.length };
    return { message, json: encodeWorkItem(message, gzip)! };
  });
  return { messages, oversize };
}

export function newCycleId(now: Date): string {
  return `${now.toISOString()}#${randomUUID().slice(0, 8)}`;
}

/** Thrown for a message that is not a work item: retrying cannot help, so it ends in the poison queue. */
export class MalformedWorkItemError extends Error {
  override readonly name = "MalformedWorkItemError";
}

/**
 * What the queue trigger hands over: the host decodes base64 and parses JSON, but a message put
 * there by other means may arrive as a string, base64 or not.
 */
export function parseWorkItem(raw: unknown): WorkItemMessage {
  let value = raw;
  if (Buffer.isBuffer(value)) value = value.toString("utf8");
  if (typeof value === "string") {
    const text = value.trim();
    const json = text.startsWith("{") ? text : Buffer.from(text, "base64").toString("utf8");
    try {
      value = JSON.parse(json) as unknown;
    } catch {
      throw new MalformedWorkItemError("the message is not JSON");
    }
  }
  const input = value as (Partial<WorkItemMessage> & Partial<Pick<WorkItemWire, "accountsGzip">>) | null;
  if (!input || typeof input !== "object" || input.type !== "cmk-work" || input.version !== 1) {
    throw new MalformedWorkItemError("the message is not a cmk-monitor work item (version 1)");
  }
  if (typeof input.cycleId !== "string" || typeof input.cycleStartedAt !== "string" || Number.isNaN(Date.parse(input.cycleStartedAt))) {
    throw new MalformedWorkItemError("the work item has no valid cycle id or start time");
  }
  let accounts: unknown = input.accounts;
  if (typeof input.accountsGzip === "string") {
    try {
      accounts = JSON.parse(gunzipSync(Buffer.from(input.accountsGzip, "base64")).toString("utf8")) as unknown;
    } catch {
      throw new MalformedWorkItemError("the work item's accounts do not decompress to JSON");
    }
  }
  if (!Array.isArray(accounts)) throw new MalformedWorkItemError("the work item has no accounts");
  const entries: WorkAccount[] = accounts.map((entry: unknown) => {
    const { account, decide, dailyCheck } = (entry ?? {}) as Partial<WorkAccount>;
    if (
      !account ||
      typeof account.id !== "string" ||
      typeof account.name !== "string" ||
      typeof account.subscriptionId !== "string" ||
      typeof account.keyVaultKeyUri !== "string" ||
      typeof account.tags !== "object" ||
      account.tags === null
    ) {
      throw new MalformedWorkItemError("a work item account lacks id, name, subscription, key URI or tags");
    }
    return {
      account: { ...account, userAssignedIdentities: account.userAssignedIdentities ?? {}, resourceGroup: account.resourceGroup ?? "" },
      ...(decide ? { decide: true as const } : {}),
      ...(dailyCheck && typeof dailyCheck === "object" ? { dailyCheck } : {}),
    };
  });
  return {
    type: "cmk-work",
    version: 1,
    cycleId: input.cycleId,
    cycleStartedAt: input.cycleStartedAt,
    batch: Number(input.batch ?? 0),
    batches: Number(input.batches ?? 0),
    accounts: entries,
  };
}

/** One line about a work item for logs (never its whole content). */
export function describeWorkItem(raw: unknown): string {
  try {
    const message = parseWorkItem(raw);
    return `cycle ${message.cycleId}, batch ${message.batch}/${message.batches}, ${message.accounts.length} account(s)`;
  } catch (error) {
    const text = typeof raw === "string" ? raw : JSON.stringify(raw) ?? String(raw);
    return `unreadable (${error instanceof Error ? error.message : String(error)}): ${text.replace(/\s+/g, " ").slice(0, 200)}`;
  }
}

export interface WorkItemReport extends CycleStats {
  cycleId: string;
  batch: number;
  /** True when the batch was too old to act on. */
  stale: boolean;
  changes: PlannedChange[];
  durationInMs: number;
}

/** Runs one batch: probe, decide, confirm, record, and the daily checks; then sends what it recorded. */
export async function processWorkItem(deps: MonitorDeps, raw: unknown): Promise<WorkItemReport> {
  const message = parseWorkItem(raw);
  const started = deps.clock.now();
  // The snapshot is as old as the queue made it: confirm any state change with ARM before acting.
  const ctx: CycleContext = { deps, now: started, stats: newStats(), confirmChanges: true };
  ctx.stats.fanout = "queue";
  const report = (changes: PlannedChange[], stale: boolean): WorkItemReport => ({
    ...ctx.stats,
    cycleId: message.cycleId,
    batch: message.batch,
    stale,
    changes,
    durationInMs: Math.max(0, deps.clock.now().getTime() - started.getTime()),
  });
  const maxAgeInMs = 2 * (deps.settings.pollIntervalInMinutes ?? DEFAULT_POLL_INTERVAL_IN_MINUTES) * 60_000;
  if (started.getTime() - Date.parse(message.cycleStartedAt) > maxAgeInMs) {
    deps.log.warn(`cmk-monitor: dropped a stale work item (${describeWorkItem(message)}); later cycles have covered its accounts`);
    return report([], true);
  }

  const observed: ObservedAccount[] = message.accounts
    .filter((entry) => entry.decide)
    .map((entry) => ({ account: entry.account, classification: classifyStatus(entry.account.customerManagedKeyStatus) }));
  for (const { classification } of observed) {
    if (classification.health === "revoked") ctx.stats.revokedSeen += 1;
    if (classification.health === "unknown") ctx.stats.unknownSeen += 1;
  }
  ctx.stats.accountsSeen = message.accounts.length;
  const checks: DailyCheckItem[] = message.accounts
    .filter((entry) => entry.dailyCheck)
    .map(({ account, dailyCheck }) => ({
      account,
      ...(dailyCheck!.etag ? { etag: dailyCheck!.etag } : {}),
      ...(dailyCheck!.findings ? { previousFindings: dailyCheck!.findings } : {}),
    }));
  // Decisions and daily checks side by side, sharing one set of call slots.
  workSlotsFor(ctx);
  const [changes] = await Promise.all([
    observedItems(ctx, observed).then((items) => (items.length > 0 ? decidePipeline.run(ctx, items) : [])),
    checks.length > 0 ? recordDailyChecks(ctx, checks, { pendingDigest: true }) : undefined,
  ]);
  await sendRecorded(ctx, changes);
  deps.log.info(
    `cmk-monitor: work item ${message.batch}/${message.batches} of cycle ${message.cycleId} done: ${observed.length} decided, ` +
      `${changes.length} change(s), ${checks.length} daily check(s), ${ctx.stats.emailsSent} email(s) sent`,
  );
  return report(changes, false);
}

/** Sends the rows this run recorded (grouped into digests where they share recipients), under the send budget. */
async function sendRecorded(ctx: CycleContext, changes: readonly PlannedChange[]): Promise<void> {
  const { store } = ctx.deps;
  if (!store.getMessage) return;
  const messages = changes.flatMap((change) => change.decision.messages);
  const rows = (await mapWithConcurrency(messages, 8, (message) => store.getMessage!(message.accountId, message.key))).filter(
    (stored): stored is StoredMessage => stored !== undefined,
  );
  if (rows.length > 0) await drainOutbox(ctx, { only: rows });
}
