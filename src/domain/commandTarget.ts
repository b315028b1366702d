/**
 * The account's values as `az` command arguments. Each is read from Azure and, when it is
 * missing, looks like an option, or (for names taken from the key URI or the default identity)
 * does not have its Azure shape, becomes a `<placeholder>` the reader fills in.
 */
import type { CmkAccount } from "./account";
import { resolveDefaultIdentity, type DefaultIdentityResolution } from "./defaultIdentity";
import { parseKeyVaultKeyUri, type KeyVaultKeyReference } from "./keyVaultUri";
import { placeholder, type ShellValue } from "./shellQuoting";

/** What commands may name about one account (or placeholders without one), built once by commandTarget(). */
export interface CommandTarget {
  account?: CmkAccount;
  subscription: ShellValue;
  resourceGroup: ShellValue;
  accountName: ShellValue;
  vaultName: ShellValue;
  keyName: ShellValue;
  keyReference?: KeyVaultKeyReference;
  identity?: DefaultIdentityResolution;
  principal: ShellValue;
}

/**
 * An Azure value, or a placeholder when it is missing. A value starting with "-" is also
 * replaced: quoting keeps the shell safe, but `az` would still read it as an option.
 */
export function azureValue(value: string | undefined, name: string): ShellValue {
  // Checked as the shell will see it: shellQuote drops NULs, so "\0--debug" would become an option.
  const text = value?.replace(/\0/g, "");
  if (text === undefined || text.trim() === "" || text.startsWith("-")) return placeholder(name);
  return text;
}

// Names as Key Vault and DNS allow them. The key URI and the default identity are written freely
// by whoever can edit the account (ARM checks neither), so what they yield reaches a command only
// if it is a real name of its kind: "../.." in a key name would move the RBAC scope off the key,
// and a quote would end PowerShell's '…' quoting, which does not read '\'' the POSIX way.
const VAULT_NAME = /^[A-Za-z0-9-]{1,63}$/;
const KEY_NAME = /^[A-Za-z0-9-]{1,127}$/;
export const HOST_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const QUOTE = /['\u2018\u2019\u201a\u201b]/;

/** A value from the key URI or the default identity: azureValue, and only if it has the right shape. */
export function freeValue(value: string | undefined, shape: RegExp | undefined, name: string): ShellValue {
  const checked = azureValue(value, name);
  if (typeof checked !== "string") return checked;
  return QUOTE.test(checked) || (shape && !shape.test(checked)) ? placeholder(name) : checked;
}

/** A user-assigned identity resource id as a command argument. */
export function identityIdValue(id: string | undefined): ShellValue {
  return freeValue(id, undefined, "user-assigned-identity-resource-id");
}

export function commandTarget(account?: CmkAccount): CommandTarget {
  const keyReference = account ? parseKeyVaultKeyUri(account.keyVaultKeyUri) : undefined;
  const identity = account ? resolveDefaultIdentity(account) : undefined;
  return {
    ...(account ? { account } : {}),
    subscription: azureValue(account?.subscriptionId, "subscription-id"),
    resourceGroup: azureValue(account?.resourceGroup, "resource-group"),
    accountName: azureValue(account?.name, "account-name"),
    vaultName: freeValue(keyReference?.vaultName, VAULT_NAME, "vault-name"),
    keyName: freeValue(keyReference?.keyName, KEY_NAME, "key-name"),
    ...(keyReference ? { keyReference } : {}),
    ...(identity ? { identity } : {}),
    principal: azureValue(identity?.principalId, "principal-id"),
  };
}
