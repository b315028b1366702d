/**
 * The catch-up's role-assignment half on the fakes: what it re-checks and when it records the new
 * fingerprint. A failed read leaves the `resourcechanges` half going and the fingerprints as they
 * were; an account whose re-check could not read it keeps its old fingerprint, so the next run sees
 * the change again. (End to end on the sandbox and Azurite: catchUpChanges.test.ts.)
 */
import { catchUpChanges } from "../../src/app/catchUpChanges";
import { roleAssignmentFingerprint, type RoleAssignmentRow } from "../../src/domain/roleAssignmentChanges";
import type { ChangeWatermark, ChangeWatermarkRead, ResourceChangeSource } from "../../src/ports/resourceChanges";
import { FakeAccountProber } from "../fakes/fakeAccountProber";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";
import { restError } from "../fakes/faultPlan";
import type { MemoryFleetIndex } from "../fakes/memoryFleetIndex";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-00000000aa01/resourcegroups/rg-db/providers/microsoft.documentdb/databaseaccounts/orders-db";
const PRINCIPAL = "5c0ffee0-0000-4000-8000-00000000aa01";
const ASSIGNMENT: RoleAssignmentRow = {
  id: "/subscriptions/00000000-0000-0000-0000-00000000aa01/resourcegroups/rg-kv/providers/microsoft.keyvault/vaults/kv-orders/providers/microsoft.authorization/roleassignments/1",
  principalId: PRINCIPAL,
  scope: "/subscriptions/00000000-0000-0000-0000-00000000aa01/resourcegroups/rg-kv/providers/microsoft.keyvault/vaults/kv-orders",
  roleDefinitionId:
    "/subscriptions/00000000-0000-0000-0000-00000000aa01/providers/microsoft.authorization/roledefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
};

/** Always due (no stored watermark); advances are accepted and counted. */
class OpenWatermark implements ChangeWatermark {
  advances = 0;
  async readChangeWatermark(): Promise<ChangeWatermarkRead> {
    return {};
  }
  async advanceChangeWatermark(): Promise<boolean> {
    this.advances += 1;
    return true;
  }
  async readKeyRiskCheck(): Promise<ChangeWatermarkRead> {
    return {};
  }
  async recordKeyRiskCheck(): Promise<boolean> {
    return true;
  }
}

function setUp(answer: () => Promise<RoleAssignmentRow[]>) {
  const watermark = new OpenWatermark();
  const source: ResourceChangeSource = {
    queryChanges: async () => ({ rows: [], calls: 1 }),
    queryRoleAssignments: async () => ({ rows: await answer(), calls: 1 }),
  };
  const fake = fakeMonitorDeps({ deps: { probes: new FakeAccountProber(), changes: { source, watermark } } });
  const index = fake.deps.fleetIndex as MemoryFleetIndex;
  return { fake, index, watermark };
}

describe("catchUpChanges: role assignments", () => {
  it("a failed read is logged; the resourcechanges half still moves the watermark and no fingerprint is written", async () => {
    const { fake, index, watermark } = setUp(async () => {
      throw restError(403, "AuthorizationFailed");
    });
    await index.record({ accountId: ACCOUNT, identityIds: [], rolePrincipalId: PRINCIPAL });
    const outcome = await catchUpChanges(fake.deps);
    expect(outcome).toMatchObject({ outcome: "done", advanced: true, roles: { failed: true, watched: 0 } });
    expect(watermark.advances).toBe(1);
    expect(index.roles.size).toBe(0);
    expect(fake.log.lines.some((l) => l.level === "warn" && /could not read role assignments/.test(l.message))).toBe(true);
  });

  it("no RBAC principal indexed: no query, nothing recorded", async () => {
    let asked = 0;
    const { fake, index } = setUp(async () => {
      asked += 1;
      return [];
    });
    // An access-policy vault's account: indexed without a principal to watch.
    await index.record({ accountId: ACCOUNT, identityIds: [] });
    expect(await catchUpChanges(fake.deps)).toMatchObject({ roles: { watched: 0, changed: 0, firstSight: 0 } });
    expect(asked).toBe(0);
  });

  it("a change whose re-check could not read the account keeps the old fingerprint; the next run re-checks it again", async () => {
    const { fake, index } = setUp(async () => []);
    await index.record({ accountId: ACCOUNT, identityIds: [], rolePrincipalId: PRINCIPAL });
    const before = roleAssignmentFingerprint([ASSIGNMENT]);
    await index.recordRoleFingerprint({ accountId: ACCOUNT, principalId: PRINCIPAL, fingerprint: before });
    // ARM fails the account's GET once.
    fake.accounts.faults.failNext("getAccount", restError(503));
    expect(await catchUpChanges(fake.deps)).toMatchObject({ roles: { changed: 1 }, recheck: { failed: 1 } });
    expect([...index.roles.values()].map((r) => r.fingerprint)).toEqual([before]);
    // Next run: read again (the claim was given back), the account no longer exists in ARM, so skipped, and the new set recorded.
    fake.clock.advance(15);
    expect(await catchUpChanges(fake.deps)).toMatchObject({ roles: { changed: 1 }, recheck: { failed: 0, skipped: 1 } });
    expect([...index.roles.values()].map((r) => r.fingerprint)).toEqual([roleAssignmentFingerprint([])]);
  });
});
