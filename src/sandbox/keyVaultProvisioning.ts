/**
 * A CMK account does not exist without its key: when a test or scenario puts an account, the
 * sandbox makes sure the vault and key its URI names exist and that its default identity has
 * get/wrapKey/unwrapKey ("healthy", the default). With "match-status", an account that starts
 * revoked starts with the one fact its revocation is about broken, so the world is consistent
 * from minute zero:
 *
 *   4002 → no permission      4003 → key soft-deleted     4017 → vault soft-deleted
 *   4009 → no vault at all    4016 → firewall without the trusted-services bypass
 *   4018 → key disabled       anything else → everything in order
 *
 * Existing vaults and keys are left as they are (several accounts may share a vault). Later
 * status changes never touch these facts: as in Azure, the status lags the facts.
 */
import { locationName } from "./armConventions";
import { classifyStatus } from "../domain/classifier";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import type { SandboxAccount } from "./armRoutes";
import type { SandboxKeyVault } from "./keyVaultState";

/** The vault, key and principal an account's CMK setup points at (names as the drill needs them). */
export interface CmkTarget {
  vaultName: string;
  keyName: string;
  vaultHost: string;
  /** The default identity's principal, when the account has one the sandbox can tell. */
  principalId?: string;
}

export function cmkTargetOf(account: SandboxAccount): CmkTarget | undefined {
  const reference = parseKeyVaultKeyUri(account.keyVaultKeyUri);
  if (!reference) return undefined;
  const principalId = defaultPrincipal(account);
  return {
    vaultName: reference.vaultName,
    keyName: reference.keyName,
    vaultHost: reference.vaultHost,
    ...(principalId ? { principalId } : {}),
  };
}

export function provisionKeyVaultFor(keyVault: SandboxKeyVault, account: SandboxAccount, mode: "healthy" | "match-status" = "healthy"): void {
  const target = cmkTargetOf(account);
  if (!target || !target.vaultHost.endsWith(".vault.azure.net")) return;
  const code = mode === "match-status" ? classifyStatus(account.status).code : null;
  if (code === 4009) return;

  if (!keyVault.hasVault(target.vaultName)) {
    keyVault.createVault({
      name: target.vaultName,
      subscriptionId: account.subscriptionId,
      resourceGroup: account.resourceGroup,
      location: locationName(account.location),
    });
    if (code === 4016) keyVault.setFirewall(target.vaultName, { blocksTrustedServices: true });
  }
  if (!keyVault.hasKey(target.vaultName, target.keyName)) {
    keyVault.createKey(target.vaultName, target.keyName, { enabled: code !== 4018 });
    if (code === 4003) keyVault.deleteKey(target.vaultName, target.keyName);
  }
  if (target.principalId && code !== 4002) keyVault.grantPermission(target.vaultName, target.principalId, "access-policy");
  if (code === 4017) keyVault.deleteVault(target.vaultName);
}

function defaultPrincipal(account: SandboxAccount): string | undefined {
  const value = account.defaultIdentity.trim();
  if (/^SystemAssignedIdentity$/i.test(value)) return account.identity.principalId;
  const user = /^UserAssignedIdentity=([^&]+)/i.exec(value);
  if (!user) return undefined;
  const wanted = user[1]!.trim().toLowerCase();
  const entry = Object.entries(account.identity.userAssignedIdentities ?? {}).find(([id]) => id.toLowerCase() === wanted);
  return entry?.[1].principalId;
}
