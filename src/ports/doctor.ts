/**
 * Port: the live reads `cmk-monitor doctor` makes with the deployment's own settings and
 * identity. Each method throws what the SDK throws; the doctor turns errors into rows.
 */
import type { CmkAccount } from "../domain/account";
import type { AccountProber } from "./accountProber";
import type { SupportTickets } from "./supportTickets";

export type CheckStatus = "ok" | "warn" | "fail" | "skipped";

/** One row of the doctor's report. */
export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it (absent when nothing is to be done). */
  fix?: string;
}

export interface DoctorScope {
  subscriptionIds: readonly string[];
  managementGroups: readonly string[];
}

export interface DoctorTargets {
  /** The credential that signs every call, in words ("DefaultAzureCredential", "the sandbox's credential"). */
  readonly credentialName: string;
  /** Obtains a token for ARM or for Azure Communication Services; throws the credential's error. */
  token(audience: "arm" | "communication"): Promise<void>;
  /** The CMK accounts of one subscription as ARM lists them. */
  listAccounts(subscriptionId: string): Promise<CmkAccount[]>;
  /** One account by id with an ARM GET (the authoritative status). */
  getAccount(resourceId: string): Promise<CmkAccount | undefined>;
  /** Subscriptions of the scope Resource Graph can see, lower-cased. */
  resourceGraphSubscriptions(scope: DoctorScope): Promise<Set<string>>;
  /** CMK accounts as Resource Graph has them (status as it last saw it, or none). */
  resourceGraphAccounts(scope: DoctorScope): Promise<CmkAccount[]>;
  /** The probes as the monitor runs them; absent when CMK_PROBES=off. */
  readonly probes?: AccountProber;
  /** Microsoft.Support as the monitor calls it; absent unless CMK_SUPPORT_TICKETS=create. */
  readonly supportTickets?: SupportTickets;
  /** Creates the state table if needed, then writes, reads and deletes one scratch entity. */
  stateRoundTrip(): Promise<void>;
  /** Sends, receives and deletes one scratch message on the work queue; absent without a queue. */
  queueRoundTrip?(): Promise<void>;
  /** Really sends one test email (only with `--send-test`); resolves with the ACS operation id once accepted. */
  sendTestEmail(to: string): Promise<string>;
}
