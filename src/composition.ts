/**
 * The composition root: the only place SDK clients and adapters are constructed. Production
 * and the local sandbox differ here, and only in endpoint, credential, TLS trust and clock.
 */
import { ArmSupportTickets } from "./adapters/armSupportTickets";
import type { Agent } from "node:https";
import { EmailClient } from "@azure/communication-email";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import { createDefaultHttpClient, type PipelinePolicy } from "@azure/core-rest-pipeline";
import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { QueueClient } from "@azure/storage-queue";
import { AcsEmailSender } from "./adapters/acsEmail";
import { SdkDoctorTargets } from "./adapters/doctorTargets";
import { deadlinePolicies } from "./adapters/deadlinePolicy";
import { ArmAccountSource } from "./adapters/armAccounts";
import { ArmSubscriptionLister } from "./adapters/armSubscriptions";
import { CancellableDnsResolver } from "./adapters/dnsResolver";
import { vaultSuffixesOf, type AzureCloudName } from "./domain/vaultProbeTarget";
import { ArmFleetDiscovery, ResourceGraphFleetDiscovery } from "./adapters/fleetDiscovery";
import { ResourceGraphDiscovery } from "./adapters/resourceGraphAccounts";
import { RateLimitedKeyReader } from "./adapters/vaultRateLimit";
import { StorageWorkQueue } from "./adapters/workQueue";
import { createKeyVaultAgent, SdkKeyMetadataReader } from "./adapters/keyVaultKeys";
import { ArmVaultDirectory } from "./adapters/keyVaultManagement";
import { ArmRoleAssignmentReader } from "./adapters/roleAssignments";
import { TableFleetIndex } from "./adapters/fleetIndexTable";
import { TableIncidentStore } from "./adapters/tableStore";
import { SdkAccountProber } from "./probes/accountProber";
import { metaTableNameFor, TableMonitorMeta } from "./adapters/monitorMetaTable";
import { loadConfig, loadScanConfig, type Environment, type MonitorConfig, type MonitorSettings } from "./config";
import type { AccountSource } from "./ports/accountSource";
import type { SubscriptionLister } from "./ports/subscriptionLister";
import type { HostResolver } from "./ports/hostResolver";
import type { FleetDiscovery } from "./ports/fleetDiscovery";
import type { WorkQueue } from "./ports/workQueue";
import type { AccountProber } from "./ports/accountProber";
import type { Clock } from "./ports/clock";
import type { Logger } from "./ports/logger";
import { PROBE_CONCURRENCY } from "./pipeline/probeStage";
import { Slots } from "./pipeline/concurrency";
import type { MonitorDeps } from "./pipeline/monitorDeps";
import type { DoctorTargets } from "./ports/doctor";
import { offlineChecks } from "./app/doctor";

export interface CompositionOverrides {
  /** Replaces DefaultAzureCredential (the sandbox's stub credential). */
  credential?: TokenCredential;
  /** Extra CA to trust (the sandbox's self-signed certificate). */
  tlsCa?: string;
  clock?: Clock;
  log?: Logger;
  /** How often to poll a support ticket's create operation. */
  supportPollIntervalInMs?: number;
  /** Turns SDK retries off where a caller injects failures on purpose. */
  maxRetries?: number;
  /** Extra transport policies on storage calls: the fault-injection suite's storage faults. */
  storagePolicies?: PipelinePolicy[];
  /** Extra transport policies on email calls: the fault-injection suite's lost responses. */
  emailPolicies?: PipelinePolicy[];
  /**
   * Sandbox only: the agent Key Vault data-plane calls go through, so real-looking vault host
   * names (<name>.vault.azure.net) resolve through the sandbox and reach it (src/sandbox/vaultAgent.ts).
   */
  keyVaultAgent?: Agent;
  /** Replaces DNS for the vault-host probe (the sandbox decides which vault names resolve). */
  hostResolver?: HostResolver;
  /**
   * Sandbox only: the vault DNS suffixes the probes may talk to, instead of the configured cloud's
   * (the sandbox serves vaults of every cloud). Nothing in production sets it.
   */
  vaultHostSuffixes?: readonly string[];
  /** Per remote probe call; default 10 seconds. */
  probeTimeoutInMs?: number;
  /** Replaces how Resource Graph waits for its quota (tests see the waits without taking them). */
  resourceGraphSleep?: (ms: number) => Promise<void>;
  /**
   * Fan out over the work queue (CMK_FANOUT): only where something takes work off it, i.e. the
   * Functions app with its queue trigger (getMonitorDeps) or the benchmark playing the host.
   * `cmk-monitor run`, the drill and the tests run every cycle inline.
   */
  fanOutOverQueue?: boolean;
  /** Replaces the work queue (with `fanOutOverQueue`). */
  workQueue?: WorkQueue;
}

const DEFAULT_PROBE_TIMEOUT_IN_MS = 10_000;

function agentOption(agent: Agent | undefined): { agent?: Agent } {
  return agent ? { agent } : {};
}

/** The probes' SDK clients: ARM Key Vault, the Key Vault data plane, ARM authorization, DNS. */
function createAccountProber(
  credential: TokenCredential,
  armEndpoint: string,
  clientOptions: CommonClientOptions,
  overrides: CompositionOverrides,
  subscriptionIds: readonly string[],
  clock: Clock,
  proxyConfigured: boolean,
  cloud: AzureCloudName,
): AccountProber {
  return new SdkAccountProber(
    {
      resolver: overrides.hostResolver ?? new CancellableDnsResolver(),
      vaults: new ArmVaultDirectory({ credential, endpoint: armEndpoint, clientOptions }),
      // Accounts sharing a vault are many; the vault's own limits are per vault: pace the data-plane reads per vault.
      keys: new RateLimitedKeyReader(
        new SdkKeyMetadataReader({
          credential,
          clientOptions: { ...clientOptions, ...agentOption(overrides.keyVaultAgent ?? createKeyVaultAgent({ proxyConfigured })) },
        }),
      ),
      roles: new ArmRoleAssignmentReader({ credential, endpoint: armEndpoint, clientOptions }),
    },
    {
      timeoutInMs: overrides.probeTimeoutInMs ?? DEFAULT_PROBE_TIMEOUT_IN_MS,
      subscriptionIds,
      now: () => clock.now(),
      vaultHostSuffixes: overrides.vaultHostSuffixes ?? vaultSuffixesOf(cloud),
    },
  );
}

/** DefaultAzureCredential (with the user-assigned identity's client id, if set), unless the sandbox gives one. */
function credentialFor(config: { managedIdentityClientId?: string }, overrides: CompositionOverrides): TokenCredential {
  return overrides.credential ?? new DefaultAzureCredential(config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {});
}

/** What every client shares: the sandbox's CA, and retries off where a caller injects failures. */
function baseClientOptions(overrides: CompositionOverrides): CommonClientOptions {
  return {
    ...(overrides.tlsCa ? { tlsOptions: { ca: overrides.tlsCa } } : {}),
    ...(overrides.maxRetries !== undefined ? { retryOptions: { maxRetries: overrides.maxRetries } } : {}),
  };
}

/** A table of the state storage, by connection string or by identity. */
function openStateTable(config: MonitorConfig, tableName: string, credential: TokenCredential, options: CommonClientOptions): TableClient {
  return config.state.kind === "connection-string"
    ? TableClient.fromConnectionString(config.state.connectionString, tableName, {
        ...options,
        // Azurite speaks plain http on loopback; real storage is always https.
        allowInsecureConnection: /(^|;)\s*(TableEndpoint=http:|UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;)/i.test(config.state.connectionString),
      })
    : new TableClient(config.state.tableEndpoint, tableName, credential, options);
}

export const systemClock: Clock = { now: () => new Date() };

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

export function createMonitorDeps(config: MonitorConfig, overrides: CompositionOverrides = {}): MonitorDeps {
  const credential = credentialFor(config, overrides);
  // Every call made inside a cycle ends at the cycle's deadline and never sleeps on a long Retry-After.
  const clientOptions = { ...baseClientOptions(overrides), additionalPolicies: deadlinePolicies() };

  // One connection pool for every ARM-side client: there is a client per subscription, and a fleet
  // has thousands; each with its own pool would pay a TLS handshake per subscription per process.
  const armClientOptions: CommonClientOptions = { ...clientOptions, httpClient: createDefaultHttpClient() };
  const accounts = new ArmAccountSource({ credential, endpoint: config.armEndpoint, clientOptions: armClientOptions });
  const clock = overrides.clock ?? systemClock;
  const discovery: FleetDiscovery =
    config.discovery === "resource-graph"
      ? new ResourceGraphFleetDiscovery(
          new ResourceGraphDiscovery({
            credential,
            endpoint: config.armEndpoint,
            clientOptions: armClientOptions,
            ...(overrides.resourceGraphSleep ? { sleep: overrides.resourceGraphSleep } : {}),
          }),
          accounts,
          {
            scope: { subscriptionIds: config.subscriptionIds, managementGroups: config.managementGroups },
            statusSource: config.statusSource,
            refreshIntervalInMs: config.discoveryIntervalInMinutes * 60_000,
            armConcurrency: config.armConcurrency,
            clock,
          },
        )
      : new ArmFleetDiscovery(accounts, config.subscriptionIds, {
          concurrency: config.armConcurrency,
          refreshIntervalInMs: config.discoveryIntervalInMinutes * 60_000,
          clock,
        });
  // The pull catch-up's `resourcechanges` queries go through the same Resource Graph client and quota handling as discovery.
  const changeSource = new ResourceGraphDiscovery({
    credential,
    endpoint: config.armEndpoint,
    clientOptions: armClientOptions,
    ...(overrides.resourceGraphSleep ? { sleep: overrides.resourceGraphSleep } : {}),
  });
  const workQueue = !overrides.fanOutOverQueue
    ? undefined
    : (overrides.workQueue ?? (config.queue ? new StorageWorkQueue(openQueue(config, credential, overrides)) : undefined));

  const emailOptions = {
    additionalPolicies: [...clientOptions.additionalPolicies, ...(overrides.emailPolicies ?? []).map((policy) => ({ policy, position: "perCall" as const }))],
  };
  const storageOptions = {
    additionalPolicies: [...clientOptions.additionalPolicies, ...(overrides.storagePolicies ?? []).map((policy) => ({ policy, position: "perCall" as const }))],
  };
  const openTable = (tableName: string): TableClient => openStateTable(config, tableName, credential, { ...clientOptions, ...storageOptions });
  const store = new TableIncidentStore(openTable(config.stateTable));
  const fleetIndex = new TableFleetIndex(openTable(config.stateTable), store);
  const meta = new TableMonitorMeta(openTable(metaTableNameFor(config.stateTable)));
  const configuredKey = config.linkSigningKey ? Buffer.from(config.linkSigningKey, "utf8") : undefined;

  // AcsEmailSender turns SDK retries off and refuses the send's status polls whatever is passed here.
  const email =
    config.email.kind === "connection-string"
      ? new AcsEmailSender(config.email.connectionString, undefined, { ...clientOptions, ...emailOptions })
      : new AcsEmailSender(config.email.endpoint, credential, { ...clientOptions, ...emailOptions });

  const probes =
    config.probes === "on"
      ? createAccountProber(credential, config.armEndpoint, armClientOptions, overrides, config.subscriptionIds, clock, config.proxyConfigured, config.cloud)
      : undefined;

  const supportTickets =
    config.supportTickets.mode === "create"
      ? new ArmSupportTickets({
          credential,
          endpoint: config.armEndpoint,
          clientOptions: armClientOptions,
          ...(overrides.supportPollIntervalInMs !== undefined ? { pollIntervalInMs: overrides.supportPollIntervalInMs } : {}),
        })
      : undefined;

  const settings: MonitorSettings = {
    subscriptionIds: config.subscriptionIds,
    managementGroups: config.managementGroups,
    emailSender: config.emailSender,
    reminderIntervalInMinutes: config.reminderIntervalInMinutes,
    escalationRecipients: config.escalationRecipients,
    ownerTag: config.ownerTag,
    defaultRecipients: config.defaultRecipients,
    allowedRecipientDomains: config.allowedRecipientDomains,
    maxOwnerRecipients: config.maxOwnerRecipients,
    maxNewRecipientsPerDay: config.maxNewRecipientsPerDay,
    sendLeaseInSeconds: config.sendLeaseInSeconds,
    armConcurrency: config.armConcurrency,
    keyExpiryWarningDays: config.keyExpiryWarningDays,
    ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
    dashboardAuth: config.dashboardAuth,
    dashboardAllowedPrincipals: config.dashboardAllowedPrincipals,
    appServiceAuthEnabled: config.appServiceAuthEnabled,
    pollIntervalInMinutes: config.pollIntervalInMinutes,
    fanout: config.fanout,
    fanoutThreshold: config.fanoutThreshold,
    retentionDays: config.retentionDays,
    digestThreshold: config.digestThreshold,
    weeklyReport: config.weeklyReport,
    emailRatePerMinute: config.emailRatePerMinute,
    emailRatePerHour: config.emailRatePerHour,
    supportTickets: config.supportTickets,
    emailStatusRatePerMinute: config.emailStatusRatePerMinute,
    emailStatusRatePerHour: config.emailStatusRatePerHour,
    ...(config.acsResourceId ? { acsResourceId: config.acsResourceId } : {}),
    changesIntervalInMinutes: config.changesIntervalInMinutes,
    riskCheckIntervalInMinutes: config.riskCheckIntervalInMinutes,
    deliveryReports: config.deliveryReports,
  };
  return {
    accounts,
    discovery,
    ...(workQueue ? { workQueue } : {}),
    store,
    warnings: store,
    retention: store,
    fleetIndex,
    email,
    ...(probes ? { probes } : {}),
    ...(supportTickets ? { supportTickets } : {}),
    clock,
    log: overrides.log ?? consoleLogger,
    settings,
    heartbeat: meta,
    sendBudget: meta,
    deliveryReports: { store, log: meta },
    linkKeys: configuredKey ? { linkSigningKey: async () => configuredKey } : meta,
    changes: { source: changeSource, watermark: meta },
    callSlots: new Slots(PROBE_CONCURRENCY),
  };
}

/** What `cmk-monitor doctor` reads: the monitor's own clients, built the same way as createMonitorDeps. */
export function createDoctorTargets(config: MonitorConfig, overrides: CompositionOverrides = {}): DoctorTargets {
  const credential = credentialFor(config, overrides);
  const credentialName = overrides.credential
    ? "the sandbox's credential"
    : `DefaultAzureCredential${config.managedIdentityClientId ? ` (user-assigned identity ${config.managedIdentityClientId})` : ""}`;
  const clientOptions: CommonClientOptions = baseClientOptions(overrides);
  const deps = createMonitorDeps(config, { ...overrides, credential });
  const stateTable = openStateTable(config, config.stateTable, credential, clientOptions);
  return new SdkDoctorTargets({
    credential,
    credentialName,
    armEndpoint: config.armEndpoint,
    accounts: deps.accounts,
    resourceGraph: new ResourceGraphDiscovery({ credential, endpoint: config.armEndpoint, clientOptions }),
    ...(deps.probes ? { probes: deps.probes } : {}),
    ...(deps.supportTickets ? { supportTickets: deps.supportTickets } : {}),
    stateTable,
    ...(config.queue ? { queue: openQueue(config, credential, overrides) } : {}),
    email:
      config.email.kind === "connection-string"
        ? new EmailClient(config.email.connectionString, clientOptions)
        : new EmailClient(config.email.endpoint, credential, clientOptions),
    emailSender: config.emailSender,
  });
}

/** The work queue on the Functions host's storage (Azurite's queue endpoint locally). */
function openQueue(config: MonitorConfig, credential: TokenCredential, overrides: CompositionOverrides): QueueClient {
  const options = overrides.maxRetries !== undefined ? { retryOptions: { maxTries: overrides.maxRetries + 1 } } : {};
  const queue = config.queue!;
  return queue.kind === "connection-string"
    ? new QueueClient(queue.connectionString, config.workQueue, options)
    : new QueueClient(`${queue.queueEndpoint.replace(/\/+$/, "")}/${config.workQueue}`, credential, options);
}

/** What the read-only `scan` command needs: no store, no email. */
export interface ScanDeps {
  accounts: AccountSource;
  subscriptions: SubscriptionLister;
  /** Used unless `scan --no-probe`. */
  probes?: AccountProber;
  /** CMK_KEY_EXPIRY_WARNING_DAYS for the warnings scan shows on healthy accounts. */
  keyExpiryWarningDays?: number;
}

export function createScanDeps(env: Environment = process.env, overrides: CompositionOverrides = {}): ScanDeps {
  const config = loadScanConfig(env);
  const credential = credentialFor(config, overrides);
  const clientOptions = baseClientOptions(overrides);
  return {
    accounts: new ArmAccountSource({ credential, endpoint: config.armEndpoint, clientOptions }),
    subscriptions: new ArmSubscriptionLister({ credential, endpoint: config.armEndpoint, clientOptions }),
    probes: createAccountProber(
      credential,
      config.armEndpoint,
      clientOptions,
      overrides,
      [],
      overrides.clock ?? systemClock,
      config.proxyConfigured,
      config.cloud,
    ),
    keyExpiryWarningDays: config.keyExpiryWarningDays,
  };
}

let processOverrides: CompositionOverrides = {};
let cached: { key: string; deps: MonitorDeps } | undefined;

/**
 * Sets how this process builds its clients (the sandbox and tests call it before invoking a
 * function handler). Production never calls it.
 */
export function setCompositionOverrides(overrides: CompositionOverrides): void {
  processOverrides = overrides;
  cached = undefined;
}

/** The doctor's targets with this process's overrides (the function app's GET /api/doctor). */
export function getDoctorTargets(config: MonitorConfig): DoctorTargets {
  return createDoctorTargets(config, processOverrides);
}

/** The process-wide monitor, built once from the environment; throws ConfigurationError. */
export function getMonitorDeps(env: Environment = process.env): MonitorDeps {
  const key = JSON.stringify(env);
  if (!cached || cached.key !== key) {
    // The Functions app registers the queue trigger (src/functions/workQueue.ts): here cycles may fan out.
    const config = loadConfig(env);
    cached = { key, deps: createMonitorDeps(config, { fanOutOverQueue: true, ...processOverrides }) };
    // Once per process (and per settings): what `cmk-monitor doctor` would flag without a network call.
    for (const check of offlineChecks(config)) {
      if (check.status === "fail" || check.status === "warn")
        cached.deps.log.warn(`cmk-monitor doctor: ${check.id}: ${check.detail}${check.fix ? ` (fix: ${check.fix})` : ""}`);
    }
  }
  return cached.deps;
}
