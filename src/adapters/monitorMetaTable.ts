/**
 * The monitor's own bookkeeping, in a small table beside the state table (`<state table>meta`):
 * a heartbeat row for the last completed cycle, and the link-signing key the app creates when
 * CMK_LINK_SIGNING_KEY is not set. Kept out of the state table on purpose: a heartbeat is
 * written every cycle, and an idle cycle must not touch any account's partition.
 */
import { randomBytes } from "node:crypto";
import type { TableClient } from "@azure/data-tables";

/** What the status page says about the last completed poll. */
export interface CycleHeartbeat {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  accountsSeen: number;
  revokedSeen: number;
  changes: number;
  emailsSent: number;
  emailsRetrying: number;
  subscriptionsFailed: number;
}

/** Port: heartbeat and app-kept secrets. */
export interface MonitorMeta {
  recordCycle(heartbeat: CycleHeartbeat): Promise<void>;
  lastCycle(): Promise<CycleHeartbeat | undefined>;
  /** The app's own link-signing key: created once, then the same for every instance. */
  linkSigningKey(): Promise<Buffer>;
}

const PARTITION = "monitor";
const HEARTBEAT_ROW = "last-cycle";
const KEY_ROW = "link-signing-key";

/** `cmkmonitor` → `cmkmonitormeta`, kept within the 63-character table name limit. */
export function metaTableNameFor(stateTable: string): string {
  return `${stateTable.slice(0, 59)}meta`;
}

export class TableMonitorMeta implements MonitorMeta {
  private ready: Promise<void> | undefined;
  private key: Promise<Buffer> | undefined;

  constructor(private readonly table: TableClient) {}

  private async ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
  }

  async recordCycle(heartbeat: CycleHeartbeat): Promise<void> {
    await this.ensureTable();
    // Last writer wins: with overlapping instances either one's completed cycle is a fair answer.
    await this.table.upsertEntity({ partitionKey: PARTITION, rowKey: HEARTBEAT_ROW, ...heartbeat }, "Replace");
  }

  async lastCycle(): Promise<CycleHeartbeat | undefined> {
    await this.ensureTable();
    const row = await this.getRow(HEARTBEAT_ROW);
    if (!row) return undefined;
    return {
      startedAt: String(row.startedAt ?? ""),
      finishedAt: String(row.finishedAt ?? ""),
      durationInMs: Number(row.durationInMs ?? 0),
      accountsSeen: Number(row.accountsSeen ?? 0),
      revokedSeen: Number(row.revokedSeen ?? 0),
      changes: Number(row.changes ?? 0),
      emailsSent: Number(row.emailsSent ?? 0),
      emailsRetrying: Number(row.emailsRetrying ?? 0),
      subscriptionsFailed: Number(row.subscriptionsFailed ?? 0),
    };
  }

  linkSigningKey(): Promise<Buffer> {
    this.key ??= this.loadOrCreateKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async loadOrCreateKey(): Promise<Buffer> {
    await this.ensureTable();
    const existing = await this.getRow(KEY_ROW);
    if (existing) return Buffer.from(String(existing.key), "base64");
    try {
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: KEY_ROW, key: randomBytes(32).toString("base64") });
    } catch (error) {
      // Another instance created it first: everyone uses that one.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
    const created = await this.getRow(KEY_ROW);
    if (!created) throw new Error("The link-signing key could not be read back after creating it");
    return Buffer.from(String(created.key), "base64");
  }

  private async getRow(rowKey: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(PARTITION, rowKey);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}
