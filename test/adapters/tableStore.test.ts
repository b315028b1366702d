import { TableClient } from "@azure/data-tables";
import { checkRowFor, partitionKeyFor, TableIncidentStore } from "../../src/adapters/tableStore";
import type { OutboxMessage } from "../../src/domain/incident";
import type { CheckedAccount } from "../../src/domain/warnings";
import { makeEvent, makeFacts, makeIncident } from "../fixtures/incidents";
import { startAzurite, type AzuriteInstance } from "../../src/sandbox";

let azurite: AzuriteInstance;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite.stop();
});

let tables = 0;
function table(): TableClient {
  tables += 1;
  // Azurite speaks plain http; the SDK refuses that unless told.
  return TableClient.fromConnectionString(azurite.connectionString, `checks${tables}${Date.now().toString(36)}`, { allowInsecureConnection: true });
}

function accountId(i: number): string {
  return `/subscriptions/00000000-0000-4000-8000-${String(i % 7).padStart(12, "0")}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct-${i}`;
}

function check(i: number, checkedOn = "2026-12-01"): CheckedAccount {
  return {
    accountId: accountId(i),
    accountName: `acct-${i}`,
    subscriptionId: `00000000-0000-4000-8000-${String(i % 7).padStart(12, "0")}`,
    resourceGroup: "rg",
    checkedOn,
    checkedAt: `${checkedOn}T08:00:00.000Z`,
    findings: [],
  };
}

describe("checkRowFor", () => {
  it("spreads accounts over 16 partitions that sort together, keyed by the account id's hash", () => {
    const partitions = new Map<string, number>();
    for (let i = 0; i < 1600; i++) {
      const { partitionKey, rowKey } = checkRowFor(accountId(i));
      expect(rowKey).toBe(partitionKeyFor(accountId(i)));
      expect(partitionKey).toMatch(/^warning-checks-[0-9a-f]$/);
      partitions.set(partitionKey, (partitions.get(partitionKey) ?? 0) + 1);
    }
    expect(partitions.size).toBe(16);
    // A hash spreads evenly: no partition gets more than twice its share of 100.
    for (const count of partitions.values()) expect(count).toBeLessThan(200);
  });

  it("puts an account in the same partition however its id is cased", () => {
    expect(checkRowFor(accountId(3).toUpperCase())).toEqual(checkRowFor(accountId(3)));
  });
});

describe("TableIncidentStore daily checks", () => {
  it("writes a batch spanning partitions (one transaction per partition) and lists every check back", async () => {
    const client = table();
    const store = new TableIncidentStore(client);
    const entries = Array.from({ length: 250 }, (_, i) => ({ check: check(i), etag: undefined }));

    const recorded = await store.putAccountChecks(entries);

    expect(recorded.size).toBe(250);
    const listed = await store.listAccountChecks();
    expect(listed.map((entry) => entry.check.accountId).sort()).toEqual(entries.map((entry) => entry.check.accountId).sort());
    // Each row sits in its own account's shard.
    for await (const row of client.listEntities()) expect(row.partitionKey).toBe(checkRowFor(String(row["accountId"])).partitionKey);
  });

  it("sends one transaction per partition and at most 100 rows in each", async () => {
    const client = table();
    const bodies: string[] = [];
    const store = new TableIncidentStore(
      TableClient.fromConnectionString(azurite.connectionString, client.tableName, {
        allowInsecureConnection: true,
        additionalPolicies: [
          {
            position: "perCall",
            policy: {
              name: "captureBatches",
              sendRequest: (request, next) => {
                if (request.url.includes("$batch") && typeof request.body === "string") bodies.push(request.body);
                return next(request);
              },
            },
          },
        ],
      }),
    );
    // 1,700 checks: at least one partition gets more than 100, so it needs two transactions.
    const entries = Array.from({ length: 1700 }, (_, i) => ({ check: check(i), etag: undefined }));

    expect((await store.putAccountChecks(entries)).size).toBe(1700);

    expect(bodies.length).toBeGreaterThan(16);
    for (const body of bodies) {
      const partitions = new Set(body.match(/"PartitionKey":"[^"]+"/g));
      expect(partitions.size).toBe(1);
      expect((body.match(/^(POST|PUT|PATCH|MERGE) /gm) ?? []).length).toBeLessThanOrEqual(100);
    }
  });

  it("keeps the other partitions' checks when one row's ETag is stale, and leaves that row alone", async () => {
    const store = new TableIncidentStore(table());
    await store.putAccountChecks(Array.from({ length: 40 }, (_, i) => ({ check: check(i), etag: undefined })));
    const before = new Map((await store.listAccountChecks()).map((entry) => [entry.check.accountId, entry.etag]));
    // Another instance recorded account 0 meanwhile: the ETag read above is now stale for it.
    await store.putAccountCheck(check(0, "2026-12-02"), before.get(accountId(0)));

    const recorded = await store.putAccountChecks(Array.from({ length: 40 }, (_, i) => ({ check: check(i, "2026-12-02"), etag: before.get(accountId(i)) })));

    expect(recorded.has(accountId(0))).toBe(false);
    expect(recorded.size).toBe(39);
    const after = await store.listAccountChecks();
    expect(after.every((entry) => entry.check.checkedOn === "2026-12-02")).toBe(true);
  });

  it("lists only the check partitions: not account rows, not the unsharded partition of earlier builds", async () => {
    const client = table();
    const store = new TableIncidentStore(client);
    await store.putAccountChecks([{ check: check(1), etag: undefined }]);
    // Neighbours in sort order on both sides of the shard range.
    await client.createEntity({
      partitionKey: "warning-checks",
      rowKey: partitionKeyFor(accountId(2)),
      accountId: accountId(2),
      check: JSON.stringify(check(2)),
    });
    await client.createEntity({ partitionKey: "warning-checks.", rowKey: "x", check: JSON.stringify(check(3)) });
    await client.createEntity({ partitionKey: partitionKeyFor(accountId(4)), rowKey: "state" });

    const listed = await store.listAccountChecks();

    expect(listed.map((entry) => entry.check.accountId)).toEqual([accountId(1)]);
  });

  it("clears a pending digest mark in the check's own partition", async () => {
    const store = new TableIncidentStore(table());
    await store.putAccountChecks([{ check: check(5), etag: undefined, pendingDigest: true }]);
    const [stored] = await store.listAccountChecks();
    expect(stored?.pendingDigest).toBe(true);

    expect(await store.clearPendingDigest(stored!)).toBe(true);

    const [after] = await store.listAccountChecks();
    expect(after?.pendingDigest).toBeUndefined();
  });

  it("names each check's partition as its write group", () => {
    const store = new TableIncidentStore(table());
    expect(store.checkWriteGroup(accountId(9))).toBe(checkRowFor(accountId(9)).partitionKey);
  });
});

describe("TableIncidentStore retention", () => {
  const RESOLVED_AT = "2026-11-29T09:00:00.000Z";
  const CUTOFF = new Date("2026-12-30T00:00:00.000Z");

  /** A revoked incident with two events and one email, then resolved; the email marked sent. */
  async function resolvedIncident(store: TableIncidentStore) {
    const open = makeIncident();
    const message: OutboxMessage = {
      key: `${open.id}.revoked`,
      incidentId: open.id,
      accountId: open.accountId,
      kind: "revoked",
      to: ["a@contoso.com"],
      cc: [],
      createdAt: open.detectedAt,
      facts: makeFacts("revoked"),
    };
    await store.commit(
      { accountId: open.accountId, incident: undefined, etag: undefined },
      { reasons: [], incident: open, events: [makeEvent({ seq: 1 })], messages: [message] },
    );
    const record = await store.getRecord(open.accountId);
    const resolved = { ...open, state: "resolved" as const, resolvedAt: RESOLVED_AT, resolution: "recovered" as const, eventCount: 2 };
    await store.commit(record, { reasons: [], incident: resolved, events: [makeEvent({ seq: 2, at: RESOLVED_AT, type: "resolved" })], messages: [] });
    const [stored] = await store.listMessages({ accountId: open.accountId });
    const claimed = await store.claimMessage(stored!, new Date(open.detectedAt), 60);
    await store.markSent(claimed!, new Date(open.detectedAt), "op-1");
    return resolved;
  }

  it("lists the resolved incident with its history row's ETag, its events and its sent email", async () => {
    const store = new TableIncidentStore(table());
    const incident = await resolvedIncident(store);
    const { incidents, rows } = await store.listRetentionRows(CUTOFF);
    // One entry per incident, though both the state row and the history row hold it; the ETag is the history row's.
    expect(incidents).toEqual([
      expect.objectContaining({ partitionKey: partitionKeyFor(incident.accountId), incident: expect.objectContaining({ id: incident.id, state: "resolved" }) }),
    ]);
    expect(incidents[0]!.historyEtag).toEqual(expect.any(String));
    expect(rows.map((row) => [row.kind, row.incidentId, row.inDoubt ?? false])).toEqual([
      ["event", incident.id, false],
      ["event", incident.id, false],
      ["outbox", incident.id, false],
    ]);
  });

  it("applies a batch atomically: a stale summary ETag refuses it whole, a current one writes the count and deletes the rows", async () => {
    const store = new TableIncidentStore(table());
    const incident = await resolvedIncident(store);
    const { incidents, rows } = await store.listRetentionRows(CUTOFF);
    const partitionKey = partitionKeyFor(incident.accountId);
    const batch = (etag: string) => ({ partitionKey, summaries: [{ incident: { ...incident, emailsSent: 1 }, etag }], rowKeys: rows.map((row) => row.rowKey) });
    // Another instance changed the history row meanwhile: nothing is deleted, nothing written.
    await expect(store.applyRetentionBatch(batch("W/\"datetime'2000-01-01T00%3A00%3A00.0000000Z'\""))).resolves.toBe(false);
    expect((await store.listRetentionRows(CUTOFF)).rows).toHaveLength(3);
    await expect(store.applyRetentionBatch(batch(incidents[0]!.historyEtag!))).resolves.toBe(true);
    expect((await store.listRetentionRows(CUTOFF)).rows).toEqual([]);
    // The history views read the count from the incident row.
    await expect(store.listIncidents()).resolves.toEqual([expect.objectContaining({ id: incident.id, emailsSent: 1 })]);
  });
});
