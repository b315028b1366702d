/**
 * Urgent warnings: a finding on a healthy account that will get it revoked (a permission removed,
 * a key disabled, a vault deleted…) is emailed to the owners at once, in its own `at-risk` message,
 * instead of waiting for the daily digest. Pure:
 *
 *   urgencyOf:  which finding kinds go out at once and which stay in the digest;
 *   planAtRisk: per account, which urgent findings are new (one email each, exactly once), which
 *               went away by themselves (one "resolved" email each), and the state to record with
 *               those emails in one ETag-guarded transaction;
 *   priorWarning: the warning a revocation that follows links back to ("we warned at 09:12 UTC").
 */
import { createHash } from "node:crypto";
import { normalizeResourceId, type CmkAccount } from "./account";
import type { OutboxMessage } from "./incident";
import type { WarningFinding, WarningKind } from "./warnings";

/** urgent: emailed at once, Cosmos DB would revoke on its next key access; digest: slow-burning, reported daily. */
export type Urgency = "urgent" | "digest";

/** Every kind decided here, so a new kind cannot slip into neither path. */
export const URGENCY: Readonly<Record<WarningKind, Urgency>> = {
  "key-expired": "urgent",
  "key-disabled": "urgent",
  "key-deleted": "urgent",
  // A purged key is a deleted one that can no longer be recovered: at least as urgent.
  "key-missing": "urgent",
  "vault-deleted": "urgent",
  "vault-missing": "urgent",
  // The vault was purged or the key URI now names a host that does not exist.
  "vault-host-unresolved": "urgent",
  "identity-lacks-permission": "urgent",
  // The default identity was detached, deleted or rewritten to a form Cosmos DB cannot use.
  "default-identity-invalid": "urgent",
  "firewall-blocks-trusted-services": "urgent",
  // Unwrap fails exactly as for an expired key.
  "key-not-yet-valid": "urgent",
  "key-expires-soon": "digest",
  "purge-protection-off": "digest",
  "soft-delete-off": "digest",
};

export function urgencyOf(kind: WarningKind): Urgency {
  return URGENCY[kind];
}

/** What set off the check that found (or cleared) a finding: shown in figures, never in decisions. */
export type CheckTrigger = "event" | "catch-up" | "daily";

/** An urgent finding the owners were warned about, until it goes away or a revocation takes over. */
export interface OpenAtRisk {
  kind: WarningKind;
  title: string;
  fingerprint: string;
  /** When the probes first saw it: part of the idempotency key, so a finding that comes back is a new one. */
  firstSeenAt: string;
  /** The outbox key of the warning email (equal to the time it was recorded: firstSeenAt). */
  messageKey: string;
}

/** Per account (a row in the account's own partition, beside its incidents and outbox). */
export interface AtRiskState {
  accountId: string;
  open: OpenAtRisk[];
}

export interface AtRiskAccountRef {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
}

/** The facts of one `at-risk` email; rendering is pure over this. */
export interface AtRiskFacts {
  kind: "at-risk";
  /** found: the warning; resolved: the finding went away before Azure revoked the account. */
  change: "found" | "resolved";
  account: AtRiskAccountRef;
  finding: WarningFinding;
  firstSeenAt: string;
  /** For "resolved": when the probes no longer saw it. */
  resolvedAt?: string;
  trigger: CheckTrigger;
}

export interface AtRiskInput {
  account: CmkAccount;
  /** Today's findings (the slow-burning ones are ignored here). */
  findings: readonly WarningFinding[];
  /** Kinds this check could not decide: an open finding of these kinds is kept, never called resolved. */
  unchecked: readonly WarningKind[];
  /** Owners, or the escalation contacts when the account has none; empty: state is recorded, nobody is emailed. */
  recipients: readonly string[];
  /** The account's latest incident's detection time: a warning it followed was taken over by that incident. */
  lastIncidentDetectedAt?: string;
  trigger: CheckTrigger;
}

export type AtRiskPlan =
  { changed: false } | { changed: true; next: AtRiskState; messages: OutboxMessage[]; found: WarningKind[]; resolved: WarningKind[]; takenOver: WarningKind[] };

/** The account's part of every at-risk key: a hash, since ids hold characters a row key cannot. */
export function atRiskAccountKey(accountId: string): string {
  return createHash("sha256").update(normalizeResourceId(accountId)).digest("hex").slice(0, 24);
}

function stamp(iso: string): string {
  return iso.replace(/[-:.]/g, "");
}

/** Deterministic: account + kind + first seen, so a retry, a second instance or a replayed event records the same row. */
export function atRiskMessageKey(accountId: string, kind: WarningKind, firstSeenAt: string, change: AtRiskFacts["change"]): string {
  return `at-risk.${atRiskAccountKey(accountId)}.${kind}.${stamp(firstSeenAt)}${change === "resolved" ? ".resolved" : ""}`;
}

/** Which urgent findings are new or gone, and the emails and state that say so. */
export function planAtRisk(state: AtRiskState | undefined, input: AtRiskInput, now: Date): AtRiskPlan {
  const at = now.toISOString();
  const account = input.account;
  const ref: AtRiskAccountRef = { id: account.id, name: account.name, subscriptionId: account.subscriptionId, resourceGroup: account.resourceGroup };
  const urgent = new Map(input.findings.filter((f) => urgencyOf(f.kind) === "urgent").map((f) => [f.kind, f]));
  const previous = state?.open ?? [];
  const open: OpenAtRisk[] = [];
  const messages: OutboxMessage[] = [];
  const found: WarningKind[] = [];
  const resolved: WarningKind[] = [];
  const takenOver: WarningKind[] = [];
  const message = (facts: AtRiskFacts): OutboxMessage => ({
    key: atRiskMessageKey(account.id, facts.finding.kind, facts.firstSeenAt, facts.change),
    incidentId: `at-risk-${atRiskAccountKey(account.id)}`,
    accountId: account.id,
    kind: "at-risk",
    to: [...input.recipients],
    cc: [],
    createdAt: at,
    facts,
  });

  for (const entry of previous) {
    const still = urgent.get(entry.kind);
    if (still) {
      // Already warned: the same finding is never emailed twice, even if its wording changes.
      open.push(entry);
      continue;
    }
    // A probe that could not decide (a 403, a timeout) never resolves anything.
    if (input.unchecked.includes(entry.kind)) {
      open.push(entry);
      continue;
    }
    // Azure revoked the account after the warning: the incident reported it (and links back to the warning).
    if (input.lastIncidentDetectedAt !== undefined && input.lastIncidentDetectedAt >= entry.firstSeenAt) {
      takenOver.push(entry.kind);
      continue;
    }
    resolved.push(entry.kind);
    if (input.recipients.length > 0) {
      const finding: WarningFinding = { kind: entry.kind, severity: "critical", title: entry.title, detail: "", commands: [], fingerprint: entry.fingerprint };
      messages.push(
        message({ kind: "at-risk", change: "resolved", account: ref, finding, firstSeenAt: entry.firstSeenAt, resolvedAt: at, trigger: input.trigger }),
      );
    }
  }
  const known = new Set(previous.map((entry) => entry.kind));
  for (const finding of urgent.values()) {
    if (known.has(finding.kind)) continue;
    const entry: OpenAtRisk = {
      kind: finding.kind,
      title: finding.title,
      fingerprint: finding.fingerprint,
      firstSeenAt: at,
      // Stryker disable next-line StringLiteral: equivalent, only "resolved" adds a suffix to the key
      messageKey: atRiskMessageKey(account.id, finding.kind, at, "found"),
    };
    open.push(entry);
    found.push(finding.kind);
    if (input.recipients.length > 0)
      messages.push(message({ kind: "at-risk", change: "found", account: ref, finding, firstSeenAt: at, trigger: input.trigger }));
  }
  if (found.length === 0 && resolved.length === 0 && takenOver.length === 0) return { changed: false };
  return { changed: true, next: { accountId: account.id, open }, messages, found, resolved, takenOver };
}

/** The earliest open warning: what a revocation detected now links back to. */
export function priorWarning(state: AtRiskState | undefined): { at: string; title: string } | undefined {
  const first = [...(state?.open ?? [])].sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt))[0];
  return first ? { at: first.firstSeenAt, title: first.title } : undefined;
}
