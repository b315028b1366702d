/**
 * The one gate between Azure values and the commands the monitor prints (remediation steps,
 * evidence lines, warning digests, the CLI, every email). A value reaches a command only if it
 * has its Azure shape and is a word no shell we name (POSIX shells, PowerShell, cmd.exe) reads
 * specially; otherwise it becomes a `<placeholder>` the reader fills in.
 */
import type { CmkAccount } from "./account";
import { resolveDefaultIdentity, type DefaultIdentityResolution } from "./defaultIdentity";
import { verifiedKeyNames } from "./keyVaultUri";
import { isInertWord, placeholder, sh, type ShellValue } from "./shellQuoting";

/** What commands may name about one account (or placeholders without one), built once by commandTarget(). */
export interface CommandTarget {
  account?: CmkAccount;
  subscription: ShellValue;
  resourceGroup: ShellValue;
  accountName: ShellValue;
  vaultName: ShellValue;
  /** `<vault>.<vault DNS suffix>` from the strict parse; never any other host. */
  vaultHost: ShellValue;
  keyName: ShellValue;
  identity?: DefaultIdentityResolution;
  principal: ShellValue;
}

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
// Resource group names as ARM allows them, ASCII only (a non-ASCII letter could be a look-alike
// PowerShell reads as a quote or dash): 1-90 letters, digits, _ . ( ) -, not ending in "."; nor,
// for a shell word, starting with "." or "-".
const RESOURCE_GROUP = "(?:[A-Za-z0-9_(][A-Za-z0-9_.()-]{0,88}[A-Za-z0-9_()-]|[A-Za-z0-9_(])";
const VAULT_NAME = "[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]";

/** Azure's shape for each kind of name a command carries. */
export const NAME_SHAPES = {
  subscriptionId: new RegExp(`^${GUID}$`),
  principalId: new RegExp(`^${GUID}$`),
  resourceGroup: new RegExp(`^${RESOURCE_GROUP}$`),
  // Cosmos DB account names: 3-44 lower-case letters, digits and dashes, starting with a letter or digit.
  accountName: /^[a-z0-9][a-z0-9-]{2,43}$/,
  // Key Vault names: 3-24 letters, digits and dashes, a letter first, a letter or digit last, no "--".
  vaultName: new RegExp(`^${VAULT_NAME}$`),
  keyName: /^[A-Za-z0-9-]{1,127}$/,
  userAssignedIdentityId: new RegExp(
    `^/subscriptions/${GUID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`,
    "i",
  ),
  vaultResourceId: new RegExp(`^/subscriptions/${GUID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft\\.KeyVault/vaults/${VAULT_NAME}$`, "i"),
  vaultHost: new RegExp(`^${VAULT_NAME}(\\.[a-z0-9-]+)+$`, "i"),
  accountResourceId: new RegExp(
    `^/subscriptions/${GUID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft\\.DocumentDB/databaseAccounts/[a-z0-9][a-z0-9-]{2,43}$`,
    "i",
  ),
} as const;

export type NameKind = keyof typeof NAME_SHAPES;

/** `value` when it has the shape of `kind` and is an inert word; otherwise `<name>`. */
export function guardedValue(value: string | undefined, kind: NameKind, name: string): ShellValue {
  return typeof value === "string" && NAME_SHAPES[kind].test(value) && isInertWord(value) ? value : placeholder(name);
}

/** A user-assigned identity resource id as a command argument. */
export function identityIdValue(id: string | undefined): ShellValue {
  return guardedValue(id, "userAssignedIdentityId", "user-assigned-identity-resource-id");
}

export function principalValue(id: string | undefined): ShellValue {
  return guardedValue(id, "principalId", "principal-id");
}

/**
 * The RBAC scope of one key: the vault's ARM id plus a key name that passed the key-name rule,
 * never the raw key URI ("../.." there would widen the grant to the resource group).
 */
export function keyScopeValue(vaultResourceId: ShellValue, keyName: ShellValue): ShellValue {
  return sh`${vaultResourceId}/keys/${keyName}`;
}

export function commandTarget(account?: CmkAccount): CommandTarget {
  const names = account ? verifiedKeyNames(account.keyVaultKeyUri) : {};
  const identity = account ? resolveDefaultIdentity(account) : undefined;
  return {
    ...(account ? { account } : {}),
    subscription: guardedValue(account?.subscriptionId, "subscriptionId", "subscription-id"),
    resourceGroup: guardedValue(account?.resourceGroup, "resourceGroup", "resource-group"),
    accountName: guardedValue(account?.name, "accountName", "account-name"),
    vaultName: guardedValue(names.vaultName, "vaultName", "vault-name"),
    vaultHost: guardedValue(names.vaultHost, "vaultHost", "vault-host"),
    keyName: guardedValue(names.keyName, "keyName", "key-name"),
    ...(identity ? { identity } : {}),
    principal: principalValue(identity?.principalId),
  };
}
