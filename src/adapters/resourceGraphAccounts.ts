/**
 * Fleet discovery over Azure Resource Graph: one paged query for every CMK account in a scope,
 * instead of one ARM list call per subscription, and one for the subscriptions Resource Graph can
 * see in that scope (it silently leaves out those the caller cannot read). Honours the per-user
 * quota headers and 429s; a truncated answer is an error, never a smaller fleet.
 */
import type { DatabaseAccountGetResults } from "@azure/arm-cosmosdb";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type { CmkAccount } from "../domain/account";
import { toCmkAccount } from "./armAccounts";
import { DEFERRED_RETRY_AFTER_HEADER, statusCodeOf } from "../ports/failures";
import { remainingInMs } from "../ports/callDeadline";
import type { ResourceChangeRow } from "../domain/resourceChanges";
import type { RoleAssignmentRow } from "../domain/roleAssignmentChanges";
import type { ResourceChangeScope, ResourceChangeSource } from "../ports/resourceChanges";

/** Only accounts with a customer-managed key, only the properties the monitor reads. */
export const CMK_ACCOUNTS_QUERY = [
  "resources",
  "| where type =~ 'microsoft.documentdb/databaseaccounts'",
  "| where isnotempty(properties.keyVaultKeyUri)",
  "| project id, name, type, location, subscriptionId, resourceGroup, tags, identity,",
  "  properties = pack('keyVaultKeyUri', properties.keyVaultKeyUri, 'defaultIdentity', properties.defaultIdentity,",
  "    'customerManagedKeyStatus', properties.customerManagedKeyStatus)",
].join("\n");

/** Which subscriptions of the request's scope Resource Graph can see (the caller can read). */
export const SUBSCRIPTIONS_QUERY = ["resourcecontainers", "| where type =~ 'microsoft.resources/subscriptions'", "| project subscriptionId"].join("\n");

/**
 * Subscriptions in one request. Resource Graph accepts up to 1,000, but its documentation advises
 * batching well below that for reliable results; 250 keeps every request far from the limits.
 */
export const MAX_SUBSCRIPTIONS_PER_QUERY = 250;

/** Resource Graph answered only part of the result (resultTruncated, or the tenant's subscription limit). */
export class IncompleteResultError extends Error {
  override readonly name = "IncompleteResultError";
}
const PAGE_SIZE = 1000;
const MAX_THROTTLE_WAITS = 8;

export interface DiscoveryScope {
  subscriptionIds: readonly string[];
  managementGroups: readonly string[];
}

export interface DiscoveryResult {
  accounts: CmkAccount[];
  /** Resource Graph calls made (pages and retries), for the benchmark and logs. */
  calls: number;
  /** Time spent waiting on quota or Retry-After. */
  throttledInMs: number;
}

export interface ResourceGraphDiscoveryOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions?: CommonClientOptions;
  /** Injected so tests can see the waits without taking them. */
  sleep?: (ms: number) => Promise<void>;
}

export class ResourceGraphDiscovery implements ResourceChangeSource {
  private readonly client: ResourceGraphClient;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When the quota is spent, the earliest moment the next query may go out. */
  private notBefore = 0;
  /** Queries sent by this instance, failed ones included (a failed discovery reports no result). */
  callsMade = 0;

  constructor(options: ResourceGraphDiscoveryOptions) {
    this.client = new ResourceGraphClient(options.credential, { ...options.clientOptions, endpoint: options.endpoint });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Every CMK account in scope. Throws if any page fails or is cut short: a partial fleet must not look like deletions. */
  async discover(scope: DiscoveryScope): Promise<DiscoveryResult> {
    const result: DiscoveryResult = { accounts: [], calls: 0, throttledInMs: 0 };
    await this.eachRow(CMK_ACCOUNTS_QUERY, scope, result, (row) => {
      const account = toCmkAccount(flatten(row), String(row["subscriptionId"] ?? ""));
      if (account) result.accounts.push(account);
    });
    return result;
  }

  /**
   * Every row of a `resourcechanges` query (the pull catch-up's), paged with skip tokens under the
   * same quota handling; a truncated answer throws, so the watermark is not advanced past rows never read.
   */
  async queryChanges(query: string, scope: ResourceChangeScope): Promise<{ rows: ResourceChangeRow[]; calls: number }> {
    const result: DiscoveryResult = { accounts: [], calls: 0, throttledInMs: 0 };
    const rows: ResourceChangeRow[] = [];
    await this.eachRow(query, scope, result, (row) => rows.push(row));
    return { rows, calls: result.calls };
  }

  /** Every row of an `authorizationresources` role-assignment query (the catch-up's), paged and throwing like `queryChanges`. */
  async queryRoleAssignments(query: string, scope: ResourceChangeScope): Promise<{ rows: RoleAssignmentRow[]; calls: number }> {
    const result: DiscoveryResult = { accounts: [], calls: 0, throttledInMs: 0 };
    const rows: RoleAssignmentRow[] = [];
    await this.eachRow(query, scope, result, (row) => rows.push(row));
    return { rows, calls: result.calls };
  }

  /** The subscriptions of `scope` Resource Graph can see, lower-cased. Throws like `discover`. */
  async visibleSubscriptions(scope: DiscoveryScope): Promise<{ subscriptionIds: Set<string>; calls: number; throttledInMs: number }> {
    const result: DiscoveryResult = { accounts: [], calls: 0, throttledInMs: 0 };
    const subscriptionIds = new Set<string>();
    await this.eachRow(SUBSCRIPTIONS_QUERY, scope, result, (row) => {
      if (typeof row["subscriptionId"] === "string") subscriptionIds.add(row["subscriptionId"].toLowerCase());
    });
    return { subscriptionIds, calls: result.calls, throttledInMs: result.throttledInMs };
  }

  private async eachRow(query: string, scope: DiscoveryScope, result: DiscoveryResult, onRow: (row: Record<string, unknown>) => void): Promise<void> {
    const batches: { subscriptions?: string[]; managementGroups?: string[] }[] = [];
    for (let i = 0; i < scope.subscriptionIds.length; i += MAX_SUBSCRIPTIONS_PER_QUERY) {
      batches.push({ subscriptions: scope.subscriptionIds.slice(i, i + MAX_SUBSCRIPTIONS_PER_QUERY) });
    }
    if (scope.managementGroups.length > 0) batches.push({ managementGroups: [...scope.managementGroups] });
    if (batches.length === 0) batches.push({}); // the whole tenant the identity can read
    for (const batch of batches) {
      let next: Promise<ResourceGraphPage> | undefined = this.query(query, batch, undefined, result);
      while (next) {
        const page: ResourceGraphPage = await next;
        // Ask for the next page first: turning this page's rows into accounts overlaps its round trip.
        // (The conversion is synchronous, so a failing next page is awaited before anything else runs.)
        next = page.skipToken ? this.query(query, batch, page.skipToken, result) : undefined;
        for (const row of page.rows) onRow(row);
      }
    }
  }

  private async query(
    query: string,
    scope: { subscriptions?: string[]; managementGroups?: string[] },
    skipToken: string | undefined,
    result: DiscoveryResult,
  ): Promise<ResourceGraphPage> {
    for (let attempt = 0; ; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) {
        result.throttledInMs += wait;
        await this.sleep(wait);
      }
      let quota: { remaining?: number; resetsAfterInMs?: number } = {};
      let subscriptionLimitHit = false;
      try {
        result.calls += 1;
        this.callsMade += 1;
        const response = await this.client.resources(
          {
            ...scope,
            query,
            // A management group over Resource Graph's subscription limit fails instead of answering for part of it.
            options: { top: PAGE_SIZE, resultFormat: "objectArray", allowPartialScopes: false, ...(skipToken ? { skipToken } : {}) },
          },
          {
            onResponse: (raw) => {
              quota = readQuota(raw.headers.get.bind(raw.headers));
              subscriptionLimitHit = /^true$/i.test(raw.headers.get("x-ms-tenant-subscription-limit-hit") ?? "");
            },
          },
        );
        if (String(response.resultTruncated).toLowerCase() === "true") {
          throw new IncompleteResultError("Resource Graph truncated the result (resultTruncated: true): the fleet it lists would be incomplete");
        }
        if (subscriptionLimitHit) {
          throw new IncompleteResultError(
            "Resource Graph answered for only part of the tenant (x-ms-tenant-subscription-limit-hit): name subscriptions or management groups instead",
          );
        }
        // Spent quota: hold the next query until it resets, rather than collecting a 429.
        if (quota.remaining !== undefined && quota.remaining <= 0 && quota.resetsAfterInMs !== undefined) {
          this.notBefore = Date.now() + quota.resetsAfterInMs;
        }
        // The client's mapper turns the row array into an index-keyed object; accept both.
        const data = response.data as unknown;
        const rows = (Array.isArray(data) ? data : data && typeof data === "object" ? Object.values(data) : []) as Record<string, unknown>[];
        return { rows, ...(response.skipToken ? { skipToken: response.skipToken } : {}) };
      } catch (error) {
        const status = statusCodeOf(error);
        if (status !== 429 || attempt >= MAX_THROTTLE_WAITS) throw error;
        const headers = (error as { response?: { headers?: { get(name: string): string | undefined } } }).response?.headers;
        const retryAfter = Number(headers?.get("retry-after") ?? headers?.get(DEFERRED_RETRY_AFTER_HEADER));
        const fromQuota = headers ? readQuota((name) => headers.get(name)).resetsAfterInMs : undefined;
        const waitInMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : (fromQuota ?? 5000);
        // A wait past the invocation's deadline is not taken: discovery fails this cycle and is tried next.
        if (waitInMs > remainingInMs()) throw error;
        this.notBefore = Date.now() + waitInMs;
      }
    }
  }
}

interface ResourceGraphPage {
  rows: Record<string, unknown>[];
  skipToken?: string;
}

function readQuota(get: (name: string) => string | undefined): { remaining?: number; resetsAfterInMs?: number } {
  const remaining = Number(get("x-ms-user-quota-remaining"));
  const resets = /^(\d+):(\d{2}):(\d{2})$/.exec(get("x-ms-user-quota-resets-after") ?? "");
  return {
    ...(Number.isFinite(remaining) && get("x-ms-user-quota-remaining") !== undefined ? { remaining } : {}),
    ...(resets ? { resetsAfterInMs: (Number(resets[1]) * 3600 + Number(resets[2]) * 60 + Number(resets[3])) * 1000 } : {}),
  };
}

/** A Resource Graph row has ARM's nested `properties`; the ARM client's model is flattened. */
function flatten(row: Record<string, unknown>): DatabaseAccountGetResults {
  const properties = (row["properties"] && typeof row["properties"] === "object" ? row["properties"] : {}) as Record<string, unknown>;
  return { ...row, ...properties } as unknown as DatabaseAccountGetResults;
}
