/**
 * Who may see the dashboard and the status JSON. By default the Functions host asks for a
 * function key (authLevel "function"). With CMK_DASHBOARD_AUTH=anonymous the host asks for
 * nothing and App Service Authentication must stand in front; as a second line, the handlers
 * trust its x-ms-client-principal* headers only when the platform says the module is on (it
 * then strips any such header a client sends), and only for principals on the allow-list.
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { MonitorSettings } from "../config";
import { html } from "../email/html";
import { htmlResponse, jsonResponse } from "./responses";

type AccessSettings = Pick<MonitorSettings, "dashboardAuth" | "dashboardAllowedPrincipals" | "appServiceAuthEnabled">;

export type DashboardAccess =
  | "allowed"
  /** Anonymous mode, and the request did not come through App Service Authentication. */
  | "sign-in-required"
  /** Signed in, but neither the principal nor any of its groups is on the allow-list. */
  | "not-allowed";

const OBJECT_ID_CLAIMS = new Set(["oid", "http://schemas.microsoft.com/identity/claims/objectidentifier"]);
const GROUP_CLAIMS = new Set(["groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"]);
/** A principal header larger than this is not App Service's (it carries a token's claims, a few KB). */
const MAX_PRINCIPAL_HEADER = 64 * 1024;

export function dashboardAccess(request: HttpRequest, settings: AccessSettings): DashboardAccess {
  if (settings.dashboardAuth !== "anonymous") return "allowed";
  // Without the module any client can send these headers: nothing they say is believed.
  if (!settings.appServiceAuthEnabled) return "sign-in-required";
  const principalId = request.headers.get("x-ms-client-principal-id")?.trim().toLowerCase();
  if (!principalId) return "sign-in-required";
  const allowed = new Set(settings.dashboardAllowedPrincipals.map((id) => id.toLowerCase()));
  if (allowed.has(principalId)) return "allowed";
  for (const id of principalObjectIds(request.headers.get("x-ms-client-principal"))) if (allowed.has(id)) return "allowed";
  return "not-allowed";
}

/** The object id and group ids in App Service's x-ms-client-principal (base64 JSON of the token's claims). */
function principalObjectIds(header: string | null): string[] {
  if (!header || header.length > MAX_PRINCIPAL_HEADER) return [];
  let claims: unknown;
  try {
    claims = (JSON.parse(Buffer.from(header, "base64").toString("utf8")) as { claims?: unknown }).claims;
  } catch {
    return [];
  }
  if (!Array.isArray(claims)) return [];
  return claims
    .filter((claim): claim is { typ: string; val: string } => typeof claim?.typ === "string" && typeof claim?.val === "string")
    .filter((claim) => OBJECT_ID_CLAIMS.has(claim.typ) || GROUP_CLAIMS.has(claim.typ))
    .map((claim) => claim.val.trim().toLowerCase());
}

/** The JSON answer for a request the dashboard's access rules refuse (401 or 403); undefined when allowed. */
export function refusedJson(request: HttpRequest, settings: AccessSettings): HttpResponseInit | undefined {
  const access = dashboardAccess(request, settings);
  if (access === "sign-in-required") {
    return jsonResponse(401, { error: "App Service Authentication is required in front of this endpoint (CMK_DASHBOARD_AUTH=anonymous)." });
  }
  if (access === "not-allowed") return jsonResponse(403, { error: "You are signed in, but not on CMK_DASHBOARD_ALLOWED_PRINCIPALS." });
  return undefined;
}

/** The page for a request the dashboard's access rules refuse (401 or 403); undefined when allowed. `what` names the page. */
export function refusedPage(request: HttpRequest, settings: AccessSettings, nonce: string, what: "dashboard" | "page"): HttpResponseInit | undefined {
  const access = dashboardAccess(request, settings);
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
      html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign-in required</title></head><body><h1>Sign-in required</h1><p>This ${what} is served anonymously only behind App Service Authentication, and this request did not come through it.</p></body></html>`,
      nonce,
    );
  }
  return undefined;
}
