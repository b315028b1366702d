/**
 * The pull catch-up's view of role assignments (issue 18 item 2): on an RBAC vault the default
 * identity's permission is a role assignment, and `resourcechanges` does not carry role
 * assignments, so each run also asks Resource Graph's `authorizationresources` for the
 * assignments of the fleet's default-identity principals and compares a fingerprint of each
 * account's set with the one stored in the fleet index. Pure: the queries, the fingerprint and
 * the decision per account.
 */
import { createHash } from "node:crypto";
import { normalizeResourceId } from "./account";

/** Principals named in one query, as for resource ids (MAX_IDS_PER_CHANGE_QUERY): Resource Graph documents no query-length limit. */
export const MAX_PRINCIPALS_PER_ROLE_QUERY = 500;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One row of the query's answer (its projection). */
export interface RoleAssignmentRow {
  id?: unknown;
  principalId?: unknown;
  scope?: unknown;
  roleDefinitionId?: unknown;
}

/** An account whose default identity's role assignments the catch-up watches. */
export interface WatchedPrincipal {
  accountId: string;
  principalId: string;
}

/** What the fleet index holds for an account: the principal and the fingerprint of its assignments when last read. */
export interface StoredRoleFingerprint {
  accountId: string;
  principalId: string;
  fingerprint: string;
  /** Opaque version for the guarded write. */
  etag?: string;
}

/** The `authorizationresources` queries for these principals, MAX_PRINCIPALS_PER_ROLE_QUERY to a query (deduplicated, sorted). */
export function buildRoleAssignmentQueries(principalIds: readonly string[]): string[] {
  const ids = [...new Set(principalIds.map((id) => id.toLowerCase()))].sort();
  // Principal ids are GUIDs; anything else is refused, never escaped into the query.
  const bad = ids.find((id) => !GUID.test(id));
  if (bad !== undefined) throw new RangeError(`Not a principal id: ${JSON.stringify(bad)}`);
  const queries: string[] = [];
  for (let i = 0; i < ids.length; i += MAX_PRINCIPALS_PER_ROLE_QUERY) {
    const batch = ids.slice(i, i + MAX_PRINCIPALS_PER_ROLE_QUERY);
    queries.push(
      [
        "authorizationresources",
        "| where type =~ 'microsoft.authorization/roleassignments'",
        "| extend principalId = tolower(tostring(properties.principalId))",
        `| where principalId in (${batch.map((id) => `'${id}'`).join(", ")})`,
        "| project id = tolower(id), principalId, scope = tolower(tostring(properties.scope)), roleDefinitionId = tolower(tostring(properties.roleDefinitionId))",
        "| order by id asc",
      ].join("\n"),
    );
  }
  return queries;
}

/**
 * A fingerprint of one principal's assignments: id, scope and role of each, sorted, hashed. Any
 * assignment removed, added or re-pointed changes it; the order rows arrive in does not.
 */
export function roleAssignmentFingerprint(rows: readonly RoleAssignmentRow[]): string {
  const lines = rows
    .map((row) => [row.id, row.scope, row.roleDefinitionId].map((value) => (typeof value === "string" ? normalizeResourceId(value) : "")).join(" "))
    .sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

export type RoleAssignmentVerdict =
  /** Nothing stored for this account and principal: recorded, not re-checked (nothing is known to have changed). */
  | "first-sight"
  | "unchanged"
  /** An assignment gone, added or changed (the principal missing from the answer counts as none): re-check the account. */
  | "changed";

export interface RoleAssignmentDecision {
  accountId: string;
  principalId: string;
  fingerprint: string;
  verdict: RoleAssignmentVerdict;
  /** The stored fingerprint it replaces (with its version), for the guarded write. */
  previous?: StoredRoleFingerprint;
}

/**
 * Per watched account, whether its principal's assignments changed since the stored fingerprint.
 * A stored fingerprint of another principal (the default identity changed) is a first sight: the
 * identity change itself is a `resourcechanges` row the catch-up already re-checks for.
 */
export function decideRoleAssignmentChanges(
  watched: readonly WatchedPrincipal[],
  rows: readonly RoleAssignmentRow[],
  stored: readonly StoredRoleFingerprint[],
): RoleAssignmentDecision[] {
  const byPrincipal = new Map<string, RoleAssignmentRow[]>();
  for (const row of rows) {
    if (typeof row.principalId !== "string" || typeof row.id !== "string") continue;
    const key = row.principalId.toLowerCase();
    byPrincipal.set(key, [...(byPrincipal.get(key) ?? []), row]);
  }
  const storedBy = new Map(stored.map((entry) => [normalizeResourceId(entry.accountId), entry]));
  const decisions: RoleAssignmentDecision[] = [];
  for (const { accountId, principalId } of watched) {
    const id = normalizeResourceId(accountId);
    const principal = principalId.toLowerCase();
    const fingerprint = roleAssignmentFingerprint(byPrincipal.get(principal) ?? []);
    const previous = storedBy.get(id);
    const verdict: RoleAssignmentVerdict =
      previous === undefined || previous.principalId.toLowerCase() !== principal
        ? "first-sight"
        : previous.fingerprint === fingerprint
          ? "unchanged"
          : "changed";
    decisions.push({ accountId: id, principalId: principal, fingerprint, verdict, ...(previous ? { previous } : {}) });
  }
  return decisions.sort((a, b) => a.accountId.localeCompare(b.accountId));
}
