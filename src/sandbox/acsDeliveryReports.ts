/**
 * The sandbox ACS's delivery reports: for every accepted email, one
 * `Microsoft.Communication.EmailDeliveryReportReceived` event per recipient, in the Event Grid
 * schema, handed to the subscribed handler as parsed JSON (what the Functions host hands the
 * trigger). Played the least convenient documented way (docs/azure-behaviour.md, "Email delivery
 * reports"): at least once (a share of events comes twice), in no particular order (newest
 * first), a handler failure means redelivery, and the timestamp field spelled as the published
 * example spells it (`deliveryAttemptTimeStamp`) on every other event. Where nothing is documented,
 * the less convenient way, behind switches: a report may come late (`delayInMs`, on the sandbox
 * clock) or never (`dropShare`: Event Grid gave up, or the event was dead-lettered), and an
 * operation that ends Failed still reports `Failed` per recipient (`failedOperationReports`), so a
 * report alone never proves ACS accepted an email.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SentEmail } from "./acsRoutes";

/** The ARM id the sandbox's ACS resource has: the `topic` of its events (CMK_ACS_RESOURCE_ID in the sandbox environment). */
export const SANDBOX_ACS_RESOURCE_ID =
  "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg-sandbox/providers/Microsoft.Communication/communicationServices/acs-sandbox";

export interface DeliveryReportBehaviour {
  /** Post reports at all (the switch; default on). */
  enabled: boolean;
  /** Share of recipients (0..1) whose report says Bounced; decided per operation and recipient, so repeats agree. */
  bouncedShare: number;
  /** Recipients that always bounce (an escalation contact with a typo, say). */
  bouncingAddresses: readonly string[];
  /** Share of events (0..1) Event Grid delivers a second time. */
  repeatShare: number;
  /** Hands events over by itself shortly after each send; off, they wait for `deliverPending()`. */
  autoDeliver: boolean;
  /** Share of reports (0..1) never delivered: decided per operation and recipient. */
  dropShare: number;
  /** Each report becomes deliverable a stable pseudo-random while after the send, within [min, max] ms of the sandbox clock. */
  delayInMs: readonly [number, number];
  /** An operation that ends Failed reports `Failed` for each recipient (undocumented either way). */
  failedOperationReports: boolean;
}

const DEFAULT_BEHAVIOUR: DeliveryReportBehaviour = {
  enabled: true,
  bouncedShare: 0,
  bouncingAddresses: [],
  repeatShare: 0.25,
  autoDeliver: true,
  dropShare: 0,
  delayInMs: [0, 0],
  failedOperationReports: true,
};

/** Event Grid's retry gives up on an event after this many failed deliveries (the sandbox's, not Azure's 30). */
const MAX_DELIVERIES = 5;

export type DeliveryReportListener = (event: unknown) => Promise<void>;

interface Pending {
  json: string;
  deliveries: number;
  /** Sandbox-clock time from which it may be handed over. */
  dueAt: number;
}

export class AcsDeliveryReports {
  private behaviour: DeliveryReportBehaviour = { ...DEFAULT_BEHAVIOUR };
  private listener: DeliveryReportListener | undefined;
  private queue: Pending[] = [];
  private running: Promise<void> = Promise.resolve();
  private sequence = 0;
  /** Every event handed over (repeats included), as sent: what the contract suite checks. */
  readonly posted: unknown[] = [];
  /** Deliveries the handler failed (each is tried again, up to MAX_DELIVERIES). */
  failedDeliveries = 0;
  /** Events given up on after MAX_DELIVERIES failed deliveries, or never delivered (`dropShare`). */
  droppedEvents = 0;

  constructor(private readonly now: () => number) {}

  configure(behaviour: Partial<DeliveryReportBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /** Where events go (the monitor's handler); undefined stops delivering. Events wait while nobody listens. */
  subscribe(listener: DeliveryReportListener | undefined): void {
    this.listener = listener;
  }

  /** Forgets queued events and the counts (the behaviour stays). */
  reset(): void {
    this.queue = [];
    this.posted.length = 0;
    this.failedDeliveries = 0;
    this.droppedEvents = 0;
  }

  /** Events waiting to be handed over. */
  get pending(): number {
    return this.queue.length;
  }

  /** ACS accepted `email` (its operation ends `outcome`): one report per recipient goes on the queue. */
  emailAccepted(email: SentEmail, outcome: "Succeeded" | "Failed" = "Succeeded"): void {
    const { enabled, failedOperationReports, dropShare, delayInMs } = this.behaviour;
    if (!enabled || (outcome === "Failed" && !failedOperationReports)) return;
    for (const recipient of [...email.to, ...email.cc, ...email.bcc]) {
      const key = `${email.operationId}/${recipient.toLowerCase()}`;
      if (fraction(`${key}#drop`) < dropShare) {
        this.droppedEvents += 1;
        continue;
      }
      const dueAt = this.now() + delayInMs[0] + Math.floor(fraction(`${key}#delay`) * (delayInMs[1] - delayInMs[0] + 1));
      const event = this.reportEvent(email, recipient, outcome === "Failed");
      this.queue.push({ json: JSON.stringify(event), deliveries: 0, dueAt });
      if (fraction(`${event.id}#repeat`) < this.behaviour.repeatShare) this.queue.push({ json: JSON.stringify(event), deliveries: 0, dueAt });
    }
    if (this.behaviour.autoDeliver && this.listener) setTimeout(() => void this.deliverPending(), 0).unref();
  }

  /**
   * Hands every queued event to the listener, newest first; an event the listener throws on is
   * queued again (until MAX_DELIVERIES). Resolves when this round and any running one are done.
   */
  deliverPending(): Promise<void> {
    this.running = this.running.then(() => this.deliverRound());
    return this.running;
  }

  private async deliverRound(): Promise<void> {
    const listener = this.listener;
    if (!listener || this.queue.length === 0) return;
    const now = this.now();
    // Not due yet (delayInMs): stays queued, in order, for a later round.
    const batch = this.queue.filter((pending) => pending.dueAt <= now).reverse();
    this.queue = this.queue.filter((pending) => pending.dueAt > now);
    for (const pending of batch) {
      pending.deliveries += 1;
      this.posted.push(JSON.parse(pending.json) as unknown);
      try {
        await listener(JSON.parse(pending.json) as unknown);
      } catch {
        this.failedDeliveries += 1;
        if (pending.deliveries < MAX_DELIVERIES) this.queue.push(pending);
        else this.droppedEvents += 1;
      }
    }
  }

  private reportEvent(email: SentEmail, recipient: string, operationFailed: boolean) {
    const key = `${email.operationId}/${recipient.toLowerCase()}`;
    const bounced = this.behaviour.bouncingAddresses.some((a) => a.toLowerCase() === recipient.toLowerCase()) || fraction(key) < this.behaviour.bouncedShare;
    const status = operationFailed ? "Failed" : bounced ? "Bounced" : "Delivered";
    const statusMessage = operationFailed
      ? "The email could not be sent."
      : bounced
        ? "550 5.1.1 The email account that you tried to reach does not exist."
        : "No error.";
    const at = new Date(this.now()).toISOString();
    const timestampField = this.sequence++ % 2 === 0 ? "deliveryAttemptTimestamp" : "deliveryAttemptTimeStamp";
    return {
      id: randomUUID(),
      topic: SANDBOX_ACS_RESOURCE_ID,
      subject: `sender/${email.senderAddress}/message/${email.operationId}`,
      eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
      data: {
        sender: email.senderAddress,
        recipient,
        internetMessageId: `<${email.operationId}@sandbox.azurecomm.net>`,
        messageId: email.operationId,
        status,
        deliveryStatusDetails: { statusMessage },
        [timestampField]: at,
      },
      dataVersion: "1.0",
      metadataVersion: "1",
      eventTime: at,
    };
  }
}

/** A stable number in [0, 1) per key: the same email and recipient always get the same outcome. */
function fraction(key: string): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}
