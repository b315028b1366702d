/**
 * The whole fleet at a glance: every account the monitor knows with one state (an open incident's
 * state, at risk when the daily check found something, unknown when the check is stale), counts
 * by state and cause, subscriptions covered, the last cycle's health, and a filter over the
 * accounts. Pure; the dashboard and `GET /api/status` show it.
 */
import { normalizeResourceId, parseAccountResourceId } from "../domain/account";
import { CAUSE_IDS, type CauseId } from "../domain/causes";
import type { Incident } from "../domain/incident";
import { resolveOwnerRecipients } from "../domain/recipients";
import { CHANGE_RETENTION_MS } from "../domain/resourceChanges";
import { WARNING_KINDS, type CheckedAccount, type WarningKind, type WarningSeverity } from "../domain/warnings";
import type { CycleHeartbeat } from "../ports/heartbeat";

/** Most urgent first: the order of the overview and of the account list. */
export const FLEET_STATES = ["escalated", "revoked", "recovering", "at-risk", "unknown", "healthy"] as const;
export type FleetState = (typeof FLEET_STATES)[number];

export interface FleetAccount {
  accountId: string;
  accountName: string;
  subscriptionId: string;
  resourceGroup: string;
  state: FleetState;
  /** The open incident's cause; null for accounts without one. */
  cause: CauseId | null;
  incidentId: string | null;
  /** Valid addresses from the owner tag, as last seen on the open incident or the daily check. */
  owners: string[];
  /** The last daily check's findings, worst first. */
  warnings: Array<{ kind: WarningKind; severity: WarningSeverity; title: string }>;
  lastCheckedAt: string | null;
  /** When the open incident was detected. */
  detectedAt: string | null;
}

export type CycleHealth = "ok" | "degraded" | "late" | "none";

export interface FleetOverview {
  accounts: {
    /** The accounts listed plus those the last cycle saw but nothing records yet (counted healthy). */
    total: number;
    byState: Record<FleetState, number>;
    /** Open incidents by cause. */
    byCause: Partial<Record<CauseId, number>>;
    /** At-risk accounts by the kind of finding (an account with two kinds counts under both). */
    byWarning: Partial<Record<WarningKind, number>>;
    /** Healthy by the last cycle's status but never probed (probes off, or not yet due): counted healthy, not listed. */
    notProbed: number;
  };
  /** From the last cycle; null until a cycle of this version completed. */
  subscriptions: { inScope: number | null; readable: number | null; withCmk: number | null; failed: number; propagating: number } | null;
  lastCycle: { health: CycleHealth; reasons: string[]; finishedAt: string | null };
}

export interface FleetOptions {
  pollIntervalInMinutes: number;
  ownerTag: string;
  allowedRecipientDomains: readonly string[];
}

/** A daily check older than this means the account could not be checked (unreadable, deadlines, gone). */
export const STALE_CHECK_IN_HOURS = 48;
const HOUR_IN_MS = 3_600_000;

export function buildFleet(
  openIncidents: readonly Incident[],
  checks: readonly CheckedAccount[],
  lastCycle: CycleHeartbeat | undefined,
  now: Date,
  options: FleetOptions,
): { overview: FleetOverview; accounts: FleetAccount[] } {
  const accounts = new Map<string, FleetAccount>();
  const checkOf = new Map(checks.map((check) => [normalizeResourceId(check.accountId), check]));
  for (const incident of openIncidents) {
    if (incident.state === "resolved") continue;
    const parsed = parseAccountResourceId(incident.accountId);
    const check = checkOf.get(normalizeResourceId(incident.accountId));
    accounts.set(normalizeResourceId(incident.accountId), {
      accountId: incident.accountId,
      accountName: incident.account?.name || parsed?.name || incident.accountId,
      subscriptionId: incident.account?.subscriptionId ?? parsed?.subscriptionId ?? "",
      resourceGroup: incident.account?.resourceGroup ?? parsed?.resourceGroup ?? "",
      state: incident.state,
      cause: incident.cause,
      incidentId: incident.id,
      owners: resolveOwnerRecipients(incident.account?.tags ?? {}, { ...options, defaultRecipients: [] }).recipients,
      warnings: check ? warningsOf(check) : [],
      lastCheckedAt: check?.checkedAt ?? null,
      detectedAt: incident.detectedAt,
    });
  }
  const staleBefore = now.getTime() - STALE_CHECK_IN_HOURS * HOUR_IN_MS;
  for (const check of checks) {
    const key = normalizeResourceId(check.accountId);
    if (accounts.has(key)) continue;
    const stale = Date.parse(check.checkedAt) < staleBefore;
    accounts.set(key, {
      accountId: check.accountId,
      accountName: check.accountName,
      subscriptionId: check.subscriptionId,
      resourceGroup: check.resourceGroup,
      state: stale ? "unknown" : check.findings.length > 0 ? "at-risk" : "healthy",
      cause: null,
      incidentId: null,
      owners: check.owners ?? [],
      warnings: warningsOf(check),
      lastCheckedAt: check.checkedAt,
      detectedAt: null,
    });
  }
  const listed = [...accounts.values()].sort(
    (a, b) =>
      FLEET_STATES.indexOf(a.state) - FLEET_STATES.indexOf(b.state) || a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId),
  );

  const byState = Object.fromEntries(FLEET_STATES.map((state) => [state, 0])) as Record<FleetState, number>;
  const byCause: Partial<Record<CauseId, number>> = {};
  const byWarning: Partial<Record<WarningKind, number>> = {};
  for (const account of listed) {
    byState[account.state] += 1;
    if (account.cause) byCause[account.cause] = (byCause[account.cause] ?? 0) + 1;
    if (account.state === "at-risk") for (const kind of new Set(account.warnings.map((w) => w.kind))) byWarning[kind] = (byWarning[kind] ?? 0) + 1;
  }
  // The cycle counts every CMK account it saw; those no row describes yet were healthy by their status.
  const current = listed.filter((account) => account.state !== "unknown").length;
  const notProbed = Math.max(0, (lastCycle?.accountsSeen ?? 0) - current);
  byState.healthy += notProbed;

  return {
    overview: {
      accounts: { total: listed.length + notProbed, byState, byCause, byWarning, notProbed },
      subscriptions: lastCycle
        ? {
            inScope: lastCycle.subscriptionsInScope ?? null,
            readable: lastCycle.subscriptionsReadable ?? null,
            withCmk: lastCycle.subscriptionsWithCmk ?? null,
            failed: lastCycle.subscriptionsFailed,
            propagating: lastCycle.subscriptionsPropagating ?? 0,
          }
        : null,
      lastCycle: cycleHealth(lastCycle, now, options.pollIntervalInMinutes),
    },
    accounts: listed,
  };
}

function warningsOf(check: CheckedAccount): FleetAccount["warnings"] {
  return check.findings.map(({ kind, severity, title }) => ({ kind, severity, title }));
}

/** Late after three missed polls (at least 15 minutes); degraded when the last one could not read everything. */
export function cycleHealth(cycle: CycleHeartbeat | undefined, now: Date, pollIntervalInMinutes: number): FleetOverview["lastCycle"] {
  if (!cycle) return { health: "none", reasons: ["no completed cycle recorded yet"], finishedAt: null };
  const reasons: string[] = [];
  const lateAfterInMinutes = Math.max(15, 3 * pollIntervalInMinutes);
  const ageInMinutes = Math.floor((now.getTime() - Date.parse(cycle.finishedAt)) / 60_000);
  if (ageInMinutes > lateAfterInMinutes) reasons.push(`the last cycle finished ${ageInMinutes} minutes ago (polls are every ${pollIntervalInMinutes})`);
  const late = reasons.length > 0;
  if (cycle.subscriptionsFailed > 0) reasons.push(`${cycle.subscriptionsFailed} subscription(s) could not be read`);
  if (cycle.statusSourceFallback) reasons.push(`Resource Graph not trusted: ${cycle.statusSourceFallback}`);
  if (cycle.emailsRetrying > 0) reasons.push(`${cycle.emailsRetrying} email(s) waiting to be retried`);
  const undelivered = cycle.deliveryReports?.undeliveredEscalations ?? [];
  if (undelivered.length > 0) {
    const latest = undelivered[0]!;
    reasons.push(`${undelivered.length} escalation email(s) not delivered (latest: ${latest.recipient} ${latest.status}): check the escalation contacts`);
  }
  // A clamped catch-up window is reported for a day after it happened (gapBefore is 14 days before then): changes before it were never read.
  const gap = cycle.changeCatchUp?.gapBefore;
  if (gap && now.getTime() - Date.parse(gap) < CHANGE_RETENTION_MS + DAY_IN_MS) {
    reasons.push(`the change catch-up could not read Azure's changes before ${gap} (past their 14-day retention); the daily checks cover them`);
  }
  return { health: late ? "late" : reasons.length > 0 ? "degraded" : "ok", reasons, finishedAt: cycle.finishedAt };
}

const DAY_IN_MS = 24 * 60 * 60_000;

export interface FleetQuery {
  /** Matched case-insensitively against the name, resource group, subscription and owners. */
  q?: string;
  state?: FleetState;
  /** An open incident's cause, or the kind of a warning. */
  cause?: CauseId | WarningKind;
  subscription?: string;
  owner?: string;
}

const MAX_QUERY_LENGTH = 200;

/** The dashboard's filter from its query string; unknown states and causes are ignored, not errors (it is a form). */
export function parseFleetQuery(params: URLSearchParams): FleetQuery {
  const text = (name: string): string | undefined => {
    const value = params.get(name)?.trim().slice(0, MAX_QUERY_LENGTH);
    return value ? value : undefined;
  };
  const query: FleetQuery = {};
  const q = text("q");
  if (q) query.q = q;
  const state = text("state");
  if (state && (FLEET_STATES as readonly string[]).includes(state)) query.state = state as FleetState;
  const cause = text("cause");
  if (cause && ((CAUSE_IDS as readonly string[]).includes(cause) || (WARNING_KINDS as readonly string[]).includes(cause)))
    query.cause = cause as CauseId | WarningKind;
  const subscription = text("subscription");
  if (subscription) query.subscription = subscription;
  const owner = text("owner");
  if (owner) query.owner = owner;
  return query;
}

export function isFiltered(query: FleetQuery): boolean {
  return Object.keys(query).length > 0;
}

export function filterAccounts(accounts: readonly FleetAccount[], query: FleetQuery): FleetAccount[] {
  const has = (value: string, part: string): boolean => value.toLowerCase().includes(part.toLowerCase());
  return accounts.filter(
    (account) =>
      (!query.state || account.state === query.state) &&
      (!query.cause || account.cause === query.cause || account.warnings.some((w) => w.kind === query.cause)) &&
      (!query.subscription || has(account.subscriptionId, query.subscription)) &&
      (!query.owner || account.owners.some((owner) => has(owner, query.owner!))) &&
      (!query.q || [account.accountName, account.resourceGroup, account.subscriptionId, ...account.owners].some((value) => has(value, query.q!))),
  );
}
