/**
 * A work batch: one cycle's accounts for one queue message (the timer puts them on CMK_WORK_QUEUE,
 * the queue-triggered function takes them off). The accounts travel gzipped: a queue message holds
 * 64 KiB. The wire type ("cmk-work", version 1) is unchanged from earlier releases.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { CmkAccount } from "../domain/account";
import type { WarningFinding } from "../domain/warnings";
import { MAX_QUEUE_MESSAGE_BYTES } from "../ports/workQueue";

/** One account in a work batch. */
export interface WorkAccount {
  account: CmkAccount;
  /** It has an open incident or is revoked: decide (and probe) it. */
  decide?: true;
  /** It is healthy and due its daily check; `etag`/`findings` are those of its last check. */
  dailyCheck?: { etag?: string; findings?: WarningFinding[]; indexedAs?: string };
}

/** One batch of one cycle, as the handler works on it. */
export interface WorkBatchMessage {
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
export type WorkBatchWire = Omit<WorkBatchMessage, "accounts"> & { accountsGzip: string };

/**
 * The queue message for a work batch; undefined when even compressed it exceeds a queue message.
 * `accountsGzip` reuses the accounts already compressed (the envelope alone changed).
 */
export function encodeWorkBatch(message: WorkBatchMessage, accountsGzip = gzipAccounts(message.accounts)): string | undefined {
  const { accounts: _accounts, ...envelope } = message;
  const wire: WorkBatchWire = { ...envelope, accountsGzip };
  const json = JSON.stringify(wire);
  // The queue stores it base64-encoded: four bytes for every three.
  return Math.ceil(Buffer.byteLength(json) / 3) * 4 <= MAX_QUEUE_MESSAGE_BYTES ? json : undefined;
}

export function gzipAccounts(accounts: readonly WorkAccount[]): string {
  return gzipSync(JSON.stringify(accounts)).toString("base64");
}

/** Thrown for a message that is not a work batch: retrying cannot help, so it ends in the poison queue. */
export class MalformedWorkBatchError extends Error {
  override readonly name = "MalformedWorkBatchError";
}

/**
 * What the queue trigger hands over: the host decodes base64 and parses JSON, but a message put
 * there by other means may arrive as a string, base64 or not.
 */
export function parseWorkBatch(raw: unknown): WorkBatchMessage {
  let value = raw;
  if (Buffer.isBuffer(value)) value = value.toString("utf8");
  if (typeof value === "string") {
    const text = value.trim();
    const json = text.startsWith("{") ? text : Buffer.from(text, "base64").toString("utf8");
    try {
      value = JSON.parse(json) as unknown;
    } catch {
      throw new MalformedWorkBatchError("the message is not JSON");
    }
  }
  const input = value as (Partial<WorkBatchMessage> & Partial<Pick<WorkBatchWire, "accountsGzip">>) | null;
  if (!input || typeof input !== "object" || input.type !== "cmk-work" || input.version !== 1) {
    throw new MalformedWorkBatchError("the message is not a cmk-monitor work item (version 1)");
  }
  if (typeof input.cycleId !== "string" || typeof input.cycleStartedAt !== "string" || Number.isNaN(Date.parse(input.cycleStartedAt))) {
    throw new MalformedWorkBatchError("the work item has no valid cycle id or start time");
  }
  let accounts: unknown = input.accounts;
  if (typeof input.accountsGzip === "string") {
    try {
      accounts = JSON.parse(gunzipSync(Buffer.from(input.accountsGzip, "base64")).toString("utf8")) as unknown;
    } catch {
      throw new MalformedWorkBatchError("the work item's accounts do not decompress to JSON");
    }
  }
  if (!Array.isArray(accounts)) throw new MalformedWorkBatchError("the work item has no accounts");
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
      throw new MalformedWorkBatchError("a work item account lacks id, name, subscription, key URI or tags");
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

/** One line about a work batch for logs (never its whole content). */
export function describeWorkBatch(raw: unknown): string {
  try {
    const message = parseWorkBatch(raw);
    return `cycle ${message.cycleId}, batch ${message.batch}/${message.batches}, ${message.accounts.length} account(s)`;
  } catch (error) {
    const text = typeof raw === "string" ? raw : (JSON.stringify(raw) ?? String(raw));
    return `unreadable (${error instanceof Error ? error.message : String(error)}): ${text.replace(/\s+/g, " ").slice(0, 200)}`;
  }
}
