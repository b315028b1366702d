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

describe("checkDefaultIdentity: the whole answer the probes and emails read", () => {
  it.each<[string, Partial<CmkAccount>, ReturnType<typeof checkDefaultIdentity>]>([
    // The value is reported trimmed, as Cosmos DB reads it.
    [
      "system-assigned with stray spaces",
      { defaultIdentity: "  SystemAssignedIdentity " },
      {
        value: "SystemAssignedIdentity",
        kind: "system-assigned",
        valid: true,
        problems: [],
        principalId: PRINCIPAL,
        description: `The default identity is the account's system-assigned identity (principal id ${PRINCIPAL}).`,
      },
    ],
    // Nothing set: the value is empty, not missing.
    [
      "missing",
      { defaultIdentity: undefined },
      {
        value: "",
        kind: "missing",
        valid: false,
        problems: ["The account has no default identity, so Cosmos DB does not know which identity should reach the key."],
        description: "The account has no default identity set.",
      },
    ],
    // The identity type says system-assigned but no principal is reported: not usable yet.
    [
      "system-assigned type, no principal id",
      { principalId: undefined },
      {
        value: "SystemAssignedIdentity",
        kind: "system-assigned",
        valid: false,
        problems: ["The default identity is SystemAssignedIdentity, but the account has no system-assigned identity enabled."],
        description: "The default identity is the account's system-assigned identity, but the account reports no principal id for it.",
      },
    ],
    // A principal id left over, but the identity type says none is enabled: not usable either.
    [
      "principal id, identity type None",
      { identityType: "None" },
      {
        value: "SystemAssignedIdentity",
        kind: "system-assigned",
        valid: false,
        problems: ["The default identity is SystemAssignedIdentity, but the account has no system-assigned identity enabled."],
        description: `The default identity is the account's system-assigned identity (principal id ${PRINCIPAL}).`,
      },
    ],
    // Cross-tenant and attached: the ids are reported for the evidence lines.
    [
      "cross-tenant user-assigned",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=${APP_ID}`, userAssignedIdentities: attached },
      {
        value: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=${APP_ID}`,
        kind: "user-assigned",
        valid: true,
        problems: [],
        principalId: PRINCIPAL,
        userAssignedIdentityId: UAI_ID,
        federatedClientId: APP_ID,
        description: `The default identity is the user-assigned identity ${UAI_ID} (principal id ${PRINCIPAL}).`,
      },
    ],
    // A principal is only named when the identity is usable: granting a detached one fixes nothing.
    [
      "user-assigned, malformed client id",
      { defaultIdentity: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=app-1`, userAssignedIdentities: attached },
      {
        value: `UserAssignedIdentity=${UAI_ID}&FederatedClientId=app-1`,
        kind: "user-assigned",
        valid: false,
        problems: ['FederatedClientId "app-1" is not an application (client) id GUID.'],
        userAssignedIdentityId: UAI_ID,
        federatedClientId: "app-1",
        description: `The default identity is the user-assigned identity ${UAI_ID} (principal id ${PRINCIPAL}).`,
      },
    ],
    // Valid forms with nothing on the account to check, and no ids to report.
    [
      "first-party",
      { defaultIdentity: "FirstPartyIdentity" },
      {
        value: "FirstPartyIdentity",
        kind: "first-party",
        valid: true,
        problems: [],
        description: "The default identity is Azure Cosmos DB's first-party identity (FirstPartyIdentity).",
      },
    ],
  ])("%s", (_name, overrides, expected) => {
    expect(checkDefaultIdentity(account(overrides))).toEqual(expected);
  });
});
