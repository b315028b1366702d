/**
 * Event Grid trigger: Azure's change events for the monitored subscriptions (role assignments,
 * vaults, access policies, accounts, identities) and, optionally, each monitored vault's key
 * events. Registers and delegates (src/app/handleChangeEvent.ts); logs and rethrows only here, so
 * Event Grid retries a delivery that failed.
 */
import { app, type EventGridEvent, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { handleChangeEvent } from "../app/handleChangeEvent";
import { invocationLogger } from "./invocationLogger";

export async function azureChangeEvents(event: EventGridEvent, context: InvocationContext): Promise<void> {
  try {
    await handleChangeEvent({ ...getMonitorDeps(), log: invocationLogger(context) }, event);
  } catch (error) {
    context.error(`cmk-monitor: change event ${event.id} failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.eventGrid("cmkAzureChangeEvents", { handler: azureChangeEvents });
