/**
 * Azure Resource Graph `POST /providers/Microsoft.ResourceGraph/resources` as the official
 * client speaks it: paging with `$top`/`$skipToken`, the per-user quota headers, and 429 with
 * Retry-After when the quota (15 queries per 5 seconds by default) is spent. It does not parse
 * KQL: it recognises a query over `microsoft.documentdb/databaseaccounts` and answers with
 * the CMK accounts in scope, projected as the monitor's query projects them; and a `resourcechanges`
 * query of the catch-up's shape (a changeTime window and a `targetResourceId in (...)` list), answered
 * from the sandbox's change history, each change visible only `changeLagInMs` after it was made and
 * for 14 days (docs/azure-behaviour.md); and an `authorizationresources` query of the catch-up's
 * role-assignment shape (roleassignments whose principalId is in a list, its projection), answered from
 * the Key Vault state's role assignments as they were `roleAssignmentLagInMs` ago.
 */
import { apiVersionRejection, MAX_TOP } from "./armConventions";
import type { SandboxResourceChange } from "./changeFeed";
import type { SandboxRoleAssignment } from "./keyVaultState";
import type { MatchedRoute, SandboxRequest, SandboxResponse } from "./server";

const RESOURCES_PATH = /^\/providers\/microsoft\.resourcegraph\/resources\/?$/i;

/** One row per account in the shape Resource Graph returns (`resultFormat: objectArray`). */
export interface ResourceGraphRow {
  id: string;
  name: string;
  type: string;
  location: string;
  subscriptionId: string;
  resourceGroup: string;
  tags: Record<string, string>;
  identity: unknown;
  properties: Record<string, unknown>;
}

export interface ResourceGraphQuota {
  queries: number;
  windowInMs: number;
}

/**
 * What Resource Graph says about `properties.customerManagedKeyStatus`. Azure documents neither that
 * the property is indexed for the API version Resource Graph chose for the type, nor that a key
 * revocation (not an ARM write to the account) refreshes it: "absent" (the default) and "stale"
 * play that; "fresh" is the kind world the monitor must not depend on (docs/azure-behaviour.md).
 */
export type ResourceGraphStatusMode = "absent" | "stale" | "fresh";

/** Resource Graph keeps resource changes 14 days. */
const CHANGE_RETENTION_IN_MS = 14 * 24 * 60 * 60_000;
/**
 * How late a change shows in `resourcechanges` by default: the docs give no bound, so several
 * minutes (a catch-up due at the change's minute misses it); setChangeLag plays a longer one.
 */
export const DEFAULT_CHANGE_LAG_IN_MS = 4 * 60_000;

/**
 * How stale `authorizationresources` is by default: Resource Graph documents no freshness for it,
 * so it answers with the role assignments as they were this long ago (setRoleAssignmentLag).
 */
export const DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS = 4 * 60_000;

export class ResourceGraphRoutes {
  private changeLagInMs = DEFAULT_CHANGE_LAG_IN_MS;
  private roleAssignmentLagInMs = DEFAULT_ROLE_ASSIGNMENT_LAG_IN_MS;
  private quota: ResourceGraphQuota = { queries: 15, windowInMs: 5000 };
  private statusMode: ResourceGraphStatusMode = "absent";
  /** With "stale": each account's status as it was when the mode was set (or when the account first appeared). */
  private readonly staleStatuses = new Map<string, unknown>();
  /** Subscriptions Resource Graph leaves out of every answer, silently, as it does for ones the caller cannot read. */
  private readonly hidden = new Set<string>();
  /** Answers stop after this many rows with `resultTruncated: "true"` (no skip token), as the service does past its limits. */
  private truncateAfter: number | undefined;
  private window: number[] = [];
  /** Management group name → subscription ids in it. */
  private readonly managementGroups = new Map<string, string[]>();
  /** While set, queries answer from this snapshot: Resource Graph lagging ARM. */
  private frozen: ResourceGraphRow[] | undefined;
  /**
   * The results that skip tokens page through, by result id: like the service, the later pages of
   * a query come from the result the first page was cut from, not from a fresh evaluation.
   */
  private readonly results = new Map<string, ResourceGraphRow[]>();
  private nextResultId = 0;

  constructor(
    private readonly rows: () => ResourceGraphRow[],
    /** Every subscription the tenant has (the `resourcecontainers` answer), before access is applied. */
    private readonly subscriptions: () => string[] = () => [],
    private now: () => number = Date.now,
    /** The sandbox's change history (changeFeed.ts), oldest first. */
    private readonly changes: () => readonly SandboxResourceChange[] = () => [],
    /** The role assignments that existed at a moment (keyVaultState.ts). */
    private readonly roleAssignmentsAsOf: (at: number) => readonly SandboxRoleAssignment[] = () => [],
  ) {}

  /** How long after it is made (or removed) a role assignment shows so in `authorizationresources` (0: at once, the kind world). */
  setRoleAssignmentLag(ms: number): void {
    this.roleAssignmentLagInMs = ms;
  }

  /** How long after it is made a change appears in `resourcechanges` (0: at once, the kind world). */
  setChangeLag(ms: number): void {
    this.changeLagInMs = ms;
  }

  setStatusMode(mode: ResourceGraphStatusMode): void {
    this.statusMode = mode;
    this.staleStatuses.clear();
    if (mode === "stale") for (const row of this.rows()) this.staleStatuses.set(row.id.toLowerCase(), row.properties["customerManagedKeyStatus"]);
  }

  /** Resource Graph answers as if the caller could not read this subscription: its rows are left out, without an error. */
  hideSubscription(subscriptionId: string): void {
    this.hidden.add(subscriptionId.toLowerCase());
  }

  /** Every answer stops after `rows` rows and says `resultTruncated: "true"`; undefined answers in full again. */
  setTruncation(rows: number | undefined): void {
    this.truncateAfter = rows;
  }

  /** The clock the quota window runs on (a drill's simulated clock). */
  setClock(now: () => number): void {
    this.now = now;
    this.window = [];
  }

  setQuota(quota: ResourceGraphQuota): void {
    this.quota = quota;
    this.window = [];
  }

  /** From now on, answers show the fleet as it is at this moment, whatever ARM says later (Resource Graph's lag). */
  freeze(): void {
    this.frozen = this.rows();
  }

  /** Answers follow ARM again. */
  thaw(): void {
    this.frozen = undefined;
  }

  setManagementGroup(name: string, subscriptionIds: string[]): void {
    this.managementGroups.set(
      name.toLowerCase(),
      subscriptionIds.map((s) => s.toLowerCase()),
    );
  }

  /** The row as Resource Graph would index it under the current status mode. */
  private withStatusMode(row: ResourceGraphRow): ResourceGraphRow {
    if (this.statusMode === "fresh") return row;
    const properties = { ...row.properties };
    delete properties["customerManagedKeyStatus"];
    if (this.statusMode === "stale") {
      const key = row.id.toLowerCase();
      if (!this.staleStatuses.has(key)) this.staleStatuses.set(key, row.properties["customerManagedKeyStatus"]);
      const stale = this.staleStatuses.get(key);
      if (stale !== undefined) properties["customerManagedKeyStatus"] = stale;
    }
    return { ...row, properties };
  }

  /** `resourcechanges` over the change history: the window, the ids, the lag, the retention, then paged like any answer. */
  private resourceChanges(
    query: string,
    top: number | undefined,
    skipToken: string | undefined,
    visible: (subscriptionId: string) => boolean,
    headers: Record<string, string>,
  ): SandboxResponse {
    const window = CHANGE_WINDOW.exec(query);
    const targets = CHANGE_TARGETS.exec(query);
    if (!window || !targets || !CHANGE_PROJECTION.test(query)) {
      return invalidQuery(
        "The sandbox answers resourcechanges queries only in the catch-up's shape (changeTime window, targetResourceId in (...), its projection).",
      );
    }
    const from = Date.parse(window[1]!.trim());
    const to = Date.parse(window[2]!.trim());
    if (!Number.isFinite(from) || !Number.isFinite(to)) return invalidQuery(`Not a datetime: ${window[1]} or ${window[2]}.`);
    const ids = new Set([...targets[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!.toLowerCase()));
    const now = this.now();
    return this.pagedResult(
      "c",
      top,
      skipToken,
      headers,
      () =>
        this.changes()
          .filter((change) => {
            const at = Date.parse(change.at);
            const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(change.targetResourceId)?.[1] ?? "";
            // Not yet indexed (the lag), past the retention, outside the window, not asked for, or not readable.
            return (
              at + this.changeLagInMs <= now &&
              at >= now - CHANGE_RETENTION_IN_MS &&
              at > from &&
              at <= to &&
              ids.has(change.targetResourceId.toLowerCase()) &&
              visible(subscriptionId)
            );
          })
          .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
          .map((change) => ({
            changeTime: change.at,
            targetResourceId: change.targetResourceId.toLowerCase(),
            changeType: change.changeType,
            changes: Object.fromEntries(change.changedPaths.map((path) => [path, { propertyChangeType: "Update", changeCategory: "User" }])),
          })) as unknown as ResourceGraphRow[],
    );
  }

  /** `authorizationresources` role assignments of the listed principals, as of the lag ago, paged like any answer. */
  private roleAssignments(
    query: string,
    top: number | undefined,
    skipToken: string | undefined,
    visible: (subscriptionId: string) => boolean,
    headers: Record<string, string>,
  ): SandboxResponse {
    const principals = ROLE_PRINCIPALS.exec(query);
    if (!ROLE_TYPE.test(query) || !principals || !ROLE_PROJECTION.test(query)) {
      return invalidQuery(
        "The sandbox answers authorizationresources queries only in the catch-up's shape (roleassignments, principalId in (...), its projection).",
      );
    }
    const ids = new Set([...principals[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!.toLowerCase()));
    return this.pagedResult(
      "r",
      top,
      skipToken,
      headers,
      () =>
        this.roleAssignmentsAsOf(this.now() - this.roleAssignmentLagInMs)
          .filter((a) => ids.has(a.principalId.toLowerCase()) && visible(/^\/subscriptions\/([^/]+)/i.exec(a.scope)?.[1] ?? ""))
          .map((a) => {
            const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(a.scope)?.[1] ?? "";
            return {
              id: a.id.toLowerCase(),
              principalId: a.principalId.toLowerCase(),
              scope: a.scope.toLowerCase(),
              // Resource Graph shows the role's full id, as ARM's role assignment does.
              roleDefinitionId: `/subscriptions/${subscriptionId}/providers/microsoft.authorization/roledefinitions/${a.roleDefinitionId}`.toLowerCase(),
            };
          })
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) as unknown as ResourceGraphRow[],
    );
  }

  /**
   * One answer paged with skip tokens: the rows are computed on the first page and kept (at most 8
   * results) so later pages read the same snapshot, as Resource Graph's do.
   */
  private pagedResult(
    prefix: "c" | "r",
    top: number | undefined,
    skipToken: string | undefined,
    headers: Record<string, string>,
    rows: () => ResourceGraphRow[],
  ): SandboxResponse {
    const token = skipToken ? new RegExp(`^(${prefix}\\d+):(\\d+)$`).exec(Buffer.from(skipToken, "base64").toString("utf8")) : null;
    let matching = token ? this.results.get(token[1]!) : undefined;
    const resultId = matching && token ? token[1]! : `${prefix}${this.nextResultId++}`;
    if (!matching) {
      matching = rows();
      this.results.set(resultId, matching);
      for (const old of this.results.keys()) if (this.results.size > 8) this.results.delete(old);
    }
    const offset = token ? Number(token[2]) : 0;
    const end = offset + (top ?? 100);
    const page = matching.slice(offset, end);
    const next = end < matching.length ? Buffer.from(`${resultId}:${end}`).toString("base64") : undefined;
    if (!next) this.results.delete(resultId);
    return {
      status: 200,
      headers,
      json: { totalRecords: matching.length, count: page.length, resultTruncated: "false", ...(next ? { $skipToken: next } : {}), data: page, facets: [] },
    };
  }

  route(request: SandboxRequest): MatchedRoute | undefined {
    if (request.method !== "POST" || !RESOURCES_PATH.test(request.url.pathname)) return undefined;
    return { id: "resource-graph", handle: (fault) => (fault ? faultResponse(fault.status, fault.retryAfterInSeconds, fault.body) : this.query(request)) };
  }

  private query(request: SandboxRequest): SandboxResponse {
    if (!/^Bearer\s+\S+/i.test(String(request.headers["authorization"] ?? ""))) {
      return { status: 401, json: { error: { code: "AuthenticationFailed", message: "Missing bearer token." } } };
    }
    // ARM refuses an api-version Microsoft.ResourceGraph does not serve before the query is read.
    const rejected = apiVersionRejection(request, "resources");
    if (rejected) return rejected;
    const now = this.now();
    this.window = this.window.filter((at) => now - at < this.quota.windowInMs);
    if (this.window.length >= this.quota.queries) {
      const resetInMs = this.quota.windowInMs - (now - this.window[0]!);
      return {
        status: 429,
        headers: {
          "retry-after": String(Math.max(1, Math.ceil(resetInMs / 1000))),
          "x-ms-user-quota-remaining": "0",
          "x-ms-user-quota-resets-after": hhmmss(resetInMs),
        },
        json: { error: { code: "RateLimiting", message: "Please provide below info when asking for support: the quota for this user has been exceeded." } },
      };
    }
    this.window.push(now);
    const quotaHeaders = {
      "x-ms-user-quota-remaining": String(this.quota.queries - this.window.length),
      "x-ms-user-quota-resets-after": hhmmss(this.quota.windowInMs - (now - this.window[0]!)),
    };

    let body: { subscriptions?: string[]; managementGroups?: string[]; query?: string; options?: { $top?: number; $skipToken?: string } };
    try {
      body = JSON.parse(request.body.toString("utf8")) as typeof body;
    } catch {
      return { status: 400, json: { error: { code: "BadRequest", message: "The request body is not JSON." } } };
    }
    const invalid = invalidOptions(body);
    if (invalid) return { status: 400, json: { error: { code: "BadRequest", message: invalid.message, details: [invalid] } } };
    const containers = typeof body.query === "string" && /^\s*resourcecontainers\b[\s\S]*microsoft\.resources\/subscriptions/i.test(body.query);
    const changes = typeof body.query === "string" && /^\s*resourcechanges\b/i.test(body.query);
    const authorization = typeof body.query === "string" && /^\s*authorizationresources\b/i.test(body.query);
    if (typeof body.query !== "string" || (!containers && !changes && !authorization && !/microsoft\.documentdb\/databaseaccounts/i.test(body.query))) {
      return {
        status: 400,
        json: { error: { code: "InvalidQuery", message: "The sandbox only answers queries over microsoft.documentdb/databaseaccounts and subscriptions." } },
      };
    }
    const scope = new Set<string>();
    for (const id of body.subscriptions ?? []) scope.add(id.toLowerCase());
    for (const group of body.managementGroups ?? []) for (const id of this.managementGroups.get(group.toLowerCase()) ?? []) scope.add(id);
    const tenantWide = !body.subscriptions?.length && !body.managementGroups?.length;
    const visible = (subscriptionId: string): boolean =>
      !this.hidden.has(subscriptionId.toLowerCase()) && (tenantWide || scope.has(subscriptionId.toLowerCase()));
    if (authorization) return this.roleAssignments(body.query, body.options?.$top, body.options?.$skipToken, visible, quotaHeaders);
    if (/^\s*resourcechanges\b/i.test(body.query)) return this.resourceChanges(body.query, body.options?.$top, body.options?.$skipToken, visible, quotaHeaders);
    if (containers) {
      // The subscriptions in the request's scope that the caller can read: one row each.
      const data = [...new Set(this.subscriptions().map((id) => id.toLowerCase()))]
        .filter(visible)
        .sort()
        .map((subscriptionId) => ({ id: `/subscriptions/${subscriptionId}`, subscriptionId, type: "microsoft.resources/subscriptions" }));
      return { status: 200, headers: quotaHeaders, json: { totalRecords: data.length, count: data.length, resultTruncated: "false", data, facets: [] } };
    }
    const keyVaultOnly = /isnotempty\(\s*properties\.keyVaultKeyUri\s*\)/i.test(body.query);
    const token = body.options?.$skipToken ? /^([^:]+):(\d+)$/.exec(Buffer.from(body.options.$skipToken, "base64").toString("utf8")) : null;
    const kept = token ? this.results.get(token[1]!) : undefined;
    const resultId = kept && token ? token[1]! : String(this.nextResultId++);
    let matching = kept;
    if (!matching) {
      // A first page, or a token whose result was let go: evaluate the query now.
      matching = (this.frozen ?? this.rows())
        .filter((row) => visible(row.subscriptionId))
        .map((row) => this.withStatusMode(row))
        .filter((row) => !keyVaultOnly || typeof row.properties["keyVaultKeyUri"] === "string")
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.results.set(resultId, matching);
      // A handful of queries paged at once is plenty for the sandbox.
      for (const old of this.results.keys()) if (this.results.size > 8) this.results.delete(old);
    }

    // A projection of `properties = pack('a', …, 'b', …)` keeps only those properties, as Resource Graph would.
    const packed = [...body.query.matchAll(/pack\(\s*'([^']+)'|,\s*'([^']+)'\s*,\s*properties\./g)].map((m) => m[1] ?? m[2]!);
    const project = (row: ResourceGraphRow): ResourceGraphRow =>
      packed.length === 0
        ? row
        : { ...row, properties: Object.fromEntries(packed.filter((name) => name in row.properties).map((name) => [name, row.properties[name]])) };
    const top = body.options?.$top ?? 100;
    const offset = token ? Number(token[2]) : 0;
    const truncated = this.truncateAfter !== undefined && matching.length > this.truncateAfter;
    const end = truncated ? Math.min(offset + top, this.truncateAfter!) : offset + top;
    const page = matching.slice(offset, end).map(project);
    const next = !truncated && end < matching.length ? Buffer.from(`${resultId}:${end}`).toString("base64") : undefined;
    if (!next) this.results.delete(resultId);
    return {
      status: 200,
      headers: quotaHeaders,
      json: {
        totalRecords: matching.length,
        count: page.length,
        resultTruncated: truncated ? "true" : "false",
        ...(next ? { $skipToken: next } : {}),
        data: page,
        facets: [],
      },
    };
  }
}

/** The window and ids the catch-up's query names (src/domain/resourceChanges.ts); anything else is not a query the sandbox can answer. */
const CHANGE_WINDOW = /changeTime\s*>\s*datetime\(([^)]+)\)\s+and\s+changeTime\s*<=\s*datetime\(([^)]+)\)/i;
const CHANGE_TARGETS = /targetResourceId\s+in\s*\(([^)]*)\)/i;
const CHANGE_PROJECTION = /\|\s*project\s+changeTime\s*,\s*targetResourceId\s*,\s*changeType\s*,\s*changes\s*=\s*properties\.changes\b/i;

/** The principals and shape of the catch-up's role-assignment query (src/domain/roleAssignmentChanges.ts). */
const ROLE_TYPE = /\|\s*where\s+type\s*=~\s*'microsoft\.authorization\/roleassignments'/i;
const ROLE_PRINCIPALS = /principalId\s+in\s*\(([^)]*)\)/i;
const ROLE_PROJECTION =
  /\|\s*project\s+id\s*=\s*tolower\(id\)\s*,\s*principalId\s*,\s*scope\s*=[^,]*properties\.scope[^,]*,\s*roleDefinitionId\s*=[^\n]*properties\.roleDefinitionId/i;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the service refuses before running a query: a `$top` outside 1..1000 (the spec's bounds), a subscription id that is not a GUID. */
function invalidOptions(body: { subscriptions?: unknown[]; options?: { $top?: unknown } }): { code: string; message: string } | undefined {
  const top = body.options?.$top;
  if (top !== undefined && (typeof top !== "number" || !Number.isInteger(top) || top < 1 || top > MAX_TOP)) {
    return { code: "InvalidQueryOptions", message: `The value of $top must be between 1 and ${MAX_TOP}; got ${String(top)}.` };
  }
  const bad = (body.subscriptions ?? []).find((id) => typeof id !== "string" || !GUID.test(id));
  if (bad !== undefined) return { code: "InvalidSubscriptionId", message: `The subscription id '${String(bad)}' is not a valid GUID.` };
  return undefined;
}

function invalidQuery(message: string): SandboxResponse {
  return { status: 400, json: { error: { code: "InvalidQuery", message } } };
}

function faultResponse(status: number, retryAfterInSeconds: number | undefined, body: string | undefined): SandboxResponse {
  const headers: Record<string, string> = retryAfterInSeconds !== undefined ? { "retry-after": String(retryAfterInSeconds) } : {};
  if (status === 429) {
    // A throttled query still reports the caller's quota: spent, and when it comes back.
    headers["x-ms-user-quota-remaining"] = "0";
    headers["x-ms-user-quota-resets-after"] = hhmmss((retryAfterInSeconds ?? 0) * 1000);
  }
  if (body !== undefined) return { status, headers, text: body };
  return { status, headers, json: { error: { code: status === 429 ? "RateLimiting" : "ServiceUnavailable", message: `Injected fault: HTTP ${status}.` } } };
}

function hhmmss(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}
