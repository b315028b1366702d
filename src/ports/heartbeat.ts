/** Port: the monitor's heartbeat (the last completed cycle) and its count of poison work items. */
import type { UndeliveredEscalation } from "./deliveryReports";

/** What the status page says about the last completed poll. */
export interface CycleHeartbeat {
  startedAt: string;
  finishedAt: string;
  durationInMs: number;
  accountsSeen: number;
  revokedSeen: number;
  changes: number;
  emailsSent: number;
  emailsRetrying: number;
  subscriptionsFailed: number;
  /** Subscriptions refused (401/403) while the monitor's role assignments may still be propagating; not counted as failed. */
  subscriptionsPropagating?: number;
  /** Subscriptions in scope, readable this cycle, and holding CMK accounts (absent in heartbeats from older versions). */
  subscriptionsInScope?: number;
  subscriptionsReadable?: number;
  subscriptionsWithCmk?: number;
  /** Where the statuses came from, and the ARM calls that read them. */
  statusSource?: "arm" | "resource-graph";
  statusCalls?: number;
  /** Set when CMK_STATUS_SOURCE=resource-graph was not trusted this cycle, with why. */
  statusSourceFallback?: string;
  /** CMK_STATUS_SOURCE=resource-graph: accounts Resource Graph showed differently from ARM at the last calibration, and the longest lag measured (minutes). */
  statusSourceDisagreements?: number;
  statusSourceLagMinutes?: number;
  /**
   * The pull catch-up: up to when Azure's resource changes have been acted on, and the start of the
   * last window that had to be clamped to their 14-day retention (changes before it were never read).
   */
  changeCatchUp?: { watermark: string; gapBefore?: string };
  /** Work items the queue gave up on (moved to the poison queue) since the app was deployed. */
  poisonWorkItems?: number;
  /**
   * ACS delivery reports (Event Grid) since the app was deployed, read when the heartbeat is read:
   * events recorded, already known, matching no email, ignored (not ours or not valid), and the
   * escalation emails whose recipient's latest report is not Delivered.
   */
  deliveryReports?: { recorded: number; unchanged: number; unmatched: number; ignored: number; undeliveredEscalations: UndeliveredEscalation[] };
}

export interface PoisonRecord {
  count: number;
  lastAt: string;
  lastSummary: string;
}

/** Port: what the status page reads and the cycle and the poison handler write. */
export interface Heartbeat {
  recordCycle(heartbeat: CycleHeartbeat): Promise<void>;
  /**
   * When this deployment started monitoring: the first caller's `now`, kept for good, so every
   * instance agrees (the window in which refused reads are taken for permissions still propagating).
   */
  monitoringSince(now: Date): Promise<Date>;
  lastCycle(): Promise<CycleHeartbeat | undefined>;
  /** Counts a work item the queue gave up on. */
  recordPoisonWorkItem(at: Date, summary: string): Promise<PoisonRecord>;
}
