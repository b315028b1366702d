/** Key metadata from the Key Vault data plane (`@azure/keyvault-keys`): no key material, no crypto. */
import https from "node:https";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import { KeyClient } from "@azure/keyvault-keys";
import type { ActiveKeyFacts, DeletedKeyFacts } from "../domain/probeFacts";
import { ClientCache, CLIENTS_KEPT } from "./clientCache";
import { statusCodeOf } from "../ports/failures";
import type { KeyMetadataReader, ProbeCallOptions } from "../ports/keyVaultReads";

/**
 * How long a connection to a vault stays open once idle. The probe reads a vault's key in two
 * requests back to back (Key Vault's auth challenge, then the read), and the next read of that
 * vault is usually tomorrow's; kept open, a fleet's vault connections would pile up into the
 * thousands (a Consumption-plan instance allows 600 active outbound connections) and hold
 * their TLS buffers in memory.
 */
export const VAULT_IDLE_SOCKET_IN_MS = 1_000;

/**
 * One connection pool for every vault's client: keep-alive for the challenge and read, closed soon
 * after. Undefined when a proxy is configured: the SDK only routes a request through its proxy
 * agent when the request has no agent of its own, and the proxy then holds the connections.
 */
export function createKeyVaultAgent(options: { proxyConfigured: boolean }): https.Agent | undefined {
  if (options.proxyConfigured) return undefined;
  return new https.Agent({ keepAlive: true, timeout: VAULT_IDLE_SOCKET_IN_MS });
}

/**
 * The credential a vault's KeyClient gets: it issues a token only for that vault's own scope
 * (`https://<vault suffix>/.default`) and never for the tenant a challenge names. Key Vault's
 * challenge tells the client which scope and tenant to ask for; the host is already checked
 * (src/domain/vaultProbeTarget.ts), and this keeps a forged challenge from choosing either.
 */
export class VaultScopedCredential implements TokenCredential {
  readonly scope: string;

  constructor(
    private readonly inner: TokenCredential,
    vaultUrl: string,
  ) {
    const host = new URL(vaultUrl).hostname.toLowerCase();
    this.scope = `https://${host.slice(host.indexOf(".") + 1)}/.default`;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken | null> {
    const requested = typeof scopes === "string" ? [scopes] : scopes;
    if (requested.length !== 1 || requested[0]!.toLowerCase() !== this.scope) {
      throw Object.assign(new Error("Key Vault asked for a token scope other than its own"), { name: "UnexpectedScopeError", code: "UnexpectedScope" });
    }
    // The monitor's own tenant only: a challenge's tenant is dropped, not followed.
    const { tenantId: _challengeTenant, ...rest } = options;
    return this.inner.getToken(this.scope, rest);
  }
}

export interface SdkKeyMetadataReaderOptions {
  credential: TokenCredential;
  /** TLS trust, retries, and in sandbox mode the agent that resolves vault names to the sandbox. */
  clientOptions?: CommonClientOptions;
}

export class SdkKeyMetadataReader implements KeyMetadataReader {
  private readonly clients = new ClientCache<KeyClient>(CLIENTS_KEPT);

  constructor(private readonly options: SdkKeyMetadataReaderOptions) {}

  async getKey(vaultUrl: string, keyName: string, options: ProbeCallOptions = {}): Promise<ActiveKeyFacts | undefined> {
    try {
      const key = await this.client(vaultUrl).getKey(keyName, options.abortSignal ? { abortSignal: options.abortSignal } : {});
      const p = key.properties;
      return {
        state: "active",
        name: key.name,
        ...(p.version ? { version: p.version } : {}),
        enabled: p.enabled !== false,
        ...(p.expiresOn ? { expiresOn: p.expiresOn.toISOString() } : {}),
        ...(p.notBefore ? { notBefore: p.notBefore.toISOString() } : {}),
        ...(p.recoverableDays !== undefined ? { recoverableDays: p.recoverableDays } : {}),
        ...(p.recoveryLevel ? { recoveryLevel: p.recoveryLevel } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getDeletedKey(vaultUrl: string, keyName: string, options: ProbeCallOptions = {}): Promise<DeletedKeyFacts | undefined> {
    try {
      const deleted = await this.client(vaultUrl).getDeletedKey(keyName, options.abortSignal ? { abortSignal: options.abortSignal } : {});
      const p = deleted.properties;
      return {
        state: "deleted",
        name: deleted.name,
        ...(p.deletedOn ? { deletedOn: p.deletedOn.toISOString() } : {}),
        ...(p.scheduledPurgeDate ? { purgeScheduledOn: p.scheduledPurgeDate.toISOString() } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private client(vaultUrl: string): KeyClient {
    return this.clients.get(
      vaultUrl,
      // Challenge resource verification stays on: the challenge's resource must match the vault's domain.
      () =>
        new KeyClient(vaultUrl, new VaultScopedCredential(this.options.credential, vaultUrl), {
          ...this.options.clientOptions,
          disableChallengeResourceVerification: false,
        }),
    );
  }
}

function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}
