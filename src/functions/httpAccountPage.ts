/** GET /api/dashboard/accounts/{subscriptionId}/{resourceGroup}/{name}: one account's page. Same auth as the dashboard. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { dashboardAuthLevel } from "../config";
import { handleAccountPage } from "../web/operatorHandlers";
import { invocationLogger } from "./invocationLogger";

export async function httpAccountPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleAccountPage(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: account page failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkAccountPage", {
  methods: ["GET"],
  authLevel: dashboardAuthLevel(),
  route: "dashboard/accounts/{subscriptionId}/{resourceGroup}/{name}",
  handler: httpAccountPage,
});
