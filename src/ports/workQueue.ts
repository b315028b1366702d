/** A queue message's largest size, base64-encoded as stored. */
export const MAX_QUEUE_MESSAGE_BYTES = 64 * 1024;

export interface WorkQueueSendOptions {
  /** The queue drops the message after this long: a stale batch is worth nothing, the next cycle covers it. */
  timeToLiveInSeconds: number;
}

/** Port: somewhere to put work for other instances. */
export interface WorkQueue {
  readonly name: string;
  send(json: string, options: WorkQueueSendOptions): Promise<void>;
}
