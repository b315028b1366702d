/**
 * The ports and settings the monitor runs on, built only in src/composition.ts (or by tests).
 * Use cases and stages take what they use of it (see each one's `Pick<MonitorDeps, …>`).
 */
import type { MonitorSettings } from "../config";
import type { AccountProber, CallLimiter } from "../ports/accountProber";
import type { AccountSource } from "../ports/accountSource";
import type { Clock } from "../ports/clock";
import type { DeliveryReportLog, DeliveryReportStore } from "../ports/deliveryReports";
import type { EmailSender } from "../ports/emailSender";
import type { FleetDiscovery } from "../ports/fleetDiscovery";
import type { FleetIndex } from "../ports/fleetIndex";
import type { Heartbeat } from "../ports/heartbeat";
import type { IncidentStore } from "../ports/incidentStore";
import type { LinkKeys } from "../ports/linkKeys";
import type { Logger } from "../ports/logger";
import type { ChangeWatermark, ResourceChangeSource } from "../ports/resourceChanges";
import type { RetentionStore } from "../ports/retentionStore";
import type { SendBudget } from "../ports/sendBudget";
import type { SupportTickets } from "../ports/supportTickets";
import type { WarningStore } from "../ports/warningStore";
import type { WorkQueue } from "../ports/workQueue";

export interface MonitorDeps {
  /** ARM account reads: the confirmation GETs. */
  accounts: AccountSource;
  /** How the fleet is found (ARM per subscription or Resource Graph). */
  discovery: FleetDiscovery;
  store: IncidentStore;
  /** Daily checks of healthy accounts and each recipient's digest state (used when probes are on). */
  warnings: WarningStore;
  /** What Azure's change events name (a vault, an identity, an account) → the accounts to re-check (src/app/handleChangeEvent.ts). */
  fleetIndex: FleetIndex;
  email: EmailSender;
  /** What the retention sweep reads and deletes; absent (no sweep) in tests that do not need it. */
  retention?: RetentionStore;
  /** Heartbeat of the last completed cycle and the poison count (a table beside the state). */
  heartbeat: Heartbeat;
  /** The email send budget shared by every instance. */
  sendBudget: SendBudget;
  /** The key that signs owners' one-click links. */
  linkKeys: LinkKeys;
  clock: Clock;
  log: Logger;
  settings: MonitorSettings;
  /**
   * The instance's call slots (PROBE_CONCURRENCY), one set per process: the Functions host runs
   * several work batches at once (host.json batchSize), and together they keep to the same number
   * of probe and confirmation calls in flight, so one batch's tail overlaps the next one's calls.
   */
  callSlots: CallLimiter;
  /** Key Vault, identity, DNS and permission probes; absent when CMK_PROBES=off. */
  probes?: AccountProber;
  /** Microsoft support tickets; present only with CMK_SUPPORT_TICKETS=create. */
  supportTickets?: SupportTickets;
  /** Where work batches go when a cycle fans out; absent: every cycle runs inline. */
  workQueue?: WorkQueue;
  /** The pull catch-up: Resource Graph's resource changes and the shared watermark (absent: no catch-up, in tests that do not use it). */
  changes?: { source: ResourceChangeSource; watermark: ChangeWatermark };
  /** ACS delivery reports: recorded on the outbox rows, counted in the meta table (absent in tests that do not use them). */
  deliveryReports?: { store: DeliveryReportStore; log: DeliveryReportLog };
}
