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
 *
 * `resourcechanges` does not carry role assignments, and on an RBAC vault the default identity's
 * permission is one: the same run also reads the role assignments of the fleet's RBAC principals
 * from `authorizationresources` and re-checks each account whose set changed since the fingerprint
 * the fleet index holds (src/domain/roleAssignmentChanges.ts). That read has no watermark: it
 * compares states, so a removal is seen by the first run after Resource Graph shows it.
 */
import { buildResourceChangesQueries, changeWindow, readResourceChange, type ChangeWindow, type ResourceChangeRow } from "../domain/resourceChanges";
import { buildRoleAssignmentQueries, decideRoleAssignmentChanges, type RoleAssignmentDecision, type RoleAssignmentRow } from "../domain/roleAssignmentChanges";
import { describeFailure } from "../ports/failures";
import type { ResourceChangeScope } from "../ports/resourceChanges";
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
  /** The role-assignment read: accounts watched, those whose assignments changed, those seen for the first time; `failed` when it could not be read. */
  roles: RoleCheckOutcome;
  /** False when another instance moved the watermark meanwhile (its window covered this one's start). */
  advanced: boolean;
  /** Where the watermark was moved to: the window's end, or the earliest change whose account could not be read. */
  watermark?: string;
}

export interface RoleCheckOutcome {
  watched: number;
  changed: number;
  firstSight: number;
  failed?: true;
}

const NO_RECHECK: RecheckOutcome = { accounts: 0, rechecked: 0, coalesced: 0, skipped: 0, failed: 0, atRiskEmails: 0 };
const NO_ROLES: RoleCheckOutcome = { watched: 0, changed: 0, firstSight: 0 };

export function catchUpChanges(deps: MonitorDeps): Promise<CatchUpOutcome> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => catchUp(deps));
}

async function catchUp(deps: MonitorDeps): Promise<CatchUpOutcome> {
  const idle = { rows: 0, relevant: 0, recheck: NO_RECHECK, roles: NO_ROLES, advanced: false };
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
  const relevant = changes.length;
  const roleDecisions = await readRoleAssignmentChanges(deps, scope);
  const roleChanges = roleDecisions?.filter((decision) => decision.verdict === "changed") ?? [];
  // Changed as of this run: a re-check that starts now sees the assignments as they are.
  for (const decision of roleChanges) changes.push({ targets: [{ kind: "account", accountId: decision.accountId }], changedAt: window.to });
  const recheck = changes.length > 0 ? await recheckChanged(deps, changes, "catch-up") : NO_RECHECK;
  const roles: RoleCheckOutcome =
    roleDecisions === undefined
      ? { ...NO_ROLES, failed: true }
      : { watched: roleDecisions.length, changed: roleChanges.length, firstSight: roleDecisions.filter((d) => d.verdict === "first-sight").length };
  // A changed set is recorded only once every re-check read its account; otherwise the next run sees the change again.
  if (roleDecisions)
    await recordRoleFingerprints(
      deps,
      roleDecisions.filter((d) => d.verdict === "first-sight" || (d.verdict === "changed" && recheck.failed === 0)),
    );
  // An account that could not be read holds the watermark at its change: the next run (due at once) reads it again.
  const to = recheck.firstFailedChange !== undefined && recheck.firstFailedChange < window.to ? recheck.firstFailedChange : window.to;
  const advanced = await deps.changes.watermark.advanceChangeWatermark(read, to, window.clamped ? window.from : undefined);
  deps.log.info(
    `cmk-monitor: change catch-up ${window.from} → ${window.to}: ${rows.length} change(s), ${relevant} watched, ${recheck.accounts} account(s), ` +
      `${recheck.rechecked} re-checked, ${recheck.coalesced} already covered, ${recheck.failed} unreadable, ${recheck.atRiskEmails} at-risk email(s); ` +
      `role assignments: ${roles.failed ? "not read" : `${roles.watched} account(s) watched, ${roles.changed} changed, ${roles.firstSight} first seen`}` +
      (advanced ? "" : "; watermark left to the instance that moved it meanwhile"),
  );
  return { outcome: "done", window, rows: rows.length, relevant, recheck, roles, advanced, watermark: to };
}

/**
 * The fleet's RBAC principals' role assignments against the stored fingerprints; undefined when they
 * could not be read (logged): the `resourcechanges` half goes on, and the next run compares again.
 */
async function readRoleAssignmentChanges(deps: MonitorDeps, scope: ResourceChangeScope): Promise<RoleAssignmentDecision[] | undefined> {
  try {
    const watched = await deps.fleetIndex.rolePrincipals();
    if (watched.length === 0) return [];
    const rows: RoleAssignmentRow[] = [];
    for (const query of buildRoleAssignmentQueries(watched.map((w) => w.principalId))) {
      rows.push(...(await deps.changes!.source.queryRoleAssignments(query, scope)).rows);
    }
    return decideRoleAssignmentChanges(watched, rows, await deps.fleetIndex.roleFingerprints());
  } catch (error) {
    deps.log.warn(`cmk-monitor: change catch-up: could not read role assignments (the next run tries again): ${describeFailure(error).message}`);
    return undefined;
  }
}

/** Guarded writes: one another instance made first stands (it read the same assignments). */
async function recordRoleFingerprints(deps: MonitorDeps, decisions: readonly RoleAssignmentDecision[]): Promise<void> {
  for (const { accountId, principalId, fingerprint, previous } of decisions) {
    try {
      await deps.fleetIndex.recordRoleFingerprint({ accountId, principalId, fingerprint }, previous);
    } catch (error) {
      deps.log.warn(`cmk-monitor: could not record the role assignments of ${accountId} (the next run compares again): ${describeFailure(error).message}`);
    }
  }
}
