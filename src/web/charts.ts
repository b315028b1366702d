/**
 * Trend pictures as inline SVG: drawn on the server from numbers we computed, coloured with
 * presentation attributes (the CSP refuses style attributes), each with a title and a text
 * alternative, so they work with no script and nothing fetched. Every label goes through `html`.
 */
import { html, type SafeHtml } from "../email/html";
import { formatSpan } from "./timeText";
import type { CauseDurations, DayCount } from "./incidentHistory";

const COLOURS = { detected: "#b00020", escalated: "#5b1a8e", resolved: "#1e7b34", median: "#0b5cad", p90: "#9ec5ee", fix: "#b00020", recover: "#9a6700" };

/** Incidents detected per day (bars) with the escalated ones drawn over them; one bar per day. */
export function perDayChart(days: readonly DayCount[], id: string): SafeHtml {
  const detected = days.reduce((sum, d) => sum + d.detected, 0);
  const escalated = days.reduce((sum, d) => sum + d.escalated, 0);
  return dayBars(
    days,
    [
      { value: (d) => d.detected, colour: COLOURS.detected },
      { value: (d) => d.escalated, colour: COLOURS.escalated },
    ],
    id,
    `Incidents detected per day from ${days[0]?.date ?? ""} to ${days.at(-1)?.date ?? ""}: ${detected} detected, ${escalated} escalated`,
  );
}

/** Emails handed to ACS per day. */
export function emailsPerDayChart(days: readonly DayCount[], id: string): SafeHtml {
  const sent = days.reduce((sum, d) => sum + d.emailsSent, 0);
  return dayBars(
    days,
    [{ value: (d) => d.emailsSent, colour: COLOURS.median }],
    id,
    `Emails sent per day from ${days[0]?.date ?? ""} to ${days.at(-1)?.date ?? ""}: ${sent} in all`,
  );
}

/** One bar per day, layers drawn over each other from the first (tallest) to the last. */
function dayBars(days: readonly DayCount[], layers: ReadonlyArray<{ value: (day: DayCount) => number; colour: string }>, id: string, title: string): SafeHtml {
  const width = 720;
  const height = 160;
  const top = 12;
  const bottom = 22;
  const left = 28;
  const plot = height - top - bottom;
  const max = Math.max(1, ...days.flatMap((d) => layers.map((layer) => layer.value(d))));
  const step = (width - left) / Math.max(1, days.length);
  const bar = Math.max(1, step * 0.7);
  const y = (n: number): number => top + plot - (n / max) * plot;
  const first = days[0]?.date ?? "";
  const last = days.at(-1)?.date ?? "";
  return html`<svg id="${id}" class="chart" role="img" aria-labelledby="${id}-title" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="${id}-title">${title}</title>
<line x1="${left}" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#888" stroke-width="1"/>
<text x="${left - 4}" y="${top + 4}" text-anchor="end" font-size="11" fill="#444">${max}</text>
<text x="${left - 4}" y="${top + plot}" text-anchor="end" font-size="11" fill="#444">0</text>
${days.map((day, i) => {
  const x = (left + i * step + (step - bar) / 2).toFixed(1);
  return html`<g class="day" data-date="${day.date}" data-detected="${day.detected}" data-escalated="${day.escalated}" data-emails="${day.emailsSent}"><title>${day.date}: ${day.detected} detected, ${day.escalated} escalated, ${day.resolved} resolved, ${day.emailsSent} email(s) sent</title>${layers.map(
    (layer) => {
      const n = layer.value(day);
      return n > 0
        ? html`<rect x="${x}" y="${y(n).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plot - y(n)).toFixed(1)}" fill="${layer.colour}"/>`
        : "";
    },
  )}</g>`;
})}
<text x="${left}" y="${height - 6}" font-size="11" fill="#444">${first}</text>
<text x="${width}" y="${height - 6}" text-anchor="end" font-size="11" fill="#444">${last}</text>
</svg>`;
}

/** Per cause, time to fix and time to recover: a bar to the median, a lighter one to the 90th percentile. */
export function durationChart(rows: readonly CauseDurations[], id: string): SafeHtml {
  const measures = [
    ["timeToFix", "fix", COLOURS.fix],
    ["timeToRecover", "recover", COLOURS.recover],
  ] as const;
  const rowHeight = 18;
  const labelWidth = 230;
  const width = 720;
  // Room right of the longest bar for its "median / p90" label (up to about 24 characters at 11 px).
  const plotWidth = width - labelWidth - 150;
  const lines = rows.flatMap((row) => measures.map(([field, label, colour]) => ({ row, stats: row[field], label, colour })));
  const max = Math.max(1, ...lines.map((line) => line.stats.p90InMinutes ?? 0));
  const height = Math.max(rowHeight, lines.length * rowHeight) + 4;
  const x = (minutes: number): number => (minutes / max) * plotWidth;
  return html`<svg id="${id}" class="chart" role="img" aria-labelledby="${id}-title" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<title id="${id}-title">Time to fix and time to recover by cause, median and 90th percentile (the table below has the numbers)</title>
${lines.map((line, i) => {
  const top = i * rowHeight + 2;
  const median = line.stats.medianInMinutes;
  const p90 = line.stats.p90InMinutes;
  const text = median === null ? "no data" : `median ${formatSpan(median * 60_000)}, p90 ${formatSpan((p90 ?? median) * 60_000)}`;
  return html`<g class="duration" data-cause="${line.row.cause}" data-measure="${line.label}"><title>${line.row.causeTitle}: time to ${line.label}: ${text}</title>
<text x="${labelWidth - 6}" y="${top + 12}" text-anchor="end" font-size="11" fill="#1b1b1b">${i % 2 === 0 ? line.row.causeTitle.slice(0, 36) : ""} (${line.label})</text>${
    median === null
      ? html`<text x="${labelWidth}" y="${top + 12}" font-size="11" fill="#555">no data</text>`
      : html`<rect x="${labelWidth}" y="${top + 2}" width="${x(p90 ?? median).toFixed(1)}" height="${rowHeight - 6}" fill="${line.colour}" fill-opacity="0.35"/><rect x="${labelWidth}" y="${top + 2}" width="${x(median).toFixed(1)}" height="${rowHeight - 6}" fill="${line.colour}"/><text x="${(labelWidth + x(p90 ?? median) + 4).toFixed(1)}" y="${top + 12}" font-size="11" fill="#1b1b1b">${formatSpan(median * 60_000)} / ${formatSpan((p90 ?? median) * 60_000)}</text>`
  }</g>`;
})}
</svg>`;
}

export interface StripSegment {
  kind: "revoked" | "recovering" | "escalated";
  from: string;
  to: string;
}

/** One incident as a strip: revoked (red) until the fix, recovering (amber) until resolution or escalation, escalated (purple) after. */
export function incidentStrip(segments: readonly StripSegment[], id: string, label: string): SafeHtml {
  const width = 720;
  const height = 18;
  const start = Math.min(...segments.map((s) => Date.parse(s.from)));
  const end = Math.max(...segments.map((s) => Date.parse(s.to)));
  const span = Math.max(1, end - start);
  const fill = { revoked: COLOURS.detected, recovering: COLOURS.recover, escalated: COLOURS.escalated };
  return html`<svg id="${id}" class="strip" role="img" aria-labelledby="${id}-title" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none">
<title id="${id}-title">${label}</title>
${segments.map((segment) => {
  const x = ((Date.parse(segment.from) - start) / span) * width;
  const w = Math.max(1, ((Date.parse(segment.to) - Date.parse(segment.from)) / span) * width);
  return html`<rect class="segment-${segment.kind}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${height}" fill="${fill[segment.kind]}"><title>${segment.kind}: ${formatSpan(Date.parse(segment.to) - Date.parse(segment.from))}</title></rect>`;
})}
</svg>`;
}

/** The strip's segments from an incident's clock: detection, fix, escalation, resolution (or now while open). */
export function stripSegments(
  incident: { detectedAt: string; fixObservedAt: string | null; escalatedAt: string | null; resolvedAt: string | null },
  now: Date,
): StripSegment[] {
  const end = incident.resolvedAt ?? now.toISOString();
  const points: Array<[StripSegment["kind"], string]> = [["revoked", incident.detectedAt]];
  if (incident.fixObservedAt) points.push(["recovering", incident.fixObservedAt]);
  if (incident.escalatedAt) points.push(["escalated", incident.escalatedAt]);
  points.sort((a, b) => a[1].localeCompare(b[1]));
  return points.map(([kind, from], i) => ({ kind, from, to: points[i + 1]?.[1] ?? end })).filter((segment) => segment.to >= segment.from);
}
