/**
 * Which identity Cosmos DB uses to reach the key, read from the account's `defaultIdentity`, and
 * the principal that needs the key permissions when the account tells us. Pure.
 */
import type { CmkAccount } from "./account";
import { displayValue } from "./displayText";

export type DefaultIdentityKind = "system-assigned" | "user-assigned" | "first-party" | "delegated" | "missing" | "unrecognized";

export interface DefaultIdentityResolution {
  kind: DefaultIdentityKind;
  /** The principal (object) id that needs the key permissions, when the account tells us. */
  principalId?: string;
  /** For user-assigned: the identity's resource id as written in `defaultIdentity`. */
  userAssignedIdentityId?: string;
  /** For user-assigned: whether that id is listed in the account's userAssignedIdentities. */
  attached?: boolean;
  /** Cross-tenant setups append `&FederatedClientId=<app id>` to the user-assigned form. */
  federatedClientId?: string;
  /** One plain sentence for emails. */
  description: string;
}

/** Which identity Cosmos DB uses to reach the key, and its principal id when known. */
export function resolveDefaultIdentity(account: CmkAccount): DefaultIdentityResolution {
  const raw = account.defaultIdentity?.trim() ?? "";
  if (raw === "") return { kind: "missing", description: "The account has no default identity set." };
  if (/^SystemAssignedIdentity$/i.test(raw)) {
    return {
      kind: "system-assigned",
      ...(account.principalId ? { principalId: account.principalId } : {}),
      description: account.principalId
        ? `The default identity is the account's system-assigned identity (principal id ${displayValue(account.principalId)}).`
        : "The default identity is the account's system-assigned identity, but the account reports no principal id for it.",
    };
  }
  const userAssigned = /^UserAssignedIdentity=([^&]*)(?:&FederatedClientId=(.*))?$/i.exec(raw);
  if (userAssigned) {
    const id = userAssigned[1]!.trim();
    const federatedClientId = userAssigned[2]?.trim();
    const match = findUserAssignedIdentity(account, id);
    const principalId = match?.principalId;
    const federated = federatedClientId ? { federatedClientId } : {};
    if (!match) {
      return {
        kind: "user-assigned",
        userAssignedIdentityId: id,
        attached: false,
        ...federated,
        description: `The default identity is the user-assigned identity ${displayValue(id)}, which is not attached to the account.`,
      };
    }
    return {
      kind: "user-assigned",
      userAssignedIdentityId: id,
      attached: true,
      ...(principalId ? { principalId } : {}),
      ...federated,
      description: principalId
        ? `The default identity is the user-assigned identity ${displayValue(id)} (principal id ${displayValue(principalId)}).`
        : `The default identity is the user-assigned identity ${displayValue(id)}; the account reports no principal id for it.`,
    };
  }
  if (/^FirstPartyIdentity$/i.test(raw)) {
    return { kind: "first-party", description: "The default identity is Azure Cosmos DB's first-party identity (FirstPartyIdentity)." };
  }
  if (/^Delegated(System|User)AssignedIdentity/i.test(raw)) {
    return { kind: "delegated", description: `The default identity is a delegated identity (${displayValue(raw)}).` };
  }
  return { kind: "unrecognized", description: `The default identity "${displayValue(raw)}" is not a form Cosmos DB accepts.` };
}

function findUserAssignedIdentity(account: CmkAccount, id: string) {
  // ARM ids are case-insensitive, and ARM is not consistent about casing "resourceGroups".
  const wanted = id.replace(/\/+$/, "").toLowerCase();
  const entry = Object.entries(account.userAssignedIdentities ?? {}).find(([key]) => key.replace(/\/+$/, "").toLowerCase() === wanted);
  return entry ? entry[1] : undefined;
}
