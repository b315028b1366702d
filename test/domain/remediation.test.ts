import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CmkAccount } from "../../src/domain/account";
import { CAUSE_IDS, type RevokedCauseId } from "../../src/domain/causes";
import { acknowledgeFixCommand, KEY_VAULT_CRYPTO_ROLE, remediationSteps, statusCheckCommand, type RemediationStep } from "../../src/domain/remediation";
import {
  ACCOUNT_ID,
  ACCOUNT_NAME,
  KEY_NAME,
  makeAccount,
  makeUserAssignedAccount,
  RESOURCE_GROUP,
  SUBSCRIPTION_ID,
  SYSTEM_PRINCIPAL_ID,
  USER_ASSIGNED_IDENTITY_ID,
  USER_ASSIGNED_PRINCIPAL_ID,
  VAULT_NAME,
} from "../fixtures/incidents";

const REVOKED_CAUSES = CAUSE_IDS.filter((id): id is RevokedCauseId => id !== "healthy");

const allCommands = (steps: RemediationStep[]) => steps.flatMap((step) => step.commands.map((c) => c.command));
const allText = (steps: RemediationStep[]) =>
  steps.map((step) => [step.text, ...step.commands.map((c) => `${c.label ?? ""} ${c.command}`)].join("\n")).join("\n");

type Needs = { vault: boolean; key: boolean; principal: boolean };
/** What each cause's commands must name. `principal` also means both permission variants. */
const NEEDS: Record<RevokedCauseId, Needs> = {
  // The identity lost its permission: grant it again.
  "default-identity-unauthorized": { vault: true, key: true, principal: true },
  // The identity's token failed: re-attach or replace it, then grant it.
  "aad-token-acquisition": { vault: true, key: true, principal: true },
  // Recover the deleted vault or key by name.
  "key-not-found": { vault: true, key: true, principal: false },
  // Set a valid default identity, then grant it.
  "invalid-default-identity": { vault: true, key: true, principal: true },
  // Rewrite the key URI of the same vault and key.
  "invalid-key-vault-uri": { vault: true, key: true, principal: false },
  // Recover or re-enable key versions.
  "unwrap-failure": { vault: true, key: true, principal: false },
  // Check the vault's DNS name and recover a deleted vault.
  "key-vault-dns-unresolved": { vault: true, key: true, principal: false },
  // Enable the key or move its dates.
  "key-disabled-or-expired": { vault: true, key: true, principal: false },
  // Open the vault firewall to trusted services.
  "key-vault-network-blocked": { vault: true, key: false, principal: false },
  // Only confirm the key is fine.
  "service-side-outage": { vault: true, key: true, principal: false },
  // Run the common checks.
  unrecognized: { vault: true, key: true, principal: false },
};

const VARIANTS: Array<[string, CmkAccount, string]> = [
  ["system-assigned", makeAccount(), SYSTEM_PRINCIPAL_ID],
  ["user-assigned", makeUserAssignedAccount(), USER_ASSIGNED_PRINCIPAL_ID],
];

const CASES = REVOKED_CAUSES.flatMap((cause) => VARIANTS.map(([variant, account, principal]) => [cause, variant, account, principal] as const));

describe("remediationSteps for a real account", () => {
  it.each(CASES)("%s (%s identity) names the account's real resources", (cause, _variant, account, principal) => {
    const steps = remediationSteps(cause, account);
    const commands = allCommands(steps).join("\n");
    const needs = NEEDS[cause];

    // 2-5 concrete steps including the final "what to expect".
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps.length).toBeLessThanOrEqual(5);
    expect(steps.every((step) => step.text.length > 0)).toBe(true);

    expect(commands).toContain(`--subscription ${SUBSCRIPTION_ID}`);
    expect(commands).toContain(`--resource-group ${RESOURCE_GROUP}`);
    expect(commands).toContain(`--name ${ACCOUNT_NAME}`);
    if (needs.vault) expect(commands).toMatch(new RegExp(`--(vault-)?name ${VAULT_NAME}\\b|${VAULT_NAME}\\.vault\\.azure\\.net`));
    if (needs.key) expect(commands).toMatch(new RegExp(`(--name |/keys/)${KEY_NAME}\\b`));
    if (needs.principal) {
      expect(commands).toContain(
        `az keyvault set-policy --name ${VAULT_NAME} --subscription ${SUBSCRIPTION_ID} --object-id ${principal} --key-permissions get wrapKey unwrapKey`,
      );
      expect(commands).toContain(
        `az role assignment create --role "${KEY_VAULT_CRYPTO_ROLE}" --assignee-object-id ${principal} --assignee-principal-type ServicePrincipal --scope "$(az keyvault show --name ${VAULT_NAME} --subscription ${SUBSCRIPTION_ID} --query id --output tsv)"/keys/${KEY_NAME}`,
      );
      const labels = steps.flatMap((s) => s.commands.map((c) => c.label));
      expect(labels).toEqual(expect.arrayContaining(["Vault uses access policies", "Vault uses Azure RBAC"]));
    }
    // Nothing is left unfilled when the account tells us everything.
    expect(commands).not.toMatch(/<(subscription-id|resource-group|account-name|vault-name|key-name|principal-id)>/);
    expect(allText(steps)).not.toMatch(/undefined|null|\[object /);
  });

  it.each(REVOKED_CAUSES)("%s ends with what to expect and a status check", (cause) => {
    // Owners need to know when to stop waiting and call support.
    const steps = remediationSteps(cause, makeAccount());
    const last = steps[steps.length - 1]!;
    expect(last.text).toMatch(/two hours/);
    expect(last.text).toMatch(/support/);
    expect(last.commands.map((c) => c.command)).toContain(
      `az cosmosdb show --name ${ACCOUNT_NAME} --resource-group ${RESOURCE_GROUP} --subscription ${SUBSCRIPTION_ID} --query customerManagedKeyStatus --output tsv`,
    );
  });

  it.each([
    // The guide: after the owner's fix, about an hour to recover.
    ["default-identity-unauthorized", /within about one hour/],
    // DNS: wait up to two hours, counted from detection.
    ["key-vault-dns-unresolved", /up to two hours from detection/],
    // Service side: nothing to fix, so the clock runs from detection.
    ["service-side-outage", /up to two hours from detection/],
  ] as const)("%s sets the right recovery expectation", (cause, expected) => {
    const steps = remediationSteps(cause, makeAccount());
    expect(steps[steps.length - 1]!.text).toMatch(expected);
  });

  it("returns no steps for a healthy account", () => {
    expect(remediationSteps("healthy", makeAccount())).toEqual([]);
  });
});

describe("remediationSteps without an account", () => {
  it.each(REVOKED_CAUSES)("%s uses placeholders", (cause) => {
    // Docs and previews render steps before any account is known.
    const steps = remediationSteps(cause);
    const commands = allCommands(steps).join("\n");
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(commands).toContain("--resource-group <resource-group>");
    expect(commands).toContain("--name <account-name>");
    expect(commands).toContain("--subscription <subscription-id>");
    if (NEEDS[cause].principal) {
      expect(commands).toContain("--object-id <principal-id>");
      expect(commands).toContain("--assignee-object-id <principal-id>");
    }
    expect(allText(steps)).not.toMatch(/undefined|null|\[object /);
  });
});

describe("remediationSteps for unusual identities and URIs", () => {
  it.each([
    // First-party identity: the object id differs per tenant, so we cannot fill it in.
    ["FirstPartyIdentity", /enterprise application/],
    // Delegated forms are valid but we cannot see their principal.
    ["DelegatedSystemAssignedIdentity", /Replace <principal-id>/],
    // Unset default identity.
    [undefined, /Replace <principal-id>/],
  ])("default identity %s gets a placeholder and a sentence", (defaultIdentity, sentence) => {
    const steps = remediationSteps("default-identity-unauthorized", makeAccount({ defaultIdentity }));
    const grant = steps.find((s) => s.commands.some((c) => c.label === "Vault uses access policies"))!;
    expect(grant.text).toMatch(sentence);
    expect(allCommands([grant]).join("\n")).toContain("--object-id <principal-id>");
  });

  it("a user-assigned default identity missing from the account gets a lookup command", () => {
    // "UserAssignedIdentity=<id>" only works when that identity is attached.
    const account = makeUserAssignedAccount({ userAssignedIdentities: {} });
    const steps = remediationSteps("invalid-default-identity", account);
    const commands = allCommands(steps).join("\n");
    expect(commands).toContain(
      `az cosmosdb identity assign --name ${ACCOUNT_NAME} --resource-group ${RESOURCE_GROUP} --subscription ${SUBSCRIPTION_ID} --identities ${USER_ASSIGNED_IDENTITY_ID}`,
    );
    expect(commands).toContain(`az identity show --ids ${USER_ASSIGNED_IDENTITY_ID} --query principalId --output tsv`);
    expect(commands).toContain("--object-id <principal-id>");
  });

  it("an account with no identity at all is told how to add one", () => {
    const account = makeAccount({ defaultIdentity: undefined, identityType: "None", principalId: undefined });
    const commands = allCommands(remediationSteps("invalid-default-identity", account)).join("\n");
    // Double-quoted: bare, bash would glob [system] against the files in the current directory.
    expect(commands).toContain('--identities "[system]"');
    expect(commands).toContain("--default-identity SystemAssignedIdentity");
    expect(commands).toContain("--default-identity UserAssignedIdentity=<user-assigned-identity-resource-id>");
  });

  it("a user-assigned account with an invalid default identity is offered its own identity", () => {
    const account = makeUserAssignedAccount({ defaultIdentity: "Nonsense" });
    const commands = allCommands(remediationSteps("invalid-default-identity", account)).join("\n");
    expect(commands).toMatch(/--default-identity UserAssignedIdentity=\/subscriptions\/.*\/id-orders-cmk/i);
    expect(commands).toContain(`--object-id ${USER_ASSIGNED_PRINCIPAL_ID}`);
  });

  it("a versioned key URI is corrected to the versionless form", () => {
    // Code 4006 is usually a version pasted into the URI.
    const account = makeAccount({ keyVaultKeyUri: `https://${VAULT_NAME}.vault.azure.net/keys/${KEY_NAME}/0123456789abcdef` });
    const commands = allCommands(remediationSteps("invalid-key-vault-uri", account)).join("\n");
    expect(commands).toContain(`--key-uri https://${VAULT_NAME}.vault.azure.net/keys/${KEY_NAME}\n`);
  });

  it("an unparseable key URI falls back to placeholders", () => {
    const commands = allCommands(remediationSteps("key-not-found", makeAccount({ keyVaultKeyUri: "garbage" }))).join("\n");
    expect(commands).toContain("--vault-name <vault-name> --name <key-name>");
  });

  it("a value that az would read as an option becomes a placeholder", () => {
    // Quoting keeps the shell safe but not az's own option parser.
    const commands = allCommands(remediationSteps("key-not-found", makeAccount({ resourceGroup: "--debug" }))).join("\n");
    expect(commands).toContain("--resource-group <resource-group>");
    expect(commands).not.toContain("--debug");
  });
});

describe("the guard's backstop", () => {
  it.each(REVOKED_CAUSES)("%s: no command for a real account hits sh's <value> backstop", (cause) => {
    // <value> means a value skipped its shape check and sh refused it: every value must be checked before it gets there.
    for (const account of [makeAccount(), makeUserAssignedAccount()]) {
      expect(allCommands(remediationSteps(cause, account)).join("\n")).not.toContain("<value>");
    }
  });
});

// Issue #16, finding 2: identity ids were not shape-checked, and the Azure CLI reads "@path" (also
// "name=@path") as the contents of that file, so an id could upload the owner's token cache.
describe("identity ids in commands", () => {
  const TOKEN_CACHE = "@~/.azure/msal_token_cache.json";
  const IDENTITY_CAUSES = ["aad-token-acquisition", "invalid-default-identity", "default-identity-unauthorized"] as const;
  const commandsFor = (account: CmkAccount) => IDENTITY_CAUSES.flatMap((cause) => allCommands(remediationSteps(cause, account)));

  it.each<[string, CmkAccount]>([
    // The default identity names a file: detached, so the steps attach it and make it the default.
    ["@file as the default identity", makeAccount({ defaultIdentity: `UserAssignedIdentity=${TOKEN_CACHE}`, principalId: undefined })],
    // Attached under that name: the steps look it up with az identity show --ids.
    [
      "@file attached",
      makeAccount({ defaultIdentity: `UserAssignedIdentity=${TOKEN_CACHE}`, principalId: undefined, userAssignedIdentities: { [TOKEN_CACHE]: {} } }),
    ],
    // Only in the identity map: offered as the default identity.
    [
      "@file in the identity map",
      makeAccount({ defaultIdentity: undefined, principalId: undefined, userAssignedIdentities: { [TOKEN_CACHE]: { principalId: "p-1" } } }),
    ],
  ])("%s: no command carries an @", (_why, account) => {
    const commands = commandsFor(account);
    expect(commands.join("\n")).toContain("<user-assigned-identity-resource-id>");
    for (const command of commands) expect(command).not.toContain("@");
  });

  it.each<[string, string]>([
    // Not the resource-id shape at all.
    ["a bare name", "id-orders"],
    // The subscription must be a GUID.
    ["a subscription that is not a GUID", USER_ASSIGNED_IDENTITY_ID.replace(SUBSCRIPTION_ID, "sub")],
    // Another resource type.
    ["a key vault id", USER_ASSIGNED_IDENTITY_ID.replace("Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.KeyVault/vaults")],
    // Dot segments would move an ARM request elsewhere.
    ["dot segments", `${USER_ASSIGNED_IDENTITY_ID}/../../other`],
    // cmd.exe operators in the identity name.
    ["cmd.exe operators", `${USER_ASSIGNED_IDENTITY_ID}^calc|x`],
  ])("%s becomes a placeholder with a sentence saying what to fill in", (_why, id) => {
    const steps = remediationSteps(
      "aad-token-acquisition",
      makeAccount({ defaultIdentity: `UserAssignedIdentity=${id}`, principalId: undefined, userAssignedIdentities: { [id]: {} } }),
    );
    const commands = allCommands(steps).join("\n");
    expect(commands).toContain("--ids <user-assigned-identity-resource-id>");
    expect(commands).not.toContain(id);
    expect(allText(steps)).toContain("replace <user-assigned-identity-resource-id> with the user-assigned identity's resource id");
  });

  it("a well-formed id is printed as it is", () => {
    const commands = commandsFor(makeUserAssignedAccount()).join("\n");
    expect(commands).toContain(`--ids ${USER_ASSIGNED_IDENTITY_ID}`);
  });
});

describe("commands built from hostile account values", () => {
  const dir = mkdtempSync(join(tmpdir(), "remediation-"));
  const CANARY = join(dir, "pwned");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Every field an attacker who can edit the account (or its identity) might control.
  const hostile = makeAccount({
    name: `orders'; touch ${CANARY}; echo '`,
    resourceGroup: `rg$(touch ${CANARY})`,
    subscriptionId: `\`touch ${CANARY}\``,
    keyVaultKeyUri: `https://kv-x.vault.azure.net/keys/k$(touch%20${encodeURIComponent(CANARY)})`,
    principalId: `p\ntouch ${CANARY}\n`,
  });

  // Stand-ins for the real tools print each argument NUL-terminated, so we can see the words.
  const PRELUDE = `az() { printf '%s\\0' "$@"; }; nslookup() { printf '%s\\0' "$@"; }; npx() { printf '%s\\0' "$@"; };`;

  const commandCases = REVOKED_CAUSES.flatMap((cause) => allCommands(remediationSteps(cause, hostile)).map((command) => [cause, command] as const));

  it.each(commandCases)("%s: %s runs nothing but the tool", (_cause, command) => {
    // Placeholders are for humans; stand in a plain word so the shell can parse the line.
    const runnable = command.replace(/<[a-z-]+>/g, "PLACEHOLDER");
    const output = execFileSync("bash", ["-c", `${PRELUDE} ${runnable}`], { encoding: "utf8" });
    expect(existsSync(CANARY)).toBe(false);
    const words = output.split("\0");
    // Values that are not Azure names of their kind never arrive at all: the reader fills in a placeholder.
    for (const value of [hostile.resourceGroup, hostile.name, hostile.subscriptionId, hostile.principalId!]) expect(words).not.toContain(value);
    if (command.includes("--resource-group")) expect(command).toContain("--resource-group <resource-group>");
    if (/^az cosmosdb/.test(command)) expect(command).toContain("--name <account-name>");
  });

  it("produced commands at all (guards the table above)", () => {
    expect(commandCases.length).toBeGreaterThan(30);
  });
});

describe("statusCheckCommand and acknowledgeFixCommand", () => {
  it("renders the status check for the account", () => {
    expect(statusCheckCommand(makeAccount())).toBe(
      `az cosmosdb show --name ${ACCOUNT_NAME} --resource-group ${RESOURCE_GROUP} --subscription ${SUBSCRIPTION_ID} --query customerManagedKeyStatus --output tsv`,
    );
  });

  it.each([
    // A normal resource id stays readable.
    [ACCOUNT_ID, `npx --no-install cmk-monitor ack ${ACCOUNT_ID} --fixed`],
    // A hostile id, or anything not shaped like an account's resource id, is not printed.
    ["/subscriptions/x/$(id)", "npx --no-install cmk-monitor ack <account-resource-id> --fixed"],
    ["@/home/me/.azure/msal_token_cache.json", "npx --no-install cmk-monitor ack <account-resource-id> --fixed"],
    // No id: a placeholder.
    [undefined, "npx --no-install cmk-monitor ack <account-resource-id> --fixed"],
  ])("ack command for %j", (id, expected) => {
    expect(acknowledgeFixCommand(id)).toBe(expected);
  });
});
