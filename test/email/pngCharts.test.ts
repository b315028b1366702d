import * as zlib from "node:zlib";
import {
  CHART_COLOURS,
  DAILY_CHART_LAYOUT,
  dailyChartAlt,
  dailyChartPng,
  encodePng,
  layoutBars,
  PNG_SIGNATURE,
  type Rgb,
  WEEKLY_CHART_LAYOUT,
  weeklyChartAlt,
  weeklyChartPng,
} from "../../src/email/pngCharts";

/** A minimal independent PNG reader: checks chunk CRCs via zlib's crc32 when present and unfilters filter-0 rows. */
function decodePng(png: Buffer): { width: number; height: number; pixel: (x: number, y: number) => Rgb; chunks: string[] } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  let offset = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const crc32 = (zlib as { crc32?: (data: Buffer) => number }).crc32;
    if (crc32) expect(png.readUInt32BE(offset + 8 + length)).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)));
    chunks.push(type);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9], data[10], data[11], data[12]]).toEqual([8, 6, 0, 0, 0]);
    }
    if (type === "IDAT") idat.push(Buffer.from(data));
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  expect(raw.length).toBe(stride * height);
  return {
    width,
    height,
    chunks,
    pixel: (x, y) => {
      expect(raw[y * stride]).toBe(0);
      const at = y * stride + 1 + x * 4;
      expect(raw[at + 3]).toBe(255);
      return [raw[at]!, raw[at + 1]!, raw[at + 2]!];
    },
  };
}

const day = (name: string, opened: number, escalated: number, resolved: number) => ({ day: name, opened, escalated, resolved });

describe("dailyChartPng", () => {
  const cases: Array<{ name: string; daily: Array<ReturnType<typeof day>> }> = [
    // A quiet week: every bar is absent, the image is still a valid PNG of the declared size.
    { name: "all zero", daily: [day("2026-11-23", 0, 0, 0), day("2026-11-24", 0, 0, 0)] },
    // One busy day next to quiet days: the busy bar is full height, zero values draw nothing.
    { name: "one busy day", daily: [day("2026-11-23", 0, 0, 0), day("2026-11-24", 5, 2, 1), day("2026-11-25", 0, 0, 3)] },
    // A full week with mixed counts, as the report normally carries.
    {
      name: "seven days",
      daily: [1, 2, 3, 4, 5, 6, 7].map((n) => day(`2026-11-${22 + n}`, n % 3, n % 2, (n * 2) % 5)),
    },
  ];
  it.each(cases)("$name: decodes, has the declared size and a bar of the series colour wherever the layout puts one", ({ daily }) => {
    const png = dailyChartPng({ daily });
    const decoded = decodePng(png);
    expect(decoded.chunks).toEqual(["IHDR", "IDAT", "IEND"]);
    expect([decoded.width, decoded.height]).toEqual([DAILY_CHART_LAYOUT.width, DAILY_CHART_LAYOUT.height]);
    const rects = layoutBars(
      daily.map((d) => ({ values: [d.opened, d.escalated, d.resolved] })),
      DAILY_CHART_LAYOUT,
    );
    const nonZero = daily.flatMap((d) => [d.opened, d.escalated, d.resolved]).filter((v) => v > 0).length;
    expect(rects).toHaveLength(nonZero);
    for (const rect of rects) {
      // Sample the bar's centre and its top pixel; both must carry the series colour.
      expect(decoded.pixel(rect.x + Math.floor(rect.width / 2), rect.y + Math.floor(rect.height / 2))).toEqual(rect.colour);
      expect(decoded.pixel(rect.x, rect.y)).toEqual(rect.colour);
      // The pixel just above a bar is background: the bar is no taller than its value.
      if (rect.y > 0) expect(decoded.pixel(rect.x, rect.y - 1)).toEqual(CHART_COLOURS.background);
    }
    // The top-left corner is never covered by a bar.
    expect(decoded.pixel(0, 0)).toEqual(CHART_COLOURS.background);
  });

  it("is deterministic: the same facts give the same bytes", () => {
    const daily = [day("2026-11-23", 3, 1, 2), day("2026-11-24", 0, 0, 4)];
    expect(dailyChartPng({ daily }).equals(dailyChartPng({ daily: daily.map((d) => ({ ...d })) }))).toBe(true);
  });

  it("differs when the data differs", () => {
    expect(dailyChartPng({ daily: [day("2026-11-23", 3, 1, 2)] }).equals(dailyChartPng({ daily: [day("2026-11-23", 3, 1, 1)] }))).toBe(false);
  });
});

describe("layoutBars", () => {
  const cases = [
    // The largest value fills the plot height exactly.
    { name: "max fills plot", values: [4, 2], expectHeights: [DAILY_CHART_LAYOUT.height - 16, (DAILY_CHART_LAYOUT.height - 16) / 2] },
    // A tiny value next to a huge one still shows as at least one pixel.
    { name: "tiny value visible", values: [10_000, 1], expectHeights: [DAILY_CHART_LAYOUT.height - 16, 1] },
  ];
  it.each(cases)("$name", ({ values, expectHeights }) => {
    const rects = layoutBars(
      values.map((v) => ({ values: [v] })),
      WEEKLY_CHART_LAYOUT,
    );
    expect(rects.map((r) => r.height)).toEqual(expectHeights);
    // Every bar stands on the baseline.
    for (const rect of rects) expect(rect.y + rect.height).toBe(WEEKLY_CHART_LAYOUT.height - WEEKLY_CHART_LAYOUT.padding);
  });
});

describe("weeklyChartPng", () => {
  it("draws one opened-colour bar per non-empty week", () => {
    const weekly = [
      { week: "2026-W46", opened: 2 },
      { week: "2026-W47", opened: 0 },
      { week: "2026-W48", opened: 6 },
    ];
    const decoded = decodePng(weeklyChartPng({ weekly }));
    const rects = layoutBars(
      weekly.map((w) => ({ values: [w.opened] })),
      WEEKLY_CHART_LAYOUT,
    );
    expect(rects).toHaveLength(2);
    for (const rect of rects) expect(decoded.pixel(rect.x + 1, rect.y + rect.height - 1)).toEqual(CHART_COLOURS.opened);
  });
});

describe("encodePng", () => {
  const cases = [
    // Zero width is not a PNG.
    { name: "zero width", width: 0, height: 1, bytes: 0 },
    // A buffer that does not match width*height*4 is a caller bug, not a picture.
    { name: "short buffer", width: 2, height: 2, bytes: 15 },
  ];
  it.each(cases)("refuses $name", ({ width, height, bytes }) => {
    expect(() => encodePng(width, height, new Uint8Array(bytes))).toThrow(RangeError);
  });
});

describe("chart alt text", () => {
  it("is a sentence carrying every number", () => {
    expect(dailyChartAlt({ daily: [day("2026-11-23", 3, 1, 2)] })).toBe("Incidents per day this week. 2026-11-23: 3 opened, 1 escalated, 2 resolved.");
    expect(weeklyChartAlt({ weekly: [{ week: "2026-W48", opened: 4 }] })).toBe("Incidents opened per week. 2026-W48: 4.");
  });
});
