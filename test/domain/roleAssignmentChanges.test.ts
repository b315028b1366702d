import {
  buildRoleAssignmentQueries,
  decideRoleAssignmentChanges,
  MAX_PRINCIPALS_PER_ROLE_QUERY,
  roleAssignmentFingerprint,
  type RoleAssignmentRow,
  type RoleAssignmentVerdict,
  type StoredRoleFingerprint,
} from "../../src/domain/roleAssignmentChanges";

const SUB = "0b7e4a21-3c5d-4e6f-8a9b-c0d1e2f3a4b5";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg-db/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`;
const PRINCIPAL = "5c0ffee0-0000-4000-8000-00000000a001";
const OTHER_PRINCIPAL = "5c0ffee0-0000-4000-8000-00000000b002";
const VAULT_SCOPE = `/subscriptions/${SUB}/resourcegroups/rg-kv/providers/microsoft.keyvault/vaults/kv-orders`;
const ROLE = `/subscriptions/${SUB}/providers/microsoft.authorization/roledefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6`;

function assignment(n: number, principalId = PRINCIPAL, scope = VAULT_SCOPE): RoleAssignmentRow {
  return {
    id: `${scope}/providers/microsoft.authorization/roleassignments/00000000-0000-4000-8000-00000000000${n}`,
    principalId,
    scope,
    roleDefinitionId: ROLE,
  };
}

const ONE = [assignment(1)];
const TWO = [assignment(1), assignment(2)];

function stored(rows: RoleAssignmentRow[], principalId = PRINCIPAL): StoredRoleFingerprint {
  return { accountId: ACCOUNT, principalId, fingerprint: roleAssignmentFingerprint(rows), etag: 'W/"1"' };
}

describe("decideRoleAssignmentChanges", () => {
  const cases: Array<{ name: string; rows: RoleAssignmentRow[]; stored: StoredRoleFingerprint[]; verdict: RoleAssignmentVerdict }> = [
    // Nothing stored yet: recorded without a re-check, since nothing is known to have changed.
    { name: "first sight", rows: ONE, stored: [], verdict: "first-sight" },
    // Same set read again: nothing to do.
    { name: "unchanged", rows: ONE, stored: [stored(ONE)], verdict: "unchanged" },
    // The permission removed (one of two assignments gone): re-check.
    { name: "an assignment removed", rows: ONE, stored: [stored(TWO)], verdict: "changed" },
    // An assignment added: re-check too (a grant can resolve a finding).
    { name: "an assignment added", rows: TWO, stored: [stored(ONE)], verdict: "changed" },
    // The principal missing from the answer entirely while it had assignments before.
    { name: "principal gone from the answer", rows: [], stored: [stored(ONE)], verdict: "changed" },
    // Same id but the role re-pointed: a different grant, so a change.
    { name: "role changed", rows: [{ ...assignment(1), roleDefinitionId: `${ROLE}x` }], stored: [stored(ONE)], verdict: "changed" },
    // Another principal's assignments changing is not this account's change.
    { name: "other principal's rows ignored", rows: [...ONE, assignment(3, OTHER_PRINCIPAL)], stored: [stored(ONE)], verdict: "unchanged" },
    // The default identity changed: the stored fingerprint is another principal's, so first sight (resourcechanges covers the switch).
    { name: "stored for another principal", rows: ONE, stored: [stored(TWO, OTHER_PRINCIPAL)], verdict: "first-sight" },
    // Case differences in ids (Resource Graph lowercases, ARM does not) are not changes.
    {
      name: "case-only difference",
      rows: [{ ...assignment(1), id: String(assignment(1).id).toUpperCase(), principalId: PRINCIPAL.toUpperCase() }],
      stored: [stored(ONE)],
      verdict: "unchanged",
    },
  ];
  it.each(cases)("$name", ({ rows, stored: previous, verdict }) => {
    const [decision, ...rest] = decideRoleAssignmentChanges([{ accountId: ACCOUNT, principalId: PRINCIPAL }], rows, previous);
    expect(rest).toHaveLength(0);
    expect(decision!.verdict).toBe(verdict);
    expect(decision!.fingerprint).toBe(roleAssignmentFingerprint(rows.filter((row) => String(row.principalId).toLowerCase() === PRINCIPAL)));
    // The previous entry (with its ETag) goes with the decision so the write can be guarded.
    expect(decision!.previous).toEqual(previous[0]);
  });

  it("decides per account, two accounts sharing one principal alike", () => {
    const second = ACCOUNT.replace("orders-db", "billing-db");
    const decisions = decideRoleAssignmentChanges(
      [
        { accountId: ACCOUNT, principalId: PRINCIPAL },
        { accountId: second, principalId: PRINCIPAL },
      ],
      ONE,
      [stored(TWO), { ...stored(TWO), accountId: second }],
    );
    expect(decisions.map((d) => d.verdict)).toEqual(["changed", "changed"]);
  });
});

describe("roleAssignmentFingerprint", () => {
  it("ignores row order", () => {
    expect(roleAssignmentFingerprint([assignment(2), assignment(1)])).toBe(roleAssignmentFingerprint(TWO));
  });
  it("differs between no assignments and one", () => {
    expect(roleAssignmentFingerprint([])).not.toBe(roleAssignmentFingerprint(ONE));
  });
});

describe("buildRoleAssignmentQueries", () => {
  it("asks authorizationresources for role assignments of the principals, each once, lowercased", () => {
    const [query, ...rest] = buildRoleAssignmentQueries([PRINCIPAL.toUpperCase(), PRINCIPAL, OTHER_PRINCIPAL]);
    expect(rest).toHaveLength(0);
    expect(query).toMatch(/^authorizationresources\n/);
    expect(query).toContain("type =~ 'microsoft.authorization/roleassignments'");
    expect(query).toContain(`principalId in ('${PRINCIPAL}', '${OTHER_PRINCIPAL}')`);
    expect(query).toMatch(/\| project id = tolower\(id\), principalId, scope = .*, roleDefinitionId = /);
  });

  it(`splits at ${MAX_PRINCIPALS_PER_ROLE_QUERY} principals a query, and none for none`, () => {
    const ids = Array.from({ length: MAX_PRINCIPALS_PER_ROLE_QUERY + 1 }, (_, i) => `5c0ffee0-0000-4000-8000-${String(i).padStart(12, "0")}`);
    const queries = buildRoleAssignmentQueries(ids);
    expect(queries).toHaveLength(2);
    expect(queries[1]).toContain(`principalId in ('${ids[MAX_PRINCIPALS_PER_ROLE_QUERY]}')`);
    expect(buildRoleAssignmentQueries([])).toEqual([]);
  });

  it("refuses a principal id that is not a GUID rather than quote it into KQL", () => {
    expect(() => buildRoleAssignmentQueries(["x') or 1 == 1 //"])).toThrow(RangeError);
  });
});
