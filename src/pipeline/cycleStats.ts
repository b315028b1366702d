/**
 * The counters a cycle (or a work batch) fills in as it goes; the report, the log line and the
 * heartbeat are made from them. A work batch processed inside the timer's cycle is merged back
 * with mergeStats, whose rule table names every counter (the compiler checks none is missing).
 */

export interface CycleStats {
  subscriptionsListed: number;
  /** `propagating`: refused within the window after deployment in which role assignments may still be propagating. */
  subscriptionsFailed: { subscriptionId: string; reason: string; message: string; propagating?: boolean }[];
  accountsSeen: number;
  revokedSeen: number;
  unknownSeen: number;
  decisions: Record<string, number>;
  conflicts: number;
  commitFailures: { accountId: string; message: string }[];
  emailsSent: number;
  emailsRetrying: number;
  emailsDead: number;
  /** Support tickets filed, and escalations whose ticket could not be filed (CMK_SUPPORT_TICKETS=create). */
  supportTicketsFiled: number;
  supportTicketsNotFiled: number;
  /** Messages added to filed tickets (cause changed, fix undone, recovered). */
  supportTicketUpdates: number;
  emailsSkippedByOtherInstance: number;
  /** Accounts the probes looked at (revoked every cycle, healthy once a day). */
  accountsProbed: number;
  /** Probes, daily checks and outbox drains not started because the invocation was near its deadline; done next cycle. */
  deferredForDeadline: number;
  warningDigestsRecorded: number;
  /** Urgent at-risk warnings (and their "resolved") recorded with their state (src/pipeline/atRiskWarnings.ts). */
  atRiskWarningsRecorded: number;
  /** "arm" (one list per subscription) or "resource-graph" (one paged query over the scope). */
  discoveryMode: "arm" | "resource-graph";
  /** Listing calls made: ARM list calls, or Resource Graph pages and retries. */
  discoveryCalls: number;
  discoveryThrottledInMs: number;
  /** Where the statuses came from this cycle ("arm" unless CMK_STATUS_SOURCE=resource-graph proved itself). */
  statusSource: "arm" | "resource-graph";
  /** ARM calls that read status: list calls and GETs for accounts a list showed without one. */
  statusCalls: number;
  subscriptionsInScope: number;
  subscriptionsWithCmk: number;
  /** Why CMK_STATUS_SOURCE=resource-graph fell back to ARM this cycle ("" when it did not). */
  statusSourceFallback: string;
  /** CMK_STATUS_SOURCE=resource-graph: what the calibrations against ARM measured (absent otherwise). */
  statusSourceDisagreements?: number;
  statusSourceLagMinutes?: number;
  /** ARM GETs that confirmed (or overturned) a state change Resource Graph suggested. */
  confirmations: number;
  /** Suggested state changes the ARM GET did not bear out (Resource Graph lagging). */
  confirmationsOverturned: number;
  confirmationsFailed: number;
  /** "inline": this process did all the work; "queue": batches went to the work queue. */
  fanout: "inline" | "queue";
  workBatchesEnqueued: number;
  workAccountsEnqueued: number;
  /** Due emails held back by CMK_EMAIL_RATE_PER_MINUTE/_PER_HOUR; they stay pending. */
  emailsDeferred: number;
  /** Status reads of accepted emails a delivery report made unnecessary (CMK_DELIVERY_REPORTS=on). */
  statusReadsSkipped: number;
  /** Digest emails sent, and the outbox messages they carried. */
  digestsSent: number;
  messagesInDigests: number;
}

export function newStats(): CycleStats {
  return {
    subscriptionsListed: 0,
    subscriptionsFailed: [],
    accountsSeen: 0,
    revokedSeen: 0,
    unknownSeen: 0,
    decisions: {},
    conflicts: 0,
    commitFailures: [],
    emailsSent: 0,
    emailsRetrying: 0,
    emailsDead: 0,
    supportTicketsFiled: 0,
    supportTicketsNotFiled: 0,
    supportTicketUpdates: 0,
    emailsSkippedByOtherInstance: 0,
    accountsProbed: 0,
    deferredForDeadline: 0,
    warningDigestsRecorded: 0,
    atRiskWarningsRecorded: 0,
    discoveryMode: "arm",
    discoveryCalls: 0,
    discoveryThrottledInMs: 0,
    statusSource: "arm",
    statusCalls: 0,
    subscriptionsInScope: 0,
    subscriptionsWithCmk: 0,
    statusSourceFallback: "",
    confirmations: 0,
    confirmationsOverturned: 0,
    confirmationsFailed: 0,
    fanout: "inline",
    workBatchesEnqueued: 0,
    workAccountsEnqueued: 0,
    emailsDeferred: 0,
    statusReadsSkipped: 0,
    digestsSent: 0,
    messagesInDigests: 0,
  };
}

/**
 * How a batch's counter joins the cycle's: added up, appended, or kept as the cycle has it —
 * the cycle saw the batch's accounts at discovery (seen, revoked, unknown) and owns how the
 * fleet was listed and fanned out.
 */
type MergeRule = "sum" | "append" | "sum-each" | "keep";

export const MERGE_RULES: { readonly [K in keyof CycleStats]: MergeRule } = {
  subscriptionsListed: "keep",
  subscriptionsFailed: "keep",
  accountsSeen: "keep",
  revokedSeen: "keep",
  unknownSeen: "keep",
  decisions: "sum-each",
  conflicts: "sum",
  commitFailures: "append",
  emailsSent: "sum",
  emailsRetrying: "sum",
  emailsDead: "sum",
  supportTicketsFiled: "sum",
  supportTicketsNotFiled: "sum",
  supportTicketUpdates: "sum",
  emailsSkippedByOtherInstance: "sum",
  accountsProbed: "sum",
  deferredForDeadline: "sum",
  warningDigestsRecorded: "sum",
  atRiskWarningsRecorded: "sum",
  discoveryMode: "keep",
  discoveryCalls: "keep",
  discoveryThrottledInMs: "keep",
  statusSource: "keep",
  statusCalls: "keep",
  subscriptionsInScope: "keep",
  subscriptionsWithCmk: "keep",
  statusSourceFallback: "keep",
  confirmations: "sum",
  confirmationsOverturned: "sum",
  confirmationsFailed: "sum",
  fanout: "keep",
  workBatchesEnqueued: "keep",
  workAccountsEnqueued: "keep",
  emailsDeferred: "sum",
  statusReadsSkipped: "sum",
  digestsSent: "sum",
  messagesInDigests: "sum",
};

/** Adds what a work batch processed in this process did to the cycle's counters. */
export function mergeStats(into: CycleStats, from: Readonly<CycleStats>): void {
  const target = into as unknown as Record<string, unknown>;
  const source = from as unknown as Record<string, unknown>;
  for (const [name, rule] of Object.entries(MERGE_RULES)) {
    if (rule === "sum") target[name] = (target[name] as number) + (source[name] as number);
    else if (rule === "append") target[name] = [...(target[name] as unknown[]), ...(source[name] as unknown[])];
    else if (rule === "sum-each") {
      const counts = { ...(target[name] as Record<string, number>) };
      for (const [key, count] of Object.entries(source[name] as Record<string, number>)) counts[key] = (counts[key] ?? 0) + count;
      target[name] = counts;
    }
  }
}
