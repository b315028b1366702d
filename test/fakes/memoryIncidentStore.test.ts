/**
 * The contract: the same IncidentStore/WarningStore behaviours run against the in-memory fake
 * and the real TableIncidentStore on Azurite, so the fake the fast tests stand on cannot drift
 * from the adapter. Each case gets a fresh store.
 */
import { TableClient } from "@azure/data-tables";
import { TableIncidentStore } from "../../src/adapters/tableStore";
import { classifyStatus } from "../../src/domain/classifier";
import { decide, type Decision } from "../../src/domain/lifecycle";
import type { CheckedAccount } from "../../src/domain/warnings";
import { digestMessage } from "../../src/domain/warnings";
import { StateConflictError } from "../../src/ports/errors";
import type { IncidentStore, StoredMessage } from "../../src/ports/incidentStore";
import type { WarningStore } from "../../src/ports/warningStore";
import { lifecycleContext } from "../../src/pipeline/lifecycleContext";
import { startAzurite, type AzuriteInstance } from "../../src/sandbox";
import { ACCOUNT_ID, makeAccount } from "../fixtures/incidents";
import { testSettings } from "./fakeMonitorDeps";
import { MemoryIncidentStore } from "./memoryIncidentStore";

type Store = IncidentStore & WarningStore;

const lifecycle = lifecycleContext(testSettings());
const T0 = new Date("2026-11-29T07:15:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** A new revocation of the fixture account: the incident, its "detected" event and the owner's email. */
function firstNotice(at = T0): Decision {
  const account = makeAccount();
  return decide(undefined, { kind: "observed", account, classification: classifyStatus(account.customerManagedKeyStatus) }, at, lifecycle);
}

async function opened(store: Store): Promise<{ decision: Decision; row: StoredMessage }> {
  const decision = firstNotice();
  await store.commit({ accountId: ACCOUNT_ID, incident: undefined, etag: undefined }, decision);
  const [row] = await store.listMessages();
  return { decision, row: row! };
}

function check(accountId: string, checkedOn = "2026-11-29"): CheckedAccount {
  return { accountId, accountName: "orders-db", subscriptionId: "s", resourceGroup: "rg", checkedOn, checkedAt: `${checkedOn}T08:00:00.000Z`, findings: [] };
}

const CASES: Array<[string, (store: Store) => Promise<void>]> = [
  [
    // An account the store never saw: no incident, no ETag (the next commit creates the row).
    "reads an unknown account as empty",
    async (store) => {
      expect(await store.getRecord(ACCOUNT_ID)).toEqual({ accountId: ACCOUNT_ID, incident: undefined, etag: undefined });
    },
  ],
  [
    // The first notice creates the state row with its event and outbox row, all readable back.
    "commits a new incident with its event and email",
    async (store) => {
      const { decision, row } = await opened(store);
      const record = await store.getRecord(ACCOUNT_ID);
      expect(record.incident).toEqual(decision.incident);
      expect(record.etag).toEqual(expect.any(String));
      expect((await store.listOpenRecords()).map((open) => open.incident?.id)).toEqual([decision.incident!.id]);
      expect(await store.listEvents(ACCOUNT_ID, decision.incident!.id)).toEqual(decision.events);
      expect(row).toMatchObject({ message: decision.messages[0], status: "pending", attempts: 0, generation: 0, nextAttemptAt: T0.toISOString() });
    },
  ],
  [
    // Two instances both saw no incident: the second create loses.
    "refuses a second create of the same account",
    async (store) => {
      await opened(store);
      await expect(store.commit({ accountId: ACCOUNT_ID, incident: undefined, etag: undefined }, firstNotice(minutes(1)))).rejects.toBeInstanceOf(
        StateConflictError,
      );
    },
  ],
  [
    // Another writer moved the row on: the commit fails whole, none of its events or emails land.
    "refuses a stale ETag and writes nothing of the commit",
    async (store) => {
      const { decision } = await opened(store);
      const stale = await store.getRecord(ACCOUNT_ID);
      const ack = decide(stale.incident, { kind: "acknowledged", by: "alice@contoso.com" }, minutes(5), lifecycle);
      await store.commit(stale, ack);
      const again = decide(stale.incident, { kind: "acknowledged", by: "bob@contoso.com" }, minutes(6), lifecycle);
      await expect(store.commit(stale, again)).rejects.toBeInstanceOf(StateConflictError);
      expect((await store.listEvents(ACCOUNT_ID, decision.incident!.id)).map((event) => event.detail)).not.toContainEqual(expect.stringContaining("bob"));
      expect(await store.listMessages()).toHaveLength(2);
    },
  ],
  [
    // A record read with an ETag whose row is gone meanwhile: the guarded replace does not apply. The
    // table store passes the 404 on as it is (not as StateConflictError), so the fake does too.
    "refuses a guarded commit when the row is missing",
    async (store) => {
      const { decision } = await opened(store);
      const other = firstNotice(minutes(1));
      const missing = { accountId: `${ACCOUNT_ID}-gone`, incident: decision.incident, etag: (await store.getRecord(ACCOUNT_ID)).etag };
      await expect(store.commit(missing, { ...other, incident: { ...other.incident!, accountId: missing.accountId } })).rejects.toMatchObject({
        statusCode: 404,
      });
      expect(await store.getRecord(missing.accountId)).toMatchObject({ incident: undefined });
    },
  ],
  [
    // A decision with no incident (a healthy account) writes nothing.
    "ignores a decision without an incident",
    async (store) => {
      await store.commit({ accountId: ACCOUNT_ID, incident: undefined, etag: undefined }, { reasons: [], incident: undefined, events: [], messages: [] });
      expect(await store.getRecord(ACCOUNT_ID)).toMatchObject({ incident: undefined, etag: undefined });
    },
  ],
  [
    // A resolved incident is history: not listed as open, still readable as the record.
    "stops listing an incident once it is resolved",
    async (store) => {
      await opened(store);
      const record = await store.getRecord(ACCOUNT_ID);
      const healthy = makeAccount({ customerManagedKeyStatus: "Access to the configured customer managed key confirmed." });
      await store.commit(
        record,
        decide(
          record.incident,
          { kind: "observed", account: healthy, classification: classifyStatus(healthy.customerManagedKeyStatus) },
          minutes(30),
          lifecycle,
        ),
      );
      expect(await store.listOpenRecords()).toEqual([]);
      expect((await store.getRecord(ACCOUNT_ID)).incident?.state).toBe("resolved");
    },
  ],
  [
    // History: a resolved incident stays listed (once, not as state row and history row both) beside the next one.
    "lists open and resolved incidents, each once, newest first",
    async (store) => {
      const { decision } = await opened(store);
      const healthy = makeAccount({ customerManagedKeyStatus: "Access to the configured customer managed key confirmed." });
      const record = await store.getRecord(ACCOUNT_ID);
      const healthyInput = { kind: "observed" as const, account: healthy, classification: classifyStatus(healthy.customerManagedKeyStatus) };
      await store.commit(record, decide(record.incident, healthyInput, minutes(30), lifecycle));
      expect((await store.listIncidents()).map((i) => [i.id, i.state])).toEqual([[decision.incident!.id, "resolved"]]);
      const again = firstNotice(minutes(60));
      await store.commit(await store.getRecord(ACCOUNT_ID), again);
      const listed = await store.listIncidents({ accountId: ACCOUNT_ID });
      expect(listed.map((i) => [i.id, i.state])).toEqual([
        [again.incident!.id, "revoked"],
        [decision.incident!.id, "resolved"],
      ]);
      expect(listed[1]!.resolvedAt).toBe(minutes(30).toISOString());
      // Another account's partition holds none of them.
      expect(await store.listIncidents({ accountId: `${ACCOUNT_ID}-other` })).toEqual([]);
    },
  ],
  [
    // The trends count sent emails per day from one column: only sent rows, only since the given time.
    "lists when emails were sent",
    async (store) => {
      const { row } = await opened(store);
      expect(await store.listSentTimes(T0)).toEqual([]);
      const claimed = await store.claimMessage(row, minutes(1), 60);
      await store.markSent(claimed!, minutes(2), "op-1");
      expect(await store.listSentTimes(T0)).toEqual([minutes(2).toISOString()]);
      expect(await store.listSentTimes(minutes(3))).toEqual([]);
    },
  ],
  [
    // The account page reads one partition's emails, not the whole outbox.
    "lists one account's outbox rows",
    async (store) => {
      const { row } = await opened(store);
      expect((await store.listMessages({ accountId: ACCOUNT_ID })).map((m) => m.message.key)).toEqual([row.message.key]);
      expect(await store.listMessages({ accountId: `${ACCOUNT_ID}-other` })).toEqual([]);
      expect(await store.listMessages({ accountId: ACCOUNT_ID, status: "sent" })).toEqual([]);
    },
  ],
  [
    // Due means pending and at or past nextAttemptAt; a row is not due a moment before.
    "lists a pending row as due from its attempt time",
    async (store) => {
      await opened(store);
      expect(await store.listDueMessages(minutes(-1))).toEqual([]);
      expect(await store.listDueMessages(T0)).toHaveLength(1);
    },
  ],
  [
    // A claim leases the row (attempts + 1); the old ETag cannot claim it again; the lease expiring makes it due again.
    "leases a row once, and lists it again when the lease runs out",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300);
      expect(lease).toMatchObject({ status: "sending", attempts: 1, leaseUntil: minutes(5).toISOString() });
      expect(lease!.etag).not.toBe(row.etag);
      expect(await store.claimMessage(row, T0, 300)).toBeUndefined();
      expect(await store.listDueMessages(minutes(4))).toEqual([]);
      expect(await store.listDueMessages(minutes(5))).toMatchObject([{ status: "sending", attempts: 1 }]);
      expect(await store.getMessage(ACCOUNT_ID, row.message.key)).toEqual(lease);
    },
  ],
  [
    // A row bound to a digest is listed with its digest even while its lease runs.
    "lists rows bound to a digest with the digest members, due or not",
    async (store) => {
      const { row } = await opened(store);
      await store.claimMessage(row, T0, 300, { digestId: "digest.revoked.x" });
      expect(await store.listDueMessages(T0)).toEqual([]);
      expect(await store.listDueMessages(T0, { withDigestMembers: true })).toMatchObject([{ digestId: "digest.revoked.x", status: "sending" }]);
    },
  ],
  [
    // Sent: status, time and operation id recorded; no longer due.
    "marks a claimed row sent",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300);
      await store.markSent(lease!, minutes(1), "op-1");
      expect(await store.listMessages({ status: "sent" })).toMatchObject([
        { status: "sent", sentAt: minutes(1).toISOString(), operationId: "op-1", attempts: 1 },
      ]);
      expect(await store.listDueMessages(minutes(60), { withDigestMembers: true })).toEqual([]);
    },
  ],
  [
    // ACS said Failed: back to pending at the retry time, a new generation, unbound from its digest.
    "marks a failed row for retry under a new operation, released from its digest",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300, { digestId: "digest.revoked.x" });
      await store.markFailed(lease!, "transient: 503", minutes(2), { newOperation: true, releaseDigest: true });
      const [after] = await store.listMessages();
      expect(after).toMatchObject({ status: "pending", generation: 1, attempts: 1, nextAttemptAt: minutes(2).toISOString(), lastError: "transient: 503" });
      expect(after!.digestId).toBeUndefined();
    },
  ],
  [
    // The claim records the attempt's operation as unverified; only a known outcome clears it.
    "keeps the claim's unverified operation through an unsure failure, clears it on a verified one or on sent",
    async (store) => {
      const { row } = await opened(store);
      const first = await store.claimMessage(row, T0, 300, { operationId: "op-0" });
      expect(first).toMatchObject({ unverifiedOperationId: "op-0" });
      await store.markFailed(first!, "transient: timeout", minutes(5));
      const [unsure] = await store.listMessages();
      expect(unsure).toMatchObject({ status: "pending", unverifiedOperationId: "op-0" });
      const second = await store.claimMessage(unsure!, minutes(5), 300, { operationId: "op-0" });
      await store.markFailed(second!, "throttled: 429", minutes(6), { verified: true });
      const [refused] = await store.listMessages();
      expect(refused!.unverifiedOperationId).toBeUndefined();
      const third = await store.claimMessage(refused!, minutes(6), 300, { operationId: "op-0" });
      await store.markSent(third!, minutes(6), "op-0", { outcomeCheckAt: minutes(11) });
      const [sent] = await store.listMessages();
      expect(sent).toMatchObject({ status: "sent", outcomeCheckAt: minutes(11).toISOString() });
      expect(sent!.unverifiedOperationId).toBeUndefined();
    },
  ],
  [
    // A sent row's final-status read is listed when due; moving it is ETag-guarded; done, it is listed no more.
    "lists an accepted row's status read when due, leases it once, and forgets it when done",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300, { operationId: "op-0" });
      await store.markSent(lease!, T0, "op-0", { outcomeCheckAt: minutes(5) });
      expect(await store.listOutcomeChecks(minutes(4))).toEqual([]);
      const [due] = await store.listOutcomeChecks(minutes(5));
      const held = await store.markOutcomeChecked(due!, minutes(10));
      expect(held).toMatchObject({ outcomeCheckAt: minutes(10).toISOString() });
      // The same listing's ETag is spent: a second instance cannot take it.
      expect(await store.markOutcomeChecked(due!, minutes(10))).toBeUndefined();
      expect(await store.listOutcomeChecks(minutes(9))).toEqual([]);
      const done = await store.markOutcomeChecked(held!);
      expect(done!.outcomeCheckAt).toBeUndefined();
      expect(await store.listOutcomeChecks(minutes(600))).toEqual([]);
      expect(await store.getMessage(ACCOUNT_ID, row.message.key)).toEqual(done);
    },
  ],
  [
    // ACS said Failed after it accepted: a sent row goes back to pending under a new operation, its check gone.
    "turns a sent row whose operation failed back to pending under a new generation",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300, { operationId: "op-0" });
      await store.markSent(lease!, T0, "op-0", { outcomeCheckAt: minutes(5) });
      const [due] = await store.listOutcomeChecks(minutes(5));
      await store.markFailed(due!, "ACS operation op-0 ended Failed", minutes(5), { newOperation: true });
      expect(await store.listOutcomeChecks(minutes(600))).toEqual([]);
      expect(await store.listDueMessages(minutes(5))).toMatchObject([{ status: "pending", generation: 1 }]);
    },
  ],
  [
    // No retry time: dead, kept for a person; the generation stays without newOperation.
    "marks a row dead when it is not retried",
    async (store) => {
      const { row } = await opened(store);
      const lease = await store.claimMessage(row, T0, 300);
      await store.markFailed(lease!, "invalid: 400", undefined);
      expect(await store.listMessages({ status: "dead" })).toMatchObject([{ generation: 0, nextAttemptAt: new Date(0).toISOString() }]);
    },
  ],
  [
    // Marking with an ETag another instance moved on fails with the table's 412 (the caller logs it).
    "refuses to mark a row whose ETag moved on",
    async (store) => {
      const { row } = await opened(store);
      await store.claimMessage(row, T0, 300);
      await expect(store.markSent(row, T0, "op-1")).rejects.toMatchObject({ statusCode: 412 });
    },
  ],
  [
    // A link token is spent with the change it made; spending it again fails the whole commit.
    "spends a link token once, in the commit",
    async (store) => {
      await opened(store);
      const record = await store.getRecord(ACCOUNT_ID);
      const ack = decide(record.incident, { kind: "acknowledged", by: "alice@contoso.com" }, minutes(5), lifecycle);
      const token = { nonce: "n1", action: "ack", incidentId: record.incident!.id };
      expect(await store.isLinkTokenUsed(ACCOUNT_ID, "n1")).toBe(false);
      await store.commit(record, ack, { consumeLinkToken: token });
      expect(await store.isLinkTokenUsed(ACCOUNT_ID, "n1")).toBe(true);
      const fresh = await store.getRecord(ACCOUNT_ID);
      const snooze = decide(fresh.incident, { kind: "snoozed", until: minutes(600).toISOString(), by: "alice@contoso.com" }, minutes(6), lifecycle);
      await expect(store.commit(fresh, snooze, { consumeLinkToken: token })).rejects.toBeInstanceOf(StateConflictError);
    },
  ],
  [
    // A recipient's digest state and its email go in together; a second "first" digest conflicts.
    "commits a digest with its state once",
    async (store) => {
      const recipient = "owner@contoso.com";
      const empty = await store.getDigestState(recipient);
      expect(empty).toEqual({ state: { recipient, reported: [] }, etag: undefined });
      const facts = { kind: "warning-digest" as const, recipient, date: "2026-11-29", accounts: [], resolved: [] };
      const message = digestMessage(facts as never, T0);
      const state = { recipient, reported: [], lastDigestOn: "2026-11-29" };
      await store.commitDigest(state, undefined, message);
      expect(await store.getDigestState(recipient)).toEqual({ state, etag: expect.any(String) });
      await expect(store.commitDigest(state, undefined, message)).rejects.toBeInstanceOf(StateConflictError);
      expect((await store.listMessages()).map((stored) => stored.message.key)).toEqual([message.key]);
    },
  ],
  [
    // Daily checks: create once, a stale ETag loses (false), a pending mark can be cleared.
    "records daily checks under their ETags",
    async (store) => {
      expect(await store.putAccountCheck(check(ACCOUNT_ID), undefined, { pendingDigest: true })).toBe(true);
      expect(await store.putAccountCheck(check(ACCOUNT_ID), undefined)).toBe(false);
      const [stored] = await store.listAccountChecks();
      expect(stored).toMatchObject({ check: check(ACCOUNT_ID), pendingDigest: true });
      expect(await store.clearPendingDigest(stored!)).toBe(true);
      expect(await store.clearPendingDigest(stored!)).toBe(false);
      const recorded = await store.putAccountChecks([
        { check: check(ACCOUNT_ID, "2026-11-30"), etag: stored!.etag },
        { check: check(`${ACCOUNT_ID}-2`, "2026-11-30"), etag: undefined },
      ]);
      expect([...recorded]).toEqual([`${ACCOUNT_ID}-2`]);
      expect(store.checkWriteGroup(ACCOUNT_ID)).toMatch(/^warning-checks-[0-9a-f]$/);
    },
  ],
  [
    // One account's check is a point read; an account never checked reads as undefined.
    "reads one account's daily check",
    async (store) => {
      expect(await store.getAccountCheck(ACCOUNT_ID)).toBeUndefined();
      await store.putAccountCheck(check(ACCOUNT_ID), undefined);
      expect(await store.getAccountCheck(ACCOUNT_ID)).toEqual({ check: check(ACCOUNT_ID), etag: expect.any(String) });
      expect(await store.getAccountCheck(`${ACCOUNT_ID}-2`)).toBeUndefined();
    },
  ],
];

let azurite: AzuriteInstance;
let tables = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const STORES: Array<[string, () => Store]> = [
  ["MemoryIncidentStore", () => new MemoryIncidentStore()],
  [
    "TableIncidentStore on Azurite",
    () =>
      new TableIncidentStore(
        TableClient.fromConnectionString(azurite.connectionString, `contract${++tables}${Date.now().toString(36)}`, { allowInsecureConnection: true }),
      ),
  ],
];

describe.each(STORES)("%s", (_name, makeStore) => {
  it.each(CASES)("%s", async (_case, run) => {
    await run(makeStore());
  });
});

it("shards daily checks like the table store", () => {
  const memory = new MemoryIncidentStore();
  const table = new TableIncidentStore(TableClient.fromConnectionString(azurite.connectionString, "unused", { allowInsecureConnection: true }));
  for (let i = 0; i < 20; i++) expect(memory.checkWriteGroup(`${ACCOUNT_ID}-${i}`)).toBe(table.checkWriteGroup(`${ACCOUNT_ID}-${i}`));
});
