/**
 * Warnings before revocation, for accounts that are still healthy, and the daily digest that
 * reports them. Pure.
 *
 *   warningFindings: what today's probes say could revoke the account (each a kind of finding
 *                    with a severity and the fix), plus the kinds they could not decide;
 *   planDigest:      per recipient, whether today's digest is due: only when a finding is new or
 *                    changed, or a reported one is resolved (reported once, then forgotten).
 */
import { createHash } from "node:crypto";
import type { CmkAccount } from "./account";
import { normalizeResourceId } from "./account";
import type { OutboxMessage } from "./incident";
import { evaluatePermission } from "./keyVaultPermissions";
import { dnsCondition, keyCondition, networkCondition, targetNames, utcText, vaultCondition } from "./probeConditions";
import type { ProbeFacts } from "./probeFacts";
import { evidenceLines, type EvidenceLine, type ProbeId } from "./probeFindings";
import { commandTarget, guardedValue } from "./commandTarget";
import { keyArgs, type RemediationCommand } from "./remediationCommands";
import { placeholder, sh } from "./shellQuoting";

export const WARNING_KINDS = [
  "key-expired",
  "key-disabled",
  "key-deleted",
  "key-missing",
  "vault-deleted",
  "vault-missing",
  "vault-host-unresolved",
  "identity-lacks-permission",
  "default-identity-invalid",
  "firewall-blocks-trusted-services",
  "key-not-yet-valid",
  "key-expires-soon",
  "purge-protection-off",
  "soft-delete-off",
] as const;

export type WarningKind = (typeof WARNING_KINDS)[number];

/** A kind of finding in a few words, for counts and filters (a finding's own title says more). */
export const WARNING_KIND_LABELS: Record<WarningKind, string> = {
  "key-expired": "Key expired",
  "key-disabled": "Key disabled",
  "key-deleted": "Key deleted",
  "key-missing": "Key missing",
  "vault-deleted": "Vault deleted",
  "vault-missing": "Vault missing",
  "vault-host-unresolved": "Vault host does not resolve",
  "identity-lacks-permission": "Identity lacks key permission",
  "default-identity-invalid": "Default identity invalid",
  "firewall-blocks-trusted-services": "Vault firewall blocks Cosmos DB",
  "key-not-yet-valid": "Key not yet valid",
  "key-expires-soon": "Key expires soon",
  "purge-protection-off": "Purge protection off",
  "soft-delete-off": "Soft delete off",
};

/** critical: Cosmos DB would revoke on its next key access; high: soon or on the next change; medium: one mistake away. */
export type WarningSeverity = "critical" | "high" | "medium";

export const SEVERITY_ORDER: Record<WarningSeverity, number> = { critical: 0, high: 1, medium: 2 };

export interface WarningFinding {
  kind: WarningKind;
  severity: WarningSeverity;
  /** Short headline, e.g. "Key expires in 12 days". */
  title: string;
  /** The fact found, one sentence. */
  detail: string;
  /** The exact fix, when there is one. */
  commands: RemediationCommand[];
  /** Changes when the substance changes (a new expiry date, a new severity): reported again then. */
  fingerprint: string;
}

export interface AccountWarnings {
  findings: WarningFinding[];
  /** Kinds today's probes could not decide (e.g. 403 on the key): earlier findings of these kinds are kept, not resolved. */
  unchecked: WarningKind[];
}

export interface WarningOptions {
  /** CMK_KEY_EXPIRY_WARNING_DAYS. */
  keyExpiryWarningDays: number;
}

const DAY_IN_MS = 24 * 60 * 60 * 1000;
/** An expiry this close is "high"; further out (within the warning window) it is "medium". */
const URGENT_EXPIRY_IN_DAYS = 7;

const KEY_KINDS: WarningKind[] = ["key-expired", "key-disabled", "key-deleted", "key-missing", "key-not-yet-valid", "key-expires-soon"];
const VAULT_KINDS: WarningKind[] = ["vault-deleted", "vault-missing", "purge-protection-off", "soft-delete-off", "firewall-blocks-trusted-services"];

/** What today's probes say could revoke a healthy account. */
export function warningFindings(account: CmkAccount, facts: ProbeFacts, now: Date, options: WarningOptions): AccountWarnings {
  const evidence = evidenceLines(account, facts, now);
  // evidenceLines always has a line for each probe asked for here (network only while the vault is active, the only time it is asked):
  // Stryker disable next-line OptionalChaining,ArrayDeclaration: equivalent, the line is always found
  const fixFor = (probe: ProbeId): RemediationCommand[] => evidence.find((line: EvidenceLine) => line.probe === probe)?.commands ?? [];
  // Stryker disable next-line OptionalChaining,StringLiteral: equivalent, the line is always found
  const textFor = (probe: ProbeId): string => evidence.find((line) => line.probe === probe)?.text ?? "";
  const findings: WarningFinding[] = [];
  const unchecked = new Set<WarningKind>();
  const add = (kind: WarningKind, severity: WarningSeverity, title: string, detail: string, commands: RemediationCommand[], salt = ""): void => {
    findings.push({ kind, severity, title, detail, commands, fingerprint: `${kind}|${severity}|${salt}` });
  };

  // No key-URI warning: a healthy account's URI is one Cosmos DB is using right now (a bad one revokes at once, 4006).
  if (!facts.identity.valid) {
    add("default-identity-invalid", "critical", "Default identity is not valid", textFor("default-identity"), fixFor("default-identity"), facts.identity.value);
  }

  const vault = vaultCondition(facts);
  const dns = dnsCondition(facts);
  if (vault === "deleted") add("vault-deleted", "critical", "Vault is deleted", textFor("vault"), fixFor("vault"));
  else if (vault === "missing") add("vault-missing", "critical", "Vault does not exist", textFor("vault"), []);
  else if (vault === "unknown") for (const kind of VAULT_KINDS) unchecked.add(kind);
  if (dns === "fails" && vault !== "deleted" && vault !== "missing") {
    add("vault-host-unresolved", "critical", "Vault host name does not resolve", textFor("dns"), []);
  } else if (dns === "unknown") unchecked.add("vault-host-unresolved");

  if (facts.vault.checked && facts.vault.value.state === "active") {
    const active = facts.vault.value;
    if (!active.softDeleteEnabled) {
      add(
        "soft-delete-off",
        "medium",
        "Soft delete is off",
        `Vault ${active.name} has soft delete off: a deleted key could never be recovered.`,
        [],
        active.name,
      );
    }
    if (!active.purgeProtectionEnabled) {
      add(
        "purge-protection-off",
        "medium",
        "Purge protection is off",
        `Vault ${active.name} has purge protection off: a deleted key can be purged before anyone recovers it (Cosmos DB requires purge protection for customer-managed keys).`,
        [
          {
            label: "Turn purge protection on (it cannot be turned off again)",
            command:
              sh`az keyvault update --name ${guardedValue(active.name, "vaultName", "vault-name")} --resource-group ${guardedValue(active.resourceGroup, "resourceGroup", "vault-resource-group")} --subscription ${guardedValue(active.subscriptionId, "subscriptionId", "subscription-id")} --enable-purge-protection true`
                .text,
          },
        ],
        active.name,
      );
    }
    if (networkCondition(facts) === "blocks") {
      add("firewall-blocks-trusted-services", "high", "Vault firewall blocks Cosmos DB", textFor("network"), fixFor("network"), active.name);
    }
  }

  const key = keyCondition(facts, now);
  switch (key.state) {
    case "unknown":
      for (const kind of KEY_KINDS) unchecked.add(kind);
      break;
    case "disabled":
      add("key-disabled", "critical", "Key is disabled", textFor("key"), fixFor("key"));
      break;
    case "expired":
      add("key-expired", "critical", "Key has expired", textFor("key"), fixFor("key"), key.key.expiresOn);
      break;
    case "not-yet-valid":
      add("key-not-yet-valid", "high", "Key is not yet valid", textFor("key"), fixFor("key"), key.key.notBefore);
      break;
    case "deleted":
      add("key-deleted", "critical", "Key is deleted", textFor("key"), fixFor("key"));
      break;
    case "missing":
      add("key-missing", "critical", "Key does not exist", textFor("key"), fixFor("key"));
      break;
    case "usable": {
      const expiresOn = key.key.expiresOn;
      const left = expiresOn ? Date.parse(expiresOn) - now.getTime() : Infinity;
      if (left <= options.keyExpiryWarningDays * DAY_IN_MS) {
        const days = Math.max(0, Math.ceil(left / DAY_IN_MS));
        const names = targetNames(facts);
        add(
          "key-expires-soon",
          days <= URGENT_EXPIRY_IN_DAYS ? "high" : "medium",
          `Key expires in ${days} day${days === 1 ? "" : "s"}`,
          `Key ${names.key} in vault ${names.vault} expires on ${utcText(expiresOn)}; when it does, Cosmos DB loses access and the account is revoked.`,
          [
            {
              label: "Move the expiry date (or rotate the key and set a new expiry on the new version)",
              command: sh`az keyvault key set-attributes ${keyArgs(commandTarget(account))} --expires ${placeholder("new-expiry-utc")}`.text,
            },
          ],
          expiresOn,
        );
      }
      break;
    }
  }

  const permission = evaluatePermission(facts);
  if (permission.status === "missing") {
    add(
      "identity-lacks-permission",
      "critical",
      "Default identity lacks permission on the key",
      textFor("permission"),
      fixFor("permission"),
      permission.missing.join(","),
    );
  } else if (permission.status === "unknown") unchecked.add("identity-lacks-permission");

  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || WARNING_KINDS.indexOf(a.kind) - WARNING_KINDS.indexOf(b.kind));
  return { findings, unchecked: [...unchecked] };
}

/** Today's findings, keeping yesterday's of the kinds today's probes could not decide. */
export function mergeWithPrevious(previous: readonly WarningFinding[] | undefined, today: AccountWarnings): WarningFinding[] {
  const kinds = new Set(today.findings.map((f) => f.kind));
  // Stryker disable next-line ArrayDeclaration: equivalent, an element without a kind is never among today's unchecked kinds
  const carried = (previous ?? []).filter((f) => today.unchecked.includes(f.kind) && !kinds.has(f.kind));
  return [...today.findings, ...carried];
}

// ---------------------------------------------------------------------------------------------
// The daily digest

/** One account's findings as last probed (stored once a day per healthy account). */
export interface CheckedAccount {
  accountId: string;
  accountName: string;
  subscriptionId: string;
  resourceGroup: string;
  /** UTC date of the probe, YYYY-MM-DD: healthy accounts are probed at most once a day. */
  checkedOn: string;
  checkedAt: string;
  findings: WarningFinding[];
  /** Valid addresses from the owner tag when checked, for the operator's filter; absent in checks recorded before they were kept. */
  owners?: string[];
  /** What this check recorded in the fleet index (src/pipeline/dailyChecks.ts), so an unchanged account is not written there again. */
  indexedAs?: string;
}

export interface ReportedWarning {
  accountId: string;
  accountName: string;
  kind: WarningKind;
  severity: WarningSeverity;
  title: string;
  fingerprint: string;
}

/** Per recipient: what their last digest reported, and when it went out. */
export interface DigestState {
  recipient: string;
  lastDigestOn?: string;
  reported: ReportedWarning[];
}

export interface DigestAccount {
  accountId: string;
  accountName: string;
  subscriptionId: string;
  resourceGroup: string;
  findings: Array<WarningFinding & { isNew: boolean }>;
}

export interface WarningDigestFacts {
  kind: "warning-digest";
  recipient: string;
  /** UTC date, YYYY-MM-DD. */
  date: string;
  /** Every current finding of the recipient's healthy accounts, worst first. */
  accounts: DigestAccount[];
  /** Findings reported before that the probes now show gone; reported once. */
  resolved: Array<{ accountId: string; accountName: string; kind: WarningKind; title: string }>;
}

export type DigestPlan = { send: true; facts: WarningDigestFacts; next: DigestState } | { send: false; reason: "unchanged" | "already-sent-today" };

function findingKey(accountId: string, kind: string): string {
  return `${normalizeResourceId(accountId)}|${kind}`;
}

/**
 * Whether `recipient` gets a digest today and what it says. `accounts` are the recipient's
 * healthy accounts with their latest check; a reported finding of an account not among them
 * (no longer theirs, revoked, deleted) is dropped silently, never called resolved.
 */
export function planDigest(state: DigestState, accounts: readonly CheckedAccount[], today: string): DigestPlan {
  const reported = new Map(state.reported.map((r) => [findingKey(r.accountId, r.kind), r]));
  const current = new Map<string, { account: CheckedAccount; finding: WarningFinding }>();
  for (const account of accounts) for (const finding of account.findings) current.set(findingKey(account.accountId, finding.kind), { account, finding });
  const inScope = new Set(accounts.map((a) => normalizeResourceId(a.accountId)));

  const isNew = (key: string, finding: WarningFinding): boolean => reported.get(key)?.fingerprint !== finding.fingerprint;
  const changed = [...current].some(([key, { finding }]) => isNew(key, finding));
  const resolved = state.reported.filter((r) => inScope.has(normalizeResourceId(r.accountId)) && !current.has(findingKey(r.accountId, r.kind)));
  if (!changed && resolved.length === 0) return { send: false, reason: "unchanged" };
  if (state.lastDigestOn === today) return { send: false, reason: "already-sent-today" };

  const digestAccounts: DigestAccount[] = accounts
    .filter((account) => account.findings.length > 0)
    .map((account) => ({
      accountId: account.accountId,
      accountName: account.accountName,
      subscriptionId: account.subscriptionId,
      resourceGroup: account.resourceGroup,
      findings: account.findings.map((finding) => ({ ...finding, isNew: isNew(findingKey(account.accountId, finding.kind), finding) })),
    }))
    .sort((a, b) => worst(a) - worst(b) || a.accountName.localeCompare(b.accountName));
  return {
    send: true,
    facts: {
      kind: "warning-digest",
      recipient: state.recipient,
      date: today,
      accounts: digestAccounts,
      resolved: resolved.map((r) => ({ accountId: r.accountId, accountName: r.accountName, kind: r.kind, title: r.title })),
    },
    next: {
      recipient: state.recipient,
      lastDigestOn: today,
      reported: [...current.values()].map(({ account, finding }) => ({
        accountId: account.accountId,
        accountName: account.accountName,
        kind: finding.kind,
        severity: finding.severity,
        title: finding.title,
        fingerprint: finding.fingerprint,
      })),
    },
  };
}

function worst(account: DigestAccount): number {
  return Math.min(...account.findings.map((f) => SEVERITY_ORDER[f.severity]));
}

/** The stable key of a recipient's digest state and outbox rows (addresses may hold characters a row key cannot). */
export function digestOwnerKey(recipient: string): string {
  return `digest-owner:${createHash("sha256").update(recipient.trim().toLowerCase()).digest("hex").slice(0, 24)}`;
}

/** The digest email as an outbox message; the key (recipient + UTC date) makes a second one that day impossible. */
export function digestMessage(facts: WarningDigestFacts, createdAt: Date): OutboxMessage {
  const owner = digestOwnerKey(facts.recipient);
  return {
    key: `warning-digest.${owner.slice("digest-owner:".length)}.${facts.date}`,
    incidentId: `warning-digest-${facts.date}`,
    accountId: owner,
    kind: "warning-digest",
    to: [facts.recipient],
    cc: [],
    createdAt: createdAt.toISOString(),
    facts,
  };
}

export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}
