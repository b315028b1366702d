/**
 * Every setting the monitor reads, validated once at start-up. A bad configuration fails
 * with one error that lists every problem, before any work is done.
 */
import { z } from "zod";
import { EMAIL_ADDRESS, isAllowedDomain, splitList } from "./domain/emailAddress";
import { PROBLEM_CLASSIFICATION_ID, SUPPORT_SEVERITIES, SUPPORT_TICKET_MODES, type SupportTicketSettings } from "./domain/supportTicket";
import { cloudOfArmEndpoint, type AzureCloudName } from "./domain/vaultProbeTarget";

export { EMAIL_ADDRESS, isAllowedDomain, splitList };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

function listOf(pattern: RegExp, what: string) {
  return z
    .string()
    .optional()
    .transform((value) => splitList(value))
    .superRefine((items, ctx) => {
      for (const item of items) {
        if (!pattern.test(item)) ctx.addIssue({ code: "custom", message: `"${item}" is not a valid ${what}` });
      }
    });
}

function wholeNumber(defaultValue: number, min: number, max: number) {
  return optionalWholeNumber(min, max).transform((value) => value ?? defaultValue);
}

/** A whole number whose default depends on another setting (undefined when not set). */
function optionalWholeNumber(min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return undefined;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });
}

function choice<T extends string>(values: readonly T[], defaultValue: T, message: string) {
  return z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() || defaultValue)
    .refine((value) => (values as readonly string[]).includes(value), { message })
    .transform((value) => value as T);
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== "" ? value.trim() : undefined));

// URL settings never quote their value: a connection string or SAS pasted into one carries a key.
const NOT_A_URL = "is not a URL (the value is not repeated here: it may hold a key)";

const httpsUrl = optionalText.superRefine((value, ctx) => {
  if (value === undefined) return;
  try {
    const url = new URL(value);
    if (url.protocol !== "https:") ctx.addIssue({ code: "custom", message: "must be an https:// URL" });
    if (url.username || url.password || url.search || url.hash) {
      ctx.addIssue({ code: "custom", message: "must not carry credentials, a query string or a fragment (keys and SAS tokens do not belong in an endpoint)" });
    }
  } catch {
    ctx.addIssue({ code: "custom", message: NOT_A_URL });
  }
});

// Links in emails must reach the app over TLS; plain http only for the local sandbox on loopback.
const publicBaseUrl = optionalText.superRefine((value, ctx) => {
  if (value === undefined) return;
  try {
    const url = new URL(value);
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      ctx.addIssue({ code: "custom", message: "must be an https:// URL (http:// only on 127.0.0.1 or localhost)" });
    }
    if (url.search || url.hash) ctx.addIssue({ code: "custom", message: "must not have a query string or fragment" });
    if (url.username || url.password) ctx.addIssue({ code: "custom", message: "must not carry a user name or password" });
  } catch {
    ctx.addIssue({ code: "custom", message: NOT_A_URL });
  }
});

// Azure tag names: up to 512 characters, none of < > % & \ ? / (and no control characters).
const TAG_NAME = /^[^<>%&\\?/\u0000-\u001f\u007f]{1,512}$/;
// Management group ids: up to 90 letters, digits, hyphens, underscores, periods and parentheses (no trailing period).
const MANAGEMENT_GROUP = /^[A-Za-z0-9\-_.()]{0,89}[A-Za-z0-9\-_()]$/;
// Storage queue names: 3-63 lower-case letters, digits and single hyphens; the host adds "-poison" (7 more).
const QUEUE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,54}[a-z0-9]$/;
const STORAGE_ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
// Two or more words of letters (any script), hyphens, apostrophes and periods: reaches a shell command quoted, and support reads it.
const ACS_RESOURCE_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w._()]{1,90}\/providers\/Microsoft\.Communication\/communicationServices\/[A-Za-z0-9-]{1,63}$/i;
const SUPPORT_CONTACT_NAME = /^(?=.{3,100}$)[\p{L}][\p{L}\p{M}'.-]*(?: [\p{L}][\p{L}\p{M}'.-]*)+$/u;

/**
 * The storage connection-string shapes the Tables SDK accepts: development storage, an account
 * key (with a table endpoint or a protocol and endpoint suffix), or a table endpoint with a SAS.
 * Checked here so a typo fails at start-up with the setting's name, not as an SDK TypeError.
 */
export function isStorageConnectionString(value: string): boolean {
  if (/(^|;)\s*UseDevelopmentStorage=true\s*(;|$)/i.test(value)) return true;
  const parts = new Map<string, string>();
  for (const element of value.split(";")) {
    if (element.trim() === "") continue;
    const at = element.indexOf("=");
    if (at <= 0) return false;
    parts.set(element.slice(0, at).trim().toLowerCase(), element.slice(at + 1).trim());
  }
  const has = (key: string) => (parts.get(key) ?? "") !== "";
  if (has("defaultendpointsprotocol") && has("accountkey")) {
    return has("accountname") && (has("tableendpoint") || (/^https?$/i.test(parts.get("defaultendpointsprotocol")!) && has("endpointsuffix")));
  }
  return has("tableendpoint") && has("sharedaccesssignature");
}

// Never echoes the value: connection strings carry keys.
const storageConnection = optionalText.superRefine((value, ctx) => {
  if (value !== undefined && !isStorageConnectionString(value)) {
    ctx.addIssue({
      code: "custom",
      message:
        "is not a storage connection string (UseDevelopmentStorage=true, DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=…, or TableEndpoint=…;SharedAccessSignature=…)",
    });
  }
});

/** The raw settings schema, keyed by the exact app-setting names. */
export const settingsSchema = z.object({
  CMK_SUBSCRIPTION_IDS: listOf(GUID, "subscription id (GUID)"),
  CMK_POLL_SCHEDULE: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "0 */5 * * * *")
    .refine((value) => value.split(/\s+/).length === 6, {
      message: 'must be a six-field NCRONTAB expression, e.g. "0 */5 * * * *"',
    }),
  CMK_POLL_INTERVAL_MINUTES: wholeNumber(5, 1, 60),
  CMK_REMINDER_INTERVAL_MINUTES: wholeNumber(60, 5, 7 * 24 * 60),
  CMK_OWNER_TAG: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "cmk-owner")
    // A name no tag can have would silently send every notice to the escalation contacts.
    .refine((value) => TAG_NAME.test(value), { message: "must be a valid Azure tag name (up to 512 characters, none of < > % & \\ ? /)" }),
  CMK_DEFAULT_RECIPIENTS: listOf(EMAIL_ADDRESS, "email address"),
  CMK_ESCALATION_RECIPIENTS: listOf(EMAIL_ADDRESS, "email address"),
  // Required: tag writers choose owner addresses, so where mail may go is a decision, not a default ("*" is that decision).
  CMK_ALLOWED_RECIPIENT_DOMAINS: z
    .string()
    .optional()
    .transform((value) => splitList(value))
    .superRefine((items, ctx) => {
      if (items.includes("*") && items.length > 1) {
        ctx.addIssue({ code: "custom", message: "* allows any domain and must be the only entry" });
      }
      for (const item of items) {
        if (item !== "*" && !DOMAIN.test(item)) ctx.addIssue({ code: "custom", message: `"${item}" is not a valid domain` });
      }
    }),
  // Tag writers choose how many owners an account has: a cap per account, and on addresses new to an incident per day.
  CMK_MAX_OWNER_RECIPIENTS: wholeNumber(10, 1, 50),
  CMK_MAX_NEW_RECIPIENTS_PER_DAY: wholeNumber(20, 1, 1000),
  CMK_EMAIL_SENDER: optionalText.superRefine((value, ctx) => {
    if (value === undefined) ctx.addIssue({ code: "custom", message: "is required (a sender address on your ACS email domain)" });
    else if (!EMAIL_ADDRESS.test(value)) ctx.addIssue({ code: "custom", message: `"${value}" is not a valid email address` });
  }),
  ACS_ENDPOINT: httpsUrl,
  ACS_CONNECTION_STRING: optionalText,
  // The ACS resource's ARM id: delivery reports (Event Grid) are accepted only from its system topic.
  CMK_ACS_RESOURCE_ID: optionalText.refine((value) => value === undefined || ACS_RESOURCE_ID.test(value), {
    message: "must be an ACS resource id: /subscriptions/<guid>/resourceGroups/<name>/providers/Microsoft.Communication/communicationServices/<name>",
  }),
  // Whether Event Grid delivers the ACS resource's delivery reports to this app (Bicep's deliveryReports): accepted emails' status reads wait for them.
  // true/false too: the azd environment variable of the same name takes those.
  CMK_DELIVERY_REPORTS: choice(["off", "on", "false", "true"] as const, "off", "must be on or off"),
  CMK_STATE_CONNECTION: storageConnection,
  AzureWebJobsStorage: storageConnection,
  AzureWebJobsStorage__tableServiceUri: httpsUrl,
  AzureWebJobsStorage__accountName: optionalText.refine((value) => value === undefined || STORAGE_ACCOUNT_NAME.test(value), {
    message: "must be a storage account name (3-24 lower-case letters and digits)",
  }),
  CMK_STATE_TABLE: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "cmkmonitor")
    .refine((value) => /^[A-Za-z][A-Za-z0-9]{2,62}$/.test(value), {
      message: "must be 3-63 letters and digits, starting with a letter",
    }),
  CMK_ARM_ENDPOINT: httpsUrl,
  // A whole number of days, like the minutes settings (same parser, different unit).
  CMK_KEY_EXPIRY_WARNING_DAYS: wholeNumber(30, 1, 365),
  CMK_PROBES: z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() || "on")
    .refine((value) => value === "on" || value === "off", { message: "must be on or off" })
    .transform((value) => value as "on" | "off"),
  CMK_PUBLIC_BASE_URL: publicBaseUrl,
  CMK_LINK_SIGNING_KEY: optionalText.superRefine((value, ctx) => {
    // The value is never echoed: it is a secret.
    if (value !== undefined && value.length < 32) ctx.addIssue({ code: "custom", message: "must be at least 32 characters (e.g. 32 random bytes, base64)" });
  }),
  CMK_DASHBOARD_AUTH: z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() || "function")
    .refine((value) => value === "function" || value === "anonymous", {
      message: "must be function (a function key is required) or anonymous (only behind App Service Authentication)",
    })
    .transform((value) => value as "function" | "anonymous"),
  // Who may open the dashboard in anonymous mode: Entra object ids of users or groups (checked by the app and by App Service Authentication).
  CMK_DASHBOARD_ALLOWED_PRINCIPALS: listOf(GUID, "object id (GUID) of a user, group or service principal"),
  // Fleet scale (README "Scale"): discovery, fan-out over the work queue, email digests and pacing.
  CMK_MANAGEMENT_GROUPS: listOf(MANAGEMENT_GROUP, "management group id"),
  CMK_DISCOVERY: choice(["auto", "arm", "resource-graph"] as const, "auto", "must be auto, arm or resource-graph"),
  CMK_ARM_CONCURRENCY: wholeNumber(8, 1, 64),
  CMK_STATUS_SOURCE: choice(["arm", "resource-graph"] as const, "arm", "must be arm or resource-graph"),
  CMK_DISCOVERY_INTERVAL_MINUTES: wholeNumber(60, 1, 24 * 60),
  // Pull catch-up (issue 18): Resource Graph resourcechanges since a watermark, and per-vault key re-reads.
  CMK_CHANGES_INTERVAL_MINUTES: wholeNumber(15, 1, 24 * 60),
  CMK_RISK_CHECK_INTERVAL_MINUTES: wholeNumber(60, 5, 24 * 60),
  CMK_FANOUT: choice(["auto", "queue", "inline"] as const, "auto", "must be auto, queue or inline"),
  CMK_FANOUT_THRESHOLD: wholeNumber(200, 1, 1_000_000),
  // At least the owners' link lifetime (7 days): a used-link row goes only once its token has expired.
  CMK_RETENTION_DAYS: wholeNumber(90, 7, 3650),
  CMK_WORK_QUEUE: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "cmk-work")
    .refine((value) => QUEUE_NAME.test(value), {
      message: "must be a storage queue name: 3-56 lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
    }),
  AzureWebJobsStorage__queueServiceUri: httpsUrl,
  CMK_DIGEST_THRESHOLD: wholeNumber(5, 2, 1000),
  // The weekly report to CMK_ESCALATION_RECIPIENTS (README "Weekly report"); off unless asked for.
  CMK_WEEKLY_REPORT: choice(["off", "on"] as const, "off", "must be on or off"),
  // Defaults follow the sender domain's ACS limits (EMAIL_DOMAIN_LIMITS); set to override.
  CMK_EMAIL_DOMAIN_KIND: choice(["azure-managed", "custom"] as const, "azure-managed", "must be azure-managed or custom"),
  CMK_EMAIL_RATE_PER_MINUTE: optionalWholeNumber(1, 100_000),
  CMK_EMAIL_RATE_PER_HOUR: optionalWholeNumber(1, 1_000_000),
  CMK_EMAIL_STATUS_RATE_PER_MINUTE: optionalWholeNumber(1, 100_000),
  CMK_EMAIL_STATUS_RATE_PER_HOUR: optionalWholeNumber(1, 1_000_000),
  // Microsoft support tickets on escalation (README "Support tickets").
  CMK_SUPPORT_TICKETS: choice(SUPPORT_TICKET_MODES, "off", "must be off, draft or create"),
  CMK_SUPPORT_SEVERITY: choice(SUPPORT_SEVERITIES, "moderate", "must be minimal, moderate, critical or highestcriticalimpact"),
  CMK_SUPPORT_CONTACT_NAME: optionalText.refine((value) => value === undefined || SUPPORT_CONTACT_NAME.test(value), {
    message: "must be a first and a last name (letters, spaces, hyphens, apostrophes and periods; up to 100 characters)",
  }),
  CMK_SUPPORT_CONTACT_EMAIL: optionalText.refine((value) => value === undefined || EMAIL_ADDRESS.test(value), { message: "must be an email address" }),
  CMK_SUPPORT_CONTACT_COUNTRY: z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() || "usa")
    .refine((value) => /^[a-z]{3}$/.test(value), { message: "must be an ISO 3166-1 alpha-3 country code, e.g. usa, gbr, deu" }),
  CMK_SUPPORT_CONTACT_LANGUAGE: z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() || "en-us")
    .refine((value) => /^[a-z]{2,3}-[a-z]{2,4}$/.test(value), { message: "must be a language tag such as en-us or de-de" }),
  CMK_SUPPORT_CONTACT_TIMEZONE: z
    .string()
    .optional()
    .transform((value) => value?.trim() || "UTC")
    .refine((value) => /^[A-Za-z][A-Za-z0-9 .()+-]{0,99}$/.test(value), { message: "must be a Microsoft time zone name, e.g. UTC or W. Europe Standard Time" }),
  CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: optionalText.refine((value) => value === undefined || PROBLEM_CLASSIFICATION_ID.test(value), {
    message: "must be a problem classification id: /providers/Microsoft.Support/services/<guid>/problemClassifications/<guid>",
  }),
  AZURE_CLIENT_ID: optionalText.refine((value) => value === undefined || GUID.test(value), {
    message: "must be the managed identity's client id (a GUID)",
  }),
});

export type StateConnection = { kind: "connection-string"; connectionString: string } | { kind: "identity"; tableEndpoint: string };

/** Where the work queue lives: the Functions host's storage, so the queue trigger sees it. */
export type QueueConnection = { kind: "connection-string"; connectionString: string } | { kind: "identity"; queueEndpoint: string };

export type EmailConnection = { kind: "connection-string"; connectionString: string } | { kind: "identity"; endpoint: string };

export type EmailDomainKind = "azure-managed" | "custom";

/**
 * ACS's per-subscription limits by sender domain (Learn, "Service limits for Azure Communication
 * Services", Email): sends and status reads, per minute and per hour.
 */
export const EMAIL_DOMAIN_LIMITS: Readonly<Record<EmailDomainKind, { send: [number, number]; status: [number, number] }>> = {
  "azure-managed": { send: [5, 10], status: [10, 20] },
  custom: { send: [30, 100], status: [60, 200] },
};

export interface MonitorConfig {
  readonly subscriptionIds: readonly string[];
  readonly pollSchedule: string;
  readonly pollIntervalInMinutes: number;
  readonly reminderIntervalInMinutes: number;
  readonly ownerTag: string;
  readonly defaultRecipients: readonly string[];
  readonly escalationRecipients: readonly string[];
  readonly allowedRecipientDomains: readonly string[];
  /** Owner-tag addresses emailed per account, at most (the defaults do not count). */
  readonly maxOwnerRecipients: number;
  /** Addresses new to an incident emailed per UTC day, at most (defaults and escalation contacts do not count). */
  readonly maxNewRecipientsPerDay: number;
  readonly emailSender: string;
  /** The ACS resource (ARM id) whose delivery reports are recorded; unset: every delivery report is ignored. */
  readonly acsResourceId?: string;
  /**
   * CMK_DELIVERY_REPORTS=on: delivery reports reach the monitor (Bicep wired the Event Grid
   * subscription), so an accepted email's final-status read waits for its report and is skipped
   * when one proves ACS processed the operation (src/pipeline/sendStage.ts).
   */
  readonly deliveryReports: boolean;
  readonly email: EmailConnection;
  readonly state: StateConnection;
  readonly stateTable: string;
  readonly armEndpoint: string;
  /** The cloud CMK_ARM_ENDPOINT belongs to (public unless it is China's or US Government's): whose vault hosts are probed. */
  readonly cloud: AzureCloudName;
  /** Warn when a healthy account's key expires within this many days. */
  readonly keyExpiryWarningDays: number;
  /** Days sent emails, resolved incidents' events, used link tokens and stale daily checks are kept (src/pipeline/retention.ts). */
  readonly retentionDays: number;
  /** Key Vault, identity, DNS and permission probes (src/probes); "off" runs on ARM status alone. */
  readonly probes: "on" | "off";
  readonly managedIdentityClientId?: string;
  /** Base of the owners' one-click links; links are left out of emails when unset. */
  readonly publicBaseUrl?: string;
  /** Secret for link tokens; when unset the app creates one and keeps it in its meta table. */
  readonly linkSigningKey?: string;
  readonly dashboardAuth: "function" | "anonymous";
  /** Object ids (users, groups) allowed to open the dashboard and status in anonymous mode. */
  readonly dashboardAllowedPrincipals: readonly string[];
  /**
   * The platform says App Service Authentication is on (WEBSITE_AUTH_ENABLED=True, set by App
   * Service itself): only then are x-ms-client-principal* headers its own and not a client's.
   */
  readonly appServiceAuthEnabled: boolean;
  /** Management groups whose subscriptions are watched (Resource Graph only); the tenant root group covers the tenant. */
  readonly managementGroups: readonly string[];
  /** How the fleet is found; "auto" is resolved: Resource Graph for more than one subscription or any management group. */
  readonly discovery: "arm" | "resource-graph";
  /** Subscriptions listed at once in ARM discovery (and accounts confirmed at once). */
  readonly armConcurrency: number;
  /** Where each account's customerManagedKeyStatus comes from: ARM, or Resource Graph while a sample proves it. */
  readonly statusSource: "arm" | "resource-graph";
  /** How long Resource Graph's answer (which subscriptions hold CMK accounts) is kept between cycles. */
  readonly discoveryIntervalInMinutes: number;
  /** How often the pull catch-up asks Resource Graph for changes to the fleet's vaults and accounts. */
  readonly changesIntervalInMinutes: number;
  /** How often each vault's keys are re-read for facts no ARM change shows (disabled, deleted, expired). */
  readonly riskCheckIntervalInMinutes: number;
  /** inline: one process does everything; queue: batches over CMK_WORK_QUEUE; auto: queue above the threshold. */
  readonly fanout: "auto" | "queue" | "inline";
  /** Accounts needing work in one cycle above which `auto` fans out. */
  readonly fanoutThreshold: number;
  readonly workQueue: string;
  /** Undefined when no queue is configured (then the cycle always runs inline). */
  readonly queue?: QueueConnection;
  /** Due messages of one kind to one recipient set from which one digest email is sent instead. */
  readonly digestThreshold: number;
  /** CMK_WEEKLY_REPORT=on: the escalation contacts get a report of the last ISO week after Monday 00:00 UTC. */
  readonly weeklyReport: boolean;
  /** The sender domain's kind; the default rates follow it. */
  readonly emailDomainKind: EmailDomainKind;
  readonly emailRatePerMinute: number;
  readonly emailRatePerHour: number;
  /** Budget for `GET /emails/operations/{id}` (ACS limits status reads on their own). */
  readonly emailStatusRatePerMinute: number;
  readonly emailStatusRatePerHour: number;
  /** How long a sender holds an outbox row before another instance may retry it (not a setting). */
  readonly sendLeaseInSeconds: number;
  /** HTTPS_PROXY, HTTP_PROXY or ALL_PROXY is set: the SDKs route through it (see createKeyVaultAgent). */
  readonly proxyConfigured: boolean;
  /** Microsoft support tickets on escalation: off, a draft in the email, or filed by the monitor. */
  readonly supportTickets: SupportTicketSettings;
}

/** What the poll cycle, the work batches and the endpoints read of the configuration. */
export type MonitorSettings = Pick<
  MonitorConfig,
  | "subscriptionIds"
  | "managementGroups"
  | "emailSender"
  | "reminderIntervalInMinutes"
  | "escalationRecipients"
  | "ownerTag"
  | "defaultRecipients"
  | "allowedRecipientDomains"
  | "maxOwnerRecipients"
  | "maxNewRecipientsPerDay"
  | "sendLeaseInSeconds"
  | "armConcurrency"
  | "keyExpiryWarningDays"
  | "publicBaseUrl"
  | "dashboardAuth"
  | "dashboardAllowedPrincipals"
  | "appServiceAuthEnabled"
  | "pollIntervalInMinutes"
  | "fanout"
  | "fanoutThreshold"
  | "retentionDays"
  | "digestThreshold"
  | "weeklyReport"
  | "emailRatePerMinute"
  | "emailRatePerHour"
  | "supportTickets"
  | "emailStatusRatePerMinute"
  | "emailStatusRatePerHour"
  | "acsResourceId"
  | "changesIntervalInMinutes"
  | "riskCheckIntervalInMinutes"
  | "deliveryReports"
>;

/** A sender's hold on an outbox row: long enough for one send and its polls, short enough to retry soon after a crash. */
const SEND_LEASE_IN_SECONDS = 300;

/** Thrown when settings are invalid; `problems` lists each one as "SETTING: what is wrong". */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    // Problems quote setting values; a line break in one must not forge more lines of the list.
    const lines = problems.map(oneLine);
    super(`Invalid configuration (${lines.length} problem${lines.length === 1 ? "" : "s"}):\n  - ${lines.join("\n  - ")}`);
    this.problems = lines;
  }
}

export type Environment = Record<string, string | undefined>;

/** Reads and validates every setting; throws ConfigurationError listing all problems at once. */
export function loadConfig(env: Environment = process.env): MonitorConfig {
  const problems: string[] = [];
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".") || "(settings)"}: ${issue.message}`);
    }
  }
  const settings = parsed.success ? parsed.data : undefined;

  // Cross-field rules are checked even when single fields failed, so the list is complete.
  const subscriptionIds = splitList(env.CMK_SUBSCRIPTION_IDS);
  const managementGroups = splitList(env.CMK_MANAGEMENT_GROUPS);
  if (subscriptionIds.length === 0 && managementGroups.length === 0) {
    problems.push("CMK_SUBSCRIPTION_IDS: is required (comma-separated subscription ids to monitor), unless CMK_MANAGEMENT_GROUPS is set");
  }
  if (managementGroups.length > 0 && env.CMK_DISCOVERY?.trim().toLowerCase() === "arm") {
    problems.push("CMK_MANAGEMENT_GROUPS: needs Resource Graph discovery (CMK_DISCOVERY=resource-graph or auto); ARM discovery lists subscriptions only");
  }
  if (["on", "true"].includes(env.CMK_DELIVERY_REPORTS?.trim().toLowerCase() ?? "") && !env.CMK_ACS_RESOURCE_ID?.trim()) {
    // Every report would be ignored (no topic to trust), and the status reads would wait for reports that never count.
    problems.push("CMK_DELIVERY_REPORTS: on needs CMK_ACS_RESOURCE_ID (the ACS resource whose system topic sends the reports)");
  }
  const queue = queueConnection(env);
  if (env.CMK_FANOUT?.trim().toLowerCase() === "queue" && !queue) {
    problems.push(
      "CMK_FANOUT: queue needs the Functions host storage (AzureWebJobsStorage, AzureWebJobsStorage__queueServiceUri or AzureWebJobsStorage__accountName)",
    );
  }
  const acsEndpoint = env.ACS_ENDPOINT?.trim();
  const acsConnection = env.ACS_CONNECTION_STRING?.trim();
  if (!acsEndpoint && !acsConnection) {
    problems.push("ACS_ENDPOINT: set it (with managed identity) or ACS_CONNECTION_STRING, so the monitor can send email");
  }
  if (acsConnection && !/^endpoint=https:\/\/[^;]+;accesskey=.+$/i.test(acsConnection)) {
    problems.push("ACS_CONNECTION_STRING: must look like endpoint=https://<resource>.communication.azure.com/;accesskey=<key>");
  }
  const hasState =
    env.CMK_STATE_CONNECTION?.trim() ||
    env.AzureWebJobsStorage?.trim() ||
    env.AzureWebJobsStorage__tableServiceUri?.trim() ||
    env.AzureWebJobsStorage__accountName?.trim();
  if (!hasState) {
    problems.push(
      "AzureWebJobsStorage: set it, CMK_STATE_CONNECTION, AzureWebJobsStorage__tableServiceUri or AzureWebJobsStorage__accountName, so the monitor can keep state",
    );
  }
  if (env.CMK_DASHBOARD_AUTH?.trim().toLowerCase() === "anonymous") {
    if (!appServiceAuthEnabled(env)) {
      problems.push(
        "CMK_DASHBOARD_AUTH: anonymous needs App Service Authentication, and the platform says it is off (WEBSITE_AUTH_ENABLED is not True): any client could send the sign-in headers",
      );
    }
    if (splitList(env.CMK_DASHBOARD_ALLOWED_PRINCIPALS).length === 0) {
      problems.push(
        "CMK_DASHBOARD_ALLOWED_PRINCIPALS: is required with CMK_DASHBOARD_AUTH=anonymous (object ids of the users or groups who may open the dashboard)",
      );
    }
  }
  const noEscalation = splitList(env.CMK_ESCALATION_RECIPIENTS).length === 0;
  if (noEscalation) {
    problems.push("CMK_ESCALATION_RECIPIENTS: is required (who is told when an account does not recover in time)");
  }
  const allowed = splitList(env.CMK_ALLOWED_RECIPIENT_DOMAINS);
  if (allowed.length === 0) {
    problems.push("CMK_ALLOWED_RECIPIENT_DOMAINS: is required: the domains mail may go to (e.g. contoso.com,*.contoso.com), or * to allow any domain");
  } else {
    for (const [name, list] of [
      ["CMK_DEFAULT_RECIPIENTS", splitList(env.CMK_DEFAULT_RECIPIENTS)],
      ["CMK_ESCALATION_RECIPIENTS", splitList(env.CMK_ESCALATION_RECIPIENTS)],
    ] as const) {
      for (const address of list) {
        if (EMAIL_ADDRESS.test(address) && !isAllowedDomain(address, allowed)) {
          problems.push(`${name}: "${address}" is outside CMK_ALLOWED_RECIPIENT_DOMAINS`);
        }
      }
    }
  }
  if (env.CMK_SUPPORT_TICKETS?.trim().toLowerCase() === "create" && !env.CMK_SUPPORT_CONTACT_NAME?.trim()) {
    problems.push('CMK_SUPPORT_CONTACT_NAME: is required with CMK_SUPPORT_TICKETS=create (the ticket\'s contact, e.g. "Ada Lovelace")');
  }
  if (problems.length > 0 || !settings) throw new ConfigurationError(inSettingOrder(dedupe(problems)));

  const state: StateConnection = settings.CMK_STATE_CONNECTION
    ? { kind: "connection-string", connectionString: settings.CMK_STATE_CONNECTION }
    : settings.AzureWebJobsStorage
      ? { kind: "connection-string", connectionString: settings.AzureWebJobsStorage }
      : {
          kind: "identity",
          tableEndpoint: settings.AzureWebJobsStorage__tableServiceUri ?? `https://${settings.AzureWebJobsStorage__accountName}.table.core.windows.net`,
        };
  const email: EmailConnection = settings.ACS_CONNECTION_STRING
    ? { kind: "connection-string", connectionString: settings.ACS_CONNECTION_STRING }
    : { kind: "identity", endpoint: settings.ACS_ENDPOINT! };

  return Object.freeze({
    subscriptionIds: Object.freeze([...settings.CMK_SUBSCRIPTION_IDS]),
    pollSchedule: settings.CMK_POLL_SCHEDULE,
    pollIntervalInMinutes: settings.CMK_POLL_INTERVAL_MINUTES,
    reminderIntervalInMinutes: settings.CMK_REMINDER_INTERVAL_MINUTES,
    ownerTag: settings.CMK_OWNER_TAG,
    defaultRecipients: Object.freeze([...settings.CMK_DEFAULT_RECIPIENTS]),
    escalationRecipients: Object.freeze([...settings.CMK_ESCALATION_RECIPIENTS]),
    allowedRecipientDomains: Object.freeze(settings.CMK_ALLOWED_RECIPIENT_DOMAINS.map((d) => d.toLowerCase())),
    maxOwnerRecipients: settings.CMK_MAX_OWNER_RECIPIENTS,
    maxNewRecipientsPerDay: settings.CMK_MAX_NEW_RECIPIENTS_PER_DAY,
    emailSender: settings.CMK_EMAIL_SENDER!,
    ...(settings.CMK_ACS_RESOURCE_ID ? { acsResourceId: settings.CMK_ACS_RESOURCE_ID } : {}),
    deliveryReports: settings.CMK_DELIVERY_REPORTS === "on" || settings.CMK_DELIVERY_REPORTS === "true",
    email,
    state,
    stateTable: settings.CMK_STATE_TABLE,
    armEndpoint: settings.CMK_ARM_ENDPOINT ?? "https://management.azure.com",
    cloud: cloudOfArmEndpoint(settings.CMK_ARM_ENDPOINT ?? "https://management.azure.com"),
    keyExpiryWarningDays: settings.CMK_KEY_EXPIRY_WARNING_DAYS,
    probes: settings.CMK_PROBES,
    ...(settings.CMK_PUBLIC_BASE_URL ? { publicBaseUrl: settings.CMK_PUBLIC_BASE_URL.replace(/\/+$/, "") } : {}),
    ...(settings.CMK_LINK_SIGNING_KEY ? { linkSigningKey: settings.CMK_LINK_SIGNING_KEY } : {}),
    dashboardAuth: settings.CMK_DASHBOARD_AUTH,
    dashboardAllowedPrincipals: Object.freeze(settings.CMK_DASHBOARD_ALLOWED_PRINCIPALS.map((id) => id.toLowerCase())),
    appServiceAuthEnabled: appServiceAuthEnabled(env),
    managementGroups: Object.freeze([...settings.CMK_MANAGEMENT_GROUPS]),
    discovery:
      settings.CMK_DISCOVERY === "auto"
        ? settings.CMK_MANAGEMENT_GROUPS.length > 0 || settings.CMK_SUBSCRIPTION_IDS.length > 1
          ? "resource-graph"
          : "arm"
        : settings.CMK_DISCOVERY,
    armConcurrency: settings.CMK_ARM_CONCURRENCY,
    statusSource: settings.CMK_STATUS_SOURCE,
    discoveryIntervalInMinutes: settings.CMK_DISCOVERY_INTERVAL_MINUTES,
    changesIntervalInMinutes: settings.CMK_CHANGES_INTERVAL_MINUTES,
    riskCheckIntervalInMinutes: settings.CMK_RISK_CHECK_INTERVAL_MINUTES,
    fanout: settings.CMK_FANOUT,
    fanoutThreshold: settings.CMK_FANOUT_THRESHOLD,
    retentionDays: settings.CMK_RETENTION_DAYS,
    workQueue: settings.CMK_WORK_QUEUE,
    ...(queue ? { queue } : {}),
    digestThreshold: settings.CMK_DIGEST_THRESHOLD,
    weeklyReport: settings.CMK_WEEKLY_REPORT === "on",
    emailDomainKind: settings.CMK_EMAIL_DOMAIN_KIND,
    emailRatePerMinute: settings.CMK_EMAIL_RATE_PER_MINUTE ?? EMAIL_DOMAIN_LIMITS[settings.CMK_EMAIL_DOMAIN_KIND].send[0],
    emailRatePerHour: settings.CMK_EMAIL_RATE_PER_HOUR ?? EMAIL_DOMAIN_LIMITS[settings.CMK_EMAIL_DOMAIN_KIND].send[1],
    emailStatusRatePerMinute: settings.CMK_EMAIL_STATUS_RATE_PER_MINUTE ?? EMAIL_DOMAIN_LIMITS[settings.CMK_EMAIL_DOMAIN_KIND].status[0],
    emailStatusRatePerHour: settings.CMK_EMAIL_STATUS_RATE_PER_HOUR ?? EMAIL_DOMAIN_LIMITS[settings.CMK_EMAIL_DOMAIN_KIND].status[1],
    sendLeaseInSeconds: SEND_LEASE_IN_SECONDS,
    proxyConfigured: proxyConfigured(env),
    supportTickets: supportTicketSettings(settings),
    ...(settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {}),
  });
}

function supportTicketSettings(settings: z.infer<typeof settingsSchema>): SupportTicketSettings {
  const name = settings.CMK_SUPPORT_CONTACT_NAME;
  const at = name ? name.lastIndexOf(" ") : -1;
  const email = settings.CMK_SUPPORT_CONTACT_EMAIL ?? settings.CMK_ESCALATION_RECIPIENTS[0];
  return Object.freeze({
    mode: settings.CMK_SUPPORT_TICKETS,
    severity: settings.CMK_SUPPORT_SEVERITY,
    ...(name && email
      ? {
          contact: Object.freeze({
            firstName: name.slice(0, at),
            lastName: name.slice(at + 1),
            email,
            country: settings.CMK_SUPPORT_CONTACT_COUNTRY,
            language: settings.CMK_SUPPORT_CONTACT_LANGUAGE,
            timezone: settings.CMK_SUPPORT_CONTACT_TIMEZONE,
          }),
        }
      : {}),
    ...(settings.CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID ? { fallbackProblemClassificationId: settings.CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID } : {}),
  });
}

/** The proxy variables the SDKs' pipeline reads (upper or lower case). */
export function proxyConfigured(env: Environment): boolean {
  return ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"].some((name) => Boolean(env[name] || env[name.toLowerCase()]));
}

/**
 * How the dashboard and status endpoints register, read before the full configuration is loaded
 * (the Functions host registers them at start-up): anything but "anonymous" with App Service
 * Authentication on means the safer "function". loadConfig rejects the rest on the first request.
 */
export function dashboardAuthLevel(env: Environment = process.env): "function" | "anonymous" {
  return env.CMK_DASHBOARD_AUTH?.trim().toLowerCase() === "anonymous" && appServiceAuthEnabled(env) ? "anonymous" : "function";
}

/** App Service sets WEBSITE_AUTH_ENABLED=True on apps with its authentication module on; nobody else should. */
export function appServiceAuthEnabled(env: Environment): boolean {
  return env.WEBSITE_AUTH_ENABLED?.trim().toLowerCase() === "true";
}

/** What the read-only `scan` command reads: it needs no state, no email and no required setting. */
export interface ScanConfig {
  readonly armEndpoint: string;
  readonly cloud: AzureCloudName;
  readonly managedIdentityClientId?: string;
  readonly keyExpiryWarningDays: number;
  readonly proxyConfigured: boolean;
}

/** Lenient on purpose: scan is for looking around before anything is configured; odd values fall back to defaults. */
export function loadScanConfig(env: Environment = process.env): ScanConfig {
  const clientId = env.AZURE_CLIENT_ID?.trim();
  const warningDays = Number(env.CMK_KEY_EXPIRY_WARNING_DAYS?.trim() || "30");
  const armEndpoint = env.CMK_ARM_ENDPOINT?.trim() || "https://management.azure.com";
  return Object.freeze({
    armEndpoint,
    cloud: cloudOfArmEndpoint(armEndpoint),
    ...(clientId ? { managedIdentityClientId: clientId } : {}),
    keyExpiryWarningDays: Number.isInteger(warningDays) && warningDays > 0 ? warningDays : 30,
    proxyConfigured: proxyConfigured(env),
  });
}

/**
 * The work queue's storage: the host's own (AzureWebJobsStorage, or its identity-based queue
 * endpoint), so the queue trigger reads what the timer writes; CMK_STATE_CONNECTION only as the
 * local fallback (Azurite's connection string names a queue endpoint too).
 */
function queueConnection(env: Environment): QueueConnection | undefined {
  const hostConnection = env.AzureWebJobsStorage?.trim();
  if (hostConnection && isStorageConnectionString(hostConnection) && hasQueueEndpoint(hostConnection)) {
    return { kind: "connection-string", connectionString: hostConnection };
  }
  const queueUri = env.AzureWebJobsStorage__queueServiceUri?.trim();
  if (queueUri) return { kind: "identity", queueEndpoint: queueUri };
  const accountName = env.AzureWebJobsStorage__accountName?.trim();
  if (accountName && STORAGE_ACCOUNT_NAME.test(accountName)) return { kind: "identity", queueEndpoint: `https://${accountName}.queue.core.windows.net` };
  const stateConnection = env.CMK_STATE_CONNECTION?.trim();
  if (stateConnection && isStorageConnectionString(stateConnection) && hasQueueEndpoint(stateConnection)) {
    return { kind: "connection-string", connectionString: stateConnection };
  }
  return undefined;
}

/** Development storage, an account-key string with an endpoint suffix, or an explicit QueueEndpoint. */
function hasQueueEndpoint(connectionString: string): boolean {
  return /(^|;)\s*(UseDevelopmentStorage=true|QueueEndpoint=|EndpointSuffix=)/i.test(connectionString);
}

/**
 * Secrets as connection strings and SAS tokens spell them (`AccountKey=`, `accesskey=`, `sig=`,
 * `SharedAccessSignature=`, `password=`): a value pasted into the wrong setting may be quoted by
 * a rule that expected an address or an id, so every problem line has them masked.
 */
const SECRET_ASSIGNMENT =
  /\b(account[-_]?key|access[-_]?key|shared[-_]?access[-_]?(?:key|signature)|sig|password|pwd|secret|client[-_]?secret|token)=[^;&\s"]*/gi;

/** A problem as one display-safe line: secrets masked, controls and line separators escaped, length bounded. */
function oneLine(problem: string): string {
  const escaped = problem
    .replace(SECRET_ASSIGNMENT, "$1=<redacted>")
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length > 300 ? `${escaped.slice(0, 299)}…` : escaped;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

/** Problems in the order settings are documented, so the list reads like the settings file. */
function inSettingOrder(problems: string[]): string[] {
  const names = Object.keys(settingsSchema.shape);
  const rank = (problem: string) => {
    const index = names.indexOf(problem.slice(0, problem.indexOf(":")));
    return index === -1 ? names.length : index;
  };
  return problems
    .map((problem, i) => ({ problem, i }))
    .sort((a, b) => rank(a.problem) - rank(b.problem) || a.i - b.i)
    .map((x) => x.problem);
}

/** Setting names the app reads; infra tests check the Function App sets each of them. */
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as readonly string[];
