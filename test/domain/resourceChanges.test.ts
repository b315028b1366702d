import {
  buildResourceChangesQueries,
  buildResourceChangesQuery,
  changeWindow,
  MAX_IDS_PER_CHANGE_QUERY,
  readResourceChange,
  type ReadChange,
  type ResourceChangeRow,
} from "../../src/domain/resourceChanges";

const SUB = "0b7e4a21-3c5d-4e6f-8a9b-c0d1e2f3a4b5";
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-Orders`;
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg-db/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`;
const NOW = new Date("2026-12-03T10:00:00.000Z");
const T = "2026-12-03T09:50:00.000Z";

describe("changeWindow", () => {
  const cases: Array<{ name: string; watermark: string | undefined; from: string; clamped?: true }> = [
    // First run: one 15-minute interval back, minus the hour of lag overlap.
    { name: "no watermark", watermark: undefined, from: "2026-12-03T08:45:00.000Z" },
    // Stored watermark: from it minus the overlap, so changes Resource Graph shows late are still seen.
    { name: "stored watermark", watermark: "2026-12-03T09:55:00.000Z", from: "2026-12-03T08:55:00.000Z" },
    // A watermark from a long outage is clamped to the 14-day retention.
    { name: "older than retention", watermark: "2026-10-01T00:00:00.000Z", from: "2026-11-19T10:00:00.000Z", clamped: true },
    // Just inside the retention once the overlap is taken off: not clamped, nothing lost.
    { name: "at the retention edge", watermark: "2026-11-19T11:00:00.000Z", from: "2026-11-19T10:00:00.000Z" },
    // A corrupt watermark falls back to one interval rather than failing the cycle.
    { name: "unparseable watermark", watermark: "yesterday", from: "2026-12-03T08:45:00.000Z" },
    // A watermark in the future (clock skew between instances) must not hide changes.
    { name: "future watermark", watermark: "2026-12-04T00:00:00.000Z", from: "2026-12-03T08:45:00.000Z" },
  ];
  it.each(cases)("$name", ({ watermark, from, clamped }) => {
    expect(changeWindow(NOW, watermark, 15)).toEqual({ from, to: NOW.toISOString(), ...(clamped ? { clamped } : {}) });
  });
});

describe("buildResourceChangesQuery", () => {
  const window = { from: "2026-12-03T09:40:00.000Z", to: NOW.toISOString() };

  it("names each fleet resource once, lowercased, and bounds the window", () => {
    // Duplicates and case variants of one id collapse: one query, stable text.
    const query = buildResourceChangesQuery(window, [ACCOUNT_ID, VAULT_ID, VAULT_ID.toUpperCase().replace("/SUBSCRIPTIONS", "/subscriptions")]);
    expect(query).toContain("resourcechanges");
    expect(query).toContain(`datetime(${window.from})`);
    expect(query).toContain(`datetime(${window.to})`);
    expect(query?.match(/kv-orders'/g)).toHaveLength(1);
    expect(query).toContain(`'${ACCOUNT_ID.toLowerCase()}'`);
  });

  it("asks nothing for an empty fleet", () => {
    // An empty `in ()` list is a query error; no fleet means no query.
    expect(buildResourceChangesQuery(window, [])).toBeUndefined();
  });

  it("refuses an id that could break out of the string literal", () => {
    // Ids come from ARM, but a quote would change the query's meaning.
    expect(() => buildResourceChangesQuery(window, ["/subscriptions/x' or 1==1"])).toThrow(RangeError);
  });
});

describe("buildResourceChangesQueries", () => {
  const window = { from: "2026-12-03T09:40:00.000Z", to: NOW.toISOString() };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `${ACCOUNT_ID}-${String(i).padStart(4, "0")}`);
  it.each<[string, string[], number[]]>([
    // No fleet: no query at all.
    ["empty fleet", [], []],
    // Up to the limit: the one query.
    ["exactly the limit", ids(MAX_IDS_PER_CHANGE_QUERY), [MAX_IDS_PER_CHANGE_QUERY]],
    // One more id starts a second query; every id is named exactly once across them.
    ["one over the limit", ids(MAX_IDS_PER_CHANGE_QUERY + 1), [MAX_IDS_PER_CHANGE_QUERY, 1]],
    // Duplicates (any case) count once.
    ["duplicates", [...ids(3), ...ids(3).map((id) => id.toUpperCase().replace("/SUBSCRIPTIONS", "/subscriptions"))], [3]],
  ])("%s", (_name, input, sizes) => {
    const queries = buildResourceChangesQueries(window, input);
    expect(queries.map((query) => query.match(/'\/subscriptions\//g)?.length ?? 0)).toEqual(sizes);
  });
});

describe("readResourceChange", () => {
  const vault = { kind: "vault", vaultName: "kv-orders" } as const;
  const account = { kind: "account", accountId: ACCOUNT_ID.toLowerCase() } as const;
  const cases: Array<{ name: string; row: ResourceChangeRow; expected: ReadChange }> = [
    // An access policy edit on a vault affects every account keyed there.
    {
      name: "vault access policy",
      row: { changeTime: T, targetResourceId: VAULT_ID, changeType: "Update", changes: { "properties.accessPolicies[0].permissions.keys[1]": {} } },
      expected: { relevant: true, target: vault, changeTime: T, what: "properties.accessPolicies[0].permissions.keys[1]" },
    },
    // Firewall and RBAC-flag changes are listed together, sorted.
    {
      name: "vault network and rbac",
      row: {
        changeTime: T,
        targetResourceId: VAULT_ID,
        changeType: "Update",
        changes: { "properties.networkAcls.defaultAction": {}, "properties.enableRbacAuthorization": {}, tags: {} },
      },
      expected: { relevant: true, target: vault, changeTime: T, what: "properties.enableRbacAuthorization, properties.networkAcls.defaultAction" },
    },
    // The account's key URI or default identity moving is watched.
    {
      name: "account key uri",
      row: { changeTime: T, targetResourceId: ACCOUNT_ID, changeType: "Update", changes: { "properties.keyVaultKeyUri": {} } },
      expected: { relevant: true, target: account, changeTime: T, what: "properties.keyVaultKeyUri" },
    },
    // An identity detached from the account.
    {
      name: "account identity",
      row: { changeTime: T, targetResourceId: ACCOUNT_ID, changeType: "Update", changes: { "identity.userAssignedIdentities": {} } },
      expected: { relevant: true, target: account, changeTime: T, what: "identity.userAssignedIdentities" },
    },
    // Deletion matters whatever the property list says.
    {
      name: "vault deleted",
      row: { changeTime: T, targetResourceId: VAULT_ID, changeType: "Delete" },
      expected: { relevant: true, target: vault, changeTime: T, what: "deleted" },
    },
    // Tags only: nothing that can break key access.
    {
      name: "tags only",
      row: { changeTime: T, targetResourceId: VAULT_ID, changeType: "Update", changes: { "tags.owner": {} } },
      expected: { relevant: false, reason: "not-watched" },
    },
    // A look-alike path prefix is not the watched property.
    {
      name: "prefix look-alike",
      row: { changeTime: T, targetResourceId: ACCOUNT_ID, changeType: "Update", changes: { "properties.defaultIdentityNote": {} } },
      expected: { relevant: false, reason: "not-watched" },
    },
    // A newly created resource is picked up by discovery, not the catch-up.
    {
      name: "create",
      row: { changeTime: T, targetResourceId: VAULT_ID, changeType: "Create", changes: {} },
      expected: { relevant: false, reason: "not-watched" },
    },
    // Some other resource type in the answer is ignored.
    {
      name: "other resource",
      row: { changeTime: T, targetResourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st`, changeType: "Delete" },
      expected: { relevant: false, reason: "not-watched" },
    },
    // Malformed rows are counted as invalid, never thrown.
    { name: "missing time", row: { targetResourceId: VAULT_ID, changeType: "Delete" }, expected: { relevant: false, reason: "invalid" } },
    { name: "bad time", row: { changeTime: "soon", targetResourceId: VAULT_ID, changeType: "Delete" }, expected: { relevant: false, reason: "invalid" } },
  ];
  it.each(cases)("$name", ({ row, expected }) => {
    expect(readResourceChange(row)).toEqual(expected);
  });
});
