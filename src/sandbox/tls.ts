import { generate } from "selfsigned";

/** PEM material for the sandbox's HTTPS server; `cert` doubles as the clients' trusted `ca`. */
export interface SandboxTlsMaterial {
  cert: string;
  key: string;
}

/**
 * Makes a fresh self-signed certificate for 127.0.0.1 and localhost.
 * Bearer-token SDK clients refuse plain http, so the sandbox must speak TLS; a per-run
 * certificate means nothing secret is checked in and nothing outlives the process.
 */
export async function createSandboxCertificate(): Promise<SandboxTlsMaterial> {
  const oneDayInMs = 24 * 60 * 60 * 1000;
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    // EC keys generate in milliseconds; RSA-2048 would add noticeable start-up time per test file.
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    // Back-dated a little so a client clock slightly behind ours still accepts it.
    notBeforeDate: new Date(now - 60 * 60 * 1000),
    notAfterDate: new Date(now + oneDayInMs),
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      // Clients check the SAN, not the CN: both the IP and the name must be listed.
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
          // Vault host names stay real-looking in the sandbox (see vaultAgent.ts).
          { type: 2, value: "*.vault.azure.net" },
          { type: 2, value: "*.vault.azure.cn" },
          { type: 2, value: "*.vault.usgovcloudapi.net" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
