/**
 * The default-identity probe: is `defaultIdentity` one of the forms Cosmos DB accepts, is a
 * user-assigned identity actually attached, is `&FederatedClientId=` well formed, and which
 * principal needs the key permissions. Local and pure: everything comes from the account.
 */
import type { CmkAccount } from "./account";
import { NAME_SHAPES } from "./commandTarget";
import { displayValue } from "./displayText";
import { resolveDefaultIdentity, type DefaultIdentityKind } from "./defaultIdentity";

export interface DefaultIdentityCheck {
  /** The value as the account has it (trimmed). */
  value: string;
  kind: DefaultIdentityKind;
  /** False when Cosmos DB cannot use it at all (missing, unknown form, not attached, malformed). */
  valid: boolean;
  problems: string[];
  /** The principal (object) id that needs get/wrapKey/unwrapKey, when the account tells us. */
  principalId?: string;
  userAssignedIdentityId?: string;
  federatedClientId?: string;
  /** One plain sentence: which identity it is. */
  description: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The resource-id shape of a user-assigned identity, the one the commands use (names and GUIDs, nothing else).
const USER_ASSIGNED_ID = NAME_SHAPES.userAssignedIdentityId;

export function checkDefaultIdentity(account: CmkAccount): DefaultIdentityCheck {
  const resolution = resolveDefaultIdentity(account);
  const value = account.defaultIdentity?.trim() ?? "";
  const problems: string[] = [];
  switch (resolution.kind) {
    case "missing":
      problems.push("The account has no default identity, so Cosmos DB does not know which identity should reach the key.");
      break;
    case "unrecognized":
      problems.push(
        `"${displayValue(value)}" is not a default identity Cosmos DB accepts (FirstPartyIdentity, SystemAssignedIdentity, UserAssignedIdentity=<resource id>, or a delegated form).`,
      );
      break;
    case "system-assigned":
      // Stryker disable next-line StringLiteral: equivalent, a missing identity type matches neither "" nor any other text without "systemassigned"
      if (!/systemassigned/i.test(account.identityType ?? "") || !resolution.principalId) {
        problems.push("The default identity is SystemAssignedIdentity, but the account has no system-assigned identity enabled.");
      }
      break;
    case "user-assigned": {
      // Stryker disable next-line StringLiteral: equivalent, resolveDefaultIdentity always sets the id for the user-assigned kind
      const id = resolution.userAssignedIdentityId ?? "";
      if (!USER_ASSIGNED_ID.test(id)) {
        problems.push(
          `"${displayValue(id)}" is not a user-assigned identity resource id (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>).`,
        );
      } else if (!resolution.attached) {
        problems.push(`The user-assigned identity ${displayValue(id)} is the default identity but is not attached to the account.`);
      }
      if (resolution.federatedClientId !== undefined && !GUID.test(resolution.federatedClientId)) {
        problems.push(`FederatedClientId "${displayValue(resolution.federatedClientId)}" is not an application (client) id GUID.`);
      }
      if (/&FederatedClientId=$/i.test(value)) problems.push("&FederatedClientId= is present but empty.");
      break;
    }
    // first-party and delegated: valid forms with nothing on the account to check.
  }
  return {
    value,
    kind: resolution.kind,
    valid: problems.length === 0,
    problems,
    ...(resolution.principalId && problems.length === 0 ? { principalId: resolution.principalId } : {}),
    ...(resolution.userAssignedIdentityId !== undefined ? { userAssignedIdentityId: resolution.userAssignedIdentityId } : {}),
    ...(resolution.federatedClientId !== undefined ? { federatedClientId: resolution.federatedClientId } : {}),
    description: resolution.description,
  };
}
