/**
 * The work queue (`@azure/storage-queue`): the timer puts batches of accounts on it and the
 * queue-triggered function (src/functions/workQueue.ts) takes them off. Messages are base64, as
 * the Functions host's queue trigger expects by default, and at most 64 KiB once encoded.
 */
import type { QueueClient } from "@azure/storage-queue";
import { MAX_QUEUE_MESSAGE_BYTES, type WorkQueue, type WorkQueueSendOptions } from "../ports/workQueue";

export class StorageWorkQueue implements WorkQueue {
  private ready: Promise<void> | undefined;

  constructor(private readonly client: QueueClient) {}

  get name(): string {
    return this.client.name;
  }

  async send(json: string, options: WorkQueueSendOptions): Promise<void> {
    const encoded = Buffer.from(json, "utf8").toString("base64");
    if (encoded.length > MAX_QUEUE_MESSAGE_BYTES) throw new Error(`Work item too large for a queue message (${encoded.length} bytes encoded)`);
    this.ready ??= this.client
      .createIfNotExists()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    await this.ready;
    await this.client.sendMessage(encoded, { messageTimeToLive: Math.max(60, Math.round(options.timeToLiveInSeconds)) });
  }
}
