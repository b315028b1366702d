/** Sandbox set-up the change-event and catch-up suites share: a healthy owned account, and the subjects an owner received. */
import type { LocalSandbox, SandboxAccountSpec, SentEmail } from "../../src/sandbox";

export const HEALTHY_STATUS = "Access to the configured customer managed key confirmed.";

/** A healthy account with a system-assigned default identity, owned through the `cmk-owner` tag, its vault `kv-<name>`. */
export function healthyAccountSpec(
  name: string,
  subscriptionId: string,
  owner: string,
  principalId: string,
  keyVault: SandboxAccountSpec["keyVault"] = "match-status",
): SandboxAccountSpec {
  return {
    name,
    subscriptionId,
    resourceGroup: `rg-${name}`,
    keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId },
    tags: { "cmk-owner": owner },
    status: HEALTHY_STATUS,
    keyVault,
  };
}

/** The subjects of every email the sandbox delivered to `address`, in order. */
export function subjectsTo(sandbox: LocalSandbox, address: string): string[] {
  return sandbox
    .sentEmails()
    .filter((e: SentEmail) => e.to.includes(address))
    .map((e) => e.subject);
}
