/**
 * What each cause tells an owner to do, word for word, as the email and `explain` print it. The
 * other remediation tests check properties (real names, placeholders, quoting); this one holds the
 * text itself, so a changed sentence, label or command shows up as a snapshot diff a reviewer
 * reads like the email. Update with `npx jest test/domain/causes/remediationText.test.ts -u`
 * only when the change is meant.
 */
import type { CmkAccount } from "../../../src/domain/account";
import { CAUSE_IDS, type RevokedCauseId } from "../../../src/domain/causes";
import { remediationSteps, type RemediationStep } from "../../../src/domain/remediation";
import { makeAccount, makeUserAssignedAccount, USER_ASSIGNED_CLIENT_ID, USER_ASSIGNED_IDENTITY_ID } from "../../fixtures/incidents";

const REVOKED_CAUSES = CAUSE_IDS.filter((id): id is RevokedCauseId => id !== "healthy");

/** Steps as a reader sees them: the sentence, then each command with its label. */
function render(steps: RemediationStep[]): string {
  return steps
    .map((step, index) =>
      [`${index + 1}. ${step.text}`, ...step.commands.flatMap((c) => [...(c.label === undefined ? [] : [`   # ${c.label}`]), `   $ ${c.command}`])].join("\n"),
    )
    .join("\n");
}

/** The accounts every cause is rendered for. */
const EVERY_CAUSE: Array<[variant: string, account: CmkAccount | undefined]> = [
  // `explain` without an account: every value is a placeholder.
  ["no account", undefined],
  // The common setup: the account's own identity is the default.
  ["system-assigned", makeAccount()],
  // A user-assigned identity, attached and default.
  ["user-assigned", makeUserAssignedAccount()],
];

/** Identity setups the identity causes word differently. */
const IDENTITY_CAUSES: RevokedCauseId[] = ["invalid-default-identity", "aad-token-acquisition", "default-identity-unauthorized"];
const IDENTITY_VARIANTS: Array<[variant: string, account: CmkAccount]> = [
  // Named as the default but not attached: attach it first.
  ["user-assigned, not attached", makeUserAssignedAccount({ userAssignedIdentities: {} })],
  // Cross-tenant: the app registration's federated credential matters too.
  [
    "cross-tenant user-assigned",
    makeUserAssignedAccount({ defaultIdentity: `UserAssignedIdentity=${USER_ASSIGNED_IDENTITY_ID}&FederatedClientId=${USER_ASSIGNED_CLIENT_ID}` }),
  ],
  // No identity of any kind: enable or attach one.
  ["no identity", makeAccount({ defaultIdentity: undefined, identityType: "None", principalId: undefined })],
  // The system-assigned identity is on but not the default.
  ["system-assigned on, no default", makeAccount({ defaultIdentity: undefined })],
  // The identity type says system-assigned but ARM reports no principal id yet.
  ["system-assigned type, no principal id", makeAccount({ defaultIdentity: undefined, principalId: undefined })],
  // A principal id without an identity type (older API versions leave the type out).
  ["principal id, no identity type", makeAccount({ defaultIdentity: undefined, identityType: undefined })],
  // First-party: its object id is per tenant, so the reader is told where to find it.
  ["first-party identity", makeAccount({ defaultIdentity: "FirstPartyIdentity" })],
  // The default identity's principal id is not reported: a command prints it.
  ["system-assigned default, no principal id", makeAccount({ principalId: undefined })],
  ["user-assigned default, no principal id", makeUserAssignedAccount({ userAssignedIdentities: { [USER_ASSIGNED_IDENTITY_ID]: {} } })],
  // A user-assigned identity attached but not the default, its principal id not reported.
  [
    "user-assigned attached, no default, no principal id",
    makeUserAssignedAccount({ defaultIdentity: undefined, userAssignedIdentities: { [USER_ASSIGNED_IDENTITY_ID]: {} } }),
  ],
];

/** Key URIs the key-URI cause proposes a correction for (or cannot). */
const KEY_URI_VARIANTS: Array<[variant: string, account: CmkAccount]> = [
  // A key version pasted into the URI: the versionless URI is proposed.
  ["versioned key URI", makeAccount({ keyVaultKeyUri: "https://kv-orders-prod.vault.azure.net/keys/orders-cmk/0123456789abcdef0123456789abcdef" })],
  // A sovereign cloud keeps its own vault domain in the proposal.
  ["sovereign-cloud key URI", makeAccount({ keyVaultKeyUri: "https://kv-orders-prod.vault.azure.cn/keys/orders-cmk/0123456789abcdef0123456789abcdef" })],
  // Nothing parseable: no proposal, placeholders only.
  ["unparseable key URI", makeAccount({ keyVaultKeyUri: "garbage" })],
  // No key URI at all (the account lost its encryption settings in a read).
  ["empty key URI", makeAccount({ keyVaultKeyUri: "" })],
];

/** Account values the commands refuse to print: the step asks the reader to fill them in. */
const REFUSED_VALUES: Array<[cause: RevokedCauseId, variant: string, account: CmkAccount]> = [
  // az would read "--debug" as an option, and a subscription that is no GUID is no subscription.
  ["key-not-found", "option-like resource group, bad subscription", makeAccount({ resourceGroup: "--debug", subscriptionId: "not-a-guid" })],
  // An account name ARM would not allow.
  ["key-vault-network-blocked", "account name with a space", makeAccount({ name: "orders db" })],
];

const CASES: Array<[cause: RevokedCauseId, variant: string, account: CmkAccount | undefined]> = [
  ...REVOKED_CAUSES.flatMap((cause) => EVERY_CAUSE.map(([variant, account]) => [cause, variant, account] as [RevokedCauseId, string, CmkAccount | undefined])),
  ...IDENTITY_CAUSES.flatMap((cause) => IDENTITY_VARIANTS.map(([variant, account]) => [cause, variant, account] as [RevokedCauseId, string, CmkAccount])),
  ...REFUSED_VALUES,
  ...KEY_URI_VARIANTS.map(([variant, account]) => ["invalid-key-vault-uri", variant, account] as [RevokedCauseId, string, CmkAccount]),
];

describe("remediation as the owner reads it", () => {
  it.each(CASES)("%s, %s", (cause, _variant, account) => {
    expect(render(remediationSteps(cause, account))).toMatchSnapshot();
  });
});
