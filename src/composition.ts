/**
 * The composition root: the only place SDK clients and adapters are constructed. Production
 * and the local sandbox differ here, and only in endpoint, credential, TLS trust and clock.
 */
import { EmailClient } from "@azure/communication-email";
import type { TokenCredential } from "@azure/core-auth";
import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { AcsEmailSender } from "./adapters/acsEmail";
import { ArmAccountSource, type AccountSource } from "./adapters/armAccounts";
import { ArmSubscriptionLister, type SubscriptionLister } from "./adapters/armSubscriptions";
import { TableIncidentStore } from "./adapters/tableStore";
import { loadConfig, type Environment, type MonitorConfig } from "./config";
import type { Clock, Logger, MonitorDeps } from "./pipeline/stage";

export interface CompositionOverrides {
  /** Replaces DefaultAzureCredential (the sandbox's stub credential). */
  credential?: TokenCredential;
  /** Extra CA to trust (the sandbox's self-signed certificate). */
  tlsCa?: string;
  clock?: Clock;
  log?: Logger;
  /** How often to poll ACS send operations. */
  emailPollIntervalInMs?: number;
  /** Turns SDK retries off where a caller injects failures on purpose. */
  maxRetries?: number;
}

export const systemClock: Clock = { now: () => new Date() };

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

export function createMonitorDeps(config: MonitorConfig, overrides: CompositionOverrides = {}): MonitorDeps {
  const credential =
    overrides.credential ??
    new DefaultAzureCredential(config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {});
  const clientOptions = {
    ...(overrides.tlsCa ? { tlsOptions: { ca: overrides.tlsCa } } : {}),
    ...(overrides.maxRetries !== undefined ? { retryOptions: { maxRetries: overrides.maxRetries } } : {}),
  };

  const accounts = new ArmAccountSource({ credential, endpoint: config.armEndpoint, clientOptions });

  const table =
    config.state.kind === "connection-string"
      ? TableClient.fromConnectionString(config.state.connectionString, config.stateTable, {
          ...clientOptions,
          // Azurite speaks plain http on loopback; real storage is always https.
          allowInsecureConnection: /(^|;)\s*(TableEndpoint=http:|UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;)/i.test(
            config.state.connectionString,
          ),
        })
      : new TableClient(config.state.tableEndpoint, config.stateTable, credential, clientOptions);
  const store = new TableIncidentStore(table);

  const emailClient =
    config.email.kind === "connection-string"
      ? new EmailClient(config.email.connectionString, clientOptions)
      : new EmailClient(config.email.endpoint, credential, clientOptions);
  const email = new AcsEmailSender(emailClient, {
    ...(overrides.emailPollIntervalInMs !== undefined ? { pollIntervalInMs: overrides.emailPollIntervalInMs } : {}),
  });

  return {
    accounts,
    store,
    email,
    clock: overrides.clock ?? systemClock,
    log: overrides.log ?? consoleLogger,
    settings: {
      subscriptionIds: config.subscriptionIds,
      emailSender: config.emailSender,
      reminderIntervalInMinutes: config.reminderIntervalInMinutes,
      escalationRecipients: config.escalationRecipients,
      ownerTag: config.ownerTag,
      defaultRecipients: config.defaultRecipients,
      allowedRecipientDomains: config.allowedRecipientDomains,
      sendLeaseInSeconds: 300,
      listConcurrency: 8,
    },
  };
}

/** What the read-only `scan` command needs: no store, no email. */
export interface ScanDeps {
  accounts: AccountSource;
  subscriptions: SubscriptionLister;
}

export function createScanDeps(env: Environment = process.env, overrides: CompositionOverrides = {}): ScanDeps {
  const armEndpoint = env.CMK_ARM_ENDPOINT?.trim() || "https://management.azure.com";
  const clientId = env.AZURE_CLIENT_ID?.trim();
  const credential = overrides.credential ?? new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  const clientOptions = {
    ...(overrides.tlsCa ? { tlsOptions: { ca: overrides.tlsCa } } : {}),
    ...(overrides.maxRetries !== undefined ? { retryOptions: { maxRetries: overrides.maxRetries } } : {}),
  };
  return {
    accounts: new ArmAccountSource({ credential, endpoint: armEndpoint, clientOptions }),
    subscriptions: new ArmSubscriptionLister({ credential, endpoint: armEndpoint, clientOptions }),
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

/** The process-wide monitor, built once from the environment; throws ConfigurationError. */
export function getMonitorDeps(env: Environment = process.env): MonitorDeps {
  const key = JSON.stringify(env);
  if (!cached || cached.key !== key) {
    cached = { key, deps: createMonitorDeps(loadConfig(env), processOverrides) };
  }
  return cached.deps;
}
