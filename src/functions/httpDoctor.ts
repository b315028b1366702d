/**
 * GET /api/doctor: `cmk-monitor doctor` run inside the function app, so every row is checked with
 * the app's own managed identity and settings. Admin level: only the host's master key opens it.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { runDoctor } from "../app/doctor";
import { getDoctorTargets } from "../composition";

export async function httpDoctor(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const report = await runDoctor(process.env, getDoctorTargets);
  for (const check of report.checks) if (check.status === "fail") context.warn(`cmk-monitor doctor: ${check.id}: ${check.detail}`);
  return { status: 200, headers: { "cache-control": "no-store" }, jsonBody: { checks: report.checks, exitCode: report.exitCode } };
}

app.http("cmkDoctor", { methods: ["GET"], authLevel: "admin", route: "doctor", handler: httpDoctor });
