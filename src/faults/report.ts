/** Totals over fault runs and their table. */
import type { RunOutcome } from "./harness";

export interface FaultSummary {
  runs: number;
  incidents: number;
  messagesExpected: number;
  lost: number;
  duplicates: number;
  late: number;
  /** Seeds of runs with a lost or duplicate message: replay with `--seed`. */
  seeds: number[];
  faultsInjected: Record<string, number>;
  crashes: number;
}

export function summarize(outcomes: readonly RunOutcome[]): FaultSummary {
  const faultsInjected: Record<string, number> = {};
  for (const outcome of outcomes) for (const fault of outcome.faults) faultsInjected[fault.kind] = (faultsInjected[fault.kind] ?? 0) + 1;
  return {
    runs: outcomes.length,
    incidents: sum(outcomes, (o) => o.incidents),
    messagesExpected: sum(outcomes, (o) => o.expected),
    lost: sum(outcomes, (o) => o.lost.length),
    duplicates: sum(outcomes, (o) => o.duplicates.length),
    late: sum(outcomes, (o) => o.late.length),
    seeds: outcomes.filter((o) => o.lost.length > 0 || o.duplicates.length > 0).map((o) => o.seed),
    faultsInjected,
    crashes: sum(outcomes, (o) => o.crashes),
  };
}

export function renderTable(outcomes: readonly RunOutcome[], summary: FaultSummary): string {
  const header = ["seed", "inst", "faults", "incidents", "expected", "delivered", "lost", "dup", "late"];
  const rows = outcomes.map((o) => [
    String(o.seed),
    String(o.instances),
    o.faults.map((f) => f.kind).join(","),
    String(o.incidents),
    String(o.expected),
    String(o.delivered),
    String(o.lost.length),
    String(o.duplicates.length),
    String(o.late.length),
  ]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join("  ");
  const details = outcomes.flatMap((o) => [
    ...o.lost.map((id) => `  seed ${o.seed}: LOST ${id}`),
    ...o.duplicates.map((id) => `  seed ${o.seed}: DUPLICATE ${id}`),
    ...o.late.map((id) => `  seed ${o.seed}: late ${id}`),
  ]);
  return [
    line(header),
    ...rows.map(line),
    ...(details.length > 0 ? ["", ...details] : []),
    "",
    `${summary.runs} runs, ${summary.incidents} incidents, ${summary.messagesExpected} messages expected: ` +
      `${summary.lost} lost, ${summary.duplicates} duplicates, ${summary.late} late; ${summary.crashes} simulated crashes.`,
    `Faults injected: ${Object.entries(summary.faultsInjected).sort().map(([k, v]) => `${k} ${v}`).join(", ")}.`,
  ].join("\n");
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
