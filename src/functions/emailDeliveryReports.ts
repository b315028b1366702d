/**
 * Event Grid trigger for the ACS resource's system topic: `Microsoft.Communication.EmailDeliveryReportReceived`
 * (the subscription filters to it; anything else is counted and ignored). The work is in
 * src/app/recordDeliveryReport.ts. Registers and delegates; logs and rethrows only here: a throw
 * (the store failed) makes Event Grid deliver the event again, which recording takes in its stride.
 */
import { app, type InvocationContext } from "@azure/functions";
import { recordDeliveryReport } from "../app/recordDeliveryReport";
import { getMonitorDeps } from "../composition";
import { invocationLogger } from "./invocationLogger";

/** The function's name: the Bicep event subscription points at it (`<app>/functions/emailDeliveryReports`). */
export const EMAIL_DELIVERY_REPORTS_FUNCTION = "emailDeliveryReports";

export async function emailDeliveryReportHandler(event: unknown, context: InvocationContext): Promise<void> {
  try {
    const result = await recordDeliveryReport({ ...getMonitorDeps(), log: invocationLogger(context) }, event);
    context.log(`cmk-monitor: delivery report ${result.outcome}${result.ignoredReason ? ` (${result.ignoredReason})` : ""}`);
  } catch (error) {
    context.error(`cmk-monitor: delivery report not recorded (Event Grid will retry): ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.eventGrid(EMAIL_DELIVERY_REPORTS_FUNCTION, { handler: emailDeliveryReportHandler });
