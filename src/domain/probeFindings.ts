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
import { commandTarget, guardedValue, identityIdValue, keyScopeValue, principalValue, type CommandTarget } from "./commandTarget";
import { displayValue } from "./displayText";
import { activeVault, firewallBlocksTrustedServices, keyCondition, keyProblemText, targetNames, utcText, vaultCondition } from "./probeConditions";
import type { ActiveVaultFacts, ProbeFacts } from "./probeFacts";
import { accountArgs, keyArgs, KEY_VAULT_CRYPTO_ROLE, roleArgs, setDefaultIdentity, type RemediationCommand } from "./remediationCommands";
import { placeholder, sh, type ShellText } from "./shellQuoting";

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
  /** A time after which this fix stops working (a deleted vault or key is purged then): the email leads with it. */
  deadline?: { at: string; what: string };
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

/** "was deleted on <time> and can be recovered until <time>", saying so plainly when Key Vault reported no date. */
function deletedAndRecoverable(deletedOn: string | undefined, purgeScheduledOn: string | undefined): string {
  const deleted = deletedOn ? `was deleted on ${utcText(deletedOn)}` : "was deleted (Key Vault reported no deletion date)";
  const recoverable = purgeScheduledOn ? `can be recovered until ${utcText(purgeScheduledOn)}` : "can be recovered until it is purged (no purge date reported)";
  return `${deleted} and ${recoverable}`;
}

function command(text: ShellText, label?: string): RemediationCommand {
  return label ? { label, command: text.text } : { command: text.text };
}

/**
 * The vault as ARM describes it, each part through the same shape checks as the account's values:
 * the vault's own resource group and subscription, so a vault elsewhere is still named right.
 */
function armVaultArgs(vault: { name: string; resourceGroup?: string; subscriptionId?: string }, t: CommandTarget): ShellText {
  const name = guardedValue(vault.name, "vaultName", "vault-name");
  const group = vault.resourceGroup === undefined ? undefined : guardedValue(vault.resourceGroup, "resourceGroup", "vault-resource-group");
  const subscription = vault.subscriptionId === undefined ? t.subscription : guardedValue(vault.subscriptionId, "subscriptionId", "subscription-id");
  return group === undefined ? sh`--name ${name} --subscription ${subscription}` : sh`--name ${name} --resource-group ${group} --subscription ${subscription}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** One line per probe, in a fixed order, for the "What we checked" section. */
export function evidenceLines(account: CmkAccount, facts: ProbeFacts, now: Date): EvidenceLine[] {
  const names = targetNames(facts);
  const t = commandTarget(account);
  const lines: EvidenceLine[] = [uriLine(t, facts), identityLine(account, t, facts)];

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

  lines.push(vaultLine(t, facts));
  const vault = activeVault(facts);
  if (vault) lines.push(networkLine(t, vault));
  lines.push(keyLine(t, facts, now));
  lines.push(permissionLine(t, facts, evaluatePermission(facts)));
  return lines;
}

function uriLine(t: CommandTarget, facts: ProbeFacts): EvidenceLine {
  const check = facts.keyUri;
  if (check.valid) {
    return {
      probe: "key-uri",
      outcome: "ok",
      text: `Key URI ${displayValue(check.uri)} is well formed and versionless (vault ${check.reference?.vaultName}, key ${check.reference?.keyName}).`,
    };
  }
  const fixable = check.reference && check.problems.every((p) => p.code === "has-version" || p.code === "has-query" || p.code === "has-port");
  return {
    probe: "key-uri",
    outcome: "problem",
    text: `Key URI "${displayValue(check.uri)}" is not valid: ${displayValue(check.problems.map((p) => p.message).join(" "), 1000)}`,
    // Only from the strictly checked vault host and key name: the lenient reading names any host.
    ...(fixable && typeof t.vaultHost === "string" && typeof t.keyName === "string"
      ? {
          commands: [
            command(
              sh`az cosmosdb update ${accountArgs(t)} --key-uri ${sh`https://${t.vaultHost}/keys/${t.keyName}`}`,
              "Point the account at the versionless key URI",
            ),
          ],
        }
      : {}),
  };
}

function identityLine(account: CmkAccount, t: CommandTarget, facts: ProbeFacts): EvidenceLine {
  const identity = facts.identity;
  const federated = identity.federatedClientId ? ` Cross-tenant: FederatedClientId ${displayValue(identity.federatedClientId)}.` : "";
  if (identity.valid) {
    return { probe: "default-identity", outcome: "ok", text: `${displayValue(identity.description, 1000)}${federated}` };
  }
  const commands: RemediationCommand[] = [];
  if (identity.kind === "user-assigned" && identity.userAssignedIdentityId && identity.problems.some((p) => p.includes("not attached"))) {
    commands.push(
      command(sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${identityIdValue(identity.userAssignedIdentityId)}`, "Attach the identity"),
    );
  } else if (identity.kind === "missing" || identity.kind === "unrecognized") {
    const attached = Object.keys(account.userAssignedIdentities ?? {})[0];
    if (attached) {
      commands.push(command(setDefaultIdentity(t, sh`UserAssignedIdentity=${identityIdValue(attached)}`), "Use the attached user-assigned identity"));
    } else if (account.principalId) {
      commands.push(command(setDefaultIdentity(t, "SystemAssignedIdentity"), "Use the system-assigned identity"));
    }
  }
  return {
    probe: "default-identity",
    outcome: "problem",
    text: `${displayValue(identity.problems.join(" "), 1000)}${federated}`,
    ...(commands.length > 0 ? { commands } : {}),
  };
}

function vaultLine(t: CommandTarget, facts: ProbeFacts): EvidenceLine {
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
        text: `Vault ${vault.name} ${deletedAndRecoverable(vault.deletedOn, vault.purgeScheduledOn)}.`,
        ...(vault.purgeScheduledOn ? { deadline: { at: vault.purgeScheduledOn, what: "Azure purges the deleted vault" } } : {}),
        commands: [
          command(
            sh`az keyvault recover ${armVaultArgs({ name: vault.name, ...(vault.subscriptionId ? { subscriptionId: vault.subscriptionId } : {}) }, t)}`,
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

function networkLine(t: CommandTarget, vault: ActiveVaultFacts): EvidenceLine {
  if (firewallBlocksTrustedServices(vault)) {
    const how = /^disabled$/i.test(vault.publicNetworkAccess) ? "public network access is disabled" : "the firewall denies public traffic by default";
    return {
      probe: "network",
      outcome: "problem",
      text: `Vault ${vault.name}: ${how} and trusted Microsoft services (Cosmos DB among them) are not allowed to bypass it.`,
      commands: [command(sh`az keyvault update ${armVaultArgs(vault, t)} --bypass AzureServices`, "Let trusted Microsoft services through")],
    };
  }
  const text =
    /^deny$/i.test(vault.firewallDefaultAction) || /^disabled$/i.test(vault.publicNetworkAccess)
      ? `Vault ${vault.name}: the firewall restricts public traffic but lets trusted Microsoft services (Cosmos DB) through.`
      : `Vault ${vault.name}: the firewall allows public traffic (default action ${vault.firewallDefaultAction || "Allow"}).`;
  return { probe: "network", outcome: "ok", text };
}

function keyLine(t: CommandTarget, facts: ProbeFacts, now: Date): EvidenceLine {
  const names = targetNames(facts);
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
        commands: [command(sh`az keyvault key set-attributes ${keyArgs(t)} --enabled true`, "Enable the key")],
      };
    case "expired":
      return {
        probe: "key",
        outcome: "problem",
        text: sentence(keyProblemText("expired", condition.key, names)),
        commands: [
          command(
            sh`az keyvault key set-attributes ${keyArgs(t)} --expires ${placeholder("new-expiry-utc")}`,
            "Move the expiry date (UTC, e.g. 2030-01-01T00:00:00Z)",
          ),
        ],
      };
    case "not-yet-valid":
      return {
        probe: "key",
        outcome: "problem",
        text: sentence(keyProblemText("not-yet-valid", condition.key, names)),
        commands: [command(sh`az keyvault key set-attributes ${keyArgs(t)} --not-before ${placeholder("not-before-utc")}`, "Move the not-before date")],
      };
    case "deleted": {
      const key = facts.key.checked && facts.key.value.state === "deleted" ? facts.key.value : undefined;
      return {
        probe: "key",
        outcome: "problem",
        text: `Key ${names.key} in vault ${names.vault} ${deletedAndRecoverable(key?.deletedOn, key?.purgeScheduledOn)}.`,
        ...(key?.purgeScheduledOn ? { deadline: { at: key.purgeScheduledOn, what: "Azure purges the deleted key" } } : {}),
        commands: [command(sh`az keyvault key recover ${keyArgs(t)}`, "Recover the key")],
      };
    }
    case "missing":
      return {
        probe: "key",
        outcome: "problem",
        text: `Key ${names.key} does not exist in vault ${names.vault}, not even as a deleted key: it was purged or never existed. Restore it from a backup, or open a support case.`,
        commands: [command(sh`az keyvault key restore --vault-name ${t.vaultName} --file ${placeholder("key-backup-file")}`, "Restore from a backup")],
      };
  }
}

function permissionLine(t: CommandTarget, facts: ProbeFacts, verdict: PermissionVerdict): EvidenceLine {
  switch (verdict.status) {
    case "granted":
      return { probe: "permission", outcome: "ok", text: sentence(verdict.via) };
    case "unknown":
      return { probe: "permission", outcome: "could-not-check", text: `Could not check the default identity's permissions on the key: ${verdict.reason}.` };
    case "missing": {
      const vault = activeVault(facts)!;
      const principal = principalValue(verdict.principalId);
      // The vault's ARM id plus the key name that passed the key-name rule: never the raw URI's path.
      const scope = keyScopeValue(guardedValue(vault.id, "vaultResourceId", "vault-resource-id"), t.keyName);
      const who = typeof principal === "string" ? `principal ${principal}` : "the default identity";
      const fix =
        verdict.model === "access-policies"
          ? command(
              sh`az keyvault set-policy ${armVaultArgs(vault, t)} --object-id ${principal} --key-permissions get wrapKey unwrapKey`,
              `Grant ${who} get, wrapKey and unwrapKey`,
            )
          : command(sh`az role assignment create ${roleArgs(principal)} --scope ${scope}`, `Give ${who} the role "${KEY_VAULT_CRYPTO_ROLE}" on the key`);
      return { probe: "permission", outcome: "problem", text: sentence(verdict.detail), commands: [fix] };
    }
  }
}
