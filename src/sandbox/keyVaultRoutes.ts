/**
 * HTTP faces of the sandbox's Key Vault world, shaped like the services the real SDK clients
 * call: the Key Vault data plane (on `<vault>.vault.azure.net` host names, with challenge
 * auth), ARM `Microsoft.KeyVault` vaults and deleted vaults, and ARM role assignments and role
 * definitions.
 */
import { VAULT_DNS_SUFFIXES } from "../domain/keyVaultUri";
import { apiVersionRejection, armError, pagedList, subscriptionIdRejection, type ArmResourceType } from "./armConventions";
import { SANDBOX_TENANT_ID } from "./armRoutes";
import { vaultId, type SandboxKey, type SandboxKeyVault, type SandboxVault } from "./keyVaultState";
import type { MatchedRoute, SandboxFault, SandboxRequest, SandboxResponse } from "./server";

const LIST_VAULTS = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.keyvault\/vaults\/?$/i;
const GET_VAULT = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.keyvault\/vaults\/([^/]+)\/?$/i;
const LIST_DELETED_VAULTS = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.keyvault\/deletedvaults\/?$/i;
const GET_DELETED_VAULT = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.keyvault\/locations\/([^/]+)\/deletedvaults\/([^/]+)\/?$/i;
// The SDKs put a scope that starts with "/" after their own "/", so tolerate several.
const LIST_ROLE_ASSIGNMENTS = /^\/+(.*?)\/providers\/microsoft\.authorization\/roleassignments\/?$/i;
const LIST_DENY_ASSIGNMENTS = /^\/+(.*?)\/providers\/microsoft\.authorization\/denyassignments\/?$/i;
const GET_ROLE_DEFINITION = /^\/+(?:(.*?)\/)?providers\/microsoft\.authorization\/roledefinitions\/([^/]+)\/?$/i;
const GET_KEY = /^\/keys\/([^/]+)(?:\/([^/]*))?\/?$/i;
const GET_DELETED_KEY = /^\/deletedkeys\/([^/]+)\/?$/i;
/** Key Vault data-plane versions the sandbox serves: the 7.x line and the date-named one @azure/keyvault-keys 4.10 sends. */
const DATA_PLANE_API_VERSIONS = ["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"];
const LATEST_DATA_PLANE_API_VERSION = "2025-07-01";
const ARM_TYPES: Record<"kv-vaults" | "kv-deleted-vaults" | "role-assignments" | "deny-assignments" | "role-definitions", ArmResourceType> = {
  "kv-vaults": "vaults",
  "kv-deleted-vaults": "deletedVaults",
  "role-assignments": "roleAssignments",
  "deny-assignments": "denyAssignments",
  "role-definitions": "roleDefinitions",
};

export class KeyVaultRoutes {
  /** Page size of the pageable lists (vaults, deleted vaults, role assignments) without `$top`; undefined: one page. */
  private listPageSize: number | undefined;

  constructor(private readonly state: SandboxKeyVault) {}

  setListPageSize(size: number | undefined): void {
    this.listPageSize = size;
  }

  route(request: SandboxRequest): MatchedRoute | undefined {
    if (request.method !== "GET") return undefined;
    const host = String(request.headers.host ?? "")
      .replace(/:\d+$/, "")
      .toLowerCase();
    const suffix = VAULT_DNS_SUFFIXES.find((s) => host.endsWith(`.${s.suffix}`));
    if (suffix) return this.dataPlane(request, host.slice(0, host.length - suffix.suffix.length - 1), host);
    return this.management(request);
  }

  // --- Key Vault data plane ------------------------------------------------------------------

  private dataPlane(request: SandboxRequest, vaultName: string, host: string): MatchedRoute | undefined {
    const path = request.url.pathname;
    const key = GET_KEY.exec(path);
    if (key) {
      const name = decodeURIComponent(key[1]!);
      const version = key[2] ? decodeURIComponent(key[2]) : undefined;
      return { id: "kv-key", handle: (fault) => this.dataGuard(request, vaultName, host, fault, (vault) => this.getKey(vault, host, name, version)) };
    }
    const deleted = GET_DELETED_KEY.exec(path);
    if (deleted) {
      const name = decodeURIComponent(deleted[1]!);
      return { id: "kv-deleted-key", handle: (fault) => this.dataGuard(request, vaultName, host, fault, (vault) => this.getDeletedKey(vault, host, name)) };
    }
    return undefined;
  }

  /** Challenge auth first (like the service), then the network rules, then the caller's rights. */
  private dataGuard(
    request: SandboxRequest,
    vaultName: string,
    host: string,
    fault: SandboxFault | undefined,
    answer: (vault: SandboxVault) => SandboxResponse,
  ): SandboxResponse {
    if (fault) return kvFaultResponse(fault);
    const authorization = request.headers["authorization"];
    if (typeof authorization !== "string" || !/^Bearer\s+\S+/i.test(authorization)) {
      return {
        status: 401,
        headers: {
          // The resource is the cloud's vault domain; the SDK checks it against the host it called.
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${SANDBOX_TENANT_ID}", resource="https://${host.slice(host.indexOf(".") + 1)}"`,
        },
        json: kvError("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."),
      };
    }
    const apiVersion = request.url.searchParams.get("api-version") ?? "";
    if (!DATA_PLANE_API_VERSIONS.includes(apiVersion)) {
      return {
        status: 400,
        json: kvError(
          "BadParameter",
          `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${LATEST_DATA_PLANE_API_VERSION}).`,
        ),
      };
    }
    const vault = this.state.findVault(vaultName);
    if (!vault || vault.deleted) {
      // Only reachable when a test forces the name to resolve: no vault answers there.
      return { status: 404, json: kvError("VaultNotFound", `No vault is served at ${host}.`) };
    }
    if (vault.publicNetworkAccess === "Disabled" && !vault.monitorAllowed) {
      return forbidden(
        "ForbiddenByConnection",
        "Public network access is disabled and request is not from a trusted service nor via an approved private link.",
      );
    }
    if (vault.defaultAction === "Deny" && !vault.monitorAllowed) {
      return forbidden(
        "ForbiddenByFirewall",
        `Client address is not authorized and caller is not a trusted service.\r\nVault: ${vault.name};location=${vault.location}`,
      );
    }
    if (this.state.isMonitorDenied("keys", vault.name)) {
      return vault.permissionModel === "rbac"
        ? forbidden(
            "ForbiddenByRbac",
            `Caller is not authorized to perform action on resource.\r\nAction: 'Microsoft.KeyVault/vaults/keys/read'\r\nVault: ${vault.name}`,
          )
        : forbidden("ForbiddenByPolicy", `The user, group or application does not have keys get permission on key vault '${vault.name}'.`);
    }
    return answer(vault);
  }

  private getKey(vault: SandboxVault, host: string, name: string, version: string | undefined): SandboxResponse {
    const key = this.state.findKey(vault, name);
    // A URL naming a version asks for that version: any other than the key's current one is not found.
    if (!key || key.deleted || (version !== undefined && version.toLowerCase() !== key.version.toLowerCase())) {
      return {
        status: 404,
        json: kvError(
          "KeyNotFound",
          `A key with (name/id) ${name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.`,
        ),
      };
    }
    return { status: 200, json: keyBundle(vault, host, key) };
  }

  private getDeletedKey(vault: SandboxVault, host: string, name: string): SandboxResponse {
    const key = this.state.findKey(vault, name);
    if (!key?.deleted) return { status: 404, json: kvError("KeyNotFound", `Deleted Key not found: ${name}`) };
    return {
      status: 200,
      json: {
        ...keyBundle(vault, host, key),
        recoveryId: `https://${host}/deletedkeys/${key.name}`,
        deletedDate: seconds(key.deleted.on),
        scheduledPurgeDate: seconds(key.deleted.purgeOn),
      },
    };
  }

  // --- ARM: vaults, deleted vaults, role assignments, role definitions -----------------------

  private management(request: SandboxRequest): MatchedRoute | undefined {
    const path = request.url.pathname;
    let match = LIST_VAULTS.exec(path);
    if (match) {
      const [subscriptionId] = decode(match);
      return this.arm(request, "kv-vaults", "vaults", "*", () =>
        pagedList(
          request,
          this.state
            .listVaults()
            .filter((v) => !v.deleted && same(v.subscriptionId, subscriptionId))
            .map(vaultJson),
          this.listPageSize,
        ),
      );
    }
    match = GET_VAULT.exec(path);
    if (match) {
      const [subscriptionId, resourceGroup, name] = decode(match);
      return this.arm(request, "kv-vaults", "vaults", name, () => {
        const vault = this.state.findVault(name);
        if (!vault || vault.deleted || !same(vault.subscriptionId, subscriptionId) || !same(vault.resourceGroup, resourceGroup)) {
          return {
            status: 404,
            json: armError("ResourceNotFound", `The Resource 'Microsoft.KeyVault/vaults/${name}' under resource group '${resourceGroup}' was not found.`),
          };
        }
        return { status: 200, json: vaultJson(vault) };
      });
    }
    match = LIST_DELETED_VAULTS.exec(path);
    if (match) {
      const [subscriptionId] = decode(match);
      return this.arm(request, "kv-deleted-vaults", "vaults", "*", () =>
        pagedList(
          request,
          this.state
            .listVaults()
            .filter((v) => v.deleted && same(v.subscriptionId, subscriptionId))
            .map(deletedVaultJson),
          this.listPageSize,
        ),
      );
    }
    match = GET_DELETED_VAULT.exec(path);
    if (match) {
      const [subscriptionId, location, name] = decode(match);
      return this.arm(request, "kv-deleted-vaults", "vaults", name, () => {
        const vault = this.state.findVault(name);
        if (!vault?.deleted || !same(vault.subscriptionId, subscriptionId) || !same(vault.location, location)) {
          return { status: 404, json: armError("ResourceNotFound", `The deleted vault '${name}' was not found in location '${location}'.`) };
        }
        return { status: 200, json: deletedVaultJson(vault) };
      });
    }
    match = LIST_ROLE_ASSIGNMENTS.exec(path);
    if (match) {
      const scope = `/${decodeURIComponent(match[1]!)}`;
      return this.arm(request, "role-assignments", "role-assignments", "*", () => this.listRoleAssignments(request, scope));
    }
    match = LIST_DENY_ASSIGNMENTS.exec(path);
    if (match) {
      const scope = `/${decodeURIComponent(match[1]!)}`;
      return this.arm(request, "deny-assignments", "role-assignments", "*", () => this.listDenyAssignments(request, scope));
    }
    match = GET_ROLE_DEFINITION.exec(path);
    if (match) {
      const id = decodeURIComponent(match[2]!);
      const scope = match[1] ? `/${decodeURIComponent(match[1])}` : "";
      return this.arm(request, "role-definitions", "role-assignments", "*", () => {
        const role = this.state.roleDefinition(id);
        if (!role) return { status: 404, json: armError("RoleDefinitionDoesNotExist", `The specified role definition with ID '${id}' does not exist.`) };
        return { status: 200, json: roleDefinitionJson(scope, role) };
      });
    }
    return undefined;
  }

  private arm(
    request: SandboxRequest,
    id: "kv-vaults" | "kv-deleted-vaults" | "role-assignments" | "deny-assignments" | "role-definitions",
    denial: "vaults" | "role-assignments",
    vaultName: string,
    answer: () => SandboxResponse,
  ): MatchedRoute {
    return {
      id,
      handle: (fault) => {
        if (fault) return armFaultResponse(fault);
        const authorization = request.headers["authorization"];
        if (typeof authorization !== "string" || !/^Bearer\s+\S+/i.test(authorization)) {
          return { status: 401, json: armError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.") };
        }
        const subscriptionId = /^\/+subscriptions\/([^/]+)/i.exec(request.url.pathname)?.[1];
        const rejected =
          apiVersionRejection(request, ARM_TYPES[id]) ?? (subscriptionId ? subscriptionIdRejection(decodeURIComponent(subscriptionId)) : undefined);
        if (rejected) return rejected;
        if (this.state.isMonitorDenied(denial, vaultName)) {
          return {
            status: 403,
            json: armError(
              "AuthorizationFailed",
              `The client '00000000-0000-0000-0000-000000000000' does not have authorization to perform action '${denial === "vaults" ? "Microsoft.KeyVault/vaults/read" : "Microsoft.Authorization/roleAssignments/read"}' over scope '${request.url.pathname}' or the scope is invalid.`,
            ),
          };
        }
        return answer();
      },
    };
  }

  private listRoleAssignments(request: SandboxRequest, scope: string): SandboxResponse {
    // The filters ARM documents for this list: `principalId eq` (at, above and below the scope, that
    // principal only), `assignedTo()` (group memberships expanded) and `atScope()` (at or above).
    const filter = request.url.searchParams.get("$filter") ?? "";
    const atScope = /atScope\(\)/i.test(filter);
    const assignedTo = /assignedTo\('([^']+)'\)/i.exec(filter)?.[1];
    const principal = /principalId\s+eq\s+'([^']+)'/i.exec(filter)?.[1];
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1] ?? "00000000-0000-0000-0000-000000000000";
    const found = assignedTo
      ? this.state.roleAssignmentsApplying(scope, assignedTo, atScope)
      : this.state
          .roleAssignmentsFor(scope, principal)
          .filter((a) => !atScope || scope.toLowerCase() === a.scope.toLowerCase() || scope.toLowerCase().startsWith(`${a.scope.toLowerCase()}/`));
    const value = found.map((a) => ({
      id: a.id,
      name: a.id.split("/").pop(),
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${a.roleDefinitionId}`,
        principalId: a.principalId,
        principalType: a.principalType,
        scope: a.scope,
        ...(a.condition ? { condition: a.condition, conditionVersion: "2.0" } : {}),
      },
    }));
    return pagedList(request, value, this.listPageSize);
  }

  private listDenyAssignments(request: SandboxRequest, scope: string): SandboxResponse {
    const atScope = /atScope\(\)/i.test(request.url.searchParams.get("$filter") ?? "");
    const value = this.state.denyAssignmentsAt(scope, atScope).map((d) => ({
      id: d.id,
      name: d.id.split("/").pop(),
      type: "Microsoft.Authorization/denyAssignments",
      properties: {
        denyAssignmentName: d.name,
        description: "",
        permissions: [{ actions: [], notActions: [], dataActions: d.dataActions, notDataActions: d.notDataActions }],
        scope: d.scope,
        doNotApplyToChildScopes: d.doNotApplyToChildScopes,
        principals: d.principals,
        excludePrincipals: d.excludePrincipals,
        isSystemProtected: true,
        ...(d.condition ? { condition: d.condition, conditionVersion: "2.0" } : {}),
      },
    }));
    return { status: 200, json: { value } };
  }
}

// --- JSON shapes ---------------------------------------------------------------------------

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function keyBundle(vault: SandboxVault, host: string, key: SandboxKey): Record<string, unknown> {
  return {
    key: {
      kid: `https://${host}/keys/${key.name}/${key.version}`,
      kty: "RSA",
      key_ops: ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
      // A public modulus is public; a fixed dummy keeps the bundle valid JSON Web Key shape.
      n: "sandbox-modulus",
      e: "AQAB",
    },
    attributes: {
      enabled: key.enabled,
      ...(key.notBefore ? { nbf: seconds(key.notBefore) } : {}),
      ...(key.expiresOn ? { exp: seconds(key.expiresOn) } : {}),
      created: seconds(key.createdOn),
      updated: seconds(key.updatedOn),
      recoveryLevel: vault.purgeProtection ? "Recoverable" : vault.softDelete ? "Recoverable+Purgeable" : "Purgeable",
      ...(vault.softDelete ? { recoverableDays: vault.softDeleteRetentionInDays } : {}),
    },
  };
}

function vaultJson(vault: SandboxVault): Record<string, unknown> {
  return {
    id: vaultId(vault),
    name: vault.name,
    type: "Microsoft.KeyVault/vaults",
    location: vault.location,
    tags: {},
    properties: {
      tenantId: SANDBOX_TENANT_ID,
      sku: { family: "A", name: "standard" },
      accessPolicies: vault.accessPolicies.map((p) => ({
        tenantId: SANDBOX_TENANT_ID,
        objectId: p.objectId,
        permissions: { keys: [...p.keys], secrets: [], certificates: [] },
      })),
      vaultUri: `https://${vault.name}.vault.azure.net/`,
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableSoftDelete: vault.softDelete,
      softDeleteRetentionInDays: vault.softDeleteRetentionInDays,
      enableRbacAuthorization: vault.permissionModel === "rbac",
      // ARM omits the property when purge protection was never turned on.
      ...(vault.purgeProtection ? { enablePurgeProtection: true } : {}),
      networkAcls: {
        bypass: vault.bypassAzureServices ? "AzureServices" : "None",
        defaultAction: vault.defaultAction,
        ipRules: vault.monitorAllowed ? [{ value: "203.0.113.10/32" }] : [],
        virtualNetworkRules: [],
      },
      publicNetworkAccess: vault.publicNetworkAccess,
      provisioningState: "Succeeded",
    },
  };
}

function deletedVaultJson(vault: SandboxVault): Record<string, unknown> {
  return {
    id: `/subscriptions/${vault.subscriptionId}/providers/Microsoft.KeyVault/locations/${vault.location}/deletedVaults/${vault.name}`,
    name: vault.name,
    type: "Microsoft.KeyVault/deletedVaults",
    properties: {
      vaultId: vaultId(vault),
      location: vault.location,
      deletionDate: vault.deleted!.on.toISOString(),
      scheduledPurgeDate: vault.deleted!.purgeOn.toISOString(),
      tags: {},
      purgeProtectionEnabled: vault.purgeProtection,
    },
  };
}

function roleDefinitionJson(scope: string, role: { id: string; roleName: string; dataActions: string[]; notDataActions?: string[] }): Record<string, unknown> {
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${role.id}`,
    name: role.id,
    type: "Microsoft.Authorization/roleDefinitions",
    properties: {
      roleName: role.roleName,
      type: "BuiltInRole",
      description: role.roleName,
      assignableScopes: ["/"],
      permissions: [{ actions: [], notActions: [], dataActions: role.dataActions, notDataActions: role.notDataActions ?? [] }],
    },
  };
}

function kvError(code: string, message: string, inner?: string): Record<string, unknown> {
  return { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } };
}

function forbidden(inner: string, message: string): SandboxResponse {
  return { status: 403, json: kvError("Forbidden", message, inner) };
}

function kvFaultResponse(fault: SandboxFault): SandboxResponse {
  const headers: Record<string, string> = {};
  // Key Vault's throttling answer says when to come back; the SDK retries only then.
  if (fault.retryAfterInSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterInSeconds);
  if (fault.body !== undefined) return { status: fault.status, headers, text: fault.body };
  const code = fault.status === 403 ? "Forbidden" : fault.status === 429 ? "Throttled" : "SandboxInjectedFault";
  return { status: fault.status, headers, json: kvError(code, `Injected fault: HTTP ${fault.status}.`) };
}

function armFaultResponse(fault: SandboxFault): SandboxResponse {
  const headers: Record<string, string> = {};
  if (fault.retryAfterInSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterInSeconds);
  if (fault.body !== undefined) return { status: fault.status, headers, text: fault.body };
  return {
    status: fault.status,
    headers,
    json: armError(fault.status === 403 ? "AuthorizationFailed" : "SandboxInjectedFault", `Injected fault: HTTP ${fault.status}.`),
  };
}

function decode(match: RegExpExecArray): string[] {
  return match.slice(1).map((segment) => decodeURIComponent(segment));
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
