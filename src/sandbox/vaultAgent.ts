/**
 * How the real Key Vault SDK reaches the sandbox while keeping real-looking vault host names
 * (`<name>.vault.azure.net`): an https.Agent whose DNS lookup is the sandbox's resolver (vault
 * names it says do not exist fail with ENOTFOUND, like real DNS) and whose connections go to
 * the sandbox's port on 127.0.0.1. TLS still checks the host name against the sandbox
 * certificate, which lists the vault domains. Used only in sandbox mode (see composition.ts).
 */
import type { LookupFunction } from "node:net";
import https from "node:https";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import { VAULT_IDLE_SOCKET_IN_MS } from "../adapters/keyVaultKeys";

export interface VaultAgentOptions {
  ca: string;
  /** The sandbox's port on 127.0.0.1. */
  port: number;
  /** The sandbox's DNS: does this host name exist? */
  resolves(host: string): boolean;
}

export function createVaultAgent(options: VaultAgentOptions): https.Agent {
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    if (!options.resolves(hostname)) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", errno: -3008, syscall: "getaddrinfo", hostname });
      // Node 20 asks for every address (`all: true`) when it may race IPv4 and IPv6.
      if ((lookupOptions as { all?: boolean }).all) (callback as (e: Error, a: never[]) => void)(error, []);
      else callback(error, "", 4);
      return;
    }
    if ((lookupOptions as { all?: boolean }).all)
      (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
  };
  class SandboxVaultAgent extends https.Agent {
    override createConnection(connectOptions: object, callback?: (error: Error | null, socket: Duplex) => void): Duplex {
      // The URL says port 443; the sandbox listens elsewhere. Host name (SNI, certificate check) is untouched.
      const create = (https.Agent.prototype as unknown as { createConnection(o: object, cb?: unknown): Duplex }).createConnection;
      return create.call(this, { ...connectOptions, port: options.port }, callback);
    }
  }
  // One TLS context for every vault host: a fleet has thousands of vaults, each its own connection.
  // Idle connections close as in production (VAULT_IDLE_SOCKET_IN_MS).
  return new SandboxVaultAgent({
    ca: options.ca,
    secureContext: tls.createSecureContext({ ca: options.ca }),
    keepAlive: true,
    timeout: VAULT_IDLE_SOCKET_IN_MS,
    lookup,
  });
}
