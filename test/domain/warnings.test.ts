import { checkDefaultIdentity } from "../../src/domain/defaultIdentityCheck";
import { checkKeyVaultKeyUri } from "../../src/domain/keyVaultUri";
import { checked, couldNotCheck, type ProbeFacts } from "../../src/domain/probeFacts";
import {
  digestMessage,
  digestOwnerKey,
  mergeWithPrevious,
  planDigest,
  utcDate,
  warningFindings,
  type CheckedAccount,
  type DigestState,
  type WarningFinding,
  type WarningKind,
} from "../../src/domain/warnings";
import { activeKey, activeVault, healthyFacts, NOW, PROBE_ACCOUNT } from "../fixtures/probes";

const DAY = 24 * 60 * 60 * 1000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
const OPTIONS = { keyExpiryWarningDays: 30 };

function kinds(overrides: Partial<ProbeFacts>, options = OPTIONS): string[] {
  return warningFindings(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, overrides), NOW, options).findings.map((f) => `${f.kind}:${f.severity}`);
}

describe("warningFindings", () => {
  it("a healthy account with a well-kept vault has nothing to warn about", () => {
    // The digest must stay silent for accounts that are fine.
    expect(kinds({})).toEqual([]);
  });

  it.each<[string, Partial<ProbeFacts>, string[]]>([
    // Expiry inside the window: medium, then high in the last week, critical once past.
    ["expires in 20 days", { key: checked(activeKey({ expiresOn: inDays(20) })) }, ["key-expires-soon:medium"]],
    ["expires in 5 days", { key: checked(activeKey({ expiresOn: inDays(5) })) }, ["key-expires-soon:high"]],
    ["expired", { key: checked(activeKey({ expiresOn: inDays(-1) })) }, ["key-expired:critical"]],
    // Outside the window: nothing yet.
    ["expires in 40 days", { key: checked(activeKey({ expiresOn: inDays(40) })) }, []],
    // Disabled, deleted, purged.
    ["disabled", { key: checked(activeKey({ enabled: false })) }, ["key-disabled:critical"]],
    ["key soft-deleted", { key: checked({ state: "deleted", name: "cmk", deletedOn: inDays(0) }) }, ["key-deleted:critical"]],
    ["key purged", { key: checked({ state: "not-found", name: "cmk" }) }, ["key-missing:critical"]],
    // The vault: deleted, or one mistake away from an unrecoverable key.
    ["vault soft-deleted", { vault: checked({ state: "deleted", name: "kv-orders" }), key: couldNotCheck("the vault is deleted") }, ["vault-deleted:critical"]],
    ["purge protection off", { vault: checked(activeVault({ purgeProtectionEnabled: false })) }, ["purge-protection-off:medium"]],
    [
      "soft delete off",
      { vault: checked(activeVault({ softDeleteEnabled: false, purgeProtectionEnabled: false })) },
      ["purge-protection-off:medium", "soft-delete-off:medium"],
    ],
    // Access and reachability.
    ["permission removed", { vault: checked(activeVault({ accessPolicies: [] })) }, ["identity-lacks-permission:critical"]],
    [
      "firewall blocks trusted services",
      { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) },
      ["firewall-blocks-trusted-services:high"],
    ],
    [
      "host does not resolve",
      { dns: checked({ host: "kv-orders.vault.azure.net", resolves: false }), vault: couldNotCheck("HTTP 403") },
      ["vault-host-unresolved:critical"],
    ],
    // Configuration of the account itself.
    ["default identity invalid", { identity: checkDefaultIdentity({ ...PROBE_ACCOUNT, defaultIdentity: "Nope" }) }, ["default-identity-invalid:critical"]],
    // A healthy account's URI is one Cosmos DB accepts right now: no warning about its form.
    ["key URI with a version", { keyUri: checkKeyVaultKeyUri(`${PROBE_ACCOUNT.keyVaultKeyUri}/0123456789abcdef0123456789abcdef`) }, []],
  ])("%s", (_name, overrides, expected) => {
    expect(kinds(overrides)).toEqual(expected);
  });

  it("honours CMK_KEY_EXPIRY_WARNING_DAYS", () => {
    // A team with a 60-day rotation window wants to hear earlier.
    expect(kinds({ key: checked(activeKey({ expiresOn: inDays(40) })) }, { keyExpiryWarningDays: 60 })).toEqual(["key-expires-soon:medium"]);
  });

  it("a finding carries its fix and a fingerprint that changes with its substance", () => {
    // A moved expiry date is news; the same date tomorrow is not.
    const facts = healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ expiresOn: inDays(20) })) });
    const [finding] = warningFindings(PROBE_ACCOUNT, facts, NOW, OPTIONS).findings;
    const tomorrow = warningFindings(PROBE_ACCOUNT, facts, new Date(NOW.getTime() + DAY), OPTIONS).findings[0];
    expect(finding!.commands[0]!.command).toBe("az keyvault key set-attributes --vault-name kv-orders --name cmk --expires <new-expiry-utc>");
    expect(tomorrow!.fingerprint).toBe(finding!.fingerprint);
    expect(finding!.title).toBe("Key expires in 20 days");
  });

  // Issue #16, finding 1: the digest's own commands used the lenient URI parse and ARM's vault facts unchecked.
  it.each<[string, string, Partial<ProbeFacts>, string]>([
    // Percent-encoded "../" in the key name: a dot segment must never reach a command.
    [
      "key name with dot segments",
      "https://kv-orders.vault.azure.net/keys/%2e%2e%2fother",
      { key: checked(activeKey({ expiresOn: inDays(5) })) },
      "az keyvault key set-attributes --vault-name kv-orders --name <key-name> --expires <new-expiry-utc>",
    ],
    // A quote ends PowerShell's quoting; ";" then runs the rest.
    [
      "key name with a quote",
      "https://kv-orders.vault.azure.net/keys/k'%3BStart-Process%20calc%3B%23",
      { key: checked(activeKey({ expiresOn: inDays(5) })) },
      "az keyvault key set-attributes --vault-name kv-orders --name <key-name> --expires <new-expiry-utc>",
    ],
    // cmd.exe operators in the vault name ARM reports: %VAR% expands even inside quotes there.
    [
      "vault name from ARM with cmd.exe operators",
      "https://kv-orders.vault.azure.net/keys/cmk",
      { vault: checked(activeVault({ purgeProtectionEnabled: false, name: "kv%PATH%&calc" })) },
      "az keyvault update --name <vault-name> --resource-group rg-kv --subscription 00000000-0000-0000-0000-000000000001 --enable-purge-protection true",
    ],
    // The vault's resource group and subscription as ARM reports them get the same guard, each its own placeholder.
    [
      "vault resource group and subscription that are not names",
      "https://kv-orders.vault.azure.net/keys/cmk",
      { vault: checked(activeVault({ purgeProtectionEnabled: false, resourceGroup: "rg&calc", subscriptionId: "not a subscription" })) },
      "az keyvault update --name kv-orders --resource-group <vault-resource-group> --subscription <subscription-id> --enable-purge-protection true",
    ],
  ])("%s: the command names only checked values", (_why, keyVaultKeyUri, overrides, expected) => {
    const account = { ...PROBE_ACCOUNT, keyVaultKeyUri };
    const { findings } = warningFindings(account, healthyFacts(account, overrides), NOW, OPTIONS);
    expect(findings.flatMap((f) => f.commands.map((c) => c.command))).toContain(expected);
  });

  it("what could not be checked today keeps yesterday's finding instead of resolving it", () => {
    // A 403 on the key today must not report "key expiry resolved".
    const yesterday = warningFindings(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, { key: checked(activeKey({ expiresOn: inDays(20) })) }), NOW, OPTIONS);
    const today = warningFindings(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, { key: couldNotCheck("HTTP 403") }), NOW, OPTIONS);
    expect(today.unchecked).toContain<WarningKind>("key-expires-soon");
    expect(mergeWithPrevious(yesterday.findings, today).map((f) => f.kind)).toEqual(["key-expires-soon"]);
  });
});

// ---------------------------------------------------------------------------------------------

function finding(kind: WarningKind, fingerprint: string = kind): WarningFinding {
  return { kind, severity: kind === "purge-protection-off" ? "medium" : "critical", title: kind, detail: `${kind} detail`, commands: [], fingerprint };
}

function account(name: string, findings: WarningFinding[]): CheckedAccount {
  return {
    accountId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/${name}`,
    accountName: name,
    subscriptionId: "s",
    resourceGroup: "rg",
    checkedOn: "2026-11-29",
    checkedAt: NOW.toISOString(),
    findings,
  };
}

/** Runs one digest per day over `days` (each: the recipient's accounts that day) and lists what went out. */
function days(plan: Array<{ date: string; accounts: CheckedAccount[]; runs?: number }>): string[] {
  let state: DigestState = { recipient: "owner@contoso.com", reported: [] };
  const out: string[] = [];
  for (const day of plan) {
    for (let run = 0; run < (day.runs ?? 1); run++) {
      const result = planDigest(state, day.accounts, day.date);
      if (!result.send) {
        out.push(`${day.date} none (${result.reason})`);
        continue;
      }
      state = result.next;
      const current = result.facts.accounts.flatMap((a) => a.findings.map((f) => `${a.accountName}/${f.kind}${f.isNew ? "*" : ""}`));
      const resolved = result.facts.resolved.map((r) => `-${r.accountName}/${r.kind}`);
      out.push(`${day.date} ${[...current, ...resolved].join(" ")}`);
    }
  }
  return out;
}

describe("planDigest", () => {
  it("first findings go out, then silence while nothing changes", () => {
    // One email per recipient per day, and none at all when nothing changed.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-expires-soon")]), account("billing", [])] },
        { date: "2026-11-30", accounts: [account("orders", [finding("key-expires-soon")]), account("billing", [])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-expires-soon*", "2026-11-30 none (unchanged)"]);
  });

  it("a new finding sends the whole list, marking what is new", () => {
    // The owner sees everything still open, not only the news.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-expires-soon")])] },
        { date: "2026-11-30", accounts: [account("orders", [finding("key-expires-soon"), finding("purge-protection-off")])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-expires-soon*", "2026-11-30 orders/key-expires-soon orders/purge-protection-off*"]);
  });

  it("a resolved warning is reported once, then forgotten", () => {
    // "Resolved" closes the loop for the owner; repeating it would be noise.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-disabled")])] },
        { date: "2026-11-30", accounts: [account("orders", [])] },
        { date: "2026-12-01", accounts: [account("orders", [])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-disabled*", "2026-11-30 -orders/key-disabled", "2026-12-01 none (unchanged)"]);
  });

  it("a changed fingerprint (e.g. the expiry is now days away) is news again", () => {
    // Severity rising from medium to high must reach the owner.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-expires-soon", "a")])] },
        { date: "2026-11-30", accounts: [account("orders", [finding("key-expires-soon", "b")])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-expires-soon*", "2026-11-30 orders/key-expires-soon*"]);
  });

  it("one finding of several gone is reported resolved; the rest are not news", () => {
    // Findings are told apart per account and kind, so one going away neither hides nor repeats the others.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-disabled"), finding("purge-protection-off")])] },
        { date: "2026-11-30", accounts: [account("orders", [finding("purge-protection-off")])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-disabled* orders/purge-protection-off*", "2026-11-30 orders/purge-protection-off -orders/key-disabled"]);
  });

  it("at most one digest a day: a change later the same day waits for tomorrow", () => {
    // The idempotency key is recipient + UTC date.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-disabled")])] },
        { date: "2026-11-29", accounts: [account("orders", [finding("key-disabled"), finding("vault-deleted")])] },
        { date: "2026-11-30", accounts: [account("orders", [finding("key-disabled"), finding("vault-deleted")])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-disabled*", "2026-11-29 none (already-sent-today)", "2026-11-30 orders/key-disabled orders/vault-deleted*"]);
  });

  it("an account that is no longer the recipient's (or no longer healthy) is dropped, not called resolved", () => {
    // Worst first (critical before medium). Telling an owner "resolved" for an account that was revoked meanwhile would be a lie.
    expect(
      days([
        { date: "2026-11-29", accounts: [account("orders", [finding("key-disabled")]), account("billing", [finding("purge-protection-off")])] },
        { date: "2026-11-30", accounts: [account("billing", [finding("purge-protection-off")])] },
      ]),
    ).toEqual(["2026-11-29 orders/key-disabled* billing/purge-protection-off*", "2026-11-30 none (unchanged)"]);
  });

  it("the digest message key is the recipient (hashed, case-insensitive) plus the UTC date", () => {
    // Deterministic: a retry or a second instance records the same row, never a second email.
    const plan = planDigest({ recipient: "Owner@Contoso.com", reported: [] }, [account("orders", [finding("key-disabled")])], "2026-11-29");
    if (!plan.send) throw new Error("expected a digest");
    const message = digestMessage(plan.facts, NOW);
    expect(message.key).toBe(`warning-digest.${digestOwnerKey("owner@contoso.com").slice("digest-owner:".length)}.2026-11-29`);
    expect(message).toMatchObject({ kind: "warning-digest", to: ["Owner@Contoso.com"], cc: [], accountId: digestOwnerKey("OWNER@contoso.com") });
    expect(message.key).not.toMatch(/[@/\\#?]/);
  });
});

// ---------------------------------------------------------------------------------------------

/** A check's findings as the digest reads them: severity, kind, headline, fingerprint, the sentence, each fix; then what it could not decide. */
function rendered(overrides: Partial<ProbeFacts>): string {
  const { findings, unchecked } = warningFindings(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, overrides), NOW, OPTIONS);
  const lines = findings.flatMap((f) => [
    `[${f.severity}] ${f.kind}: ${f.title} (${f.fingerprint})`,
    `  ${f.detail}`,
    ...f.commands.flatMap((c) => [`  # ${c.label}`, `  $ ${c.command}`]),
  ]);
  return [...lines, `unchecked: ${[...unchecked].sort().join(", ") || "-"}`].join("\n");
}

const DNS_FAILS: Partial<ProbeFacts> = { dns: checked({ host: "kv-orders.vault.azure.net", resolves: false }) };
const VAULT_GONE: Partial<ProbeFacts> = {
  vault: checked({ state: "not-found", name: "kv-orders", searchedSubscriptions: [PROBE_ACCOUNT.subscriptionId] }),
  key: couldNotCheck("the vault does not exist"),
};

describe("warningFindings, word for word", () => {
  // What each finding tells the owner (headline, sentence, fix) and what the check could not decide: a changed word,
  // severity or fingerprint shows up as a snapshot diff. Update with `npx jest test/domain/warnings.test.ts -u` only when meant.
  it.each<[string, Partial<ProbeFacts>]>([
    // Nothing to say, and everything decided.
    ["healthy", {}],
    // The key's states, each with its own headline and fix.
    ["key disabled", { key: checked(activeKey({ enabled: false })) }],
    ["key expired", { key: checked(activeKey({ expiresOn: inDays(-1) })) }],
    ["key not yet valid", { key: checked(activeKey({ notBefore: inDays(2) })) }],
    ["key soft-deleted", { key: checked({ state: "deleted", name: "cmk", deletedOn: inDays(0) }) }],
    ["key purged", { key: checked({ state: "not-found", name: "cmk" }) }],
    ["key could not be read", { key: couldNotCheck("HTTP 403") }],
    // Expiry edges: one day is singular, exactly 7 days is still "high", 8 is "medium", exactly the window is warned about.
    ["expires in 1 day", { key: checked(activeKey({ expiresOn: inDays(1) })) }],
    ["expires in exactly 7 days", { key: checked(activeKey({ expiresOn: inDays(7) })) }],
    ["expires in 8 days", { key: checked(activeKey({ expiresOn: inDays(8) })) }],
    ["expires at the edge of the 30-day window", { key: checked(activeKey({ expiresOn: inDays(30) })) }],
    // The vault: deleted, gone for good, or not readable (its kinds undecided).
    ["vault soft-deleted", { vault: checked({ state: "deleted", name: "kv-orders" }), key: couldNotCheck("the vault is deleted") }],
    ["vault purged and host gone", { ...VAULT_GONE, ...DNS_FAILS }],
    [
      "vault soft-deleted and host gone: one finding, not two",
      { vault: checked({ state: "deleted", name: "kv-orders" }), key: couldNotCheck("deleted"), ...DNS_FAILS },
    ],
    ["vault not listed but host resolves: undecided", VAULT_GONE],
    ["vault could not be read", { vault: couldNotCheck("HTTP 403") }],
    ["DNS could not be checked", { dns: couldNotCheck("timeout") }],
    ["host does not resolve", { ...DNS_FAILS, vault: couldNotCheck("HTTP 403") }],
    // One mistake away, and access.
    ["soft delete and purge protection off", { vault: checked(activeVault({ softDeleteEnabled: false, purgeProtectionEnabled: false })) }],
    ["firewall blocks trusted services", { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) }],
    ["permission removed", { vault: checked(activeVault({ accessPolicies: [] })) }],
    ["default identity invalid", { identity: checkDefaultIdentity({ ...PROBE_ACCOUNT, defaultIdentity: "Nope" }) }],
  ])("%s", (_name, overrides) => {
    expect(rendered(overrides)).toMatchSnapshot();
  });
});

describe("mergeWithPrevious", () => {
  const today = (findings: WarningFinding[], unchecked: WarningKind[]) => ({ findings, unchecked });
  it.each<[string, WarningFinding[] | undefined, ReturnType<typeof today>, string[]]>([
    // Nothing before: today's findings as they are.
    ["no previous check", undefined, today([finding("key-disabled")], ["vault-deleted"]), ["key-disabled"]],
    // Decided today and gone: dropped (the digest then reports it resolved).
    ["a decided kind that went away", [finding("purge-protection-off")], today([], []), []],
    // Undecided today: yesterday's finding is kept.
    [
      "an undecided kind",
      [finding("purge-protection-off")],
      today([finding("key-disabled")], ["purge-protection-off"]),
      ["key-disabled", "purge-protection-off"],
    ],
    // Undecided yet found again today (a second probe found it): today's, once.
    ["an undecided kind also found today", [finding("key-disabled", "old")], today([finding("key-disabled", "new")], ["key-disabled"]), ["key-disabled|new"]],
  ])("%s", (_name, previous, current, expected) => {
    const merged = mergeWithPrevious(previous, current).map((f) => (f.fingerprint === f.kind ? f.kind : `${f.kind}|${f.fingerprint}`));
    expect(merged).toEqual(expected);
  });
});

describe("planDigest, order and identity", () => {
  const state: DigestState = { recipient: "owner@contoso.com", reported: [] };

  it.each<[string, CheckedAccount[], string[]]>([
    // Worst account first, whatever the input order; an account's worst finding decides, not its first.
    [
      "worst first",
      [account("alpha", [finding("purge-protection-off")]), account("zulu", [finding("purge-protection-off"), finding("key-disabled")])],
      ["zulu", "alpha"],
    ],
    // Equally bad: by name.
    ["then by name", [account("zulu", [finding("key-disabled")]), account("alpha", [finding("key-disabled")])], ["alpha", "zulu"]],
    // An account with nothing to report is left out of the email.
    ["nothing to report is left out", [account("alpha", []), account("zulu", [finding("key-disabled")])], ["zulu"]],
  ])("%s", (_name, accounts, expected) => {
    const plan = planDigest(state, accounts, "2026-11-29");
    if (!plan.send) throw new Error("expected a digest");
    expect(plan.facts.kind).toBe("warning-digest");
    expect(plan.facts.accounts.map((a) => a.accountName)).toEqual(expected);
  });

  it("a finding reported under another spelling of the account id is the same finding", () => {
    // Azure's ids vary in case: that is no news, and nothing is resolved.
    const reported = account("orders", [finding("key-disabled")]);
    const first = planDigest(state, [reported], "2026-11-29");
    if (!first.send) throw new Error("expected a digest");
    const respelled = { ...reported, accountId: reported.accountId.toUpperCase() };
    expect(planDigest(first.next, [respelled], "2026-11-30")).toEqual({ send: false, reason: "unchanged" });
  });

  it.each<[string, string, string, boolean]>([
    // Case and surrounding spaces in an address do not make a second recipient.
    ["case and spaces", "Owner@Contoso.com ", "owner@contoso.com", true],
    ["another address", "owner@contoso.com", "other@contoso.com", false],
  ])("the recipient's key: %s", (_name, a, b, same) => {
    // Stored digest state and outbox rows are found by this key: it must not change between releases.
    expect(digestOwnerKey("owner@contoso.com")).toBe("digest-owner:3742fd1c3420ad8a69e408cc");
    expect(digestOwnerKey(a)).toMatch(/^digest-owner:[0-9a-f]{24}$/);
    expect(digestOwnerKey(a) === digestOwnerKey(b)).toBe(same);
  });

  it("the digest message threads under the day's digest id", () => {
    // One thread per day in the outbox and the mail client.
    const plan = planDigest(state, [account("orders", [finding("key-disabled")])], utcDate(new Date("2026-11-29T23:59:59.999Z")));
    if (!plan.send) throw new Error("expected a digest");
    expect(digestMessage(plan.facts, NOW).incidentId).toBe("warning-digest-2026-11-29");
  });
});
