/**
 * One ACS delivery report event (Event Grid, `Microsoft.Communication.EmailDeliveryReportReceived`):
 * validated, matched to the outbox rows sent under its operation id, and recorded per recipient on
 * each row, ETag-guarded. Event Grid delivers at least once and in any order, so recording is
 * idempotent and the latest delivery attempt wins (src/domain/deliveryReport.ts). Junk and other
 * resources' events are counted and ignored, never thrown: a throw only makes Event Grid deliver
 * them again. Store failures are thrown, so Event Grid retries the event.
 */
import { isUndelivered, mergeDeliveryResult, parseDeliveryEvent, type DeliveryReport, type DeliveryResult, type IgnoredReason } from "../domain/deliveryReport";
import type { DeliveryEventOutcome, DeliveryReportLog, DeliveryReportStore, UndeliveredEscalation } from "../ports/deliveryReports";
import type { StoredMessage } from "../ports/incidentStore";
import type { MonitorDeps } from "../pipeline/monitorDeps";

/** Attempts per row when other writers keep changing it (the sender's own updates, other reports). */
const MAX_ROW_ATTEMPTS = 5;

export interface DeliveryEventResult {
  outcome: DeliveryEventOutcome;
  ignoredReason?: IgnoredReason;
  /** Outbox rows whose result changed. */
  rowsChanged: number;
}

export async function recordDeliveryReport(
  deps: Pick<MonitorDeps, "deliveryReports" | "settings" | "clock" | "log">,
  event: unknown,
): Promise<DeliveryEventResult> {
  const { deliveryReports, settings, log } = deps;
  if (!deliveryReports) throw new Error("Delivery reports are not wired in this composition");
  // Without the resource id no topic can be trusted: every event is someone else's.
  const parsed = parseDeliveryEvent(event, { acsResourceId: settings.acsResourceId ?? "(CMK_ACS_RESOURCE_ID not set)", sender: settings.emailSender });
  if (parsed.kind === "ignored") {
    if (parsed.reason === "other-topic" && !settings.acsResourceId)
      log.warn("cmk-monitor: a delivery report arrived but CMK_ACS_RESOURCE_ID is not set: ignored");
    await count(deps, "ignored", { ignoredReason: parsed.reason });
    return { outcome: "ignored", ignoredReason: parsed.reason, rowsChanged: 0 };
  }
  const report = parsed.report;
  const rows = (await deliveryReports.store.findMessagesByOperation(report.operationId)).filter((row) => addressedTo(row, report.recipient));
  if (rows.length === 0) {
    // A report before the send was recorded, or for mail this monitor did not send: nothing to attach it to.
    await count(deps, "unmatched");
    return { outcome: "unmatched", rowsChanged: 0 };
  }
  let rowsChanged = 0;
  let escalation: { entry: UndeliveredEscalation; undelivered: boolean } | undefined;
  for (const row of rows) {
    const written = await recordOnRow(deliveryReports.store, row, report);
    if (written) rowsChanged += 1;
    const latest = written ?? row.deliveryResults?.[report.recipient];
    // Escalations are sent one per incident, never in a digest: at most one row here is one.
    if (row.message.kind !== "escalation" || !latest) continue;
    const undelivered = isUndelivered(latest.status);
    escalation = {
      entry: {
        key: row.message.key,
        accountId: row.message.accountId,
        incidentId: row.message.incidentId,
        recipient: report.recipient,
        status: latest.status,
        at: latest.at,
        ...(latest.details ? { details: latest.details } : {}),
      },
      undelivered,
    };
    if (undelivered && written) log.warn(`cmk-monitor: escalation email ${row.message.key} to ${report.recipient} was not delivered: ${latest.status}`);
  }
  const outcome = rowsChanged > 0 ? "recorded" : "unchanged";
  await count(deps, outcome, escalation ? { escalation } : undefined);
  return { outcome, rowsChanged };
}

/** The recipient's result as written on the row; undefined when the row already held it (or a newer one). */
async function recordOnRow(store: DeliveryReportStore, first: StoredMessage, report: DeliveryReport): Promise<DeliveryResult | undefined> {
  let row: StoredMessage | undefined = first;
  for (let attempt = 1; row && attempt <= MAX_ROW_ATTEMPTS; attempt++) {
    const merged = mergeDeliveryResult(row.deliveryResults ?? {}, report.recipient, report.result);
    if (!merged) return undefined;
    if (await store.recordDeliveryResults(row, merged)) return merged[report.recipient];
    // Another writer changed the row since it was read: read it again and merge into what it holds now.
    row = await store.getMessage(row.message.accountId, row.message.key);
  }
  if (!row) return undefined;
  throw new Error(`The delivery result for ${report.recipient} on ${first.message.key} could not be written after ${MAX_ROW_ATTEMPTS} attempts`);
}

function addressedTo(row: StoredMessage, recipient: string): boolean {
  return [...row.message.to, ...row.message.cc].some((address) => address.toLowerCase() === recipient);
}

type CountDetail = Parameters<DeliveryReportLog["countDeliveryEvent"]>[2];

/** Counting is bookkeeping: a failure is logged, not thrown (a throw would redeliver an event already recorded). */
async function count(deps: Pick<MonitorDeps, "deliveryReports" | "clock" | "log">, outcome: DeliveryEventOutcome, detail?: CountDetail): Promise<void> {
  try {
    await deps.deliveryReports!.log.countDeliveryEvent(deps.clock.now(), outcome, detail);
  } catch (error) {
    deps.log.warn(`cmk-monitor: could not count a delivery report (${outcome}): ${error instanceof Error ? error.message : String(error)}`);
  }
}
