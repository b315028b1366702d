/**
 * What ARM does before and around any resource provider, shared by the sandbox's ARM faces:
 * which api-versions a resource type is served at (and the error for others), subscription id
 * checks, list paging with `$top` and `nextLink`, and display-name locations.
 * docs/azure-behaviour.md, "What the sandbox answers like Azure", gives the sources.
 */
import type { SandboxRequest, SandboxResponse } from "./server";

/**
 * The api-versions the sandbox serves per resource type: the ones the installed SDKs send, plus
 * earlier GA versions its answers are right for. Azure serves more; rejecting a real one only makes
 * a test fail loudly, while accepting one Azure does not serve would hide a broken SDK upgrade.
 */
export const SERVED_API_VERSIONS = {
  // 2023-04-15 stays: tests read an account at the last version without customerManagedKeyStatus.
  databaseAccounts: ["2023-04-15", "2023-09-15", "2023-11-15", "2024-05-15", "2024-08-15", "2024-11-15", "2025-04-15", "2025-10-15"],
  subscriptions: ["2016-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01"],
  vaults: ["2019-09-01", "2021-10-01", "2022-07-01", "2023-02-01", "2023-07-01", "2024-11-01", "2025-05-01", "2026-02-01"],
  deletedVaults: ["2019-09-01", "2021-10-01", "2022-07-01", "2023-02-01", "2023-07-01", "2024-11-01", "2025-05-01", "2026-02-01"],
  roleAssignments: ["2015-07-01", "2020-04-01-preview", "2022-04-01"],
  denyAssignments: ["2015-07-01", "2018-07-01-preview", "2022-04-01"],
  roleDefinitions: ["2015-07-01", "2022-04-01"],
  resources: ["2019-04-01", "2020-04-01-preview", "2021-03-01", "2021-06-01-preview", "2022-10-01", "2024-04-01"],
  // Microsoft.Support: only the version the answers are written for (2024-04-01 adds fields on create).
  supportTickets: ["2020-04-01"],
} as const;

export type ArmResourceType = keyof typeof SERVED_API_VERSIONS;

const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Largest page ARM list APIs hand out for `$top`; larger asks are refused. */
export const MAX_TOP = 1000;

export function armError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/**
 * ARM's answer to a missing, malformed or unserved api-version, or undefined when it is served.
 * Microsoft.Resources (subscriptions) is ARM itself and says the version is invalid; a resource
 * provider's type says no provider is registered for it.
 */
export function apiVersionRejection(request: SandboxRequest, type: ArmResourceType): SandboxResponse | undefined {
  const apiVersion = request.url.searchParams.get("api-version");
  if (!apiVersion) {
    return { status: 400, json: armError("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.") };
  }
  const served: readonly string[] = SERVED_API_VERSIONS[type];
  if (served.includes(apiVersion)) return undefined;
  const supported = served.join(", ");
  if (!API_VERSION_SHAPE.test(apiVersion) || type === "subscriptions") {
    return {
      status: 400,
      json: armError("InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${supported}'.`),
    };
  }
  return {
    status: 400,
    json: armError(
      "NoRegisteredProviderFound",
      `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${supported}'.`,
    ),
  };
}

/** ARM refuses a subscription id that is not a GUID before looking anything up. */
export function subscriptionIdRejection(subscriptionId: string): SandboxResponse | undefined {
  if (GUID.test(subscriptionId)) return undefined;
  return { status: 400, json: armError("InvalidSubscriptionId", `The provided subscription identifier '${subscriptionId}' is malformed or invalid.`) };
}

export function subscriptionNotFound(subscriptionId: string): SandboxResponse {
  return { status: 404, json: armError("SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`) };
}

export function resourceGroupNotFound(resourceGroup: string): SandboxResponse {
  return { status: 404, json: armError("ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`) };
}

/**
 * One page of a pageable ARM list: `$top` items (or `defaultPageSize`; all when neither), and a
 * `nextLink` carrying the same query plus `$skiptoken` while items remain. A `$top` above
 * MAX_TOP or below 1 is refused as ARM refuses it.
 */
export function pagedList(request: SandboxRequest, items: unknown[], defaultPageSize: number | undefined): SandboxResponse {
  const topParameter = request.url.searchParams.get("$top");
  let top = defaultPageSize;
  if (topParameter !== null) {
    top = Number(topParameter);
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
      return {
        status: 400,
        json: armError("BadRequest", `The value '${topParameter}' of query parameter '$top' is invalid: it must be between 1 and ${MAX_TOP}.`),
      };
    }
  }
  const skip = Number(request.url.searchParams.get("$skiptoken") ?? "0") || 0;
  const end = top === undefined ? items.length : Math.min(items.length, skip + top);
  const value = items.slice(skip, end);
  if (end >= items.length) return { status: 200, json: { value } };
  const next = new URL(request.url.href);
  next.searchParams.set("$skiptoken", String(end));
  return { status: 200, json: { value, nextLink: next.href } };
}

/** ARM location names and the display names Cosmos DB reports them by. */
const LOCATION_DISPLAY_NAMES: Record<string, string> = {
  australiaeast: "Australia East",
  brazilsouth: "Brazil South",
  canadacentral: "Canada Central",
  centralus: "Central US",
  eastasia: "East Asia",
  eastus: "East US",
  eastus2: "East US 2",
  francecentral: "France Central",
  germanywestcentral: "Germany West Central",
  japaneast: "Japan East",
  northeurope: "North Europe",
  norwayeast: "Norway East",
  southcentralus: "South Central US",
  southeastasia: "Southeast Asia",
  swedencentral: "Sweden Central",
  switzerlandnorth: "Switzerland North",
  uksouth: "UK South",
  ukwest: "UK West",
  westeurope: "West Europe",
  westus: "West US",
  westus2: "West US 2",
  westus3: "West US 3",
};

/** "westeurope" → "West Europe"; a name already in display form, or one not listed, is kept. */
export function locationDisplayName(location: string): string {
  return LOCATION_DISPLAY_NAMES[location.toLowerCase()] ?? location;
}

/** "West Europe" → "westeurope": the form Resource Graph and resource ids use. */
export function locationName(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}
