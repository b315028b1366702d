/** What one table entity may hold: Azure Tables caps a property at 64 KiB and an entity at 1 MiB. */
import { chunked, MAX_STORED_JSON_LENGTH } from "../../src/adapters/tableStore";

/** The entity's size as Azure counts it: strings in UTF-16 (2 bytes a unit), plus each property name. */
function entityBytes(properties: Record<string, string | number>): number {
  return Object.entries(properties).reduce((total, [name, value]) => total + 2 * name.length + (typeof value === "string" ? 2 * value.length : 8), 0);
}

describe("chunked", () => {
  it("the largest value it accepts still makes an entity under 1 MiB, with room for the row's other properties", () => {
    // 30 chunks of 30,000 units were 1.8 MB: Azure would refuse the write and the incident would never be recorded.
    const largest = chunked("incident", "x".repeat(MAX_STORED_JSON_LENGTH - 2));
    expect(entityBytes(largest)).toBeLessThan(1024 * 1024 - 64 * 1024);
    expect(Math.max(...Object.values(largest).map((value) => (typeof value === "string" ? 2 * value.length : 0)))).toBeLessThanOrEqual(64 * 1024);
  });

  it("refuses, with a clear error, a value larger than an entity can hold", () => {
    expect(() => chunked("incident", "x".repeat(MAX_STORED_JSON_LENGTH))).toThrow(/incident is too large to store/);
  });
});
