/**
 * Who may see the dashboard and the status JSON. By default the Functions host asks for a
 * function key (authLevel "function"). With CMK_DASHBOARD_AUTH=anonymous the host asks for
 * nothing and App Service Authentication must stand in front; as a second line, the handlers
 * then refuse requests that did not come through it (it sets x-ms-client-principal-id, and
 * strips any such header a client sends).
 */
import type { HttpRequest } from "@azure/functions";
import type { MonitorSettings } from "../config";

/** False when anonymous mode is on but the request did not pass App Service Authentication. */
export function dashboardRequestAllowed(request: HttpRequest, settings: MonitorSettings): boolean {
  if (settings.dashboardAuth !== "anonymous") return true;
  return Boolean(request.headers.get("x-ms-client-principal-id")?.trim());
}
