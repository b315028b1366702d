/**
 * `cmk-monitor weekly-report --preview`: the weekly report of the last complete ISO week, built from
 * the deployment's own state (the same settings and table as the monitor), printed or written as
 * HTML. It records and sends nothing: the poll cycle does that once the week turns.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getMonitorDeps } from "../composition";
import { ConfigurationError } from "../config";
import { buildWeeklyReport, reportWeekAt } from "../domain/weeklyReport";
import { renderEmail } from "../email/templates";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import type { CliIo } from "./io";

export const WEEKLY_REPORT_USAGE = "usage: cmk-monitor weekly-report --preview [--html FILE] [--at ISO-TIME]";

export async function runWeeklyReport(args: string[], io: CliIo, deps: () => MonitorDeps = () => getMonitorDeps()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { preview: { type: "boolean" }, html: { type: "string" }, at: { type: "string" } } });
  } catch (error) {
    io.stderr(`cmk-monitor weekly-report: ${(error as Error).message}\n${WEEKLY_REPORT_USAGE}`);
    return 1;
  }
  if (!parsed.values.preview) {
    io.stderr(`cmk-monitor weekly-report: only --preview is offered; the monitor sends the report itself (CMK_WEEKLY_REPORT=on).\n${WEEKLY_REPORT_USAGE}`);
    return 1;
  }
  const at = parsed.values.at === undefined ? undefined : new Date(parsed.values.at);
  if (at !== undefined && Number.isNaN(at.getTime())) {
    io.stderr(`cmk-monitor weekly-report: --at must be a time such as 2026-11-30T00:00:00Z.\n${WEEKLY_REPORT_USAGE}`);
    return 1;
  }
  let monitor: MonitorDeps;
  try {
    monitor = deps();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      io.stderr(`cmk-monitor weekly-report: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const week = reportWeekAt(at ?? monitor.clock.now());
  const [incidents, checks] = await Promise.all([monitor.store.listIncidents(), monitor.warnings.listAccountChecks()]);
  const email = renderEmail(
    buildWeeklyReport(
      week,
      incidents,
      checks.map((entry) => entry.check),
    ),
  );
  if (parsed.values.html) {
    writeFileSync(parsed.values.html, email.html);
    io.stdout(`${email.subject}\nHTML written to ${parsed.values.html}`);
  } else {
    io.stdout(`Subject: ${email.subject}\n\n${email.text}`);
  }
  return 0;
}
