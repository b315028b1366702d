/**
 * Cosmos DB accounts as an attacker who can edit them (tags, identities, key URI) or a broken
 * API could make them look, and the check that the `az` commands rendered for such an account
 * pass every Azure value through as exactly one, non-option argument.
 */
import fc from "fast-check";
import type { CmkAccount } from "../../src/domain/account";
import { KEY_VAULT_CRYPTO_ROLE, resolveDefaultIdentity } from "../../src/domain/remediation";
import { hostileText, markedHostileText } from "./hostileText";
import { PLACEHOLDER_PREFIX, VAULT_ID_STUB, flagValue, type RecordedCall } from "./pasteIntoShell";

/** The raw-HTML marker planted in field `field`; it must never appear unescaped in an email. */
export function evilMarker(field: string): string {
  return `<x-evil-${field}>`;
}

/** Percent-encoding that, unlike encodeURIComponent, accepts a lone surrogate (as U+FFFD). */
function percentEncode(text: string): string {
  return encodeURIComponent(asShellSees(text));
}

/** Either a realistic value or hostile text carrying the field's marker. */
function realisticOr(field: string, realistic: string, canary?: string): fc.Arbitrary<string> {
  return fc.oneof(fc.constant(realistic), markedHostileText(evilMarker(field), { canary }));
}

export function hostileAccount(canary?: string): fc.Arbitrary<CmkAccount> {
  const hostile = (field: string) => markedHostileText(evilMarker(field), { canary });
  const keyUri = fc.oneof(
    fc.constant("https://kv-orders.vault.azure.net/keys/orders-cmk"),
    // A well-formed vault with a hostile key name (percent-encoded, as a URI carries it).
    hostile("key").map((key) => `https://kv-orders.vault.azure.net/keys/${percentEncode(key)}`),
    // Hostile text where a URI should be: hosts, schemes and paths of any shape.
    hostile("uri"),
    hostile("uri-path").map((text) => `https://kv-${percentEncode(text)}.vault.azure.net/keys/${text}`),
    fc.constantFrom(
      "https://-x.vault.azure.net/keys/k",
      "https://kv.vault.azure.net/keys/-k",
      "https://kv.vault.azure.net/keys/%00--debug",
      "https://kv.vault.azure.net/keys/%0Atouch%20x",
      "javascript:alert(1)//keys/k",
    ),
  );
  const identityId = realisticOr(
    "identity-id",
    "/subscriptions/3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk",
    canary,
  );
  const defaultIdentity = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom("SystemAssignedIdentity", "FirstPartyIdentity", "DelegatedSystemAssignedIdentity", "UserAssignedIdentity="),
    identityId.map((id) => `UserAssignedIdentity=${id}`),
    fc.tuple(identityId, hostile("federated")).map(([id, app]) => `UserAssignedIdentity=${id}&FederatedClientId=${app}`),
    hostile("default-identity"),
  );
  return fc
    .record({
      name: realisticOr("name", "orders-db", canary),
      subscriptionId: realisticOr("subscription", "3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f", canary),
      resourceGroup: realisticOr("resource-group", "rg-orders", canary),
      location: fc.option(hostile("location"), { nil: undefined }),
      keyVaultKeyUri: keyUri,
      defaultIdentity,
      identityType: fc.option(fc.constantFrom("SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"), { nil: undefined }),
      principalId: fc.option(realisticOr("principal", "7c1e5a52-3b0d-4f7e-9a61-2d8c4b9e0f13", canary), { nil: undefined }),
      userAssignedIdentities: fc.dictionary(
        identityId,
        fc.record({ principalId: fc.option(hostile("ua-principal"), { nil: undefined }) }, { requiredKeys: [] }),
        { maxKeys: 2 },
      ),
      tags: fc.dictionary(fc.oneof(fc.constant("cmk-owner"), hostileText({ canary })), hostile("tag"), { maxKeys: 3 }),
      customerManagedKeyStatus: fc.option(hostile("status"), { nil: undefined }),
    })
    .map((fields) => {
      const account: CmkAccount = {
        id: `/subscriptions/${fields.subscriptionId}/resourceGroups/${fields.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${fields.name}`,
        name: fields.name,
        subscriptionId: fields.subscriptionId,
        resourceGroup: fields.resourceGroup,
        keyVaultKeyUri: fields.keyVaultKeyUri,
        userAssignedIdentities: Object.fromEntries(
          Object.entries(fields.userAssignedIdentities).map(([id, info]) => [id, info.principalId ? { principalId: info.principalId } : {}]),
        ),
        tags: fields.tags,
      };
      if (fields.location !== undefined) account.location = fields.location;
      if (fields.defaultIdentity !== undefined) account.defaultIdentity = fields.defaultIdentity;
      if (fields.identityType !== undefined) account.identityType = fields.identityType;
      if (fields.principalId !== undefined) account.principalId = fields.principalId;
      if (fields.customerManagedKeyStatus !== undefined) account.customerManagedKeyStatus = fields.customerManagedKeyStatus;
      return account;
    });
}

// ---------------------------------------------------------------------------------------------
// What each argument of a pasted command must be

/** Matches any filled-in placeholder word, e.g. PLACEHOLDER-principal-id. */
const ANY_PLACEHOLDER = new RegExp(`^${PLACEHOLDER_PREFIX}[a-z-]+$`);
/** An exact word, or a pattern for words with a placeholder in them. */
type Expected = string | RegExp;

// Azure's shape for each kind of name, written here independently of src/: a value of another
// shape must never reach a command, however harmless it looks.
const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const GROUP = "[A-Za-z0-9_(][A-Za-z0-9_.()-]{0,89}";
export const SHAPES = {
  guid: new RegExp(`^${GUID}$`),
  // ASCII letters, digits, _ . ( ) -; not ending in "." and (for a shell word) not starting with "." or "-".
  resourceGroup: new RegExp(`^(?=.{1,90}$)${GROUP}(?<!\\.)$`),
  accountName: /^[a-z0-9][a-z0-9-]{2,43}$/,
  vaultName: /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/,
  // Azure allows a leading dash; a command never prints one (it would be an option).
  keyName: /^[A-Za-z0-9][A-Za-z0-9-]{0,126}$/,
  identityId: new RegExp(
    `^/subscriptions/${GUID}/resourceGroups/(?=[^/]{1,90}/)${GROUP}(?<!\\.)/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`,
    "i",
  ),
  accountId: new RegExp(
    `^/subscriptions/${GUID}/resourceGroups/(?=[^/]{1,90}/)${GROUP}(?<!\\.)/providers/Microsoft\\.DocumentDB/databaseAccounts/[a-z0-9][a-z0-9-]{2,43}$`,
    "i",
  ),
};

const VAULT_SUFFIXES = [
  "vault.azure.net",
  "vault.azure.cn",
  "vault.usgovcloudapi.net",
  "vault.microsoftazure.de",
  "managedhsm.azure.net",
  "managedhsm.azure.cn",
  "managedhsm.usgovcloudapi.net",
];

/** The vault (with its host) and key a command may name: https, a known vault suffix, valid names. */
export function expectedKeyNames(uri: string | undefined): { vaultName?: string; vaultHost?: string; keyName?: string } {
  const text = (uri ?? "").trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return {};
  }
  const names: { vaultName?: string; vaultHost?: string; keyName?: string } = {};
  const host = url.hostname.toLowerCase();
  const suffix = url.protocol === "https:" ? VAULT_SUFFIXES.find((s) => host.endsWith(`.${s}`)) : undefined;
  const label = suffix ? host.slice(0, -suffix.length - 1) : undefined;
  if (label !== undefined && SHAPES.vaultName.test(label)) Object.assign(names, { vaultName: label, vaultHost: host });
  const [collection, key] = url.pathname.replace(/\/$/, "").split("/").slice(1);
  let decoded: string | undefined;
  try {
    decoded = key === undefined ? undefined : decodeURIComponent(key);
  } catch {
    decoded = key;
  }
  if (collection?.toLowerCase() === "keys" && decoded !== undefined && SHAPES.keyName.test(decoded)) names.keyName = decoded;
  return names;
}

/** The word a value must become: itself when it has its Azure shape, otherwise a placeholder. */
function shaped(value: string | undefined, shape: RegExp): Expected {
  return value !== undefined && shape.test(value) ? value : ANY_PLACEHOLDER;
}

/**
 * A value as a shell receives it: NUL dropped (no argument can carry one) and a lone surrogate
 * as U+FFFD, because the script travels to the shell as UTF-8.
 */
export function asShellSees(value: string): string {
  return value.replace(/\0/g, "").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

function render(expected: Expected, placeholderName: string): string {
  return typeof expected === "string" ? expected : `${PLACEHOLDER_PREFIX}${placeholderName}`;
}

function accepts(expected: readonly Expected[], actual: string | undefined): boolean {
  if (actual === undefined) return true; // flag not used by this command
  return expected.some((e) => (typeof e === "string" ? e === actual : e.test(actual)));
}

/**
 * Problems with the recorded calls of commands rendered for `account`: every flag that carries
 * an Azure value must carry exactly that value when it has its Azure shape, or a placeholder;
 * never a fragment, an option or a value of another shape.
 */
export function commandIntegrityProblems(account: CmkAccount, accountId: string, calls: readonly RecordedCall[]): string[] {
  const names = expectedKeyNames(account.keyVaultKeyUri);
  const identity = resolveDefaultIdentity(account);
  const vault = shaped(names.vaultName, SHAPES.vaultName);
  const key = shaped(names.keyName, SHAPES.keyName);
  const identityIds: Expected[] = [
    "[system]",
    shaped(identity.userAssignedIdentityId, SHAPES.identityId),
    ...Object.keys(account.userAssignedIdentities).map((id) => shaped(id, SHAPES.identityId)),
    ANY_PLACEHOLDER,
  ];
  const principals: Expected[] = [
    shaped(account.principalId, SHAPES.guid),
    shaped(identity.principalId, SHAPES.guid),
    ...Object.values(account.userAssignedIdentities).map((info) => shaped(info.principalId, SHAPES.guid)),
    ANY_PLACEHOLDER,
  ];
  const keyPart = render(key, "key-name");
  const keyUris: Expected[] = [
    ...(names.vaultHost ? [`https://${names.vaultHost}/keys/${keyPart}`] : []),
    `https://${render(vault, "vault-name")}.vault.azure.net/keys/${keyPart}`,
    `https://${PLACEHOLDER_PREFIX}correct-vault-name.vault.azure.net/keys/${keyPart}`,
  ];
  const hosts: Expected[] = [names.vaultHost ?? ANY_PLACEHOLDER];

  const rules: Array<[applies: (call: RecordedCall) => boolean, flag: string, expected: Expected[]]> = [
    [(c) => c.args[0] === "cosmosdb", "--name", [shaped(account.name, SHAPES.accountName)]],
    [(c) => c.args[0] === "cosmosdb", "--resource-group", [shaped(account.resourceGroup, SHAPES.resourceGroup)]],
    [() => true, "--subscription", [shaped(account.subscriptionId, SHAPES.guid)]],
    [(c) => c.args[0] === "cosmosdb", "--identities", identityIds],
    [(c) => c.args[0] === "identity", "--ids", identityIds],
    [
      (c) => c.args[0] === "cosmosdb",
      "--default-identity",
      [
        "SystemAssignedIdentity",
        ...identityIds.map((id) => (typeof id === "string" ? `UserAssignedIdentity=${id}` : new RegExp(`^UserAssignedIdentity=${PLACEHOLDER_PREFIX}[a-z-]+$`))),
      ],
    ],
    [(c) => c.args[0] === "cosmosdb", "--key-uri", keyUris],
    [(c) => c.args[0] === "keyvault" && c.args[1] === "key", "--vault-name", [vault]],
    [(c) => c.args[0] === "keyvault" && c.args[1] === "key", "--name", [key]],
    [(c) => c.args[0] === "keyvault" && c.args[1] !== "key", "--name", [vault]],
    [(c) => c.args[0] === "keyvault", "--object-id", principals],
    [(c) => c.args[0] === "role", "--assignee-object-id", principals],
    // The RBAC scope is a path: only a real key name may extend it ("../.." would widen the grant).
    [(c) => c.args[0] === "role", "--scope", [`${VAULT_ID_STUB}/keys/${keyPart}`]],
    [(c) => c.args[0] === "role", "--role", [KEY_VAULT_CRYPTO_ROLE]],
  ];

  const problems: string[] = [];
  for (const call of calls) {
    const label = `${call.program} ${call.args.slice(0, 3).join(" ")}`;
    if (call.program === "az") {
      for (const [applies, flag, expected] of rules) {
        if (!applies(call)) continue;
        const actual = flagValue(call, flag);
        if (!accepts(expected, actual)) problems.push(`${label}: ${flag} got ${JSON.stringify(actual)}`);
      }
      // After the command path, every word is a flag or the value right after one (the
      // key-permission list aside): a value that split into two words leaves a stray one.
      const firstFlag = call.args.findIndex((arg) => arg.startsWith("--"));
      call.args.forEach((arg, index) => {
        if (firstFlag === -1 || index <= firstFlag || arg.startsWith("--")) return;
        const previous = call.args[index - 1]!;
        const permission = ["wrapKey", "unwrapKey"].includes(arg) && ["get", "wrapKey"].includes(previous);
        if (!previous.startsWith("--") && !permission) problems.push(`${label}: stray word ${JSON.stringify(arg)}`);
      });
    } else if (call.program === "nslookup") {
      if (call.args.length !== 1 || !accepts(hosts, call.args[0])) problems.push(`nslookup got ${JSON.stringify(call.args)}`);
    } else if (call.program === "npx") {
      const expected = ["--no-install", "cmk-monitor", "ack", render(shaped(accountId, SHAPES.accountId), "account-resource-id"), "--fixed"];
      if (JSON.stringify(call.args) !== JSON.stringify(expected)) problems.push(`npx got ${JSON.stringify(call.args)}`);
    } else {
      problems.push(`unexpected program ${call.program}`);
    }
  }
  return problems;
}
