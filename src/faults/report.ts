/** Totals over fault runs and their table. */
import { SUITE_DELIVERY_REPORTS, type AcsPlay, type RunOutcome } from "./harness";
import { ACS_EMAIL_LIMITS } from "../sandbox/acsRoutes";

export interface FaultSummary {
  runs: number;
  incidents: number;
  messagesExpected: number;
  lost: number;
  duplicates: number;
  late: number;
  /** Deliveries the harness could not account for (e.g. a digest no row is bound to): a failure like a loss. */
  anomalies: number;
  /** Seeds of runs with a lost or duplicate message, or an anomaly: replay with `--seed`. */
  seeds: number[];
  faultsInjected: Record<string, number>;
  crashes: number;
  /** Runs whose cycles fanned out over the work queue, and what the simulated Functions host did (faulty runs). */
  fannedOutRuns: number;
  workItems: number;
  workItemRuns: number;
  redeliveries: number;
  workItemFailures: number;
  crashesInWorkItems: number;
  staleWorkItems: number;
  poison: number;
  /** Digest emails delivered in the faulty runs and the messages inside them; digests in the fault-free runs. */
  digests: number;
  messagesInDigests: number;
  faultFreeDigests: number;
  /** Support tickets opened in the faulty runs, tickets beyond one per incident (must be 0), and tickets in the fault-free runs. */
  ticketsOpened: number;
  duplicateTickets: number;
  faultFreeTicketsOpened: number;
  /** How the sandbox played ACS: repeats delivered again, and the domain's hourly limits it enforced. */
  acs: { repeatDelivers: boolean; sendLimitPerHour: number; statusLimitPerHour: number; domain: AcsPlay["domain"]; deliveryReports: boolean };
  /** Delivery reports (Event Grid) in the faulty runs: events handed to the monitor (repeats included) and reports never delivered. */
  deliveryReports: { on: boolean; events: number; dropped: number; dropShare: number; maxDelayInMinutes: number };
  /** Calls to ACS in the faulty runs (429s included), and status reads per accepted send. */
  sendCalls: number;
  statusCalls: number;
  statusCallsPerEmail: number;
  /** Simulated minutes drained past the stories' ends (ACS's hourly limits), summed. */
  tailMinutes: number;
}

export function summarize(outcomes: readonly RunOutcome[], acs: AcsPlay = { domain: "azure-managed" }): FaultSummary {
  const faultsInjected: Record<string, number> = {};
  for (const outcome of outcomes) for (const fault of outcome.faults) faultsInjected[fault.kind] = (faultsInjected[fault.kind] ?? 0) + 1;
  return {
    runs: outcomes.length,
    incidents: sum(outcomes, (o) => o.incidents),
    messagesExpected: sum(outcomes, (o) => o.expected),
    lost: sum(outcomes, (o) => o.lost.length),
    duplicates: sum(outcomes, (o) => o.duplicates.length),
    late: sum(outcomes, (o) => o.late.length),
    anomalies: sum(outcomes, (o) => o.anomalies.length),
    seeds: outcomes.filter(failed).map((o) => o.seed),
    faultsInjected,
    crashes: sum(outcomes, (o) => o.crashes),
    fannedOutRuns: outcomes.filter((o) => o.fannedOut).length,
    workItems: sum(outcomes, (o) => o.queue?.workItems ?? 0),
    workItemRuns: sum(outcomes, (o) => o.queue?.invocations ?? 0),
    redeliveries: sum(outcomes, (o) => o.queue?.redeliveries ?? 0),
    workItemFailures: sum(outcomes, (o) => o.queue?.failures ?? 0),
    crashesInWorkItems: sum(outcomes, (o) => o.queue?.crashesInWorkItems ?? 0),
    staleWorkItems: sum(outcomes, (o) => o.queue?.stale ?? 0),
    poison: sum(outcomes, (o) => o.queue?.poison ?? 0),
    digests: sum(outcomes, (o) => o.digests),
    messagesInDigests: sum(outcomes, (o) => o.messagesInDigests),
    faultFreeDigests: sum(outcomes, (o) => o.faultFreeDigests),
    ticketsOpened: sum(outcomes, (o) => o.ticketsOpened),
    duplicateTickets: sum(outcomes, (o) => o.duplicateTickets),
    faultFreeTicketsOpened: sum(outcomes, (o) => o.faultFreeTicketsOpened),
    acs: {
      repeatDelivers: acs.dedupeRepeats !== true,
      sendLimitPerHour: ACS_EMAIL_LIMITS[acs.domain].send[1],
      statusLimitPerHour: ACS_EMAIL_LIMITS[acs.domain].status[1],
      domain: acs.domain,
      deliveryReports: acs.deliveryReports !== false,
    },
    deliveryReports: {
      on: acs.deliveryReports !== false,
      events: sum(outcomes, (o) => o.reportEvents),
      dropped: sum(outcomes, (o) => o.reportsDropped),
      dropShare: SUITE_DELIVERY_REPORTS.dropShare,
      maxDelayInMinutes: SUITE_DELIVERY_REPORTS.delayInMs[1] / 60_000,
    },
    sendCalls: sum(outcomes, (o) => o.sendCalls),
    statusCalls: sum(outcomes, (o) => o.statusCalls),
    statusCallsPerEmail:
      Math.round(
        (sum(outcomes, (o) => o.statusCalls) /
          Math.max(
            1,
            sum(outcomes, (o) => o.acceptedSends),
          )) *
          1000,
      ) / 1000,
    tailMinutes: sum(outcomes, (o) => o.tailMinutes),
  };
}

/** A run that must fail the suite: something lost, duplicated or unaccounted for. */
export function failed(outcome: RunOutcome): boolean {
  return outcome.lost.length > 0 || outcome.duplicates.length > 0 || outcome.anomalies.length > 0 || outcome.duplicateTickets > 0;
}

export function renderTable(outcomes: readonly RunOutcome[], summary: FaultSummary): string {
  const header = [
    "seed",
    "inst",
    "fan",
    "faults",
    "incidents",
    "expected",
    "delivered",
    "digests",
    "in-dig",
    "items",
    "redel",
    "poison",
    "lost",
    "dup",
    "late",
  ];
  const rows = outcomes.map((o) => [
    String(o.seed),
    String(o.instances),
    o.fannedOut ? "queue" : "inline",
    o.faults.map((f) => f.kind).join(","),
    String(o.incidents),
    String(o.expected),
    String(o.delivered),
    String(o.digests),
    String(o.messagesInDigests),
    o.queue ? String(o.queue.workItems) : "-",
    o.queue ? String(o.queue.redeliveries) : "-",
    o.queue ? String(o.queue.poison) : "-",
    String(o.lost.length),
    String(o.duplicates.length),
    String(o.late.length),
  ]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join("  ");
  const details = outcomes.flatMap((o) => [
    ...o.lost.map((id) => `  seed ${o.seed}: LOST ${id}`),
    ...o.duplicates.map((id) => `  seed ${o.seed}: DUPLICATE ${id}`),
    ...o.anomalies.map((text) => `  seed ${o.seed}: ANOMALY ${text}`),
    ...(o.duplicateTickets > 0 ? [`  seed ${o.seed}: ${o.duplicateTickets} DUPLICATE SUPPORT TICKET(S)`] : []),
    ...o.late.map((id) => `  seed ${o.seed}: late ${id}`),
  ]);
  return [
    line(header),
    ...rows.map(line),
    ...(details.length > 0 ? ["", ...details] : []),
    "",
    `${summary.runs} runs, ${summary.incidents} incidents, ${summary.messagesExpected} messages expected: ` +
      `${summary.lost} lost, ${summary.duplicates} duplicates, ${summary.late} late, ${summary.anomalies} anomalies; ${summary.crashes} simulated crashes.`,
    `Fan-out: ${summary.fannedOutRuns} runs over the queue, ${summary.workItems} work items processed in ${summary.workItemRuns} runs ` +
      `(${summary.redeliveries} redeliveries, ${summary.workItemFailures} failed runs of which ${summary.crashesInWorkItems} crashes, ` +
      `${summary.staleWorkItems} stale, ${summary.poison} poison).`,
    `Support tickets: ${summary.ticketsOpened} opened (${summary.faultFreeTicketsOpened} in the fault-free runs), ${summary.duplicateTickets} duplicate tickets.`,
    `ACS (${summary.acs.domain} domain, repeats ${summary.acs.repeatDelivers ? "delivered again" : "de-duplicated"}, ` +
      `${summary.acs.sendLimitPerHour} sends and ${summary.acs.statusLimitPerHour} status reads an hour): ${summary.sendCalls} send calls, ` +
      `${summary.statusCalls} status reads (${summary.statusCallsPerEmail} per accepted email); ${summary.tailMinutes} simulated minutes drained after the stories.`,
    `Delivery reports: ${
      summary.deliveryReports.on
        ? `on, ${summary.deliveryReports.events} events handed to the monitor, ${summary.deliveryReports.dropped} never delivered ` +
          `(${summary.deliveryReports.dropShare * 100} % dropped, up to ${summary.deliveryReports.maxDelayInMinutes} minutes late)`
        : "off"
    }.`,
    `Digests: ${summary.digests} delivered carrying ${summary.messagesInDigests} messages (${summary.faultFreeDigests} in the fault-free runs).`,
    `Faults injected: ${Object.entries(summary.faultsInjected)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
  ].join("\n");
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
