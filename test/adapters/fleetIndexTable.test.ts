/** The fleet index in the state table, against Azurite: each target finds its accounts, and a change gets one re-check. */
import { TableClient } from "@azure/data-tables";
import { TableFleetIndex } from "../../src/adapters/fleetIndexTable";
import { TableIncidentStore } from "../../src/adapters/tableStore";
import type { ChangeTarget } from "../../src/domain/changeEvents";
import { startAzurite, type AzuriteInstance } from "../../src/sandbox";

const SUB = "00000000-0000-0000-0000-00000000f001";
const account = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-${name}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`;
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/RG-KV/providers/Microsoft.KeyVault/vaults/kv-shared`;
const IDENTITY = `/subscriptions/${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`;

let azurite: AzuriteInstance;
let index: TableFleetIndex;

beforeAll(async () => {
  azurite = await startAzurite();
  const client = TableClient.fromConnectionString(azurite.connectionString, `fleetindex${Date.now().toString(36)}`, { allowInsecureConnection: true });
  index = new TableFleetIndex(client, new TableIncidentStore(client));
  await index.record({ accountId: account("orders-db"), vaultName: "kv-shared", vaultId: VAULT_ID, identityIds: [IDENTITY.toLowerCase()] });
  await index.record({ accountId: account("billing-db"), vaultName: "kv-shared", vaultId: VAULT_ID, identityIds: [] });
  // Its vault was never found by the probes: no ARM id, so only its name finds it.
  await index.record({ accountId: account("lonely-db"), vaultName: "kv-lonely", identityIds: [] });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

describe("TableFleetIndex.accountsFor", () => {
  it.each<[string, ChangeTarget[], string[]]>([
    // A vault by name: every account whose key is in it.
    ["shared vault", [{ kind: "vault", vaultName: "kv-shared" }], ["billing-db", "orders-db"]],
    ["vault nobody uses", [{ kind: "vault", vaultName: "kv-other" }], []],
    // An identity deleted: the accounts it is attached to.
    ["identity", [{ kind: "identity", identityId: IDENTITY }], ["orders-db"]],
    // The account itself, only if indexed.
    ["indexed account", [{ kind: "account", accountId: account("lonely-db").toUpperCase() }], ["lonely-db"]],
    ["unknown account", [{ kind: "account", accountId: account("nobody-db") }], []],
    // A role assignment above the vault: vaults whose ARM id is under the scope (case-insensitive, whole segments).
    ["resource group scope", [{ kind: "scope", scope: `/subscriptions/${SUB}/resourceGroups/rg-kv` }], ["billing-db", "orders-db"]],
    ["subscription scope", [{ kind: "scope", scope: `/subscriptions/${SUB}` }], ["billing-db", "orders-db"]],
    ["a prefix that is not a parent", [{ kind: "scope", scope: `/subscriptions/${SUB}/resourceGroups/rg-k` }], []],
    // Several targets: each account once.
    [
      "two targets",
      [
        { kind: "vault", vaultName: "kv-shared" },
        { kind: "identity", identityId: IDENTITY },
      ],
      ["billing-db", "orders-db"],
    ],
  ])("%s", async (_name, targets, names) => {
    const found = await index.accountsFor(targets);
    expect(found.map((id) => id.split("/").at(-1)).sort()).toEqual(names);
  });
});

describe("TableFleetIndex.watchedResourceIds", () => {
  it("names every indexed account and each vault whose id is known, once, normalized", async () => {
    // The shared vault once for its two accounts; lonely-db's vault has no ARM id, so the catch-up cannot ask about it.
    expect(await index.watchedResourceIds()).toEqual(
      [account("billing-db"), account("lonely-db"), account("orders-db"), VAULT_ID].map((id) => id.toLowerCase()).sort(),
    );
  });
});

describe("TableFleetIndex.claimRecheck", () => {
  it("one re-check per change: later events for the same change are covered, a newer change is not", async () => {
    const id = account("orders-db");
    // First event of a change at 09:15: this caller re-checks.
    expect(await index.claimRecheck(id, "2026-12-01T09:15:00.000Z", new Date("2026-12-01T09:15:05.000Z"))).toBe(true);
    // A replay, or the second event of the same change: the re-check that started at 09:15:05 sees it.
    expect(await index.claimRecheck(id, "2026-12-01T09:15:00.000Z", new Date("2026-12-01T09:15:06.000Z"))).toBe(false);
    // A change after that re-check started: checked again.
    expect(await index.claimRecheck(id, "2026-12-01T09:20:00.000Z", new Date("2026-12-01T09:20:02.000Z"))).toBe(true);
  });

  it("two callers at once: exactly one wins", async () => {
    // The ETag (or the create) makes the race harmless.
    const id = account("billing-db");
    const now = new Date("2026-12-01T10:00:01.000Z");
    const results = await Promise.all(Array.from({ length: 5 }, () => index.claimRecheck(id, "2026-12-01T10:00:00.000Z", now)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("a released claim can be claimed again for the same change; a newer claim is not released", async () => {
    const id = account("lonely-db");
    const change = "2026-12-01T11:00:00.000Z";
    const first = new Date("2026-12-01T11:00:05.000Z");
    expect(await index.claimRecheck(id, change, first)).toBe(true);
    // The re-check could not read the account: its claim is given back, and the same change is claimed again.
    await index.releaseRecheck(id, first);
    const second = new Date("2026-12-01T11:05:00.000Z");
    expect(await index.claimRecheck(id, change, second)).toBe(true);
    // A stale release (the first claim's time) leaves the newer claim in place.
    await index.releaseRecheck(id, first);
    expect(await index.claimRecheck(id, change, new Date("2026-12-01T11:06:00.000Z"))).toBe(false);
  });
});

describe("TableFleetIndex role-assignment watch", () => {
  const PRINCIPAL = "5C0FFEE0-0000-4000-8000-00000000F001";

  it("lists the accounts recorded with an RBAC principal (lowercased), and none recorded without", async () => {
    await index.record({ accountId: account("rbac-db"), vaultName: "kv-rbac", identityIds: [], rolePrincipalId: PRINCIPAL });
    // orders-db, billing-db and lonely-db were recorded without one (access-policy vaults): not watched.
    expect(await index.rolePrincipals()).toEqual([{ accountId: account("rbac-db").toLowerCase(), principalId: PRINCIPAL.toLowerCase() }]);
  });

  it("stores a fingerprint once, then only over the version that was read (two writers: one wins)", async () => {
    const accountId = account("rbac-db");
    const first = { accountId, principalId: PRINCIPAL, fingerprint: "a" };
    // First sight: created; a second first-sight write (another instance) finds it there and is refused.
    expect(await index.recordRoleFingerprint(first)).toBe(true);
    expect(await index.recordRoleFingerprint(first)).toBe(false);
    const [stored] = await index.roleFingerprints();
    expect(stored).toMatchObject({ accountId: accountId.toLowerCase(), principalId: PRINCIPAL.toLowerCase(), fingerprint: "a" });
    // A change recorded over the read version wins; the same write over the now stale version is refused.
    expect(await index.recordRoleFingerprint({ ...first, fingerprint: "b" }, stored)).toBe(true);
    expect(await index.recordRoleFingerprint({ ...first, fingerprint: "c" }, stored)).toBe(false);
    expect((await index.roleFingerprints()).map((f) => f.fingerprint)).toEqual(["b"]);
  });
});
