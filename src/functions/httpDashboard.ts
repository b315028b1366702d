/** GET /api/dashboard: the on-call page. Function key, or App Service Authentication. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { dashboardAuthLevel } from "../config";
import { handleDashboard } from "../web/handlers";
import { invocationLogger } from "./invocationLogger";

export async function httpDashboard(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleDashboard(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: dashboard failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkDashboard", { methods: ["GET"], authLevel: dashboardAuthLevel(), route: "dashboard", handler: httpDashboard });
