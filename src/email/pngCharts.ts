/**
 * Weekly-report trend charts as PNG images, so mail clients (which strip SVG and ignore CSS bars
 * inconsistently) show them. Pure: same facts give the same bytes. Labels and legend stay as HTML
 * text next to the image, so no text is rasterised here.
 */
import { deflateSync } from "node:zlib";
import type { WeeklyReportFacts } from "../domain/weeklyReport";

/** An RGB colour; PNGs here are opaque RGBA with alpha fixed at 255. */
export type Rgb = readonly [number, number, number];

/** Series colours, matching the HTML fallback bars' legend. */
export const CHART_COLOURS = {
  opened: [0xd1, 0x34, 0x38] as Rgb,
  escalated: [0x8a, 0x3f, 0xb8] as Rgb,
  resolved: [0x10, 0x7c, 0x10] as Rgb,
  background: [0xff, 0xff, 0xff] as Rgb,
  axis: [0x60, 0x60, 0x60] as Rgb,
} as const;

/** A bar group: one slot on the x axis holding one bar per series. */
export interface BarGroup {
  values: readonly number[];
}

export interface BarChartLayout {
  width: number;
  height: number;
  /** Pixels between the plot and the image edge. */
  padding: number;
  colours: readonly Rgb[];
}

/** Geometry of one drawn bar, exported so tests can sample pixels where a bar must be. */
export interface BarRect {
  x: number;
  y: number;
  width: number;
  height: number;
  colour: Rgb;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encodes an RGBA buffer (width*height*4 bytes) as a PNG (colour type 6, 8 bits, filter 0 on every row). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new RangeError(`Invalid PNG size ${width}x${height}.`);
  if (rgba.length !== width * height * 4) throw new RangeError(`Expected ${width * height * 4} RGBA bytes, got ${rgba.length}.`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 6;
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  // Fixed level so the bytes do not depend on zlib's default.
  const idat = deflateSync(raw, { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, chunk("IHDR", header), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]);
}

/** Lays out grouped bars; values scale to the largest so the tallest bar fills the plot. */
export function layoutBars(groups: readonly BarGroup[], layout: BarChartLayout): BarRect[] {
  const plotWidth = layout.width - 2 * layout.padding;
  const plotHeight = layout.height - 2 * layout.padding;
  const max = Math.max(1, ...groups.flatMap((group) => group.values));
  const slot = groups.length === 0 ? 0 : Math.floor(plotWidth / groups.length);
  const series = Math.max(1, layout.colours.length);
  // A gap of a quarter slot between groups keeps neighbouring days apart.
  const barWidth = Math.max(1, Math.floor((slot * 0.75) / series));
  const rects: BarRect[] = [];
  groups.forEach((group, index) => {
    group.values.forEach((value, seriesIndex) => {
      const height = value <= 0 ? 0 : Math.max(1, Math.round((value / max) * plotHeight));
      if (height === 0) return;
      rects.push({
        x: layout.padding + index * slot + seriesIndex * barWidth,
        y: layout.padding + plotHeight - height,
        width: barWidth,
        height,
        colour: layout.colours[seriesIndex % layout.colours.length]!,
      });
    });
  });
  return rects;
}

/** Draws the bars and a baseline onto a white canvas and returns the PNG. */
export function renderBarChartPng(groups: readonly BarGroup[], layout: BarChartLayout): Buffer {
  const { width, height, padding } = layout;
  const rgba = new Uint8Array(width * height * 4);
  const fill = (x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb): void => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) {
        const at = (y * width + x) * 4;
        rgba[at] = r;
        rgba[at + 1] = g;
        rgba[at + 2] = b;
        rgba[at + 3] = 255;
      }
    }
  };
  fill(0, 0, width, height, CHART_COLOURS.background);
  for (const rect of layoutBars(groups, layout)) fill(rect.x, rect.y, rect.width, rect.height, rect.colour);
  fill(padding, height - padding, width - 2 * padding, 1, CHART_COLOURS.axis);
  return encodePng(width, height, rgba);
}

export const DAILY_CHART_LAYOUT: BarChartLayout = {
  width: 480,
  height: 160,
  padding: 8,
  colours: [CHART_COLOURS.opened, CHART_COLOURS.escalated, CHART_COLOURS.resolved],
};
export const WEEKLY_CHART_LAYOUT: BarChartLayout = { width: 480, height: 160, padding: 8, colours: [CHART_COLOURS.opened] };

/** Incidents per day: opened, escalated, resolved side by side. */
export function dailyChartPng(facts: Pick<WeeklyReportFacts, "daily">): Buffer {
  return renderBarChartPng(
    facts.daily.map((day) => ({ values: [day.opened, day.escalated, day.resolved] })),
    DAILY_CHART_LAYOUT,
  );
}

/** Incidents opened per ISO week. */
export function weeklyChartPng(facts: Pick<WeeklyReportFacts, "weekly">): Buffer {
  return renderBarChartPng(
    facts.weekly.map((week) => ({ values: [week.opened] })),
    WEEKLY_CHART_LAYOUT,
  );
}

/** Alt text as a full sentence with the numbers, for clients that block images and for screen readers. */
export function dailyChartAlt(facts: Pick<WeeklyReportFacts, "daily">): string {
  const days = facts.daily.map((day) => `${day.day}: ${day.opened} opened, ${day.escalated} escalated, ${day.resolved} resolved`).join("; ");
  return `Incidents per day this week. ${days}.`;
}

export function weeklyChartAlt(facts: Pick<WeeklyReportFacts, "weekly">): string {
  const weeks = facts.weekly.map((week) => `${week.week}: ${week.opened}`).join("; ");
  return `Incidents opened per week. ${weeks}.`;
}
