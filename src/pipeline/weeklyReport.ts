/**
 * The weekly report, recorded by the first poll cycle after Monday 00:00 UTC (the injected clock).
 * The state row naming the last week reported and the report's outbox row are written in one
 * ETag-guarded transaction, and the key is the ISO week: two instances racing for the same week
 * record it once (the loser gets StateConflictError and stops). The drain sends it like any email,
 * at the lowest priority (src/pipeline/sendUnit.ts).
 */
import { resolveOwnerRecipients } from "../domain/recipients";
import { buildWeeklyReport, reportWeekAt, weeklyReportMessage } from "../domain/weeklyReport";
import { StateConflictError } from "../ports/errors";
import type { CycleContext } from "./cycleContext";

export type WeeklyReportOutcome = "off" | "already-recorded" | "not-due" | "no-recipients" | "recorded" | "recorded-elsewhere";

/** The first report ever is recorded only this soon after the week turned (Monday, UTC). */
const FIRST_REPORT_WINDOW_IN_MS = 24 * 60 * 60_000;

export async function recordWeeklyReport(ctx: CycleContext): Promise<WeeklyReportOutcome> {
  if (!ctx.settings.weeklyReport) return "off";
  const due = reportWeekAt(ctx.now);
  const { store, warnings } = ctx.deps;
  const state = await store.getWeeklyReportState();
  // ISO week names of the same width sort by time.
  if (state.lastWeek !== undefined && state.lastWeek >= due.week) return "already-recorded";
  // A missed Monday is caught up once a report was ever recorded; a first deployment mid-week
  // waits for the next rollover rather than report a week it did not watch.
  if (state.lastWeek === undefined && ctx.now.getTime() - due.to.getTime() >= FIRST_REPORT_WINDOW_IN_MS) return "not-due";
  // The same checks as every other recipient: valid addresses in the allowed domains.
  const { recipients } = resolveOwnerRecipients(
    {},
    { ownerTag: ctx.settings.ownerTag, defaultRecipients: ctx.settings.escalationRecipients, allowedRecipientDomains: ctx.settings.allowedRecipientDomains },
  );
  if (recipients.length === 0) {
    ctx.deps.log.warn(`cmk-monitor: no CMK_ESCALATION_RECIPIENTS address passes the recipient checks: weekly report ${due.week} not recorded`);
    return "no-recipients";
  }
  const [incidents, checks] = await Promise.all([store.listIncidents(), warnings.listAccountChecks()]);
  const facts = buildWeeklyReport(
    due,
    incidents,
    checks.map((entry) => entry.check),
  );
  try {
    await store.commitWeeklyReport(due.week, state.etag, weeklyReportMessage(facts, recipients, ctx.now));
  } catch (error) {
    if (error instanceof StateConflictError) return "recorded-elsewhere";
    throw error;
  }
  ctx.deps.log.info(`cmk-monitor: recorded weekly report ${due.week} for ${recipients.length} recipient(s)`);
  return "recorded";
}
