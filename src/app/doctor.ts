/**
 * `cmk-monitor doctor`: every assumption the monitor makes about its deployment, checked with its
 * own settings and identity, one row each. Nothing here changes Azure, except the scratch entity
 * and message the storage rows write and delete, and the one email `--send-test` sends.
 */
import { chooseProblemClassification, COSMOS_DB_RESOURCE_TYPE } from "../domain/supportTicket";
import { ConfigurationError, EMAIL_DOMAIN_LIMITS, loadConfig, type Environment, type MonitorConfig } from "../config";
import { describeFailure, describeProbeFailure } from "../ports/failures";
import type { CheckResult, CheckStatus, DoctorScope, DoctorTargets } from "../ports/doctor";
import type { CmkAccount } from "../domain/account";
import type { ProbeFacts } from "../domain/probeFacts";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";

export interface DoctorOptions {
  /** Really send one email to this address. */
  sendTestTo?: string;
  /** How many accounts the status-source and Key Vault rows sample. */
  sampleSize?: number;
}

export interface DoctorReport {
  checks: CheckResult[];
  /** 0 all ok (skipped rows included), 2 warnings, 1 failures. */
  exitCode: 0 | 1 | 2;
}

/** Azure-managed sender domains (`<guid>.azurecomm.net`). */
const AZURE_MANAGED_SENDER = /@[a-f0-9-]+\.azurecomm\.net$/i;

const DEFAULT_SAMPLE = 5;

/** Runs every check; `targets` is only built (and called) when the settings are valid. */
export async function runDoctor(env: Environment, targetsFor: (config: MonitorConfig) => DoctorTargets, options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  let config: MonitorConfig;
  try {
    config = loadConfig(env);
    checks.push({ id: "settings", status: "ok", detail: "every setting is valid" });
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    checks.push({ id: "settings", status: "fail", detail: error.problems.join("; "), fix: "correct the settings listed, then run doctor again" });
    for (const id of LIVE_CHECKS) checks.push({ id, status: "skipped", detail: "the settings are not valid" });
    return report(checks);
  }

  const targets = targetsFor(config);
  const identity = await checkIdentity(targets);
  checks.push(identity);
  if (identity.status === "fail") {
    for (const id of LIVE_CHECKS.slice(1)) checks.push({ id, status: "skipped", detail: "no token for ARM" });
    return report(checks);
  }
  const scope: DoctorScope = { subscriptionIds: config.subscriptionIds, managementGroups: config.managementGroups };
  const fleet = await checkSubscriptions(targets, config, scope);
  checks.push(...fleet.rows);
  checks.push(await checkStatusSource(targets, config, scope, fleet.accounts, options.sampleSize ?? DEFAULT_SAMPLE));
  checks.push(await checkKeyVaultReach(targets, config, fleet.accounts, options.sampleSize ?? DEFAULT_SAMPLE));
  checks.push(await checkState(targets));
  checks.push(await checkQueue(targets, config));
  checks.push(...(await checkEmail(targets, config, options.sendTestTo)));
  checks.push(checkLinks(config));
  checks.push(checkDashboard(config));
  checks.push(await checkSupportTickets(targets, config));
  checks.push(checkWeeklyReport(config));
  return report(checks);
}

/** Row ids after "settings", in order; each appears in every report. */
export const LIVE_CHECKS = [
  "identity",
  "subscriptions",
  "resource-graph-coverage",
  "status-source",
  "key-vault-reach",
  "state-storage",
  "work-queue",
  "email-identity",
  "email-limits",
  "email-test-send",
  "links",
  "dashboard",
  "support-tickets",
  "weekly-report",
] as const;

function report(checks: CheckResult[]): DoctorReport {
  const has = (status: CheckStatus) => checks.some((c) => c.status === status);
  return { checks, exitCode: has("fail") ? 1 : has("warn") ? 2 : 0 };
}

async function attempt<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string; status?: number }> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const info = describeFailure(error);
    return { ok: false, error: info.message, ...(info.statusCode !== undefined ? { status: info.statusCode } : {}) };
  }
}

async function checkIdentity(targets: DoctorTargets): Promise<CheckResult> {
  const token = await attempt(() => targets.token("arm"));
  return token.ok
    ? { id: "identity", status: "ok", detail: `${targets.credentialName} obtained a token for ARM` }
    : {
        id: "identity",
        status: "fail",
        detail: `${targets.credentialName} could not obtain a token for ARM: ${token.error}`,
        fix: "on Azure: check the app's managed identity (and AZURE_CLIENT_ID for a user-assigned one); locally: az login",
      };
}

async function checkSubscriptions(targets: DoctorTargets, config: MonitorConfig, scope: DoctorScope): Promise<{ rows: CheckResult[]; accounts: CmkAccount[] }> {
  const rows: CheckResult[] = [];
  let visible: Set<string> | undefined;
  let graphError: string | undefined;
  const usesGraph = config.discovery === "resource-graph";
  if (usesGraph) {
    const seen = await attempt(() => targets.resourceGraphSubscriptions(scope));
    if (seen.ok) visible = seen.value;
    else graphError = seen.error;
  }
  // Under management groups the subscriptions are what Resource Graph finds there.
  const inScope = [...new Set([...scope.subscriptionIds.map((s) => s.toLowerCase()), ...(scope.managementGroups.length > 0 ? (visible ?? []) : [])])];

  const accounts: CmkAccount[] = [];
  const unreadable: string[] = [];
  let withCmk = 0;
  for (const subscriptionId of inScope) {
    const listed = await attempt(() => targets.listAccounts(subscriptionId));
    if (!listed.ok) {
      unreadable.push(`${subscriptionId} (${listed.status ? `HTTP ${listed.status}` : listed.error})`);
      continue;
    }
    if (listed.value.length > 0) withCmk++;
    accounts.push(...listed.value);
  }
  rows.push(
    unreadable.length > 0
      ? {
          id: "subscriptions",
          status: "fail",
          detail: `${unreadable.length} of ${inScope.length} subscription(s) cannot be read: ${unreadable.join(", ")}`,
          fix: "assign Reader to the monitor's identity on each (azd provision does it for CMK_SUBSCRIPTION_IDS; see docs/deploy.md)",
        }
      : {
          id: "subscriptions",
          status: inScope.length === 0 ? "warn" : "ok",
          detail: `${inScope.length} subscription(s) readable, ${withCmk} hold CMK accounts (${accounts.length} account(s))`,
          ...(inScope.length === 0 ? { fix: "the management groups hold no subscription the monitor can see" } : {}),
        },
  );

  if (!usesGraph) {
    rows.push({ id: "resource-graph-coverage", status: "skipped", detail: "discovery lists each subscription with ARM (CMK_DISCOVERY resolved to arm)" });
  } else if (graphError !== undefined) {
    rows.push({
      id: "resource-graph-coverage",
      status: "fail",
      detail: `Resource Graph query failed: ${graphError}`,
      fix: "Resource Graph needs Reader on the scope; a 429 means the tenant's quota is spent, try again later",
    });
  } else {
    const missing = scope.subscriptionIds.filter((s) => !visible!.has(s.toLowerCase()));
    rows.push(
      missing.length > 0
        ? {
            id: "resource-graph-coverage",
            status: "fail",
            detail: `Resource Graph does not see ${missing.length} configured subscription(s): ${missing.join(", ")}; the monitor treats them as failing every cycle`,
            fix: "assign Reader on them, or remove them from CMK_SUBSCRIPTION_IDS",
          }
        : { id: "resource-graph-coverage", status: "ok", detail: `Resource Graph sees all ${visible!.size} subscription(s) in scope` },
    );
  }
  return { rows, accounts };
}

/** The measured facts behind CMK_STATUS_SOURCE: does Resource Graph carry the status, and is it ARM's? */
async function checkStatusSource(
  targets: DoctorTargets,
  config: MonitorConfig,
  scope: DoctorScope,
  armAccounts: CmkAccount[],
  sampleSize: number,
): Promise<CheckResult> {
  const listMissing = armAccounts.filter((a) => a.customerManagedKeyStatus === undefined).length;
  const listNote =
    armAccounts.length === 0
      ? "no CMK account to sample"
      : listMissing === 0
        ? `ARM lists carry the status for all ${armAccounts.length} account(s)`
        : `ARM lists omit the status for ${listMissing} of ${armAccounts.length} account(s) (the monitor reads those with a GET)`;
  if (config.discovery !== "resource-graph") {
    return { id: "status-source", status: "ok", detail: `status from ARM; ${listNote}` };
  }
  const graph = await attempt(() => targets.resourceGraphAccounts(scope));
  if (!graph.ok) {
    return {
      id: "status-source",
      status: config.statusSource === "resource-graph" ? "fail" : "warn",
      detail: `Resource Graph query failed: ${graph.error}; ${listNote}`,
    };
  }
  const sample = graph.value.slice(0, sampleSize);
  let absent = 0;
  let differs = 0;
  for (const row of sample) {
    const arm = await attempt(() => targets.getAccount(row.id));
    if (row.customerManagedKeyStatus === undefined) absent++;
    else if (arm.ok && arm.value && arm.value.customerManagedKeyStatus !== row.customerManagedKeyStatus) differs++;
  }
  const measured =
    sample.length === 0
      ? "Resource Graph returned no CMK account to compare"
      : `of ${sample.length} sampled account(s), Resource Graph has no status for ${absent} and a status different from ARM's for ${differs}`;
  const graphUsable = sample.length > 0 && absent === 0 && differs === 0;
  if (config.statusSource === "resource-graph" && !graphUsable) {
    return {
      id: "status-source",
      status: "warn",
      detail: `CMK_STATUS_SOURCE=resource-graph, but ${measured}; the monitor falls back to ARM every cycle; ${listNote}`,
      fix: "set CMK_STATUS_SOURCE=arm (the default): status is then read from ARM lists, one call per subscription holding CMK accounts",
    };
  }
  return {
    id: "status-source",
    status: "ok",
    detail: `status from ${config.statusSource === "resource-graph" ? "Resource Graph (proved by a rotating ARM sample each cycle)" : "ARM"}; ${measured}; ${listNote}`,
  };
}

/** Can the monitor see the vaults behind a sample of accounts, one account per vault? */
async function checkKeyVaultReach(targets: DoctorTargets, config: MonitorConfig, accounts: CmkAccount[], sampleSize: number): Promise<CheckResult> {
  if (config.probes === "off" || !targets.probes)
    return { id: "key-vault-reach", status: "skipped", detail: "CMK_PROBES=off: the monitor works on the ARM status alone" };
  const byVault = new Map<string, CmkAccount>();
  for (const account of accounts) {
    const vault = parseKeyVaultKeyUri(account.keyVaultKeyUri)?.vaultHost.toLowerCase();
    if (vault && !byVault.has(vault)) byVault.set(vault, account);
  }
  const sample = [...byVault.entries()].slice(0, sampleSize);
  if (sample.length === 0) return { id: "key-vault-reach", status: "skipped", detail: "no CMK account with a Key Vault key URI to sample" };
  const session = targets.probes.session();
  const problems: string[] = [];
  let reached = 0;
  for (const [host, account] of sample) {
    let facts: ProbeFacts;
    try {
      facts = await session.probe(account);
    } catch (error) {
      problems.push(`${host}: ${describeProbeFailure(error, "the vault")}`);
      continue;
    }
    const unreached = [
      facts.dns.checked ? (facts.dns.value.resolves ? undefined : "does not resolve") : `DNS: ${facts.dns.reason}`,
      facts.vault.checked ? undefined : `vault: ${facts.vault.reason}`,
      facts.key.checked ? undefined : `key: ${facts.key.reason}`,
    ].filter((p): p is string => p !== undefined);
    if (unreached.length === 0) reached++;
    else problems.push(`${host}: ${unreached.join("; ")}`);
  }
  if (problems.length === 0) return { id: "key-vault-reach", status: "ok", detail: `the monitor reads ${reached} sampled vault(s) and their keys` };
  return {
    id: "key-vault-reach",
    status: "warn",
    detail: `${problems.length} of ${sample.length} sampled vault(s) not fully readable: ${problems.join(" | ")}`,
    fix:
      "grant the monitor's identity Key Vault Reader (RBAC vaults) or an access policy with key get and list; for vaults that only allow trusted services or private endpoints, " +
      "deploy with VNet integration and a private endpoint (docs/deploy.md); revocations are still detected from ARM, only the cause is less precise",
  };
}

async function checkState(targets: DoctorTargets): Promise<CheckResult> {
  const done = await attempt(() => targets.stateRoundTrip());
  return done.ok
    ? { id: "state-storage", status: "ok", detail: "created (if needed), wrote, read and deleted a scratch entity in the state table" }
    : {
        id: "state-storage",
        status: "fail",
        detail: `state table round trip failed: ${done.error}`,
        fix: "the identity needs Storage Table Data Contributor on the storage account (or fix the connection string)",
      };
}

async function checkQueue(targets: DoctorTargets, config: MonitorConfig): Promise<CheckResult> {
  if (config.fanout === "inline" || !targets.queueRoundTrip) {
    return { id: "work-queue", status: "skipped", detail: "cycles run inline (CMK_FANOUT=inline, or no queue storage is configured)" };
  }
  const done = await attempt(() => targets.queueRoundTrip!());
  return done.ok
    ? { id: "work-queue", status: "ok", detail: `sent (hidden) and deleted a scratch message on ${config.workQueue}` }
    : {
        id: "work-queue",
        status: "fail",
        detail: `work queue round trip failed: ${done.error}`,
        fix: "the identity needs Storage Queue Data Contributor on the host storage account",
      };
}

async function checkEmail(targets: DoctorTargets, config: MonitorConfig, sendTestTo: string | undefined): Promise<CheckResult[]> {
  const rows: CheckResult[] = [];
  if (config.email.kind === "identity") {
    const token = await attempt(() => targets.token("communication"));
    rows.push(
      token.ok
        ? { id: "email-identity", status: "ok", detail: `${targets.credentialName} obtained a token for Azure Communication Services` }
        : {
            id: "email-identity",
            status: "fail",
            detail: `no token for Azure Communication Services: ${token.error}`,
            fix: "assign the email-sending role to the identity on the Communication Services resource (infra/modules/role-assignments.bicep)",
          },
    );
  } else {
    rows.push({ id: "email-identity", status: "ok", detail: "ACS_CONNECTION_STRING: the access key signs each request" });
  }

  rows.push(checkEmailLimits(config));

  if (!sendTestTo) {
    rows.push({ id: "email-test-send", status: "skipped", detail: "no email sent; run doctor --send-test ADDRESS to send one" });
  } else {
    const sent = await attempt(() => targets.sendTestEmail(sendTestTo));
    rows.push(
      sent.ok
        ? { id: "email-test-send", status: "ok", detail: `ACS accepted a test email to ${sendTestTo} (operation ${sent.value})` }
        : {
            id: "email-test-send",
            status: "fail",
            detail: `ACS did not accept the test email: ${sent.error}`,
            fix: "check the sender address is on a verified domain linked to the resource",
          },
    );
  }
  return rows;
}

/**
 * The checks that need no network: the function app runs them at start-up and logs each
 * problem once, so a misconfiguration shows in the logs before the first email would.
 */
export function offlineChecks(config: MonitorConfig): CheckResult[] {
  return [checkEmailLimits(config), checkLinks(config), checkDashboard(config), checkWeeklyReport(config)];
}

/** The settings loader already keeps CMK_ESCALATION_RECIPIENTS inside the allowed domains; this row says what is in force. */
function checkWeeklyReport(config: MonitorConfig): CheckResult {
  if (!config.weeklyReport) return { id: "weekly-report", status: "skipped", detail: "CMK_WEEKLY_REPORT is off: no weekly report is sent" };
  return {
    id: "weekly-report",
    status: "ok",
    detail: `a report of each ISO week goes to ${config.escalationRecipients.length} escalation address(es) after Monday 00:00 UTC, after all incident mail`,
  };
}

function checkEmailLimits(config: MonitorConfig): CheckResult {
  const kind = config.emailDomainKind;
  const limits = EMAIL_DOMAIN_LIMITS[kind];
  const looksManaged = AZURE_MANAGED_SENDER.test(config.emailSender);
  const problems: string[] = [];
  // The kind picks the limits the monitor paces to; a sender on the other kind of domain would be throttled or idle.
  if (looksManaged && kind === "custom") problems.push(`the sender is on an Azure-managed domain but CMK_EMAIL_DOMAIN_KIND=custom`);
  if (config.emailRatePerMinute > limits.send[0] || config.emailRatePerHour > limits.send[1]) {
    problems.push(`send pacing ${config.emailRatePerMinute}/min, ${config.emailRatePerHour}/h is above the ${kind} limits`);
  }
  if (config.emailStatusRatePerMinute > limits.status[0] || config.emailStatusRatePerHour > limits.status[1]) {
    problems.push(`status-read pacing ${config.emailStatusRatePerMinute}/min, ${config.emailStatusRatePerHour}/h is above the ${kind} limits`);
  }
  const found =
    `sender ${config.emailSender}, CMK_EMAIL_DOMAIN_KIND=${kind} (documented limits: sends ${limits.send[0]}/min, ${limits.send[1]}/h; ` +
    `status reads ${limits.status[0]}/min, ${limits.status[1]}/h); pacing sends ${config.emailRatePerMinute}/min, ${config.emailRatePerHour}/h, ` +
    `status reads ${config.emailStatusRatePerMinute}/min, ${config.emailStatusRatePerHour}/h`;
  return problems.length === 0
    ? { id: "email-limits", status: "ok", detail: found }
    : {
        id: "email-limits",
        status: "warn",
        detail: `${problems.join("; ")}: ${found}`,
        fix: "set CMK_EMAIL_DOMAIN_KIND to the sender's domain kind and leave the CMK_EMAIL_*_RATE_* settings unset (they follow the kind), or ask Azure support for higher limits first",
      };
}

/** The settings loader already refuses plain http and short signing keys; this row says what is in force. */
function checkLinks(config: MonitorConfig): CheckResult {
  if (!config.publicBaseUrl) {
    return { id: "links", status: "skipped", detail: "CMK_PUBLIC_BASE_URL is not set: emails carry no acknowledge/snooze links (owners use cmk-monitor ack)" };
  }
  return {
    id: "links",
    status: "ok",
    detail: `links point at ${config.publicBaseUrl}, signed with ${config.linkSigningKey ? "CMK_LINK_SIGNING_KEY" : "a key the monitor keeps in its state table"}`,
  };
}

/** The settings loader refuses anonymous mode without App Service Authentication; this row says what is in force. */
function checkDashboard(config: MonitorConfig): CheckResult {
  if (config.dashboardAuth !== "anonymous") {
    return { id: "dashboard", status: "ok", detail: "the dashboard needs a function key (CMK_DASHBOARD_AUTH=function)" };
  }
  return {
    id: "dashboard",
    status: "ok",
    detail: `anonymous dashboard behind App Service Authentication (WEBSITE_AUTH_ENABLED=True), open to ${config.dashboardAllowedPrincipals.length} allowed principal(s)`,
  };
}

/**
 * With CMK_SUPPORT_TICKETS=create: the identity may use Microsoft.Support on each configured
 * subscription (a name check and the Cosmos DB service's classifications; nothing is filed). Whether
 * a subscription has a support plan shows only when a ticket is filed: the row says so.
 */
async function checkSupportTickets(targets: DoctorTargets, config: MonitorConfig): Promise<CheckResult> {
  const mode = config.supportTickets.mode;
  if (mode !== "create" || !targets.supportTickets) {
    return {
      id: "support-tickets",
      status: "skipped",
      detail: mode === "draft" ? "CMK_SUPPORT_TICKETS=draft: escalation emails carry the ticket to file" : "CMK_SUPPORT_TICKETS=off",
    };
  }
  const api = targets.supportTickets;
  const refused: string[] = [];
  for (const subscriptionId of config.subscriptionIds) {
    const result = await attempt(() => api.isNameAvailable(subscriptionId, "cmk-doctor-check"));
    if (!result.ok) refused.push(`${subscriptionId} (${result.status ? `HTTP ${result.status}: ` : ""}${result.error})`);
  }
  const service = await attempt(() => api.findService(config.subscriptionIds[0] ?? "", COSMOS_DB_RESOURCE_TYPE));
  if (refused.length > 0) {
    return {
      id: "support-tickets",
      status: "fail",
      detail: `Microsoft.Support refused the identity on ${refused.join(", ")}`,
      fix: "grant the monitor's identity Support Request Contributor (cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e) on each subscription (the Bicep does with CMK_SUPPORT_TICKETS=create)",
    };
  }
  if (!service.ok || !service.value) {
    return {
      id: "support-tickets",
      status: "warn",
      detail: service.ok ? "Microsoft.Support lists no service for Azure Cosmos DB accounts" : `the Cosmos DB service could not be read: ${service.error}`,
      fix: "set CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID, or file tickets by hand from the escalation email",
    };
  }
  const classification = chooseProblemClassification(service.value.classifications, config.supportTickets.fallbackProblemClassificationId);
  return {
    id: "support-tickets",
    status: classification ? "ok" : "warn",
    detail: `Microsoft.Support answers on ${config.subscriptionIds.length} subscription(s); ${
      classification ? `tickets go to ${classification}` : "no problem classification matches customer-managed keys"
    }. A missing support plan shows only when a ticket is filed (the escalation email then says so)`,
    ...(classification ? {} : { fix: "set CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID" }),
  };
}
