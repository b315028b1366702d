/**
 * The pull catch-up's pure half (issue 18 item 2): the one Resource Graph `resourcechanges` query a
 * cycle runs since its watermark, and the reading of its rows into the same change targets the push
 * path uses (src/domain/changeEvents.ts), so both paths end in the same coalesced re-check.
 *
 * Row shape (Resource Graph "Get resource changes" docs): properties.targetResourceId,
 * properties.changeType (Create | Update | Delete), properties.changeAttributes.timestamp and
 * properties.changes, a map from property path to { previousValue, newValue, ... }.
 * Change data lags and is kept 14 days, so the window starts before the watermark (overlap) and
 * never reaches back more than the retention; duplicates are left to the `recheck` coalescing.
 */
import { normalizeResourceId } from "./account";
import type { ChangeTarget } from "./changeEvents";

/**
 * How far back a query reaches before its watermark. Resource Graph's change data arrives late by
 * an amount the docs do not bound, so the overlap is generous: a change shown up to an hour late is
 * still read. Re-reading costs only a fleet-index lookup: a re-check that started after a change
 * is not repeated for it (`claimRecheck`).
 */
export const CHANGE_QUERY_OVERLAP_MS = 60 * 60_000;
/** Resource Graph keeps resource changes for 14 days; older windows would silently return nothing. */
export const CHANGE_RETENTION_MS = 14 * 24 * 60 * 60_000;

/** Property paths whose change can break an account's access to its key (prefix match: children count). */
export const WATCHED_CHANGE_PATHS = [
  "properties.accessPolicies",
  "properties.networkAcls",
  "properties.enableRbacAuthorization",
  "properties.publicNetworkAccess",
  "properties.defaultIdentity",
  "properties.keyVaultKeyUri",
  "identity",
] as const;

export interface ChangeWindow {
  /** Exclusive lower bound sent to Resource Graph (ISO 8601). */
  from: string;
  /** Inclusive upper bound; the next watermark once the re-checks are recorded. */
  to: string;
  /** Set when the watermark was older than the retention: changes before `from` can no longer be read. */
  clamped?: true;
}

/**
 * The window a cycle queries: from the stored watermark (or one interval ago on the first run) minus
 * the overlap, clamped to the retention, up to now.
 */
export function changeWindow(now: Date, watermark: string | undefined, intervalInMinutes: number): ChangeWindow {
  const nowMs = now.getTime();
  const stored = watermark === undefined ? Number.NaN : Date.parse(watermark);
  const start = Number.isFinite(stored) && stored <= nowMs ? stored : nowMs - intervalInMinutes * 60_000;
  const oldest = nowMs - CHANGE_RETENTION_MS;
  const wanted = start - CHANGE_QUERY_OVERLAP_MS;
  return { from: new Date(Math.max(wanted, oldest)).toISOString(), to: now.toISOString(), ...(wanted < oldest ? { clamped: true as const } : {}) };
}

function kqlString(value: string): string {
  // Resource ids never carry quotes; anything that does is not an id we watch, so it is refused, not escaped.
  if (!/^[A-Za-z0-9/._()-]+$/.test(value)) throw new RangeError(`Not a resource id: ${JSON.stringify(value)}`);
  return `'${value.toLowerCase()}'`;
}

/** The single `resourcechanges` query for the fleet's vaults and accounts in a window. */
export function buildResourceChangesQuery(window: ChangeWindow, resourceIds: readonly string[]): string | undefined {
  const ids = [...new Set(resourceIds.map((id) => normalizeResourceId(id)))].sort();
  if (ids.length === 0) return undefined;
  return [
    "resourcechanges",
    "| extend changeTime = todatetime(properties.changeAttributes.timestamp), targetResourceId = tolower(tostring(properties.targetResourceId)),",
    "    changeType = tostring(properties.changeType)",
    `| where changeTime > datetime(${window.from}) and changeTime <= datetime(${window.to})`,
    `| where targetResourceId in (${ids.map(kqlString).join(", ")})`,
    "| project changeTime, targetResourceId, changeType, changes = properties.changes",
    "| order by changeTime asc",
  ].join("\n");
}

/**
 * Ids named in one query. Resource Graph documents no limit on a query's text, so a fleet's thousands
 * of ids are split (assumed: a limit exists and is not far above this; each id is about 150 characters).
 */
export const MAX_IDS_PER_CHANGE_QUERY = 500;

/** The window's queries: the fleet's ids, deduplicated and sorted, MAX_IDS_PER_CHANGE_QUERY to a query. */
export function buildResourceChangesQueries(window: ChangeWindow, resourceIds: readonly string[]): string[] {
  const ids = [...new Set(resourceIds.map((id) => normalizeResourceId(id)))].sort();
  const queries: string[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CHANGE_QUERY) queries.push(buildResourceChangesQuery(window, ids.slice(i, i + MAX_IDS_PER_CHANGE_QUERY))!);
  return queries;
}

export interface ResourceChangeRow {
  changeTime?: unknown;
  targetResourceId?: unknown;
  changeType?: unknown;
  changes?: unknown;
}

export type ReadChange = { relevant: true; target: ChangeTarget; changeTime: string; what: string } | { relevant: false; reason: "invalid" | "not-watched" };

const VAULT_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.keyvault\/vaults\/([a-z0-9-]{3,24})$/i;
const ACCOUNT_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.documentdb\/databaseaccounts\/[^/]+$/i;

function isWatchedPath(path: string): boolean {
  return WATCHED_CHANGE_PATHS.some((watched) => path === watched || path.startsWith(`${watched}.`) || path.startsWith(`${watched}[`));
}

/** One row of the query's answer: which part of the fleet it affects, or why it is ignored. */
export function readResourceChange(row: ResourceChangeRow): ReadChange {
  const id = typeof row.targetResourceId === "string" ? row.targetResourceId : undefined;
  // One format (toISOString) for every time: the re-check claims compare them as strings.
  const time = typeof row.changeTime === "string" && Number.isFinite(Date.parse(row.changeTime)) ? new Date(row.changeTime).toISOString() : undefined;
  const changeType = typeof row.changeType === "string" ? row.changeType : undefined;
  if (id === undefined || time === undefined || changeType === undefined) return { relevant: false, reason: "invalid" };
  const vault = VAULT_ID.exec(id);
  const target: ChangeTarget | undefined = vault
    ? { kind: "vault", vaultName: vault[1].toLowerCase() }
    : ACCOUNT_ID.test(id)
      ? { kind: "account", accountId: normalizeResourceId(id) }
      : undefined;
  if (target === undefined) return { relevant: false, reason: "not-watched" };
  // A deleted vault or account breaks access whatever its properties were.
  if (changeType.toLowerCase() === "delete") return { relevant: true, target, changeTime: time, what: "deleted" };
  if (changeType.toLowerCase() !== "update") return { relevant: false, reason: "not-watched" };
  const paths = typeof row.changes === "object" && row.changes !== null && !Array.isArray(row.changes) ? Object.keys(row.changes) : [];
  const watched = paths.filter(isWatchedPath).sort();
  if (watched.length === 0) return { relevant: false, reason: "not-watched" };
  return { relevant: true, target, changeTime: time, what: watched.join(", ") };
}
