/** GET /api/accounts/{subscriptionId}/{resourceGroup}/{name}: one account's story as JSON (or its page). Same auth as the dashboard. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getMonitorDeps } from "../composition";
import { dashboardAuthLevel } from "../config";
import { handleAccount } from "../web/operatorHandlers";
import { invocationLogger } from "./invocationLogger";

export async function httpAccount(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return await handleAccount(request, { ...getMonitorDeps(), log: invocationLogger(context) });
  } catch (error) {
    context.error(`cmk-monitor: account report failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

app.http("cmkAccount", { methods: ["GET"], authLevel: dashboardAuthLevel(), route: "accounts/{subscriptionId}/{resourceGroup}/{name}", handler: httpAccount });
