import { resolveDefaultIdentity } from "../../src/domain/defaultIdentity";
import { makeAccount, makeUserAssignedAccount, SYSTEM_PRINCIPAL_ID, USER_ASSIGNED_IDENTITY_ID, USER_ASSIGNED_PRINCIPAL_ID } from "../fixtures/incidents";

describe("resolveDefaultIdentity", () => {
  it.each([
    // The common case.
    ["system-assigned", makeAccount(), { kind: "system-assigned", principalId: SYSTEM_PRINCIPAL_ID }],
    // Matched case-insensitively: ARM lower-cases "resourcegroups" in the identity map.
    ["user-assigned", makeUserAssignedAccount(), { kind: "user-assigned", principalId: USER_ASSIGNED_PRINCIPAL_ID, attached: true }],
    // Cross-tenant suffix is split off before matching.
    [
      "cross-tenant",
      makeUserAssignedAccount({
        defaultIdentity: `UserAssignedIdentity=${USER_ASSIGNED_IDENTITY_ID.toUpperCase()}&FederatedClientId=9f8e7d6c-0000-0000-0000-000000000000`,
      }),
      { kind: "user-assigned", principalId: USER_ASSIGNED_PRINCIPAL_ID, federatedClientId: "9f8e7d6c-0000-0000-0000-000000000000" },
    ],
    // Not attached: no principal to grant.
    ["detached", makeUserAssignedAccount({ userAssignedIdentities: {} }), { kind: "user-assigned", attached: false }],
    ["first-party", makeAccount({ defaultIdentity: "FirstPartyIdentity" }), { kind: "first-party" }],
    ["delegated", makeAccount({ defaultIdentity: "DelegatedUserAssignedIdentity" }), { kind: "delegated" }],
    ["missing", makeAccount({ defaultIdentity: undefined }), { kind: "missing" }],
    ["unrecognized", makeAccount({ defaultIdentity: "Bogus" }), { kind: "unrecognized" }],
  ])("%s", (_name, account, expected) => {
    const resolved = resolveDefaultIdentity(account);
    expect(resolved).toMatchObject(expected);
    expect(resolved.description.length).toBeGreaterThan(0);
    if (!("principalId" in expected)) expect(resolved.principalId).toBeUndefined();
  });
});
