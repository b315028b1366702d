/** GET/POST /api/incidents/{id}/ack?token=…: the "I have fixed it" link. The signed token is the only credential. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { handleAck } from "../web/handlers";
import { invocationLogger } from "./invocationLogger";

export async function httpAck(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleAck(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: ack link failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkIncidentAck", { methods: ["GET", "POST"], authLevel: "anonymous", route: "incidents/{id}/ack", handler: httpAck });
