/**
 * From what the probes found to what the emails say and what the lifecycle should hear. Pure:
 *   - evidenceLines: one line per probe with the fact found, and the exact fix for a problem;
 *   - causeVerdict: is the incident's cause still there ("present"), gone, or can we not tell?
 *     (each cause's module in causes/ decides)
 * A probe that could not run never turns into a verdict; it says why it could not.
 */
import type { CmkAccount } from "./account";
import { getCauseDefinition, type CauseId, type CauseVerdict } from "./causes";
import { evaluatePermission, type PermissionVerdict } from "./keyVaultPermissions";
import { formatKeyVaultKeyUri } from "./keyVaultUri";
import { activeVault, firewallBlocksTrustedServices, keyCondition, keyProblemText, targetNames, utcText, vaultCondition } from "./probeConditions";
import type { ActiveVaultFacts, ProbeFacts } from "./probeFacts";
import { KEY_VAULT_CRYPTO_ROLE, type RemediationCommand } from "./remediationCommands";
import { placeholder, sh, type ShellText, type ShellValue } from "./shellQuoting";

export type ProbeId = "key-uri" | "default-identity" | "dns" | "vault" | "network" | "key" | "permission";
export type EvidenceOutcome = "ok" | "problem" | "could-not-check";

/** One probe's result, as a line in the "What we checked" section of an email. */
export interface EvidenceLine {
  probe: ProbeId;
  outcome: EvidenceOutcome;
  /** The fact found (or why it could not be checked), one sentence. */
  text: string;
  /** For a problem: the exact commands that fix it, filled in with what the probes found. */
  commands?: RemediationCommand[];
}

export const PROBE_LABELS: Record<ProbeId, string> = {
  "key-uri": "Key URI",
  "default-identity": "Default identity",
  dns: "Vault DNS",
  vault: "Vault",
  network: "Vault firewall",
  key: "Key",
  permission: "Key permissions",
};

// ---------------------------------------------------------------------------------------------
// Verdict on the incident's cause

// The verdict's type lives with the cause modules that give it; re-exported for the callers of causeVerdict.
export type { CauseVerdict, Verdict } from "./causes";

/** Whether the probes show the incident's cause still in place: the cause's module decides. */
export function causeVerdict(cause: CauseId, facts: ProbeFacts, now: Date): CauseVerdict {
  return getCauseDefinition(cause).verdict(facts, now);
}

// ---------------------------------------------------------------------------------------------
// Evidence lines

function command(text: ShellText, label?: string): RemediationCommand {
  return label ? { label, command: text.text } : { command: text.text };
}

function value(text: string | undefined, name: string): ShellValue {
  return text === undefined || text.trim() === "" || text.startsWith("-") ? placeholder(name) : text;
}

function accountArgs(account: CmkAccount): ShellText {
  return sh`--name ${value(account.name, "account-name")} --resource-group ${value(account.resourceGroup, "resource-group")} --subscription ${value(account.subscriptionId, "subscription-id")}`;
}

function vaultArgs(facts: ProbeFacts, account: CmkAccount): ShellText {
  const vault = activeVault(facts);
  const names = targetNames(facts);
  if (vault)
    return sh`--name ${value(vault.name, "vault-name")} --resource-group ${value(vault.resourceGroup, "resource-group")} --subscription ${value(vault.subscriptionId, "subscription-id")}`;
  return sh`--name ${value(names.vault, "vault-name")} --subscription ${value(account.subscriptionId, "subscription-id")}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** One line per probe, in a fixed order, for the "What we checked" section. */
export function evidenceLines(account: CmkAccount, facts: ProbeFacts, now: Date): EvidenceLine[] {
  const names = targetNames(facts);
  const lines: EvidenceLine[] = [uriLine(account, facts), identityLine(account, facts)];

  if (facts.dns.checked) {
    lines.push(
      facts.dns.value.resolves
        ? { probe: "dns", outcome: "ok", text: `Vault host ${facts.dns.value.host} resolves.` }
        : {
            probe: "dns",
            outcome: "problem",
            text: `Vault host ${facts.dns.value.host} does not resolve (no such host): the vault name is wrong, or the vault was deleted or purged.`,
          },
    );
  } else {
    lines.push({ probe: "dns", outcome: "could-not-check", text: `Could not check whether ${names.host} resolves: ${facts.dns.reason}.` });
  }

  lines.push(vaultLine(account, facts));
  const vault = activeVault(facts);
  if (vault) lines.push(networkLine(account, facts, vault));
  lines.push(keyLine(facts, now));
  lines.push(permissionLine(facts, evaluatePermission(facts)));
  return lines;
}

function uriLine(account: CmkAccount, facts: ProbeFacts): EvidenceLine {
  const check = facts.keyUri;
  if (check.valid) {
    return {
      probe: "key-uri",
      outcome: "ok",
      text: `Key URI ${check.uri} is well formed and versionless (vault ${check.reference?.vaultName}, key ${check.reference?.keyName}).`,
    };
  }
  const fixable = check.reference && check.problems.every((p) => p.code === "has-version" || p.code === "has-query" || p.code === "has-port");
  return {
    probe: "key-uri",
    outcome: "problem",
    text: `Key URI "${check.uri}" is not valid: ${check.problems.map((p) => p.message).join(" ")}`,
    ...(fixable && check.reference
      ? {
          commands: [
            command(
              sh`az cosmosdb update ${accountArgs(account)} --key-uri ${formatKeyVaultKeyUri(check.reference)}`,
              "Point the account at the versionless key URI",
            ),
          ],
        }
      : {}),
  };
}

function identityLine(account: CmkAccount, facts: ProbeFacts): EvidenceLine {
  const identity = facts.identity;
  const federated = identity.federatedClientId ? ` Cross-tenant: FederatedClientId ${identity.federatedClientId}.` : "";
  if (identity.valid) {
    return { probe: "default-identity", outcome: "ok", text: `${identity.description}${federated}` };
  }
  const commands: RemediationCommand[] = [];
  if (identity.kind === "user-assigned" && identity.userAssignedIdentityId && identity.problems.some((p) => p.includes("not attached"))) {
    commands.push(
      command(
        sh`az cosmosdb identity assign ${accountArgs(account)} --identities ${value(identity.userAssignedIdentityId, "user-assigned-identity-resource-id")}`,
        "Attach the identity",
      ),
    );
  } else if (identity.kind === "missing" || identity.kind === "unrecognized") {
    const attached = Object.keys(account.userAssignedIdentities ?? {})[0];
    if (attached) {
      commands.push(
        command(
          sh`az cosmosdb update ${accountArgs(account)} --default-identity ${sh`UserAssignedIdentity=${value(attached, "user-assigned-identity-resource-id")}`}`,
          "Use the attached user-assigned identity",
        ),
      );
    } else if (account.principalId) {
      commands.push(command(sh`az cosmosdb update ${accountArgs(account)} --default-identity SystemAssignedIdentity`, "Use the system-assigned identity"));
    }
  }
  return {
    probe: "default-identity",
    outcome: "problem",
    text: `${identity.problems.join(" ")}${federated}`,
    ...(commands.length > 0 ? { commands } : {}),
  };
}

function vaultLine(account: CmkAccount, facts: ProbeFacts): EvidenceLine {
  const names = targetNames(facts);
  if (facts.keyUri.service === "managed-hsm") {
    return { probe: "vault", outcome: "could-not-check", text: `Could not check ${names.host}: the vault probes cover Key Vault vaults, not Managed HSM.` };
  }
  if (!facts.vault.checked) return { probe: "vault", outcome: "could-not-check", text: `Could not check vault ${names.vault}: ${facts.vault.reason}.` };
  const vault = facts.vault.value;
  switch (vault.state) {
    case "active": {
      const model = vault.permissionModel === "rbac" ? "Azure RBAC" : "access policies";
      const softDelete = vault.softDeleteEnabled
        ? `soft delete on${vault.softDeleteRetentionInDays ? ` (${vault.softDeleteRetentionInDays} days)` : ""}`
        : "soft delete OFF";
      const purge = vault.purgeProtectionEnabled ? "purge protection on" : "purge protection OFF";
      return {
        probe: "vault",
        outcome: "ok",
        text: `Vault ${vault.name} exists (resource group ${vault.resourceGroup}, subscription ${vault.subscriptionId}); it uses ${model}, ${softDelete}, ${purge}.`,
      };
    }
    case "deleted":
      return {
        probe: "vault",
        outcome: "problem",
        text: `Vault ${vault.name} was deleted on ${utcText(vault.deletedOn)} and can be recovered until ${utcText(vault.purgeScheduledOn)}.`,
        commands: [
          command(
            sh`az keyvault recover --name ${value(vault.name, "vault-name")} --subscription ${value(vault.subscriptionId ?? account.subscriptionId, "subscription-id")}`,
            "Recover the vault (its keys come back with it)",
          ),
        ],
      };
    case "not-found":
      return vaultCondition(facts) === "missing"
        ? {
            probe: "vault",
            outcome: "problem",
            text: `Vault ${vault.name} does not exist: it is not among the vaults or deleted vaults of ${vault.searchedSubscriptions.join(", ")}, and its host name does not resolve (wrong name, or purged).`,
          }
        : {
            probe: "vault",
            outcome: "could-not-check",
            text: `Could not check vault ${vault.name}: it is not among the vaults or deleted vaults the monitor can read (${vault.searchedSubscriptions.join(", ") || "no subscriptions"}).`,
          };
  }
}

function networkLine(account: CmkAccount, facts: ProbeFacts, vault: ActiveVaultFacts): EvidenceLine {
  if (firewallBlocksTrustedServices(vault)) {
    const how = /^disabled$/i.test(vault.publicNetworkAccess) ? "public network access is disabled" : "the firewall denies public traffic by default";
    return {
      probe: "network",
      outcome: "problem",
      text: `Vault ${vault.name}: ${how} and trusted Microsoft services (Cosmos DB among them) are not allowed to bypass it.`,
      commands: [command(sh`az keyvault update ${vaultArgs(facts, account)} --bypass AzureServices`, "Let trusted Microsoft services through")],
    };
  }
  const text =
    /^deny$/i.test(vault.firewallDefaultAction) || /^disabled$/i.test(vault.publicNetworkAccess)
      ? `Vault ${vault.name}: the firewall restricts public traffic but lets trusted Microsoft services (Cosmos DB) through.`
      : `Vault ${vault.name}: the firewall allows public traffic (default action ${vault.firewallDefaultAction || "Allow"}).`;
  return { probe: "network", outcome: "ok", text };
}

function keyLine(facts: ProbeFacts, now: Date): EvidenceLine {
  const names = targetNames(facts);
  const keyArgs = sh`--vault-name ${value(names.vault, "vault-name")} --name ${value(names.key, "key-name")}`;
  const condition = keyCondition(facts, now);
  switch (condition.state) {
    case "unknown":
      return { probe: "key", outcome: "could-not-check", text: `Could not check key ${names.key}: ${condition.reason}.` };
    case "usable": {
      const key = condition.key;
      const expiry = key.expiresOn ? `it expires on ${utcText(key.expiresOn)}` : "it has no expiry date";
      return {
        probe: "key",
        outcome: "ok",
        text: `Key ${names.key} in vault ${names.vault} exists and is enabled${key.version ? ` (current version ${key.version})` : ""}; ${expiry}.`,
      };
    }
    case "disabled":
      return {
        probe: "key",
        outcome: "problem",
        text: `${sentence(keyProblemText("disabled", condition.key, names))}`,
        commands: [command(sh`az keyvault key set-attributes ${keyArgs} --enabled true`, "Enable the key")],
      };
    case "expired":
      return {
        probe: "key",
        outcome: "problem",
        text: sentence(keyProblemText("expired", condition.key, names)),
        commands: [
          command(
            sh`az keyvault key set-attributes ${keyArgs} --expires ${placeholder("new-expiry-utc")}`,
            "Move the expiry date (UTC, e.g. 2030-01-01T00:00:00Z)",
          ),
        ],
      };
    case "not-yet-valid":
      return {
        probe: "key",
        outcome: "problem",
        text: sentence(keyProblemText("not-yet-valid", condition.key, names)),
        commands: [command(sh`az keyvault key set-attributes ${keyArgs} --not-before ${placeholder("not-before-utc")}`, "Move the not-before date")],
      };
    case "deleted": {
      const key = facts.key.checked && facts.key.value.state === "deleted" ? facts.key.value : undefined;
      return {
        probe: "key",
        outcome: "problem",
        text: `Key ${names.key} in vault ${names.vault} was deleted on ${utcText(key?.deletedOn)} and can be recovered until ${utcText(key?.purgeScheduledOn)}.`,
        commands: [command(sh`az keyvault key recover ${keyArgs}`, "Recover the key")],
      };
    }
    case "missing":
      return {
        probe: "key",
        outcome: "problem",
        text: `Key ${names.key} does not exist in vault ${names.vault}, not even as a deleted key: it was purged or never existed. Restore it from a backup, or open a support case.`,
        commands: [
          command(
            sh`az keyvault key restore --vault-name ${value(names.vault, "vault-name")} --file ${placeholder("key-backup-file")}`,
            "Restore from a backup",
          ),
        ],
      };
  }
}

function permissionLine(facts: ProbeFacts, verdict: PermissionVerdict): EvidenceLine {
  switch (verdict.status) {
    case "granted":
      return { probe: "permission", outcome: "ok", text: sentence(verdict.via) };
    case "unknown":
      return { probe: "permission", outcome: "could-not-check", text: `Could not check the default identity's permissions on the key: ${verdict.reason}.` };
    case "missing": {
      const vault = activeVault(facts)!;
      const names = targetNames(facts);
      const principal = value(verdict.principalId, "principal-id");
      const fix =
        verdict.model === "access-policies"
          ? command(
              sh`az keyvault set-policy --name ${value(vault.name, "vault-name")} --resource-group ${value(vault.resourceGroup, "resource-group")} --subscription ${value(vault.subscriptionId, "subscription-id")} --object-id ${principal} --key-permissions get wrapKey unwrapKey`,
              `Grant principal ${verdict.principalId} get, wrapKey and unwrapKey`,
            )
          : command(
              sh`az role assignment create --role ${KEY_VAULT_CRYPTO_ROLE} --assignee-object-id ${principal} --assignee-principal-type ServicePrincipal --scope ${`${vault.id}/keys/${names.key}`}`,
              `Give principal ${verdict.principalId} the role "${KEY_VAULT_CRYPTO_ROLE}" on the key`,
            );
      return { probe: "permission", outcome: "problem", text: sentence(verdict.detail), commands: [fix] };
    }
  }
}
