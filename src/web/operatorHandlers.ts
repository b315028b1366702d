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
import { refusedJson, refusedPage } from "./access";
import { renderAccountPage } from "./accountPage";
import { accountIdFromRoute, loadAccountReport } from "./accountReport";
import { incidentsCsv, parseIncidentQuery, selectIncidents, summarizeIncident } from "./incidentHistory";
import { csvResponse, htmlResponse, jsonResponse, newCspNonce } from "./responses";

/** The page's own links keep the function key it was opened with (`?code=`), or they would be refused. */
export function functionKeyOf(request: HttpRequest): { functionKey?: string } {
  const code = request.query.get("code");
  return code ? { functionKey: code } : {};
}

export async function handleIncidents(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const refused = refusedJson(request, deps.settings);
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
  const refused = refusedJson(request, deps.settings);
  if (refused) return refused;
  const accountId = accountIdFromRoute(request.params);
  if (!accountId) return jsonResponse(400, { error: "not a Cosmos DB account: expected /api/accounts/{subscriptionId}/{resourceGroup}/{accountName}" });
  const report = await loadAccountReport(deps, accountId);
  return report ? jsonResponse(200, report) : jsonResponse(404, { error: "the monitor has no record of this account" });
}

export async function handleAccountPage(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const nonce = newCspNonce();
  const refused = refusedPage(request, deps.settings, nonce, "page");
  if (refused) return refused;
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
