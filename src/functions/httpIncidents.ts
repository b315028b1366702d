/** GET /api/incidents?state=&since=&format=csv: every kept incident, open and resolved. Same auth as the dashboard. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { dashboardAuthLevel } from "../config";
import { handleIncidents } from "../web/operatorHandlers";
import { invocationLogger } from "./invocationLogger";

export async function httpIncidents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleIncidents(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: incident list failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkIncidents", { methods: ["GET"], authLevel: dashboardAuthLevel(), route: "incidents", handler: httpIncidents });
