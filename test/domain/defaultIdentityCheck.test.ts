import type { CmkAccount } from "../../src/domain/account";
import { checkDefaultIdentity } from "../../src/domain/defaultIdentityCheck";
import { PRINCIPAL, PROBE_ACCOUNT, UAI_ID } from "../fixtures/probes";

const APP_ID = "0c3f1f5e-2f8a-4b0e-9a4e-3c2f1e0d9b8a";

function account(overrides: Partial<CmkAccount>): CmkAccount {
  return { ...PROBE_ACCOUNT, ...overrides };
}

const attached = { [UAI_ID]: { principalId: PRINCIPAL, clientId: "c1" } };

describe("checkDefaultIdentity", () => {
  it.each<[string, Partial<CmkAccount>, { valid: boolean; principalId?: string; problem?: RegExp }]>([
    // The usual setup: system-assigned identity, principal reported.
    ["system-assigned", {}, { valid: true, principalId: PRINCIPAL }],
    // SystemAssignedIdentity without the identity enabled cannot reach anything.
    ["system-assigned but none enabled", { identityType: "None", principalId: undefined }, { valid: false, problem: /no system-assigned identity/ }],
    // A user-assigned default identity that is attached resolves to its principal.
    [
      "user-assigned attached",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}`, identityType: "UserAssigned", userAssignedIdentities: attached },
      { valid: true, principalId: PRINCIPAL },
    ],
    // ARM ids compare case-insensitively.
    [
      "user-assigned, other casing",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID.toUpperCase()}`, userAssignedIdentities: attached },
      { valid: true, principalId: PRINCIPAL },
    ],
    // The facts: only valid if that identity is attached to the account.
    [
      "user-assigned not attached",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}`, userAssignedIdentities: {} },
      { valid: false, problem: /not attached/ },
    ],
    // Not a resource id at all.
    [
      "user-assigned garbage id",
      { defaultIdentity: "UserAssignedIdentity=id-orders", userAssignedIdentities: {} },
      { valid: false, problem: /not a user-assigned identity resource id/ },
    ],
    // Cross-tenant: the federated client id must be a GUID.
    [
      "federated ok",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=${APP_ID}`, userAssignedIdentities: attached },
      { valid: true, principalId: PRINCIPAL },
    ],
    [
      "federated malformed",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=not-a-guid`, userAssignedIdentities: attached },
      { valid: false, problem: /not an application \(client\) id GUID/ },
    ],
    [
      "federated empty",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=`, userAssignedIdentities: attached },
      { valid: false, problem: /present but empty/ },
    ],
    // Valid forms whose principal the account does not report.
    ["first-party", { defaultIdentity: "FirstPartyIdentity" }, { valid: true }],
    ["delegated", { defaultIdentity: "DelegatedSystemAssignedIdentity" }, { valid: true }],
    // 4015: nothing set, or something Cosmos DB does not know.
    ["missing", { defaultIdentity: undefined }, { valid: false, problem: /no default identity/ }],
    ["unrecognized", { defaultIdentity: "ManagedIdentity" }, { valid: false, problem: /not a default identity Cosmos DB accepts/ }],
  ])("%s", (_name, overrides, expected) => {
    const check = checkDefaultIdentity(account(overrides));
    expect(check.valid).toBe(expected.valid);
    expect(check.principalId).toBe(expected.principalId);
    if (expected.problem) expect(check.problems.join(" ")).toMatch(expected.problem);
    else expect(check.problems).toEqual([]);
  });
});
