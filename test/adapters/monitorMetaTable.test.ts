/** The catch-up's watermark in the meta table, against Azurite: created once, advanced only from the version read, its gap kept and reported. */
import { TableClient } from "@azure/data-tables";
import { TableMonitorMeta } from "../../src/adapters/monitorMetaTable";
import { startAzurite, type AzuriteInstance } from "../../src/sandbox";

let azurite: AzuriteInstance;
let tables = 0;

beforeAll(async () => {
  azurite = await startAzurite();
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

function meta(name = `watermark${Date.now().toString(36)}${++tables}`): TableMonitorMeta {
  return new TableMonitorMeta(TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true }));
}

const T1 = "2026-12-01T09:00:00.000Z";
const T2 = "2026-12-01T09:15:00.000Z";
const T3 = "2026-12-01T09:30:00.000Z";

describe("TableMonitorMeta change watermark", () => {
  it("is absent until the first advance, which creates it", async () => {
    const table = meta();
    // No row: no watermark and no version.
    expect(await table.readChangeWatermark()).toEqual({});
    expect(await table.advanceChangeWatermark({}, T1)).toBe(true);
    expect(await table.readChangeWatermark()).toMatchObject({ watermark: T1 });
  });

  it("lets only one of two instances that read the same version move it", async () => {
    const name = `watermark${Date.now().toString(36)}race`;
    const [a, b] = [meta(name), meta(name)];
    await a.advanceChangeWatermark({}, T1);
    const [readA, readB] = await Promise.all([a.readChangeWatermark(), b.readChangeWatermark()]);
    // B finished its window first; A's later write, from the version both read, is refused and changes nothing.
    expect(await b.advanceChangeWatermark(readB, T3)).toBe(true);
    expect(await a.advanceChangeWatermark(readA, T2)).toBe(false);
    expect((await a.readChangeWatermark()).watermark).toBe(T3);
  });

  it("refuses a second create when another instance created the row first", async () => {
    const name = `watermark${Date.now().toString(36)}create`;
    const [a, b] = [meta(name), meta(name)];
    // Both saw no row; the second create conflicts (409) and is reported as not moved.
    expect(await a.advanceChangeWatermark({}, T1)).toBe(true);
    expect(await b.advanceChangeWatermark({}, T2)).toBe(false);
    expect((await b.readChangeWatermark()).watermark).toBe(T1);
  });

  it("keeps a clamped window's gap until a newer one, and reports it on the heartbeat", async () => {
    const table = meta();
    await table.advanceChangeWatermark({}, T2, T1);
    // A later, unclamped window keeps the gap it inherited: the changes before it were still never read.
    await table.advanceChangeWatermark(await table.readChangeWatermark(), T3);
    expect(await table.readChangeWatermark()).toMatchObject({ watermark: T3, gapBefore: T1 });
    await table.recordCycle({
      startedAt: T3,
      finishedAt: T3,
      durationInMs: 1,
      accountsSeen: 0,
      revokedSeen: 0,
      changes: 0,
      emailsSent: 0,
      emailsRetrying: 0,
      subscriptionsFailed: 0,
    });
    expect((await table.lastCycle())?.changeCatchUp).toEqual({ watermark: T3, gapBefore: T1 });
  });
});
