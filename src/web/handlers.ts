/**
 * The HTTP endpoints as plain functions of (request, deps): the Azure Functions entry points
 * (src/functions/http*.ts) and the local server (./localServer.ts) both call these.
 *
 *   GET      /api/status?q=&state=&cause=&subscription=&owner=&days=   JSON: fleet, accounts, open incidents, counts, last poll, trends
 *   GET      /api/dashboard (same query)          the same as a self-contained page
 *   (the incident list and the account pages: ./operatorHandlers.ts)
 *   GET/POST /api/incidents/{id}/ack?token=…      "I have fixed it": GET confirms, POST records
 *   GET/POST /api/incidents/{id}/snooze?hours=N&token=…   pause reminders, never escalation
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { Incident } from "../domain/incident";
import { decide, MAX_SNOOZE_IN_HOURS, type LifecycleInput } from "../domain/lifecycle";
import { linkActor, verifyLinkToken, type LinkAction } from "../domain/linkTokens";
import { refusedJson, refusedPage } from "./access";
import { renderDashboard } from "./dashboardPage";
import { appliedPage, confirmationPage, nothingToDoPage, problemPage, type LinkProblem } from "./linkPages";
import { readLimitedText } from "./requestBody";
import { htmlResponse, jsonResponse, newCspNonce } from "./responses";
import { loadStatusReport } from "./statusReport";
import { functionKeyOf } from "./operatorHandlers";
import { applyLinkAction, linkedIncident } from "../app/applyLinkAction";
import { lifecycleContext } from "../pipeline/lifecycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";

const MAX_FORM_BYTES = 16 * 1024;

export async function handleStatus(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  return refusedJson(request, deps.settings) ?? jsonResponse(200, await loadStatusReport(deps, request.query));
}

export async function handleDashboard(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const nonce = newCspNonce();
  const refused = refusedPage(request, deps.settings, nonce, "dashboard");
  if (refused) return refused;
  return htmlResponse(200, renderDashboard(await loadStatusReport(deps, request.query), { nonce, ...functionKeyOf(request) }), nonce);
}

export function handleAck(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  return handleLink("ack", request, deps);
}

export function handleSnooze(request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  return handleLink("snooze", request, deps);
}

async function handleLink(action: LinkAction, request: HttpRequest, deps: MonitorDeps): Promise<HttpResponseInit> {
  const nonce = newCspNonce();
  const problem = (which: LinkProblem): HttpResponseInit => {
    const { status, page } = problemPage({ nonce }, which);
    return htmlResponse(status, page, nonce);
  };

  const method = request.method.toUpperCase();
  let form: URLSearchParams | undefined;
  if (method === "POST") {
    const body = await readLimitedText(request, MAX_FORM_BYTES);
    if (body === undefined) return problem("malformed");
    form = new URLSearchParams(body);
  }
  const token = form?.get("token") ?? request.query.get("token");

  let key: Buffer;
  try {
    key = await deps.linkKeys.linkSigningKey();
  } catch (error) {
    deps.log.error(`cmk-monitor: link-signing key unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return problem("links-unavailable");
  }
  const now = deps.clock.now();
  const check = verifyLinkToken(token, key, now, { action, incidentId: request.params.id ?? "" });
  if (!check.ok) return problem(check.problem);
  const claims = check.claims;

  let hours: number | undefined;
  if (action === "snooze") {
    const asked = form?.get("hours") ?? request.query.get("hours");
    if (claims.hours === undefined || (asked !== null && asked !== String(claims.hours))) return problem("wrong-hours");
    hours = Math.min(claims.hours, MAX_SNOOZE_IN_HOURS);
  }
  const until = hours === undefined ? undefined : new Date(now.getTime() + hours * 3_600_000).toISOString();

  if (method === "GET" || method === "HEAD") {
    // Looks only: mail scanners fetch links, so a GET must never change anything.
    let incident: Incident | undefined;
    try {
      if (await deps.store.isLinkTokenUsed(claims.accountId, claims.nonce)) return problem("reused");
      incident = linkedIncident((await deps.store.getRecord(claims.accountId)).incident, claims);
    } catch (error) {
      deps.log.error(`cmk-monitor: could not read the incident for a link: ${error instanceof Error ? error.message : String(error)}`);
      return problem("failed");
    }
    if (!incident) return problem("incident-closed");
    const input = inputFor(action, until, "an owner");
    if (decide(incident, input, now, lifecycleContext(deps.settings)).reasons.length === 0) {
      return htmlResponse(200, nothingToDoPage({ nonce }, action, incident), nonce);
    }
    const formAction = action; // relative: posts back to this path, the token travels in the form
    return htmlResponse(
      200,
      confirmationPage({ nonce }, { action, token: token!, ...(hours !== undefined ? { hours } : {}), formAction }, incident, until),
      nonce,
    );
  }

  if (method !== "POST") return { status: 405, headers: { Allow: "GET, POST", "Cache-Control": "no-store" } };
  const result = await applyLinkAction(deps, claims, inputFor(action, until, linkActor(form?.get("name"), claims)));
  switch (result.outcome) {
    case "applied":
      return htmlResponse(200, appliedPage({ nonce }, action, result.incident), nonce);
    case "no-change":
      return htmlResponse(200, nothingToDoPage({ nonce }, action, result.incident), nonce);
    case "link-used":
      return problem("reused");
    case "incident-closed":
      return problem("incident-closed");
    case "failed":
      return problem("failed");
  }
}

function inputFor(action: LinkAction, until: string | undefined, by: string): LifecycleInput {
  return action === "ack" ? { kind: "acknowledged", by } : { kind: "snoozed", until: until!, by };
}
