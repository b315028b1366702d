/**
 * ACS email delivery reports (`Microsoft.Communication.EmailDeliveryReportReceived`, delivered by
 * Event Grid): what one event says, whether it is ours, and how a recipient's recorded result
 * changes. Event Grid delivers at least once and in no particular order, so every rule here is
 * idempotent and order-free: the report with the latest delivery attempt wins, whichever arrives last.
 * Sources and the readings taken where the published schema and its examples disagree:
 * docs/azure-behaviour.md, "Email delivery reports".
 */

export const EMAIL_DELIVERY_REPORT_EVENT = "Microsoft.Communication.EmailDeliveryReportReceived";

/** The statuses the schema lists; any other value is kept as sent ("any value other than Delivered is considered failed"). */
export const KNOWN_DELIVERY_STATUSES = ["Delivered", "Bounced", "Suppressed", "Quarantined", "FilteredSpam", "Failed", "Expanded"] as const;

/** One recipient's latest delivery outcome, as recorded on the outbox row. */
export interface DeliveryResult {
  /** Normalised to the schema's spelling when known ("delivered" → "Delivered"). */
  readonly status: string;
  /** The report's delivery attempt time (ISO 8601), or the event's time when the report has none. */
  readonly at: string;
  /** `deliveryStatusDetails.statusMessage`, if any (shortened). */
  readonly details?: string;
  /** The Event Grid event id that carried it: a redelivery of the same event changes nothing. */
  readonly eventId: string;
  /** The ACS operation the report is about (rows recorded before this field existed lack it). */
  readonly operationId?: string;
}

/** Per recipient (lower-case address). */
export type DeliveryResults = Readonly<Record<string, DeliveryResult>>;

/** A delivery report that passed validation. */
export interface DeliveryReport {
  readonly eventId: string;
  /** The ACS operation id the send was accepted under (`data.messageId`). */
  readonly operationId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly result: DeliveryResult;
}

/** Why an event is not recorded; each is counted, none is an error (Event Grid would only redeliver it). */
export type IgnoredReason = "not-an-event" | "other-event-type" | "other-topic" | "other-sender" | "malformed";

export type ParsedDeliveryEvent = { readonly kind: "report"; readonly report: DeliveryReport } | { readonly kind: "ignored"; readonly reason: IgnoredReason };

export interface DeliveryReportSource {
  /** The ACS resource's ARM id: the system topic's events name it as `topic`. */
  readonly acsResourceId: string;
  /** The monitor's sender address: reports about other senders on the same resource are not ours. */
  readonly sender: string;
}

const MAX_DETAILS = 300;
const MAX_FIELD = 320;

/**
 * Validates an Event Grid event (EventGridSchema, already parsed from JSON by the host) and reads
 * the report it carries. Never throws: anything unexpected is an ignored reason.
 */
export function parseDeliveryEvent(event: unknown, source: DeliveryReportSource): ParsedDeliveryEvent {
  const ignored = (reason: IgnoredReason): ParsedDeliveryEvent => ({ kind: "ignored", reason });
  if (!isRecord(event)) return ignored("not-an-event");
  const eventType = event["eventType"];
  const id = event["id"];
  if (typeof eventType !== "string" || typeof id !== "string" || id.length === 0 || id.length > MAX_FIELD) return ignored("not-an-event");
  if (eventType !== EMAIL_DELIVERY_REPORT_EVENT) return ignored("other-event-type");
  // ARM ids compare case-insensitively; a trailing slash is not a different resource.
  if (typeof event["topic"] !== "string" || normaliseId(event["topic"]) !== normaliseId(source.acsResourceId)) return ignored("other-topic");
  const data = event["data"];
  if (!isRecord(data)) return ignored("malformed");
  const sender = text(data["sender"]);
  const recipient = text(data["recipient"]);
  const operationId = text(data["messageId"]);
  const status = text(data["status"]);
  if (!sender || !recipient || !operationId || !status) return ignored("malformed");
  if (sender.toLowerCase() !== source.sender.toLowerCase()) return ignored("other-sender");
  // The schema says deliveryAttemptTimestamp; its own example (and some SDKs) spell it deliveryAttemptTimeStamp.
  const attempted = time(data["deliveryAttemptTimestamp"]) ?? time(data["deliveryAttemptTimeStamp"]) ?? time(event["eventTime"]);
  if (!attempted) return ignored("malformed");
  const detailsValue = isRecord(data["deliveryStatusDetails"]) ? text(data["deliveryStatusDetails"]["statusMessage"]) : undefined;
  return {
    kind: "report",
    report: {
      eventId: id,
      operationId: operationId.toLowerCase(),
      sender,
      recipient: recipient.toLowerCase(),
      result: {
        status: normaliseStatus(status),
        at: attempted,
        ...(detailsValue ? { details: detailsValue.slice(0, MAX_DETAILS) } : {}),
        eventId: id,
        operationId: operationId.toLowerCase(),
      },
    },
  };
}

/**
 * The recipient's result after a report: the greatest under one total order, so the outcome is the
 * same whatever order the reports arrive in, and a redelivery or an overtaken report changes
 * nothing. The later delivery attempt wins; at the same instant a failure outranks Delivered, then
 * the status and the event id decide. Undefined when nothing changes.
 */
export function mergeDeliveryResult(current: DeliveryResults, recipient: string, incoming: DeliveryResult): DeliveryResults | undefined {
  const key = recipient.toLowerCase();
  const recorded = current[key];
  if (recorded && compareResults(incoming, recorded) <= 0) return undefined;
  return { ...current, [key]: incoming };
}

function compareResults(a: DeliveryResult, b: DeliveryResult): number {
  return (
    Date.parse(a.at) - Date.parse(b.at) ||
    Number(isUndelivered(a.status)) - Number(isUndelivered(b.status)) ||
    byCodeUnits(a.status, b.status) ||
    byCodeUnits(a.eventId, b.eventId)
  );
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Anything but Delivered (and Expanded, a distribution list handed on) did not reach the mailbox. */
export function isUndelivered(status: string): boolean {
  return status !== "Delivered" && status !== "Expanded";
}

/**
 * Statuses only an operation ACS accepted and processed can produce: a delivery was attempted (or
 * deliberately not made: suppressed, spam) for a message ACS had. `Failed` is not one of them: the
 * schema says only "the email failed to be delivered", and nothing says an operation that ended
 * Failed produces no such report, so a Failed report proves nothing about the operation.
 * Unknown (future) statuses prove nothing either.
 */
const PROCESSED_STATUSES: ReadonlySet<string> = new Set(["Delivered", "Expanded", "Bounced", "Suppressed", "Quarantined", "FilteredSpam"]);

/**
 * What the delivery reports recorded on a row say about one ACS operation: `processed` when some
 * recipient's latest result is for it with a status only an accepted operation yields (no status
 * read is needed: ACS has it, and re-sending would deliver twice); `inconclusive` when the only
 * results for it are Failed or unknown (read the operation's status: it decides); `none` when no
 * report for it has arrived (yet).
 */
export function reportedOutcome(results: DeliveryResults | undefined, operationId: string): "processed" | "inconclusive" | "none" {
  const id = operationId.toLowerCase();
  const forOperation = Object.values(results ?? {}).filter((result) => result.operationId === id);
  if (forOperation.length === 0) return "none";
  return forOperation.some((result) => PROCESSED_STATUSES.has(result.status)) ? "processed" : "inconclusive";
}

/** The recipients whose latest result says the email did not arrive. */
export function undeliveredRecipients(results: DeliveryResults | undefined): Array<{ recipient: string; result: DeliveryResult }> {
  return Object.entries(results ?? {})
    .filter(([, result]) => isUndelivered(result.status))
    .map(([recipient, result]) => ({ recipient, result }))
    .sort((a, b) => a.recipient.localeCompare(b.recipient));
}

function normaliseStatus(status: string): string {
  return KNOWN_DELIVERY_STATUSES.find((known) => known.toLowerCase() === status.toLowerCase()) ?? status.slice(0, 64);
}

function normaliseId(id: string): string {
  return id.trim().replace(/\/+$/, "").toLowerCase();
}

function text(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_FIELD ? trimmed : undefined;
}

/** An ISO 8601 instant, normalised to UTC milliseconds; undefined when it does not parse. */
function time(value: unknown): string | undefined {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
