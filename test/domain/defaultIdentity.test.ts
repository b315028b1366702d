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

describe("resolveDefaultIdentity: the whole answer, as the emails quote it", () => {
  const UAI = USER_ASSIGNED_IDENTITY_ID;
  it.each([
    // Principal known: it is named, since it is the one to grant.
    [
      "system-assigned",
      makeAccount(),
      {
        kind: "system-assigned",
        principalId: SYSTEM_PRINCIPAL_ID,
        description: `The default identity is the account's system-assigned identity (principal id ${SYSTEM_PRINCIPAL_ID}).`,
      },
    ],
    // Any casing and surrounding spaces: ARM does not promise either.
    [
      "system-assigned, odd casing",
      makeAccount({ defaultIdentity: "  systemassignedidentity " }),
      {
        kind: "system-assigned",
        principalId: SYSTEM_PRINCIPAL_ID,
        description: `The default identity is the account's system-assigned identity (principal id ${SYSTEM_PRINCIPAL_ID}).`,
      },
    ],
    // No principal id reported: said so, nothing invented.
    [
      "system-assigned without principal",
      makeAccount({ principalId: undefined }),
      {
        kind: "system-assigned",
        description: "The default identity is the account's system-assigned identity, but the account reports no principal id for it.",
      },
    ],
    // A prefix or suffix is not the keyword.
    [
      "system-assigned with a suffix",
      makeAccount({ defaultIdentity: "SystemAssignedIdentityX" }),
      { kind: "unrecognized", description: 'The default identity "SystemAssignedIdentityX" is not a form Cosmos DB accepts.' },
    ],
    [
      "user-assigned",
      makeUserAssignedAccount(),
      {
        kind: "user-assigned",
        userAssignedIdentityId: UAI,
        attached: true,
        principalId: USER_ASSIGNED_PRINCIPAL_ID,
        description: `The default identity is the user-assigned identity ${UAI} (principal id ${USER_ASSIGNED_PRINCIPAL_ID}).`,
      },
    ],
    // Trailing slashes and a lower-case keyword: still the attached identity.
    [
      "user-assigned, trailing slash and lower-case keyword",
      makeUserAssignedAccount({ defaultIdentity: `userassignedidentity= ${UAI}/ ` }),
      {
        kind: "user-assigned",
        userAssignedIdentityId: `${UAI}/`,
        attached: true,
        principalId: USER_ASSIGNED_PRINCIPAL_ID,
        description: `The default identity is the user-assigned identity ${UAI}/ (principal id ${USER_ASSIGNED_PRINCIPAL_ID}).`,
      },
    ],
    // Attached but ARM gives no principal id for it.
    [
      "user-assigned without principal",
      makeUserAssignedAccount({ userAssignedIdentities: { [UAI]: { clientId: "c" } } as never }),
      {
        kind: "user-assigned",
        userAssignedIdentityId: UAI,
        attached: true,
        description: `The default identity is the user-assigned identity ${UAI}; the account reports no principal id for it.`,
      },
    ],
    // Not attached, cross-tenant: the federated client id is still reported.
    [
      "user-assigned, detached, cross-tenant",
      makeUserAssignedAccount({ userAssignedIdentities: {}, defaultIdentity: `UserAssignedIdentity=${UAI}&FederatedClientId= app-1 ` }),
      {
        kind: "user-assigned",
        userAssignedIdentityId: UAI,
        attached: false,
        federatedClientId: "app-1",
        description: `The default identity is the user-assigned identity ${UAI}, which is not attached to the account.`,
      },
    ],
    // An empty federated client id is no federated client id.
    [
      "user-assigned, empty federated id",
      makeUserAssignedAccount({ defaultIdentity: `UserAssignedIdentity=${UAI}&FederatedClientId=` }),
      {
        kind: "user-assigned",
        userAssignedIdentityId: UAI,
        attached: true,
        principalId: USER_ASSIGNED_PRINCIPAL_ID,
        description: `The default identity is the user-assigned identity ${UAI} (principal id ${USER_ASSIGNED_PRINCIPAL_ID}).`,
      },
    ],
    // The keyword must start the value.
    [
      "user-assigned keyword not at the start",
      makeAccount({ defaultIdentity: `x UserAssignedIdentity=${UAI}` }),
      { kind: "unrecognized", description: `The default identity "x UserAssignedIdentity=${UAI}" is not a form Cosmos DB accepts.` },
    ],
    [
      "first-party, lower case",
      makeAccount({ defaultIdentity: "firstpartyidentity" }),
      { kind: "first-party", description: "The default identity is Azure Cosmos DB's first-party identity (FirstPartyIdentity)." },
    ],
    // A first-party keyword with more after it is not the first-party identity.
    [
      "first-party with a suffix",
      makeAccount({ defaultIdentity: "FirstPartyIdentity2" }),
      { kind: "unrecognized", description: 'The default identity "FirstPartyIdentity2" is not a form Cosmos DB accepts.' },
    ],
    [
      "delegated system-assigned",
      makeAccount({ defaultIdentity: "DelegatedSystemAssignedIdentity=x" }),
      { kind: "delegated", description: "The default identity is a delegated identity (DelegatedSystemAssignedIdentity=x)." },
    ],
    // "Delegated" must start the value.
    [
      "delegated not at the start",
      makeAccount({ defaultIdentity: "xDelegatedUserAssignedIdentity" }),
      { kind: "unrecognized", description: 'The default identity "xDelegatedUserAssignedIdentity" is not a form Cosmos DB accepts.' },
    ],
    // Blank is missing, not unrecognized.
    ["blank", makeAccount({ defaultIdentity: "   " }), { kind: "missing", description: "The account has no default identity set." }],
  ])("%s", (_name, account, expected) => {
    expect(resolveDefaultIdentity(account)).toEqual(expected);
  });
});

describe("resolveDefaultIdentity: which attached identity is the default", () => {
  const UAI = USER_ASSIGNED_IDENTITY_ID;
  const OTHER = UAI.replace("id-orders-cmk", "id-other");
  it.each<[string, string, Record<string, { principalId: string }>, { kind: string; attached?: boolean; principalId?: string }]>([
    // Another identity listed first is not the default one.
    [
      "another identity first",
      `UserAssignedIdentity=${UAI}`,
      { [OTHER]: { principalId: "other" }, [UAI]: { principalId: "mine" } },
      { kind: "user-assigned", attached: true, principalId: "mine" },
    ],
    // Only another identity attached: the default is detached.
    ["only another identity", `UserAssignedIdentity=${UAI}`, { [OTHER]: { principalId: "other" } }, { kind: "user-assigned", attached: false }],
    // Trailing slashes on either side are not part of the id.
    [
      "slashes in the default",
      `UserAssignedIdentity=${UAI}//`,
      { [UAI]: { principalId: "mine" } },
      { kind: "user-assigned", attached: true, principalId: "mine" },
    ],
    [
      "slashes in the map key",
      `UserAssignedIdentity=${UAI}`,
      { [`${UAI}//`]: { principalId: "mine" } },
      { kind: "user-assigned", attached: true, principalId: "mine" },
    ],
    // Anything after the id other than &FederatedClientId= is not a form Cosmos DB accepts.
    ["another parameter", `UserAssignedIdentity=${UAI}&Foo=bar`, { [UAI]: { principalId: "mine" } }, { kind: "unrecognized" }],
    // The keywords are whole values, not substrings.
    ["first-party with a prefix", "XFirstPartyIdentity", {}, { kind: "unrecognized" }],
  ])("%s", (_name, defaultIdentity, userAssignedIdentities, expected) => {
    const resolved = resolveDefaultIdentity(makeUserAssignedAccount({ defaultIdentity, userAssignedIdentities }));
    expect(resolved).toMatchObject(expected);
    if (expected.principalId === undefined) expect(resolved.principalId).toBeUndefined();
  });
});
