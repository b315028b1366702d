/**
 * A scenario's `sandbox` events: each field is one call on the sandbox's state API (the table in
 * docs/probes.md). They change the facts the probes read, never the account's status: as in
 * Azure, `customerManagedKeyStatus` lags the facts and changes only through `status` events.
 */
import type { CmkTarget } from "../sandbox/keyVaultProvisioning";
import type { SandboxKeyVault } from "../sandbox/keyVaultState";
import type { SandboxChange } from "./scenario";

const DAY_IN_MS = 24 * 60 * 60 * 1000;

/** The part of the local sandbox a sandbox event touches (LocalSandbox has it; tests pass a fake). */
export interface DrillSandbox {
  keyVault: Pick<
    SandboxKeyVault,
    | "deleteKey"
    | "recoverKey"
    | "setKeyEnabled"
    | "setKeyExpiry"
    | "grantPermission"
    | "removePermission"
    | "deleteVault"
    | "recoverVault"
    | "setDnsResolves"
    | "setFirewall"
    | "setPurgeProtection"
    | "findVault"
  >;
  setDefaultIdentity(account: string, value: string): void;
  setKeyVaultKeyUri(account: string, value: string): void;
  cmkTargetOf(account: string): CmkTarget | undefined;
}

/**
 * Applies one sandbox event to `account`, field by field: the account's own properties first (so
 * the rest acts on the vault, key and identity they point to), then the vault before its key.
 * Returns what could not be done, one line each; the other fields still apply.
 */
export function applySandboxChange(sandbox: DrillSandbox, account: string, change: SandboxChange, now: Date): string[] {
  const problems: string[] = [];
  const attempt = (what: string, action: () => void): void => {
    try {
      action();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  if (change.keyVaultKeyUri !== undefined) attempt("keyVaultKeyUri", () => sandbox.setKeyVaultKeyUri(account, change.keyVaultKeyUri!));
  if (change.defaultIdentity !== undefined) attempt("defaultIdentity", () => sandbox.setDefaultIdentity(account, change.defaultIdentity!));

  const rest = { ...change, keyVaultKeyUri: undefined, defaultIdentity: undefined };
  if (Object.values(rest).every((value) => value === undefined)) return problems;
  const target = sandbox.cmkTargetOf(account);
  if (!target) return [...problems, `the account's key URI names no vault and key, so ${describeFields(rest)} cannot apply`];
  const { vaultName: vault, keyName: key } = target;
  const kv = sandbox.keyVault;

  if (change.vault === "deleted") attempt("vault", () => kv.deleteVault(vault));
  if (change.vault === "recovered") attempt("vault", () => kv.recoverVault(vault));
  if (change.key === "deleted") attempt("key", () => kv.deleteKey(vault, key));
  if (change.key === "restored") attempt("key", () => kv.recoverKey(vault, key));
  if (change.key === "disabled" || change.key === "enabled") attempt("key", () => kv.setKeyEnabled(vault, key, change.key === "enabled"));
  if (change.keyExpiresInDays !== undefined) {
    attempt("keyExpiresInDays", () => kv.setKeyExpiry(vault, key, new Date(now.getTime() + change.keyExpiresInDays! * DAY_IN_MS)));
  }
  if (change.firewall !== undefined) {
    attempt("firewall", () => kv.setFirewall(vault, { blocksTrustedServices: change.firewall === "blocks-trusted-services" }));
  }
  if (change.purgeProtection !== undefined) attempt("purgeProtection", () => kv.setPurgeProtection(vault, change.purgeProtection === "on"));
  if (change.dns !== undefined) kv.setDnsResolves(target.vaultHost, change.dns === "resolves");
  if (change.permission !== undefined) problems.push(...applyPermission(sandbox, target, change));
  return problems;
}

function applyPermission(sandbox: DrillSandbox, target: CmkTarget, change: SandboxChange): string[] {
  const { vaultName: vault, keyName: key, principalId } = target;
  if (!principalId) {
    return ["permission: the account's default identity has no principal id the sandbox can tell (FirstPartyIdentity, cleared or not attached)"];
  }
  const model = sandbox.keyVault.findVault(vault)?.permissionModel;
  if (!model) return [`permission: Sandbox has no vault "${vault}"`];
  if (change.permission === "removed") {
    sandbox.keyVault.removePermission(vault, principalId, change.via);
    return [];
  }
  // Without `via`, the way the vault itself grants: an access policy, or a role assignment on an RBAC vault.
  const via = change.via ?? (model === "rbac" ? "rbac" : "access-policy");
  sandbox.keyVault.grantPermission(vault, principalId, via, { keyName: key });
  const counted = via === "rbac" ? model === "rbac" : model === "access-policies";
  return counted ? [] : [`permission: granted via ${via}, but vault ${vault} uses ${model}, so the grant changes nothing the probes (or Cosmos DB) see`];
}

/** "key, firewall": the fields of a change, for messages. */
function describeFields(change: Partial<SandboxChange>): string {
  return Object.entries(change)
    .filter(([, value]) => value !== undefined)
    .map(([field]) => field)
    .join(", ");
}

/** One change in words, for the report: "permission granted (access policy)", "key expires in 12 days". */
export function describeSandboxChange(change: SandboxChange): string {
  const parts: string[] = [];
  if (change.keyVaultKeyUri !== undefined) parts.push(`key URI set to ${change.keyVaultKeyUri}`);
  if (change.defaultIdentity !== undefined) {
    parts.push(change.defaultIdentity.trim() === "" ? "default identity cleared" : `default identity set to ${shortIdentity(change.defaultIdentity)}`);
  }
  if (change.vault !== undefined) parts.push(`vault ${change.vault}`);
  if (change.key !== undefined) parts.push(`key ${change.key}`);
  if (change.keyExpiresInDays !== undefined) parts.push(describeExpiry(change.keyExpiresInDays));
  if (change.firewall !== undefined) {
    parts.push(change.firewall === "allows" ? "firewall lets trusted Microsoft services through" : "firewall blocks trusted Microsoft services");
  }
  if (change.purgeProtection !== undefined) parts.push(`purge protection ${change.purgeProtection}`);
  if (change.dns !== undefined) parts.push(change.dns === "resolves" ? "vault host name resolves" : "vault host name stops resolving");
  if (change.permission !== undefined) {
    parts.push(`permission ${change.permission}${change.via ? ` (${change.via === "rbac" ? "role assignment" : "access policy"})` : ""}`);
  }
  return parts.join("; ");
}

/** A user-assigned identity by its name: its resource id would fill a report line on its own. */
function shortIdentity(value: string): string {
  const user = /^UserAssignedIdentity=.*\/userAssignedIdentities\/([^/&]+)/i.exec(value.trim());
  return user ? `user-assigned identity ${user[1]}` : value;
}

function describeExpiry(days: number): string {
  if (days > 0) return `key expires in ${days} day${days === 1 ? "" : "s"}`;
  return days === 0 ? "key expires now" : `key expired ${-days} day${days === -1 ? "" : "s"} ago`;
}
