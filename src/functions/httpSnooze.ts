/** GET/POST /api/incidents/{id}/snooze?hours=N&token=…: pause reminders, never escalation. The signed token is the only credential. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { handleSnooze } from "../web/handlers";
import { invocationLogger } from "./invocationLogger";

export async function httpSnooze(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleSnooze(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: snooze link failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkIncidentSnooze", { methods: ["GET", "POST"], authLevel: "anonymous", route: "incidents/{id}/snooze", handler: httpSnooze });
