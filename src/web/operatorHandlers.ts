/**
 * The operator's endpoints beside the dashboard, as plain functions of (request, deps), with the
 * dashboard's access rule (./access.ts):
 *
 *   GET /api/incidents?state=&since=&format=csv                       every kept incident, JSON or CSV
 *   GET /api/accounts/{subscriptionId}/{resourceGroup}/{name}         one account's story as JSON (the page when Accept asks for HTML first)
 *   GET /api/dashboard/accounts/{subscriptionId}/{resourceGroup}/{name}   the same as a page
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { html } from "../email/html";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { dashboardAccess } from "./access";
import { renderAccountPage } from "./accountPage";
import { accountIdFromRoute, loadAccountReport } from "./accountReport";
import { incidentsCsv, parseIncidentQuery, selectIncidents, summarizeIncident } from "./incidentHistory";
import { csvResponse, htmlResponse, jsonResponse, newCspNonce } from "./responses";

const UNAUTHENTICATED = { error: "App Service Authentication is required in front of this endpoint (CMK_DASHBOARD_AUTH=anonymous)." };
const NOT_ALLOWED = { error: "You are signed in, but not on CMK_DASHBOARD_ALLOWED_PRINCIPALS." };

/** The JSON answer for a request the dashboard's access rules refuse; undefined when allowed. */
function refusedJson(request: HttpRequest, deps: MonitorDeps): HttpResponseInit | undefined {
  const access = dashboardAccess(request, deps.settings);
  if (access === "sign-in-required") return jsonResponse(401, UNAUTHENTICATED);
  if (access === "not-allowed") return jsonResponse(403, NOT_ALLOWED);
  return undefined;
}

/** The page's own links keep the function key it was opened with (`?code=`), or they would be refused. */
export function functionKeyOf(request: HttpRequest): { functionKey?: string } {
  const code = request.query.get("code");
  return code ? { functionKey: code } : {};
}

export async function handleIncidents(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const refused = refusedJson(request, deps);
  if (refused) return refused;
  const now = deps.clock.now();
  const parsed = parseIncidentQuery(request.query, now);
  if (!parsed.ok) return jsonResponse(400, { error: parsed.error });
  const format = request.query.get("format") ?? "json";
  if (format !== "json" && format !== "csv") return jsonResponse(400, { error: "format must be json or csv" });
  const incidents = selectIncidents((await deps.store.listIncidents()).map(summarizeIncident), parsed.query);
  if (format === "csv") return csvResponse(incidentsCsv(incidents), `cmk-incidents-${now.toISOString().slice(0, 10)}.csv`);
  return jsonResponse(200, { generatedAt: now.toISOString(), query: parsed.query, count: incidents.length, incidents });
}

export async function handleAccount(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  if (prefersHtml(request.headers.get("accept"))) return handleAccountPage(request, deps);
  const refused = refusedJson(request, deps);
  if (refused) return refused;
  const accountId = accountIdFromRoute(request.params);
  if (!accountId) return jsonResponse(400, { error: "not a Cosmos DB account: expected /api/accounts/{subscriptionId}/{resourceGroup}/{accountName}" });
  const report = await loadAccountReport(deps, accountId);
  return report ? jsonResponse(200, report) : jsonResponse(404, { error: "the monitor has no record of this account" });
}

export async function handleAccountPage(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const nonce = newCspNonce();
  const access = dashboardAccess(request, deps.settings);
  if (access === "not-allowed") {
    return htmlResponse(
      403,
      html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not allowed</title></head><body><h1>Not allowed</h1><p>You are signed in, but neither you nor a group of yours is on this monitor's list of dashboard users (CMK_DASHBOARD_ALLOWED_PRINCIPALS).</p></body></html>`,
      nonce,
    );
  }
  if (access === "sign-in-required") {
    return htmlResponse(
      401,
      html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign-in required</title></head><body><h1>Sign-in required</h1><p>This page is served anonymously only behind App Service Authentication, and this request did not come through it.</p></body></html>`,
      nonce,
    );
  }
  const accountId = accountIdFromRoute(request.params);
  const report = accountId ? await loadAccountReport(deps, accountId) : undefined;
  if (!report) {
    return htmlResponse(
      accountId ? 404 : 400,
      html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>No such account</title></head><body><h1>No such account</h1><p>${
        accountId ? "The monitor has no record of this account." : "This is not a Cosmos DB account's path."
      }</p></body></html>`,
      nonce,
    );
  }
  return htmlResponse(200, renderAccountPage(report, { nonce, ...functionKeyOf(request) }), nonce);
}

/** True when text/html comes before any JSON in the Accept header (a browser's navigation). */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  const types = accept.split(",").map((part) => part.split(";")[0]!.trim().toLowerCase());
  const htmlAt = types.indexOf("text/html");
  const jsonAt = types.findIndex((type) => type === "application/json" || type.endsWith("+json"));
  return htmlAt !== -1 && (jsonAt === -1 || htmlAt < jsonAt);
}
