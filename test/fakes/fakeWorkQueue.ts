/** A work queue that keeps what was put on it; the next sends can be told to fail. */
import type { WorkQueue, WorkQueueSendOptions } from "../../src/ports/workQueue";
import { FaultPlan } from "./faultPlan";

export class FakeWorkQueue implements WorkQueue {
  readonly sent: Array<{ json: string; options: WorkQueueSendOptions }> = [];
  readonly faults = new FaultPlan<"send">();

  constructor(readonly name = "cmk-work") {}

  async send(json: string, options: WorkQueueSendOptions): Promise<void> {
    this.faults.throwIfPlanned("send");
    this.sent.push({ json, options });
  }

  /** The messages, parsed. */
  messages(): unknown[] {
    return this.sent.map(({ json }) => JSON.parse(json) as unknown);
  }
}
