/**
 * What an owner should do for each revoked cause, rendered for their account: a few steps,
 * each with ready-to-paste `az` commands. Pure. Every value read from Azure reaches a command
 * only through `sh` (which shell-quotes it); unknown values become `<placeholders>`.
 */
import type { CmkAccount } from "./account";
import { getCause, type CauseId, type RecoveryPolicy } from "./causes";
import { azureValue, commandTarget, freeValue, HOST_NAME, identityIdValue, type CommandTarget } from "./commandTarget";
import { formatKeyVaultKeyUri } from "./keyVaultUri";
import {
  accountArgs,
  cmd,
  grantStep,
  SAME_SUBSCRIPTION_NOTE,
  sentences,
  setDefaultIdentity,
  showIdentity,
  showKey,
  showKeyUri,
  showStatus,
  type RemediationStep,
} from "./remediationCommands";
import { placeholder, sh, shellQuote, type ShellValue } from "./shellQuoting";

// Their homes are defaultIdentity.ts and remediationCommands.ts; re-exported for the code that
// imports them from here (email templates, the CLI, tests).
export { resolveDefaultIdentity, type DefaultIdentityKind, type DefaultIdentityResolution } from "./defaultIdentity";
export { KEY_VAULT_CRYPTO_ROLE, type RemediationCommand, type RemediationStep } from "./remediationCommands";

// ---------------------------------------------------------------------------------------------
// The steps

/** "one hour", "two hours", "90 minutes": durations as the emails say them. */
export function describeMinutes(minutes: number): string {
  const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
  if (minutes % 60 === 0 && minutes / 60 < words.length) {
    const hours = minutes / 60;
    return `${words[hours]} hour${hours === 1 ? "" : "s"}`;
  }
  return `${minutes} minutes`;
}

function expectationStep(cause: CauseId, policy: RecoveryPolicy, t: CommandTarget): RemediationStep {
  const expected = describeMinutes(policy.expectedRecoveryInMinutes);
  const escalate = describeMinutes(policy.escalateAfterInMinutes);
  const check = [cmd(showStatus(t), "Check the current status")];
  if (cause === "key-vault-dns-unresolved") {
    return {
      text:
        `If you restored a deleted vault or corrected the vault name, access usually returns within about ${expected}. ` +
        `If nothing was wrong on your side, Key Vault itself may be having trouble: allow up to ${escalate} from detection. ` +
        "If the account is still revoked after that, contact Microsoft support; this monitor escalates on its own at that point.",
      commands: check,
    };
  }
  if (policy.clockStartsAt === "detection") {
    return {
      text:
        `Allow up to ${escalate} from detection for the account to recover without any change on your side. ` +
        "If it is still revoked after that, contact Microsoft support; this monitor escalates on its own at that point.",
      commands: check,
    };
  }
  return {
    text:
      `Once the fix is in place, the account usually leaves the revoked state within about ${expected}. ` +
      `If it is still revoked ${escalate} after the fix, contact Microsoft support; this monitor escalates on its own at that point.`,
    commands: check,
  };
}

function defaultIdentityUnauthorized(t: CommandTarget): RemediationStep[] {
  return [
    {
      text:
        sentences("Confirm which identity Cosmos DB uses to reach the key.", t.identity?.description),
      commands: [cmd(showIdentity(t))],
    },
    grantStep(t, t.principal, "that identity"),
    {
      text:
        "The same error appears when the key is disabled or expired. Make sure the key is enabled and inside its validity dates " +
        "(to re-enable it: az keyvault key set-attributes … --enabled true).",
      commands: [cmd(showKey(t))],
    },
  ];
}

function aadTokenAcquisition(t: CommandTarget): RemediationStep[] {
  const identity = t.identity;
  const checks = [cmd(showIdentity(t))];
  let reattach: RemediationStep;
  if (identity?.kind === "user-assigned") {
    const id = identityIdValue(identity.userAssignedIdentityId);
    checks.push(cmd(sh`az identity show --ids ${id} --query "{principalId: principalId, clientId: clientId}"`, "Does the identity still exist?"));
    reattach = {
      text:
        "If the identity was detached, attach it again and keep it as the default identity. If it was deleted, re-create it (or pick another), " +
        "attach it and set it as the default; a re-created identity has a new principal id, so grant it access in the next step.",
      commands: [
        cmd(sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${id}`, "Attach the identity"),
        cmd(setDefaultIdentity(t, sh`UserAssignedIdentity=${id}`), "Make it the default identity"),
      ],
    };
  } else {
    reattach = {
      text:
        "If the identity was removed, enable one again and make it the default. Re-enabling the system-assigned identity creates a new " +
        "principal id, so grant that new id access in the next step. A user-assigned identity works too (UserAssignedIdentity=<its resource id>).",
      commands: [
        cmd(sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${"[system]"}`, "Enable the system-assigned identity"),
        cmd(setDefaultIdentity(t, "SystemAssignedIdentity"), "Make it the default identity"),
      ],
    };
  }
  const federated = identity?.federatedClientId
    ? `This account uses a cross-tenant key (FederatedClientId ${identity.federatedClientId}): also check that the multi-tenant app registration and its federated credential for the identity still exist.`
    : "";
  return [
    {
      text: sentences("Check that the default identity still exists and is attached to the account.", identity?.description, federated),
      commands: checks,
    },
    reattach,
    grantStep(t, t.principal, "the default identity"),
  ];
}

function keyNotFound(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Find out whether the vault or the key was deleted. Both stay recoverable from soft delete for the vault's retention period.",
      commands: [
        cmd(sh`az keyvault show-deleted --name ${t.vaultName} --subscription ${t.subscription}`, "Is the vault deleted?"),
        cmd(sh`az keyvault key show-deleted --vault-name ${t.vaultName} --name ${t.keyName}`, "Is the key deleted?"),
      ],
    },
    {
      text: "If the vault was deleted, recover it first (the key comes back with it).",
      commands: [cmd(sh`az keyvault recover --name ${t.vaultName} --subscription ${t.subscription}`)],
    },
    {
      text: "If only the key was deleted, recover the key, then confirm it is enabled.",
      commands: [cmd(sh`az keyvault key recover --vault-name ${t.vaultName} --name ${t.keyName}`), cmd(showKey(t))],
    },
    {
      text:
        "If the vault or key was purged it cannot be recovered, and pointing the account at a different key will not bring the data back: " +
        "open a Microsoft support case straight away.",
      commands: [],
    },
  ];
}

function invalidDefaultIdentity(t: CommandTarget): RemediationStep[] {
  const account = t.account;
  const identity = t.identity;
  const attachedIds = Object.keys(account?.userAssignedIdentities ?? {});
  const hasSystem = /SystemAssigned/i.test(account?.identityType ?? "") || Boolean(account?.principalId);
  const steps: RemediationStep[] = [
    {
      text: sentences("See which identities the account has and which one is the default.", identity?.description),
      commands: [cmd(showIdentity(t))],
    },
  ];

  if (identity?.kind === "user-assigned" && identity.attached === false) {
    const id = identityIdValue(identity.userAssignedIdentityId);
    steps.push({
      text: "A user-assigned default identity only counts if it is also attached to the account. Attach it (or choose an attached identity as the default).",
      commands: [
        cmd(sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${id}`, "Attach the identity"),
        cmd(setDefaultIdentity(t, sh`UserAssignedIdentity=${id}`), "Keep it as the default identity"),
      ],
    });
    steps.push(grantStep(t, t.principal, "that identity"));
  } else if (attachedIds.length > 0) {
    const id = attachedIds[0]!;
    const principal = azureValue(account?.userAssignedIdentities[id]?.principalId, "principal-id");
    steps.push({
      text: "Set an identity the account already has as its default identity, for example its user-assigned identity:",
      commands: [cmd(setDefaultIdentity(t, sh`UserAssignedIdentity=${identityIdValue(id)}`))],
    });
    steps.push(grantStep(t, principal, "that identity"));
  } else if (hasSystem) {
    const principal = azureValue(account?.principalId, "principal-id");
    steps.push({
      text: "Set the account's system-assigned identity as its default identity:",
      commands: [cmd(setDefaultIdentity(t, "SystemAssignedIdentity"))],
    });
    steps.push(grantStep(t, principal, "the system-assigned identity"));
  } else {
    steps.push({
      text:
        "Give the account an identity and make it the default: either enable the system-assigned identity, or attach a user-assigned identity " +
        "and set UserAssignedIdentity=<its resource id>.",
      commands: [
        cmd(sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${"[system]"}`, "System-assigned: enable it"),
        cmd(setDefaultIdentity(t, "SystemAssignedIdentity"), "System-assigned: make it the default"),
        cmd(
          setDefaultIdentity(t, sh`UserAssignedIdentity=${placeholder("user-assigned-identity-resource-id")}`),
          "User-assigned: make it the default (after az cosmosdb identity assign --identities <its resource id>)",
        ),
      ],
    });
    steps.push(grantStep(t, t.principal, "the new default identity"));
  }
  return steps;
}

function invalidKeyVaultUri(t: CommandTarget): RemediationStep[] {
  const current = t.account?.keyVaultKeyUri;
  // Proposed only when every part passed the checks; otherwise the reader fills in the names.
  const checked = t.keyReference && typeof t.vaultName === "string" && typeof t.keyName === "string" && HOST_NAME.test(t.keyReference.vaultHost);
  const corrected: ShellValue = checked
    ? formatKeyVaultKeyUri(t.keyReference!)
    : sh`https://${t.vaultName}.vault.azure.net/keys/${t.keyName}`;
  const proposal = t.keyReference
    ? ` Based on the current value, the corrected URI is ${formatKeyVaultKeyUri(t.keyReference)}.`
    : "";
  return [
    {
      text:
        `Look at the key URI the account is configured with${current !== undefined ? ` (currently "${current}")` : ""}. ` +
        "It must be https://<vault>.vault.azure.net/keys/<key> (or your cloud's vault domain), without a key version: the account always uses the key's current version." +
        proposal,
      commands: [cmd(showKeyUri(t))],
    },
    {
      text: "Point the account at the versionless key URI of the same key.",
      commands: [cmd(sh`az cosmosdb update ${accountArgs(t)} --key-uri ${corrected}`)],
    },
  ];
}

function unwrapFailure(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Check that the key still exists, is enabled, and that its versions are intact.",
      commands: [cmd(showKey(t)), cmd(sh`az keyvault key list-versions --vault-name ${t.vaultName} --name ${t.keyName} --output table`)],
    },
    {
      text:
        "If the key (or the vault) was deleted recently, recover it. If an older key version was disabled, enable that version again.",
      commands: [
        cmd(sh`az keyvault key recover --vault-name ${t.vaultName} --name ${t.keyName}`, "Recover a deleted key"),
        cmd(sh`az keyvault recover --name ${t.vaultName} --subscription ${t.subscription}`, "Recover a deleted vault"),
        cmd(
          sh`az keyvault key set-attributes --vault-name ${t.vaultName} --name ${t.keyName} --version ${placeholder("key-version")} --enabled true`,
          "Re-enable a disabled version",
        ),
      ],
    },
    {
      text:
        "If the key was deleted and re-created under the same name, the new key material cannot unwrap the account's data key. " +
        "Restore the original key from a backup, or contact Microsoft support.",
      commands: [cmd(sh`az keyvault key restore --vault-name ${t.vaultName} --file ${placeholder("key-backup-file")}`)],
    },
  ];
}

function keyVaultDnsUnresolved(t: CommandTarget): RemediationStep[] {
  // The host is checked too: "-x.vault.azure.net" would be an nslookup option.
  const host: ShellValue = t.keyReference ? freeValue(t.keyReference.vaultHost, HOST_NAME, "vault-host") : sh`${t.vaultName}.vault.azure.net`;
  return [
    {
      text: "Check that the key URI names the right vault and that its host name resolves.",
      commands: [cmd(showKeyUri(t)), cmd(sh`nslookup ${host}`)],
    },
    {
      text: "If the vault was deleted, recover it from soft delete.",
      commands: [
        cmd(sh`az keyvault show-deleted --name ${t.vaultName} --subscription ${t.subscription}`, "Is the vault deleted?"),
        cmd(sh`az keyvault recover --name ${t.vaultName} --subscription ${t.subscription}`, "Recover it"),
      ],
    },
    {
      text:
        "If the URI has a typo in the vault name, point the account at the correct vault (it must hold the same key the account was encrypted with).",
      commands: [
        cmd(
          sh`az cosmosdb update ${accountArgs(t)} --key-uri https://${placeholder("correct-vault-name")}.vault.azure.net/keys/${t.keyName}`,
        ),
      ],
    },
  ];
}

function keyDisabledOrExpired(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Look at the key's enabled flag and its expiry and not-before dates.",
      commands: [cmd(showKey(t))],
    },
    {
      text: "If the key is disabled, enable it.",
      commands: [cmd(sh`az keyvault key set-attributes --vault-name ${t.vaultName} --name ${t.keyName} --enabled true`)],
    },
    {
      text:
        "If the key has expired (or its not-before date is in the future), move the date. Use a UTC time such as 2030-01-01T00:00:00Z; --not-before works the same way.",
      commands: [
        cmd(sh`az keyvault key set-attributes --vault-name ${t.vaultName} --name ${t.keyName} --expires ${placeholder("new-expiry-utc")}`),
      ],
    },
  ];
}

function keyVaultNetworkBlocked(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Look at the vault's firewall settings. " + SAME_SUBSCRIPTION_NOTE,
      commands: [
        cmd(sh`az keyvault show --name ${t.vaultName} --subscription ${t.subscription} --query "{publicNetworkAccess: properties.publicNetworkAccess, networkAcls: properties.networkAcls}"`),
        cmd(sh`az keyvault network-rule list --name ${t.vaultName} --subscription ${t.subscription}`),
      ],
    },
    {
      text:
        "Cosmos DB reaches the vault as a trusted Microsoft service. When the firewall denies by default, let trusted services through. " +
        "A vault reachable only through private endpoints cannot serve customer-managed keys.",
      commands: [cmd(sh`az keyvault update --name ${t.vaultName} --subscription ${t.subscription} --bypass AzureServices`)],
    },
    {
      text:
        "If the vault or the account is in a network security perimeter, add a perimeter access rule that allows the traffic between them " +
        "(or switch the association to learning mode while you fix it).",
      commands: [cmd(sh`az network perimeter list --subscription ${t.subscription} --output table`)],
    },
  ];
}

function serviceSideOutage(t: CommandTarget): RemediationStep[] {
  return [
    {
      text:
        "Check Azure Service Health in the portal for incidents affecting Key Vault, Microsoft Entra ID or Cosmos DB in the account's regions.",
      commands: [],
    },
    {
      text: "Nothing on the account should need to change, but it is worth confirming the key is still there and enabled.",
      commands: [cmd(showKey(t))],
    },
  ];
}

function unrecognized(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Read the status text Azure reports for the account; it usually names the problem and links to the guide.",
      commands: [cmd(showStatus(t))],
    },
    {
      text: "Run the common checks: the key exists and is enabled, and the default identity is present.",
      commands: [cmd(showKey(t)), cmd(showIdentity(t))],
    },
  ];
}

/** Steps for `cause`, with commands rendered for `account` (placeholders without one). */
export function remediationSteps(cause: CauseId, account?: CmkAccount): RemediationStep[] {
  const t = commandTarget(account);
  let steps: RemediationStep[];
  switch (cause) {
    case "healthy":
      return [];
    case "default-identity-unauthorized":
      steps = defaultIdentityUnauthorized(t);
      break;
    case "aad-token-acquisition":
      steps = aadTokenAcquisition(t);
      break;
    case "key-not-found":
      steps = keyNotFound(t);
      break;
    case "invalid-default-identity":
      steps = invalidDefaultIdentity(t);
      break;
    case "invalid-key-vault-uri":
      steps = invalidKeyVaultUri(t);
      break;
    case "unwrap-failure":
      steps = unwrapFailure(t);
      break;
    case "key-vault-dns-unresolved":
      steps = keyVaultDnsUnresolved(t);
      break;
    case "key-disabled-or-expired":
      steps = keyDisabledOrExpired(t);
      break;
    case "key-vault-network-blocked":
      steps = keyVaultNetworkBlocked(t);
      break;
    case "service-side-outage":
      steps = serviceSideOutage(t);
      break;
    case "unrecognized":
      steps = unrecognized(t);
      break;
    default: {
      const unreachable: never = cause;
      throw new Error(`Unknown cause ${String(unreachable)}`);
    }
  }
  return [...steps, expectationStep(cause, getCause(cause).policy, t)];
}

/** The command that prints the account's current CMK status. */
export function statusCheckCommand(account?: CmkAccount): string {
  return showStatus(commandTarget(account)).text;
}

/** How an owner tells the monitor they have fixed the cause (starts the recovery clock). */
export function acknowledgeFixCommand(accountId?: string): string {
  const id = accountId && accountId.trim() !== "" ? shellQuote(accountId) : "<account-resource-id>";
  // --no-install: outside a checkout of this tool, npx must not fetch a same-named package from the registry.
  return `npx --no-install cmk-monitor ack ${id} --fixed`;
}
