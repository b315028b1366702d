import { randomUUID } from "node:crypto";
import {
  apiVersionRejection,
  armError,
  locationDisplayName,
  locationName,
  pagedList,
  resourceGroupNotFound,
  subscriptionIdRejection,
  subscriptionNotFound,
  type ArmResourceType,
} from "./armConventions";
import type { ResourceGraphRow } from "./resourceGraphRoutes";
import type { MatchedRoute, SandboxFault, SandboxRequest, SandboxResponse } from "./server";

/** What a test says about one Cosmos DB account; everything else gets a realistic default. */
export interface SandboxAccountSpec {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** ARM location name, e.g. "westeurope" (Cosmos DB reports it as "West Europe"). Default "westeurope". */
  location?: string;
  /** Set for CMK accounts; omitted from the ARM JSON when undefined, as ARM does. */
  keyVaultKeyUri?: string;
  /** Default "FirstPartyIdentity", which is what ARM reports when none was chosen. */
  defaultIdentity?: string;
  identity?: SandboxIdentitySpec;
  tags?: Record<string, string>;
  /** `properties.customerManagedKeyStatus`; undefined omits the property. */
  status?: string;
  /**
   * The vault and key behind `keyVaultKeyUri` (src/sandbox/keyVaultProvisioning.ts): "healthy"
   * (default) creates them in order with the default identity granted; "match-status" breaks the
   * one fact an initial revoked status is about (4002 → no permission, 4003 → key soft-deleted…);
   * "none" creates nothing.
   */
  keyVault?: "healthy" | "match-status" | "none";
}

export interface SandboxIdentitySpec {
  /** "None", "SystemAssigned", "UserAssigned" or "SystemAssigned,UserAssigned". */
  type: string;
  principalId?: string;
  /** Accepted as `az cosmosdb show` prints it; the sandbox reports its own tenant. */
  tenantId?: string;
  userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string }>;
}

/** The sandbox's stored view of an account: the spec with every default filled in. */
export interface SandboxAccount {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  keyVaultKeyUri?: string;
  defaultIdentity: string;
  identity: {
    type: string;
    principalId?: string;
    tenantId?: string;
    userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
  };
  tags: Record<string, string>;
  status?: string;
  createdAt: string;
}

/** The tenant every sandbox identity claims to live in. */
export const SANDBOX_TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe";

const LIST_SUBSCRIPTIONS = /^\/subscriptions\/?$/i;
// ARM matches provider namespaces, resource types and names case-insensitively.
const LIST_IN_SUBSCRIPTION = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.documentdb\/databaseaccounts\/?$/i;
const LIST_IN_RESOURCE_GROUP = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.documentdb\/databaseaccounts\/?$/i;
const GET_ACCOUNT = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.documentdb\/databaseaccounts\/([^/]+)\/?$/i;

// customerManagedKeyStatus first appeared in this API version; older versions never return it.
const CMK_STATUS_SINCE_API_VERSION = "2023-09-15";

/** ARM `Microsoft.DocumentDB/databaseAccounts` read endpoints plus the account state behind them. */
export class ArmRoutes {
  /** Keyed by lower-cased resource id, because ARM ids compare case-insensitively. */
  private readonly accounts = new Map<string, SandboxAccount>();
  /** The same accounts by lower-cased subscription and by lower-cased name: a fleet of 50,000 is listed and looked up without a scan. */
  private readonly bySubscription = new Map<string, Map<string, SandboxAccount>>();
  private readonly byName = new Map<string, SandboxAccount>();
  private readonly forbiddenSubscriptions = new Set<string>();
  private listOmitsStatus = false;
  /** Subscriptions the caller can see beyond those holding accounts, with their state. */
  private readonly extraSubscriptions = new Map<string, { displayName: string; state: string }>();
  /** Every subscription that exists, lower-cased, whether it holds accounts now or not (removing an account leaves it). */
  private readonly knownSubscriptions = new Set<string>();
  /** Every "subscription/resourcegroup" that exists, lower-cased: an account's group stays after the account goes. */
  private readonly resourceGroups = new Set<string>();
  /** ARM list page size when the caller sends no `$top`; undefined: one page (setListPageSize). */
  private listPageSize: number | undefined;
  /** Bumped by every change to an account, so the Resource Graph rows are rebuilt only when stale. */
  private version = 0;
  private graphRows: { version: number; rows: ResourceGraphRow[] } | undefined;

  /** Makes a subscription visible to `GET /subscriptions` (e.g. an empty or disabled one). */
  addSubscription(subscriptionId: string, options: { displayName?: string; state?: string } = {}): void {
    this.knownSubscriptions.add(subscriptionId.toLowerCase());
    this.extraSubscriptions.set(subscriptionId.toLowerCase(), {
      displayName: options.displayName ?? `Sandbox ${subscriptionId.slice(0, 8)}`,
      state: options.state ?? "Enabled",
    });
  }

  putAccount(spec: SandboxAccountSpec): string {
    const id = `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}` + `/providers/Microsoft.DocumentDB/databaseAccounts/${spec.name}`;
    // Cosmos DB account names are global DNS names, so one name cannot live in two places.
    const clash = this.findByName(spec.name);
    if (clash && clash.id.toLowerCase() !== id.toLowerCase()) {
      throw new Error(`Account name "${spec.name}" is already used by ${clash.id}`);
    }
    const previous = this.accounts.get(id.toLowerCase());
    const account: SandboxAccount = {
      id,
      name: spec.name,
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      location: locationDisplayName(spec.location ?? "westeurope"),
      defaultIdentity: spec.defaultIdentity ?? "FirstPartyIdentity",
      identity: completeIdentity(spec.identity),
      tags: { ...(spec.tags ?? {}) },
      createdAt: previous?.createdAt ?? new Date().toISOString(),
    };
    if (spec.keyVaultKeyUri !== undefined) account.keyVaultKeyUri = spec.keyVaultKeyUri;
    if (spec.status !== undefined) account.status = spec.status;
    this.accounts.set(id.toLowerCase(), account);
    this.index(account);
    this.addResourceGroup(spec.subscriptionId, spec.resourceGroup);
    this.version += 1;
    return id;
  }

  setStatus(nameOrId: string, status: string | undefined): void {
    const account = this.require(nameOrId);
    if (status === undefined) delete account.status;
    else account.status = status;
    this.version += 1;
  }

  /** Changes the account's CMK settings as an `az cosmosdb update` would; the status is left alone. */
  updateAccount(nameOrId: string, patch: { defaultIdentity?: string; keyVaultKeyUri?: string }): void {
    const account = this.require(nameOrId);
    if (patch.defaultIdentity !== undefined) account.defaultIdentity = patch.defaultIdentity;
    if (patch.keyVaultKeyUri !== undefined) account.keyVaultKeyUri = patch.keyVaultKeyUri;
    this.version += 1;
  }

  removeAccount(nameOrId: string): void {
    const account = this.require(nameOrId);
    this.accounts.delete(account.id.toLowerCase());
    this.bySubscription.get(account.subscriptionId.toLowerCase())?.delete(account.id.toLowerCase());
    this.byName.delete(account.name.toLowerCase());
    this.version += 1;
  }

  private index(account: SandboxAccount): void {
    const subscription = account.subscriptionId.toLowerCase();
    let accounts = this.bySubscription.get(subscription);
    if (!accounts) this.bySubscription.set(subscription, (accounts = new Map()));
    accounts.set(account.id.toLowerCase(), account);
    this.byName.set(account.name.toLowerCase(), account);
  }

  /** The accounts of one subscription, in the order they were created. */
  private inSubscription(subscriptionId: string): Iterable<SandboxAccount> {
    return this.bySubscription.get(subscriptionId.toLowerCase())?.values() ?? [];
  }

  getAccount(nameOrId: string): SandboxAccount | undefined {
    const account = this.find(nameOrId);
    return account ? copyAccount(account) : undefined;
  }

  forbidSubscription(subscriptionId: string): void {
    this.knownSubscriptions.add(subscriptionId.toLowerCase());
    this.forbiddenSubscriptions.add(subscriptionId.toLowerCase());
  }

  /**
   * List responses leave out `customerManagedKeyStatus` (a GET still has it). Azure documents the
   * property on the account, not that every list response carries it: the monitor must not depend
   * on it (docs/azure-behaviour.md).
   */
  setListOmitsStatus(omit: boolean): void {
    this.listOmitsStatus = omit;
  }

  /** Every subscription the tenant has: those holding accounts and those added, whatever the caller may read. */
  subscriptionIds(): string[] {
    return [...new Set([...[...this.accounts.values()].map((a) => a.subscriptionId.toLowerCase()), ...this.extraSubscriptions.keys()])];
  }

  route(request: SandboxRequest): MatchedRoute | undefined {
    if (request.method !== "GET") return undefined;
    const path = request.url.pathname;
    if (LIST_SUBSCRIPTIONS.test(path)) {
      return {
        id: "arm-subscriptions",
        handle: (fault) => (fault ? armFaultResponse(fault) : this.guarded(request, "subscriptions", undefined, () => this.listSubscriptions(request))),
      };
    }
    let match = LIST_IN_SUBSCRIPTION.exec(path);
    if (match) {
      const [subscriptionId] = decodeSegments(match);
      return {
        id: "arm-list",
        handle: (fault) =>
          fault
            ? armFaultResponse(fault)
            : this.guarded(request, "databaseAccounts", { subscriptionId }, (apiVersion) =>
                this.list(apiVersion, this.inSubscription(subscriptionId), () => true),
              ),
      };
    }
    match = LIST_IN_RESOURCE_GROUP.exec(path);
    if (match) {
      const [subscriptionId, resourceGroup] = decodeSegments(match);
      return {
        // Same read permission and same failure modes as the subscription-wide list.
        id: "arm-list",
        handle: (fault) =>
          fault
            ? armFaultResponse(fault)
            : this.guarded(request, "databaseAccounts", { subscriptionId, resourceGroup }, (apiVersion) =>
                this.list(apiVersion, this.inSubscription(subscriptionId), (a) => sameId(a.resourceGroup, resourceGroup)),
              ),
      };
    }
    match = GET_ACCOUNT.exec(path);
    if (match) {
      const [subscriptionId, resourceGroup, name] = decodeSegments(match);
      return {
        id: "arm-get",
        handle: (fault) =>
          fault
            ? armFaultResponse(fault)
            : this.guarded(request, "databaseAccounts", { subscriptionId, resourceGroup }, (apiVersion) =>
                this.get(apiVersion, resourceGroup, name, subscriptionId),
              ),
      };
    }
    return undefined;
  }

  /** The checks ARM makes before any resource provider sees the request, in ARM's order. */
  private guarded(
    request: SandboxRequest,
    type: ArmResourceType,
    scope: { subscriptionId: string; resourceGroup?: string } | undefined,
    answer: (apiVersion: string) => SandboxResponse,
  ): SandboxResponse {
    const authorization = request.headers["authorization"];
    if (typeof authorization !== "string" || !/^Bearer\s+\S+/i.test(authorization)) {
      return {
        status: 401,
        headers: {
          // ARM's real challenge; a bearer policy looking for CAE claims finds none and gives up.
          "www-authenticate":
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", ' +
            "error_description=\"The authentication failed because of missing 'Authorization' header.\"",
        },
        json: armError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."),
      };
    }
    const rejected = apiVersionRejection(request, type) ?? (scope ? subscriptionIdRejection(scope.subscriptionId) : undefined);
    if (rejected) return rejected;
    const apiVersion = request.url.searchParams.get("api-version")!;
    if (!scope) return answer(apiVersion);
    const { subscriptionId, resourceGroup } = scope;
    if (this.forbiddenSubscriptions.has(subscriptionId.toLowerCase())) {
      return {
        status: 403,
        json: armError(
          "AuthorizationFailed",
          `The client '00000000-0000-0000-0000-000000000000' with object id '00000000-0000-0000-0000-000000000000' ` +
            `does not have authorization to perform action 'Microsoft.DocumentDB/databaseAccounts/read' over scope ` +
            `'/subscriptions/${subscriptionId}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        ),
      };
    }
    // A subscription or resource group the sandbox never heard of does not exist, and ARM says which.
    // Set look-ups only: the benchmark's fleets make thousands of these calls.
    if (!this.knownSubscriptions.has(subscriptionId.toLowerCase())) return subscriptionNotFound(subscriptionId);
    if (resourceGroup !== undefined && !this.resourceGroups.has(`${subscriptionId}/${resourceGroup}`.toLowerCase()))
      return resourceGroupNotFound(resourceGroup);
    return answer(apiVersion);
  }

  /** Makes a resource group exist without accounts in it (an account's own group always exists). */
  addResourceGroup(subscriptionId: string, resourceGroup: string): void {
    this.knownSubscriptions.add(subscriptionId.toLowerCase());
    this.resourceGroups.add(`${subscriptionId}/${resourceGroup}`.toLowerCase());
  }

  /** The accounts as Resource Graph rows (latest API version, nested `properties`). */
  resourceGraphRows(): ResourceGraphRow[] {
    if (this.graphRows?.version === this.version) return this.graphRows.rows;
    const rows = [...this.accounts.values()].map((account) => {
      const json = toArmJson(account, "2025-10-15");
      return {
        id: account.id,
        name: account.name,
        type: "microsoft.documentdb/databaseaccounts",
        // Resource Graph normalises locations to their ARM names.
        location: locationName(account.location),
        subscriptionId: account.subscriptionId,
        resourceGroup: account.resourceGroup.toLowerCase(),
        tags: { ...account.tags },
        identity: json["identity"],
        properties: json["properties"] as Record<string, unknown>,
      };
    });
    this.graphRows = { version: this.version, rows };
    return rows;
  }

  /** Pageable lists (subscriptions) answer this many items a page, with a nextLink; undefined: all in one. */
  setListPageSize(size: number | undefined): void {
    this.listPageSize = size;
  }

  private listSubscriptions(request: SandboxRequest): SandboxResponse {
    const seen = new Map<string, { subscriptionId: string; displayName: string; state: string }>();
    for (const account of this.accounts.values()) {
      const key = account.subscriptionId.toLowerCase();
      if (!seen.has(key))
        seen.set(key, { subscriptionId: account.subscriptionId, displayName: `Sandbox ${account.subscriptionId.slice(0, 8)}`, state: "Enabled" });
    }
    for (const [key, extra] of this.extraSubscriptions) seen.set(key, { subscriptionId: key, ...extra });
    const value = [...seen.values()].map((s) => ({
      id: `/subscriptions/${s.subscriptionId}`,
      subscriptionId: s.subscriptionId,
      tenantId: SANDBOX_TENANT_ID,
      displayName: s.displayName,
      state: s.state,
      subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
      authorizationSource: "RoleBased",
    }));
    return pagedList(request, value, this.listPageSize);
  }

  private list(apiVersion: string, candidates: Iterable<SandboxAccount>, include: (account: SandboxAccount) => boolean): SandboxResponse {
    const value = [...candidates].filter(include).map((a) => {
      const json = toArmJson(a, apiVersion);
      if (this.listOmitsStatus) delete (json["properties"] as Record<string, unknown>)["customerManagedKeyStatus"];
      return json;
    });
    // Not pageable in the spec (nextLinkName null, the SDK reads one response): never a nextLink.
    return { status: 200, json: { value } };
  }

  private get(apiVersion: string, resourceGroup: string, name: string, subscriptionId: string): SandboxResponse {
    const account = [...this.inSubscription(subscriptionId)].find((a) => sameId(a.resourceGroup, resourceGroup) && sameId(a.name, name));
    if (!account) {
      return {
        status: 404,
        json: armError(
          "ResourceNotFound",
          `The Resource 'Microsoft.DocumentDB/databaseAccounts/${name}' under resource group '${resourceGroup}' ` +
            "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        ),
      };
    }
    return { status: 200, json: toArmJson(account, apiVersion) };
  }

  private find(nameOrId: string): SandboxAccount | undefined {
    return nameOrId.startsWith("/") ? this.accounts.get(nameOrId.trim().replace(/\/+$/, "").toLowerCase()) : this.findByName(nameOrId);
  }

  private findByName(name: string): SandboxAccount | undefined {
    return this.byName.get(name.toLowerCase());
  }

  private require(nameOrId: string): SandboxAccount {
    const account = this.find(nameOrId);
    // Throwing catches typos in tests that would otherwise assert against nothing.
    if (!account) throw new Error(`Sandbox has no account "${nameOrId}"`);
    return account;
  }
}

// Not structuredClone: under jest that builds objects in another realm than the test's.
function copyAccount(account: SandboxAccount): SandboxAccount {
  const { userAssignedIdentities, ...identity } = account.identity;
  return {
    ...account,
    tags: { ...account.tags },
    identity: {
      ...identity,
      ...(userAssignedIdentities
        ? {
            userAssignedIdentities: Object.fromEntries(Object.entries(userAssignedIdentities).map(([id, uai]) => [id, { ...uai }])),
          }
        : {}),
    },
  };
}

function completeIdentity(spec: SandboxIdentitySpec | undefined): SandboxAccount["identity"] {
  // ARM reports accounts without managed identity as type "None".
  if (!spec || /^none$/i.test(spec.type)) return { type: "None" };
  const identity: SandboxAccount["identity"] = { type: spec.type };
  if (/systemassigned/i.test(spec.type)) {
    identity.principalId = spec.principalId ?? randomUUID();
    identity.tenantId = SANDBOX_TENANT_ID;
  }
  if (spec.userAssignedIdentities) {
    identity.userAssignedIdentities = Object.fromEntries(
      Object.entries(spec.userAssignedIdentities).map(([id, uai]) => [
        id,
        { principalId: uai.principalId ?? randomUUID(), clientId: uai.clientId ?? randomUUID() },
      ]),
    );
  }
  return identity;
}

/** The account as `GET databaseAccounts` returns it (trimmed of properties nobody here reads). */
function toArmJson(account: SandboxAccount, apiVersion: string): Record<string, unknown> {
  const documentEndpoint = `https://${account.name.toLowerCase()}.documents.azure.com:443/`;
  const region = {
    id: `${account.name.toLowerCase()}-${locationName(account.location)}`,
    locationName: account.location,
    documentEndpoint: `https://${account.name.toLowerCase()}-${locationName(account.location)}.documents.azure.com:443/`,
    provisioningState: "Succeeded",
    failoverPriority: 0,
    isZoneRedundant: false,
  };
  const properties: Record<string, unknown> = {
    provisioningState: "Succeeded",
    documentEndpoint,
    databaseAccountOfferType: "Standard",
    ipRules: [],
    isVirtualNetworkFilterEnabled: false,
    enableAutomaticFailover: false,
    consistencyPolicy: { defaultConsistencyLevel: "Session", maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
    capabilities: [],
    writeLocations: [region],
    readLocations: [region],
    locations: [region],
    failoverPolicies: [{ id: region.id, locationName: account.location, failoverPriority: 0 }],
    virtualNetworkRules: [],
    enableMultipleWriteLocations: false,
    publicNetworkAccess: "Enabled",
    disableKeyBasedMetadataWriteAccess: false,
    disableLocalAuth: false,
    minimalTlsVersion: "Tls12",
    defaultIdentity: account.defaultIdentity,
  };
  if (account.keyVaultKeyUri !== undefined) properties["keyVaultKeyUri"] = account.keyVaultKeyUri;
  if (account.status !== undefined && apiVersion >= CMK_STATUS_SINCE_API_VERSION) {
    properties["customerManagedKeyStatus"] = account.status;
  }
  return {
    id: account.id,
    name: account.name,
    location: account.location,
    type: "Microsoft.DocumentDB/databaseAccounts",
    kind: "GlobalDocumentDB",
    tags: account.tags,
    identity: account.identity,
    systemData: { createdAt: account.createdAt },
    properties,
  };
}

/** A fault answer in ARM's error shape, with Retry-After when the fault asks for throttling. */
function armFaultResponse(fault: SandboxFault): SandboxResponse {
  const headers: Record<string, string> = {};
  if (fault.retryAfterInSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterInSeconds);
  if (fault.body !== undefined) return { status: fault.status, headers, text: fault.body };
  const code = ARM_FAULT_CODES[fault.status] ?? "SandboxInjectedFault";
  return { status: fault.status, headers, json: armError(code, `Injected fault: HTTP ${fault.status}.`) };
}

const ARM_FAULT_CODES: Record<number, string> = {
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

function decodeSegments(match: RegExpExecArray): string[] {
  return match.slice(1).map((segment) => decodeURIComponent(segment));
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
