/** Port: the monitor's heartbeat (the last completed cycle) and its count of poison work items. */

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
  /** Subscriptions in scope, readable this cycle, and holding CMK accounts (absent in heartbeats from older versions). */
  subscriptionsInScope?: number;
  subscriptionsReadable?: number;
  subscriptionsWithCmk?: number;
  /** Where the statuses came from, and the ARM calls that read them. */
  statusSource?: "arm" | "resource-graph";
  statusCalls?: number;
  /** Set when CMK_STATUS_SOURCE=resource-graph was not trusted this cycle, with why. */
  statusSourceFallback?: string;
  /** Work items the queue gave up on (moved to the poison queue) since the app was deployed. */
  poisonWorkItems?: number;
}

export interface PoisonRecord {
  count: number;
  lastAt: string;
  lastSummary: string;
}

/** Port: what the status page reads and the cycle and the poison handler write. */
export interface Heartbeat {
  recordCycle(heartbeat: CycleHeartbeat): Promise<void>;
  lastCycle(): Promise<CycleHeartbeat | undefined>;
  /** Counts a work item the queue gave up on. */
  recordPoisonWorkItem(at: Date, summary: string): Promise<PoisonRecord>;
}
