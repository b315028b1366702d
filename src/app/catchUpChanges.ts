/**
 * The pull catch-up (issue 18 item 2): every CMK_CHANGES_INTERVAL_MINUTES, one Resource Graph
 * `resourcechanges` query (one per 500 ids) for the fleet's vaults and accounts since the shared watermark, so a change
 * whose event never arrived (not subscribed, lost, switched off) still sets off a re-check within one
 * interval. The changes end in the same coalesced re-check as a change event (`recheckChanged`).
 *
 * The watermark moves only after the window's re-checks are recorded, and only from the version this
 * run read (ETag-guarded): two instances running at once both re-check (the per-account claims
 * coalesce them) and only one moves it, never past changes the other has not read. Each window
 * starts an hour before the watermark (CHANGE_QUERY_OVERLAP_MS), for changes Resource Graph shows late; re-reading them is
 * harmless, a re-check started after a change is not repeated and at-risk keys allow one email each.
 */
import { buildResourceChangesQueries, changeWindow, readResourceChange, type ChangeWindow, type ResourceChangeRow } from "../domain/resourceChanges";
import { withCallDeadline } from "../ports/callDeadline";
import { INVOCATION_BUDGET_IN_MS } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { recheckChanged, type ChangeToRecheck, type RecheckOutcome } from "./handleChangeEvent";

/** Timers fire a little early or late: half a minute of slack keeps a 15-minute cadence at 15 minutes. */
const DUE_SLACK_IN_MS = 30_000;

export interface CatchUpOutcome {
  /** off: no change source or no probes; not-due: the last window ended less than an interval ago. */
  outcome: "off" | "not-due" | "done";
  window?: ChangeWindow;
  /** Rows Resource Graph returned, and those that name a watched change. */
  rows: number;
  relevant: number;
  recheck: RecheckOutcome;
  /** False when another instance moved the watermark meanwhile (its window covered this one's start). */
  advanced: boolean;
  /** Where the watermark was moved to: the window's end, or the earliest change whose account could not be read. */
  watermark?: string;
}

const NO_RECHECK: RecheckOutcome = { accounts: 0, rechecked: 0, coalesced: 0, skipped: 0, failed: 0, atRiskEmails: 0 };

export function catchUpChanges(deps: MonitorDeps): Promise<CatchUpOutcome> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => catchUp(deps));
}

async function catchUp(deps: MonitorDeps): Promise<CatchUpOutcome> {
  const idle = { rows: 0, relevant: 0, recheck: NO_RECHECK, advanced: false };
  // Without probes there is nothing to re-check with; the poll reads the ARM status alone.
  if (!deps.changes || !deps.probes) return { outcome: "off", ...idle };
  const now = deps.clock.now();
  const intervalInMinutes = deps.settings.changesIntervalInMinutes;
  const read = await deps.changes.watermark.readChangeWatermark();
  const last = read.watermark === undefined ? Number.NaN : Date.parse(read.watermark);
  if (Number.isFinite(last) && last <= now.getTime() && now.getTime() - last < intervalInMinutes * 60_000 - DUE_SLACK_IN_MS) {
    return { outcome: "not-due", ...idle };
  }

  const window = changeWindow(now, read.watermark, intervalInMinutes);
  if (window.clamped) {
    deps.log.warn(
      `cmk-monitor: change catch-up: the last window ended at ${read.watermark}, beyond Resource Graph's 14-day change retention; changes before ${window.from} are not read (the daily checks cover them)`,
    );
  }
  const queries = buildResourceChangesQueries(window, await deps.fleetIndex.watchedResourceIds());
  const scope = { subscriptionIds: deps.settings.subscriptionIds, managementGroups: deps.settings.managementGroups };
  // Throws on a failed or partial answer: the watermark stays, and the next run reads the window again.
  const rows: ResourceChangeRow[] = [];
  for (const query of queries) rows.push(...(await deps.changes.source.queryChanges(query, scope)).rows);
  const changes: ChangeToRecheck[] = [];
  for (const row of rows) {
    const change = readResourceChange(row);
    if (change.relevant) changes.push({ targets: [change.target], changedAt: change.changeTime });
  }
  const recheck = changes.length > 0 ? await recheckChanged(deps, changes, "catch-up") : NO_RECHECK;
  // An account that could not be read holds the watermark at its change: the next run (due at once) reads it again.
  const to = recheck.firstFailedChange !== undefined && recheck.firstFailedChange < window.to ? recheck.firstFailedChange : window.to;
  const advanced = await deps.changes.watermark.advanceChangeWatermark(read, to, window.clamped ? window.from : undefined);
  deps.log.info(
    `cmk-monitor: change catch-up ${window.from} → ${window.to}: ${rows.length} change(s), ${changes.length} watched, ${recheck.accounts} account(s), ` +
      `${recheck.rechecked} re-checked, ${recheck.coalesced} already covered, ${recheck.failed} unreadable, ${recheck.atRiskEmails} at-risk email(s)` +
      (advanced ? "" : "; watermark left to the instance that moved it meanwhile"),
  );
  return { outcome: "done", window, rows: rows.length, relevant: changes.length, recheck, advanced, watermark: to };
}
