/** GET /api/status: the fleet's open incidents as JSON. Function key, or App Service Authentication. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { dashboardAuthLevel } from "../config";
import { handleStatus } from "../web/handlers";
import { invocationLogger } from "./invocationLogger";

export async function httpStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleStatus(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: status failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkStatus", { methods: ["GET"], authLevel: dashboardAuthLevel(), route: "status", handler: httpStatus });
