/**
 * The `az` commands, and the permission-granting step built from them, that every command the
 * monitor prints is made of (remediation, evidence lines, warning digests). Every account value
 * reaches a command through commandTarget.ts's shape checks and then `sh`, which quotes it.
 */
import { identityIdValue, keyScopeValue, type CommandTarget } from "./commandTarget";
import { literal, Placeholder, placeholder, sh, type ShellText, type ShellValue } from "./shellQuoting";

export interface RemediationCommand {
  /** Says when to use this command when a step offers alternatives. */
  label?: string;
  command: string;
}

export interface RemediationStep {
  text: string;
  commands: RemediationCommand[];
}

export const KEY_VAULT_CRYPTO_ROLE = "Key Vault Crypto Service Encryption User";

const PRINCIPAL_PLACEHOLDER = placeholder("principal-id");

export function accountArgs(t: CommandTarget): ShellText {
  return sh`--name ${t.accountName} --resource-group ${t.resourceGroup} --subscription ${t.subscription}`;
}

/** The key as `az keyvault key` commands name it. */
export function keyArgs(t: CommandTarget): ShellText {
  return sh`--vault-name ${t.vaultName} --name ${t.keyName}`;
}

/** The vault as `az keyvault` commands name it; assumes the account's subscription (see SAME_SUBSCRIPTION_NOTE). */
export function vaultArgs(t: CommandTarget): ShellText {
  return sh`--name ${t.vaultName} --subscription ${t.subscription}`;
}

export function cmd(command: ShellText, label?: string): RemediationCommand {
  return label ? { label, command: command.text } : { command: command.text };
}

export function showStatus(t: CommandTarget): ShellText {
  return sh`az cosmosdb show ${accountArgs(t)} --query customerManagedKeyStatus --output tsv`;
}

export function showIdentity(t: CommandTarget): ShellText {
  return sh`az cosmosdb show ${accountArgs(t)} --query "{defaultIdentity: defaultIdentity, identity: identity}"`;
}

export function showKeyUri(t: CommandTarget): ShellText {
  return sh`az cosmosdb show ${accountArgs(t)} --query keyVaultKeyUri --output tsv`;
}

export function showKey(t: CommandTarget): ShellText {
  return sh`az keyvault key show ${keyArgs(t)} --query "{kid: key.kid, enabled: attributes.enabled, expires: attributes.expires, notBefore: attributes.notBefore}"`;
}

function vaultIdLookup(t: CommandTarget): ShellText {
  return sh`az keyvault show ${vaultArgs(t)} --query id --output tsv`;
}

export function setDefaultIdentity(t: CommandTarget, value: ShellValue): ShellText {
  return sh`az cosmosdb update ${accountArgs(t)} --default-identity ${value}`;
}

/** Attaches identities to the account; "[system]" (double-quoted: bare, bash would glob it) enables its system-assigned identity. */
export function assignIdentity(t: CommandTarget, identities: ShellValue): ShellText {
  return sh`az cosmosdb identity assign ${accountArgs(t)} --identities ${identities}`;
}

/** Enables the system-assigned identity, then makes it the default; `labels` say what each command does in its step. */
export function systemAssignedDefaultCommands(t: CommandTarget, labels: readonly [enable: string, makeDefault: string]): RemediationCommand[] {
  return [cmd(assignIdentity(t, literal("[system]")), labels[0]), cmd(setDefaultIdentity(t, "SystemAssignedIdentity"), labels[1])];
}

/** Attaches a user-assigned identity, then makes it the default; `labels` as above. */
export function userAssignedDefaultCommands(t: CommandTarget, id: ShellValue, labels: readonly [attach: string, makeDefault: string]): RemediationCommand[] {
  return [cmd(assignIdentity(t, id), labels[0]), cmd(setDefaultIdentity(t, sh`UserAssignedIdentity=${id}`), labels[1])];
}

export function setKeyUri(t: CommandTarget, uri: ShellValue): ShellText {
  return sh`az cosmosdb update ${accountArgs(t)} --key-uri ${uri}`;
}

export function showDeletedVault(t: CommandTarget): ShellText {
  return sh`az keyvault show-deleted ${vaultArgs(t)}`;
}

export function recoverVault(t: CommandTarget): ShellText {
  return sh`az keyvault recover ${vaultArgs(t)}`;
}

export function recoverKey(t: CommandTarget): ShellText {
  return sh`az keyvault key recover ${keyArgs(t)}`;
}

/** `attributes` as `az keyvault key set-attributes` takes them, e.g. "--enabled true". */
export function setKeyAttributes(t: CommandTarget, attributes: ShellText): ShellText {
  return sh`az keyvault key set-attributes ${keyArgs(t)} ${attributes}`;
}

/** The role and principal of a key-scoped role assignment; the role name is double-quoted, the quoting every shell reads. */
export function roleArgs(principal: ShellValue): ShellText {
  return sh`--role ${literal(KEY_VAULT_CRYPTO_ROLE)} --assignee-object-id ${principal} --assignee-principal-type ServicePrincipal`;
}

/** "Give this principal get/wrapKey/unwrapKey": one command per vault permission model. */
function grantCommands(t: CommandTarget, principal: ShellValue): RemediationCommand[] {
  return [
    cmd(
      sh`az keyvault show ${vaultArgs(t)} --query properties.enableRbacAuthorization --output tsv`,
      "Which model does the vault use? (true = Azure RBAC, false or empty = access policies)",
    ),
    cmd(sh`az keyvault set-policy ${vaultArgs(t)} --object-id ${principal} --key-permissions get wrapKey unwrapKey`, "Vault uses access policies"),
    cmd(
      // Scoped to the key itself: the narrowest scope the role works at.
      sh`az role assignment create ${roleArgs(principal)} --scope ${keyScopeValue(sh`"$(${vaultIdLookup(t)})"`, t.keyName)}`,
      "Vault uses Azure RBAC",
    ),
  ];
}

/** Sentence and command for finding the principal id when the account does not tell us. */
function principalHelp(t: CommandTarget): { sentence: string; commands: RemediationCommand[] } {
  if (!(t.principal instanceof Placeholder)) return { sentence: "", commands: [] };
  const identity = t.identity;
  const replace = `Replace ${PRINCIPAL_PLACEHOLDER.text} with the object (principal) id of the default identity`;
  switch (identity?.kind) {
    case "first-party":
      return {
        sentence: `${replace}: for FirstPartyIdentity that is the object id of the "Azure Cosmos DB" enterprise application in your Microsoft Entra tenant.`,
        commands: [],
      };
    case "user-assigned":
      return {
        sentence: `${replace}; this command prints it:`,
        commands: [
          cmd(sh`az identity show --ids ${identityIdValue(identity.userAssignedIdentityId)} --query principalId --output tsv`, "Find the principal id"),
        ],
      };
    case "system-assigned":
      return {
        sentence: `${replace}; this command prints it:`,
        commands: [cmd(sh`az cosmosdb show ${accountArgs(t)} --query identity.principalId --output tsv`, "Find the principal id")],
      };
    default:
      return {
        sentence: `${replace} (set a valid default identity first if the account has none).`,
        commands: [],
      };
  }
}

/** Joins sentences, skipping missing ones, so optional parts leave no stray spaces. */
export function sentences(...parts: Array<string | undefined>): string {
  return parts
    .map((part) => part?.trim())
    .filter((part): part is string => Boolean(part))
    .join(" ");
}

/** What each guarded placeholder stands for, for the sentence that asks the reader to fill it in. */
const FILL_IN: Record<string, string> = {
  "subscription-id": "the subscription id",
  "resource-group": "the resource group",
  "account-name": "the account name",
  "account-resource-id": "the account's resource id",
  "vault-name": "the key vault's name",
  "vault-host": "the key vault's host name",
  "vault-resource-id": "the key vault's resource id",
  "vault-resource-group": "the key vault's resource group",
  "key-name": "the key's name",
  "user-assigned-identity-resource-id": "the user-assigned identity's resource id",
  value: "the value it stands for",
};

/**
 * The step with a sentence asking the reader to fill in each placeholder that stands for a value
 * the monitor refused to print (missing, or not a valid Azure name of its kind).
 */
export function withPlaceholderHelp(step: RemediationStep): RemediationStep {
  const names = new Set<string>();
  for (const command of step.commands) for (const [, name] of command.command.matchAll(/<([a-z-]+)>/g)) if (FILL_IN[name!]) names.add(name!);
  const missing = [...names].filter((name) => !step.text.includes(`<${name}>`));
  if (missing.length === 0) return step;
  const list = missing.map((name) => `<${name}> with ${FILL_IN[name]}`).join(", ");
  return {
    ...step,
    text: sentences(
      step.text,
      `Before running, replace ${list}: the account's value is missing or is not a valid Azure name of its kind, so the monitor does not print it.`,
    ),
  };
}

export const SAME_SUBSCRIPTION_NOTE = "The vault commands assume the vault lives in the account's subscription; change --subscription if it does not.";

export function grantStep(t: CommandTarget, principal: ShellValue, who: string): RemediationStep {
  const help =
    principal === t.principal
      ? principalHelp(t)
      : principal instanceof Placeholder
        ? { sentence: `Replace ${principal.text} with that identity's object (principal) id.`, commands: [] }
        : { sentence: "", commands: [] };
  return {
    text: sentences(
      `Give ${who} the get, wrapKey and unwrapKey permissions on the key.`,
      `Run the access-policy command if the vault uses access policies, or the RBAC command (role "${KEY_VAULT_CRYPTO_ROLE}") if it uses Azure RBAC.`,
      SAME_SUBSCRIPTION_NOTE,
      help.sentence,
    ),
    commands: [...help.commands, ...grantCommands(t, principal)],
  };
}
