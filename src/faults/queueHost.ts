/**
 * The Functions host's queue trigger on the work queue, played inside the fault suite's simulated
 * minute loop (host.json `extensions.queues`): after each poll's timers (and the minute after a
 * pass put something back) it takes the visible work items off the Azurite queue, hands them to the
 * monitor instances at once, deletes a message only when its run succeeded, makes a failed one
 * visible again for the next pass (a simulated minute later), and after
 * `maxDequeueCount` failed attempts moves it to `<queue>-poison`. Faults model the queue's
 * at-least-once delivery: one message handed to two instances at once, or a lost delete.
 */
import { QueueClient, type DequeuedMessageItem } from "@azure/storage-queue";
import { processWorkBatch } from "../app/processWorkBatch";
import type { MonitorDeps } from "../pipeline/monitorDeps";

/** host.json `extensions.queues.maxDequeueCount`. */
export const MAX_DEQUEUE_COUNT = 5;
/** Real seconds a taken message stays hidden: far longer than a pass, so only our own update shows it again. */
const TAKEN_VISIBILITY_IN_SECONDS = 600;
/** The most messages one receive call returns (the service's limit). */
const RECEIVE_BATCH = 32;

/** A monitor instance as the host sees it: deps to run with (crash-wrapped), and whether its process died. */
export interface HostWorker {
  readonly deps: MonitorDeps;
  readonly dead: boolean;
}

export interface QueueHostStats {
  /** Distinct messages run successfully at least once (dropped as stale included). */
  workItems: number;
  /** processWorkBatch calls, duplicates and retries included. */
  invocations: number;
  /** Invocations beyond a message's first: duplicate hand-outs, retries after a failure, returns after a lost delete. */
  redeliveries: number;
  /** Invocations that threw (crash, storage fault, a dead instance). */
  failures: number;
  /** Of those, simulated crashes that hit inside a work item. */
  crashesInWorkItems: number;
  /** Work items processWorkBatch dropped as older than two poll intervals. */
  stale: number;
  /** Messages moved to the poison queue after MAX_DEQUEUE_COUNT failed attempts. */
  poison: number;
}

export class QueueHost {
  private queue: QueueClient;
  private poisonQueue: QueueClient;
  private readonly invoked = new Set<string>();
  private readonly completed = new Set<string>();
  /** Messages the last pass put back on the queue. */
  private released = 0;
  /** Set by the `queue-duplicate` fault: the next N messages go to two instances at once. */
  duplicatesPending = 0;
  /** Set by the `queue-redeliver` fault: the next N successful runs lose their delete. */
  lostDeletesPending = 0;
  readonly stats: QueueHostStats = { workItems: 0, invocations: 0, redeliveries: 0, failures: 0, crashesInWorkItems: 0, stale: 0, poison: 0 };

  constructor(
    connectionString: string,
    readonly name: string,
  ) {
    this.queue = new QueueClient(connectionString, name);
    this.poisonQueue = new QueueClient(connectionString, `${name}-poison`);
  }

  /** Azurite came back on new ports: the queue and its messages are the same (its files), the address is not. */
  reconnect(connectionString: string): void {
    this.queue = new QueueClient(connectionString, this.name);
    this.poisonQueue = new QueueClient(connectionString, `${this.name}-poison`);
  }

  async start(): Promise<void> {
    // The timer creates it on its first send; the listener polls from the start, so it must exist.
    await this.queue.createIfNotExists();
  }

  /** Something the last pass put back is waiting: the next minute's pass must look, even off a poll minute. */
  get retriesPending(): boolean {
    return this.released > 0;
  }

  /** One listener pass: every visible message, spread over the live instances, all at once. */
  async pass(workers: readonly HostWorker[], turn: number): Promise<void> {
    this.released = 0;
    const messages = await this.takeVisible();
    if (messages.length === 0 || workers.length === 0) {
      // Nobody to run them: back on the queue for the next pass.
      await Promise.all(messages.map((message) => this.release(message)));
      return;
    }
    await Promise.all(
      messages.map(async (message, index) => {
        const runners = [workers[(index + turn) % workers.length]!];
        if (this.duplicatesPending > 0) {
          this.duplicatesPending -= 1;
          // Delivered twice, concurrently: another instance when there is one, else a second invocation on the same.
          runners.push(workers[(index + turn + 1) % workers.length]!);
        }
        const item = decode(message.messageText);
        const results = await Promise.allSettled(
          runners.map((worker, i) => {
            this.stats.invocations += 1;
            if (i > 0 || this.invoked.has(message.messageId)) this.stats.redeliveries += 1;
            return processWorkBatch(worker.deps, item);
          }),
        );
        this.invoked.add(message.messageId);
        for (const result of results) {
          if (result.status === "fulfilled") continue;
          this.stats.failures += 1;
          if ((result.reason as Error | undefined)?.name === "SimulatedCrash") this.stats.crashesInWorkItems += 1;
        }
        const succeeded = results.find((result) => result.status === "fulfilled");
        if (succeeded) {
          if (!this.completed.has(message.messageId)) this.stats.workItems += 1;
          this.completed.add(message.messageId);
          if (succeeded.value.stale) this.stats.stale += 1;
          if (this.lostDeletesPending > 0) {
            this.lostDeletesPending -= 1;
            // The run finished but the delete never reached storage: the message shows up again.
            await this.release(message);
          } else {
            await this.settle(() => this.queue.deleteMessage(message.messageId, message.popReceipt));
          }
        } else if (message.dequeueCount >= MAX_DEQUEUE_COUNT) {
          this.stats.poison += 1;
          await this.settle(async () => {
            await this.poisonQueue.createIfNotExists();
            await this.poisonQueue.sendMessage(message.messageText);
            await this.queue.deleteMessage(message.messageId, message.popReceipt);
          });
        } else {
          await this.release(message);
        }
      }),
    );
  }

  /** Deletes the run's queues (each run has its own). */
  async dispose(): Promise<void> {
    await Promise.allSettled([this.queue.deleteIfExists(), this.poisonQueue.deleteIfExists()]);
  }

  private async takeVisible(): Promise<DequeuedMessageItem[]> {
    const taken: DequeuedMessageItem[] = [];
    for (;;) {
      let batch: DequeuedMessageItem[];
      try {
        batch = (await this.queue.receiveMessages({ numberOfMessages: RECEIVE_BATCH, visibilityTimeout: TAKEN_VISIBILITY_IN_SECONDS })).receivedMessageItems;
      } catch {
        // The host's listener backs off and polls again; so does this one, next minute.
        return taken;
      }
      taken.push(...batch);
      if (batch.length < RECEIVE_BATCH) return taken;
    }
  }

  /** Visible again at once, as the host does after a failed run, so the next pass retries it. */
  private release(message: DequeuedMessageItem): Promise<void> {
    this.released += 1;
    return this.settle(() => this.queue.updateMessage(message.messageId, message.popReceipt, message.messageText, 0));
  }

  /** Queue bookkeeping that fails leaves the message hidden until its timeout: late, never lost (the next cycle covers it). */
  private async settle(operation: () => Promise<unknown>): Promise<void> {
    try {
      await operation();
    } catch {
      // Deliberately ignored: see above.
    }
  }
}

/** What the host hands the handler: the base64 body decoded, parsed when it is JSON. */
function decode(messageText: string): unknown {
  const text = Buffer.from(messageText, "base64").toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
