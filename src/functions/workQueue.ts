/**
 * Queue triggers on CMK_WORK_QUEUE: one batch of accounts per message (src/app/processWorkBatch.ts),
 * and the poison queue the host moves a message to after host.json's maxDequeueCount attempts.
 * Registers and delegates; logs and rethrows only here.
 */
import { app, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { invocationLogger } from "./invocationLogger";
import { describeWorkBatch } from "../pipeline/workBatch";
import { processWorkBatch } from "../app/processWorkBatch";

export async function workQueueHandler(queueItem: unknown, context: InvocationContext): Promise<void> {
  try {
    await processWorkBatch({ ...getMonitorDeps(), log: invocationLogger(context) }, queueItem);
  } catch (error) {
    const attempt = context.triggerMetadata?.dequeueCount;
    context.error(
      `cmk-monitor: work item failed${attempt !== undefined ? ` (attempt ${String(attempt)})` : ""}: ${error instanceof Error ? error.message : String(error)}`,
    );
    throw error;
  }
}

/**
 * A work item every attempt failed on. Its accounts are not lost: the next cycle lists them and
 * queues them again. It is reported (the log line the poison alert counts, and the heartbeat's
 * poisonWorkItems on /api/status) so someone looks at why.
 */
export async function poisonWorkItemHandler(queueItem: unknown, context: InvocationContext): Promise<void> {
  const summary = describeWorkBatch(queueItem);
  context.error(`cmk-monitor: poison work item (${summary}): every attempt failed; the next cycle covers its accounts again`);
  try {
    const deps = getMonitorDeps();
    await deps.heartbeat.recordPoisonWorkItem(deps.clock.now(), summary);
  } catch (error) {
    context.warn(`cmk-monitor: could not count the poison work item: ${error instanceof Error ? error.message : String(error)}`);
  }
}

app.storageQueue("cmkWork", { queueName: "%CMK_WORK_QUEUE%", connection: "AzureWebJobsStorage", handler: workQueueHandler });
app.storageQueue("cmkWorkPoison", { queueName: "%CMK_WORK_QUEUE%-poison", connection: "AzureWebJobsStorage", handler: poisonWorkItemHandler });
