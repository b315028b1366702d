/**
 * Settings and composition overrides that point the real monitor at the local sandbox and
 * Azurite. Used by `npm start` (the drill) and by the integration tests.
 */
import type { CompositionOverrides } from "../composition";
import type { Environment } from "../config";
import { SANDBOX_ACS_RESOURCE_ID } from "./acsDeliveryReports";
import type { AzuriteInstance } from "./azurite";
import type { LocalSandbox } from "./server";
import type { Clock } from "../ports/clock";

export const SANDBOX_SENDER = "cmk-monitor@sandbox.contoso.com";
/** The vault domains the sandbox's certificate and DNS serve (src/sandbox/tls.ts). */
export const SANDBOX_VAULT_SUFFIXES: readonly string[] = ["vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net"];
export const SANDBOX_ESCALATION = "cosmos-support@contoso.com";

export function sandboxEnvironment(sandbox: LocalSandbox, azurite: AzuriteInstance, settings: Environment & { CMK_SUBSCRIPTION_IDS: string }): Environment {
  return {
    CMK_EMAIL_SENDER: SANDBOX_SENDER,
    // The sandbox sender is on a custom domain (contoso.com): its limits, unless a caller says otherwise.
    CMK_EMAIL_DOMAIN_KIND: "custom",
    CMK_ESCALATION_RECIPIENTS: SANDBOX_ESCALATION,
    ACS_CONNECTION_STRING: sandbox.acsConnectionString,
    // Its delivery reports name this resource as their topic (acsDeliveryReports.ts).
    CMK_ACS_RESOURCE_ID: SANDBOX_ACS_RESOURCE_ID,
    CMK_STATE_CONNECTION: azurite.connectionString,
    CMK_ARM_ENDPOINT: sandbox.url,
    // The drill's owners, defaults and escalation contacts are all contoso's.
    CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com,*.contoso.com",
    ...settings,
  };
}

/** Same SDK clients; only the credential, the trusted CA, the vault-name resolution and (for drills) the clock differ. */
export function sandboxOverrides(
  sandbox: LocalSandbox,
  extra: { clock?: Clock } & Omit<CompositionOverrides, "credential" | "tlsCa"> = {},
): CompositionOverrides {
  return {
    credential: sandbox.credential,
    tlsCa: sandbox.ca,
    supportPollIntervalInMs: 0,
    // Vault host names stay real-looking: the sandbox resolves them and serves them (vaultAgent.ts).
    keyVaultAgent: sandbox.keyVaultAgent,
    hostResolver: sandbox.resolver,
    // The sandbox serves vaults of every cloud; production probes only its own cloud's.
    vaultHostSuffixes: SANDBOX_VAULT_SUFFIXES,
    ...extra,
  };
}
