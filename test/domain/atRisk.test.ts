import {
  atRiskAccountKey,
  atRiskMessageKey,
  planAtRisk,
  priorWarning,
  URGENCY,
  urgencyOf,
  type AtRiskFacts,
  type AtRiskInput,
  type AtRiskState,
} from "../../src/domain/atRisk";
import { checked, couldNotCheck, type ProbeFacts } from "../../src/domain/probeFacts";
import { WARNING_KINDS, warningFindings, type WarningKind } from "../../src/domain/warnings";
import { activeKey, activeVault, healthyFacts, NOW, PROBE_ACCOUNT } from "../fixtures/probes";

const OPTIONS = { keyExpiryWarningDays: 30 };
const DAY = 24 * 60 * 60 * 1000;
const LATER = new Date(NOW.getTime() + 15 * 60_000);
const OWNERS = ["owner@contoso.com"];
const ACCOUNT_REF = { id: PROBE_ACCOUNT.id, name: "orders-db", subscriptionId: PROBE_ACCOUNT.subscriptionId, resourceGroup: "rg-orders" };

function input(overrides: Partial<ProbeFacts>, extra: Partial<AtRiskInput> = {}, now = NOW): AtRiskInput {
  const found = warningFindings(PROBE_ACCOUNT, healthyFacts(PROBE_ACCOUNT, overrides), now, OPTIONS);
  return { account: PROBE_ACCOUNT, findings: found.findings, unchecked: found.unchecked, recipients: OWNERS, trigger: "event", ...extra };
}

const PERMISSION_REMOVED: Partial<ProbeFacts> = { vault: checked(activeVault({ accessPolicies: [] })) };
const KEY_DISABLED: Partial<ProbeFacts> = { key: checked(activeKey({ enabled: false })) };

/** The state after the permission was found missing at NOW. */
function warnedState(): AtRiskState {
  const plan = planAtRisk(undefined, input(PERMISSION_REMOVED), NOW);
  if (!plan.changed) throw new Error("expected a change");
  return plan.next;
}

describe("urgencyOf", () => {
  it("decides every warning kind", () => {
    // A kind added to warnings.ts without a decision here would fail the type check; this catches a stray extra key.
    expect(Object.keys(URGENCY).sort()).toEqual([...WARNING_KINDS].sort());
  });

  it.each<[WarningKind, "urgent" | "digest"]>([
    // The list: each of these gets the account revoked at Cosmos DB's next key access.
    ["identity-lacks-permission", "urgent"],
    ["key-disabled", "urgent"],
    ["key-deleted", "urgent"],
    ["key-expired", "urgent"],
    ["vault-deleted", "urgent"],
    ["default-identity-invalid", "urgent"],
    ["firewall-blocks-trusted-services", "urgent"],
    // Purged key or vault, unresolvable host: as final as a deletion.
    ["key-missing", "urgent"],
    ["vault-missing", "urgent"],
    ["vault-host-unresolved", "urgent"],
    // Unwrap fails as for an expired key.
    ["key-not-yet-valid", "urgent"],
    // Slow-burning: days away or one mistake away, reported in the daily digest.
    ["key-expires-soon", "digest"],
    ["purge-protection-off", "digest"],
    ["soft-delete-off", "digest"],
  ])("%s is %s", (kind, urgency) => {
    expect(urgencyOf(kind)).toBe(urgency);
  });
});

describe("atRiskMessageKey", () => {
  const ACCOUNT_KEY = /^[0-9a-f]{24}$/;

  it.each<[string, AtRiskFacts["change"], RegExp]>([
    // The warning: account hash, kind, first-seen time without separators (row keys allow no ':' and read badly with '.').
    ["the warning", "found", /^at-risk\.[0-9a-f]{24}\.key-disabled\.20261129T091200000Z$/],
    // The all-clear for the same finding: its own row, so both emails go out exactly once each.
    ["the all-clear", "resolved", /^at-risk\.[0-9a-f]{24}\.key-disabled\.20261129T091200000Z\.resolved$/],
  ])("%s has a row-key-safe deterministic key", (_name, change, expected) => {
    expect(atRiskMessageKey(PROBE_ACCOUNT.id, "key-disabled", "2026-11-29T09:12:00.000Z", change)).toMatch(expected);
  });

  it.each<[string, string, string, boolean]>([
    // Azure returns the same id in different cases and with a trailing slash: still one account, one key.
    ["case and trailing slash", PROBE_ACCOUNT.id, `${PROBE_ACCOUNT.id.toUpperCase()}/`, true],
    // Another account never shares a key.
    ["another account", PROBE_ACCOUNT.id, PROBE_ACCOUNT.id.replace("orders-db", "billing-db"), false],
  ])("the account part: %s", (_name, a, b, same) => {
    expect(atRiskAccountKey(a)).toMatch(ACCOUNT_KEY);
    expect(atRiskAccountKey(a) === atRiskAccountKey(b)).toBe(same);
  });
});

describe("planAtRisk", () => {
  it("a healthy account with nothing urgent records nothing", () => {
    // The common case must cost no write.
    expect(planAtRisk(undefined, input({}), NOW)).toEqual({ changed: false });
  });

  it("slow-burning findings alone are left to the digest", () => {
    // Expiry in 20 days and purge protection off: no at-risk email.
    const slow = {
      key: checked(activeKey({ expiresOn: new Date(NOW.getTime() + 20 * DAY).toISOString() })),
      vault: checked(activeVault({ purgeProtectionEnabled: false })),
    };
    expect(planAtRisk(undefined, input(slow), NOW)).toEqual({ changed: false });
  });

  it.each<[string, Partial<ProbeFacts>, WarningKind[]]>([
    // One urgent finding, one email.
    ["permission removed", PERMISSION_REMOVED, ["identity-lacks-permission"]],
    ["key disabled", KEY_DISABLED, ["key-disabled"]],
    ["key expired", { key: checked(activeKey({ expiresOn: new Date(NOW.getTime() - DAY).toISOString() })) }, ["key-expired"]],
    ["firewall closed", { vault: checked(activeVault({ firewallDefaultAction: "Deny", trustedServicesBypass: false })) }, ["firewall-blocks-trusted-services"]],
    // Two at once: one email each, so each can be fixed and reported on its own.
    ["key disabled and permission removed", { ...KEY_DISABLED, ...PERMISSION_REMOVED }, ["key-disabled", "identity-lacks-permission"]],
  ])("a new urgent finding (%s) is emailed at once", (_name, facts, kinds) => {
    const plan = planAtRisk(undefined, input(facts), NOW);
    if (!plan.changed) throw new Error("expected a change");
    expect(plan.found.sort()).toEqual([...kinds].sort());
    expect(plan.messages.map((m) => (m.facts as AtRiskFacts).finding.kind).sort()).toEqual([...kinds].sort());
    for (const message of plan.messages) {
      expect(message).toMatchObject({ kind: "at-risk", to: OWNERS, cc: [], accountId: PROBE_ACCOUNT.id, createdAt: NOW.toISOString() });
      // All of an account's at-risk emails thread under one pseudo-incident id.
      expect(message.incidentId).toBe(`at-risk-${atRiskAccountKey(PROBE_ACCOUNT.id)}`);
      expect(message.facts).toMatchObject({ kind: "at-risk", change: "found", account: ACCOUNT_REF, trigger: "event" });
      expect(message.key).toBe(atRiskMessageKey(PROBE_ACCOUNT.id, (message.facts as AtRiskFacts).finding.kind, NOW.toISOString(), "found"));
    }
    expect(plan.next.open.map((o) => o.firstSeenAt)).toEqual(kinds.map(() => NOW.toISOString()));
    // The open entry remembers the key of the email that warned, so a revocation can link to it.
    for (const open of plan.next.open) expect(open.messageKey).toBe(atRiskMessageKey(PROBE_ACCOUNT.id, open.kind, NOW.toISOString(), "found"));
  });

  it("the warning carries the evidence and the fix command", () => {
    // The owner must be able to act from the email alone.
    const plan = planAtRisk(undefined, input(PERMISSION_REMOVED), NOW);
    if (!plan.changed) throw new Error("expected a change");
    const finding = (plan.messages[0]!.facts as AtRiskFacts).finding;
    expect(finding.detail).not.toBe("");
    expect(finding.commands[0]!.command).toContain("az keyvault set-policy");
  });

  it("the same finding seen again (a replayed event, the next check) sends nothing", () => {
    // Exactly once per finding.
    expect(planAtRisk(warnedState(), input(PERMISSION_REMOVED, {}, LATER), LATER)).toEqual({ changed: false });
  });

  it("the same deterministic key whichever instance plans it first", () => {
    // Two instances planning from the same state at the same instant write the same row; the second create fails.
    const a = planAtRisk(undefined, input(PERMISSION_REMOVED), NOW);
    const b = planAtRisk(undefined, input(PERMISSION_REMOVED), NOW);
    expect(a).toEqual(b);
  });

  it("a finding that goes away by itself is reported once as resolved", () => {
    const plan = planAtRisk(warnedState(), input({}, {}, LATER), LATER);
    if (!plan.changed) throw new Error("expected a change");
    expect(plan.resolved).toEqual(["identity-lacks-permission"]);
    expect(plan.next.open).toEqual([]);
    expect(plan.messages).toHaveLength(1);
    const warned = warnedState().open[0]!;
    expect(plan.messages[0]!.facts).toEqual({
      kind: "at-risk",
      change: "resolved",
      account: ACCOUNT_REF,
      // Only what the state kept: the headline the owner was warned with, no stale evidence or fix command.
      finding: { kind: "identity-lacks-permission", severity: "critical", title: warned.title, detail: "", commands: [], fingerprint: warned.fingerprint },
      firstSeenAt: NOW.toISOString(),
      resolvedAt: LATER.toISOString(),
      trigger: "event",
    });
    expect(plan.messages[0]!.key).toBe(atRiskMessageKey(PROBE_ACCOUNT.id, "identity-lacks-permission", NOW.toISOString(), "resolved"));
    // Then forgotten: the next clean check says nothing.
    expect(planAtRisk(plan.next, input({}, {}, LATER), LATER)).toEqual({ changed: false });
  });

  it("a probe that could not decide never resolves a warning", () => {
    // A 403 on the vault is not a fix.
    const unknown = { vault: couldNotCheck("HTTP 403"), key: couldNotCheck("HTTP 403") };
    expect(planAtRisk(warnedState(), input(unknown, {}, LATER), LATER)).toEqual({ changed: false });
  });

  it("a warning the revocation took over is closed without a 'resolved' email", () => {
    // Azure revoked the account after the warning: the incident reported it; its later recovery is not this finding going away by itself.
    const plan = planAtRisk(warnedState(), input({}, { lastIncidentDetectedAt: LATER.toISOString() }, LATER), LATER);
    if (!plan.changed) throw new Error("expected a change");
    expect(plan).toMatchObject({ takenOver: ["identity-lacks-permission"], resolved: [], messages: [] });
    expect(plan.next.open).toEqual([]);
  });

  it("an incident detected at the very instant of the warning takes it over", () => {
    // Same check run: the probes found the cause and the observation found the revocation; one report, the incident's.
    const plan = planAtRisk(warnedState(), input({}, { lastIncidentDetectedAt: NOW.toISOString() }, LATER), LATER);
    expect(plan).toMatchObject({ changed: true, takenOver: ["identity-lacks-permission"], resolved: [] });
  });

  it("a finding that goes away with nobody to tell is forgotten without an email", () => {
    // No recipients: the state still closes the finding, but no all-clear row is written for nobody.
    const plan = planAtRisk(warnedState(), input({}, { recipients: [] }, LATER), LATER);
    expect(plan).toMatchObject({ changed: true, resolved: ["identity-lacks-permission"], messages: [], next: { open: [] } });
  });

  it("an incident older than the warning does not take it over", () => {
    // Last month's incident says nothing about today's finding.
    const plan = planAtRisk(warnedState(), input({}, { lastIncidentDetectedAt: new Date(NOW.getTime() - 30 * DAY).toISOString() }, LATER), LATER);
    expect(plan).toMatchObject({ changed: true, resolved: ["identity-lacks-permission"] });
  });

  it("a finding that comes back after it was resolved is a new warning with a new key", () => {
    const resolved = planAtRisk(warnedState(), input({}, {}, LATER), LATER);
    if (!resolved.changed) throw new Error("expected a change");
    const again = new Date(LATER.getTime() + 60 * 60_000);
    const plan = planAtRisk(resolved.next, input(PERMISSION_REMOVED, {}, again), again);
    if (!plan.changed) throw new Error("expected a change");
    expect(plan.messages[0]!.key).not.toBe(atRiskMessageKey(PROBE_ACCOUNT.id, "identity-lacks-permission", NOW.toISOString(), "found"));
  });

  it("with nobody to tell, the state is still recorded but no email", () => {
    // No owner and no escalation contact: the finding is remembered so a revocation can still link to it.
    const plan = planAtRisk(undefined, input(PERMISSION_REMOVED, { recipients: [] }), NOW);
    expect(plan).toMatchObject({ changed: true, messages: [], found: ["identity-lacks-permission"] });
  });
});

describe("priorWarning", () => {
  it.each<[string, AtRiskState | undefined, { at: string; title: string } | undefined]>([
    // No state, nothing open: nothing to link to.
    ["no state", undefined, undefined],
    ["nothing open", { accountId: PROBE_ACCOUNT.id, open: [] }, undefined],
    // The earliest open warning is the one "we warned at" names.
    [
      "two open",
      {
        accountId: PROBE_ACCOUNT.id,
        open: [
          { kind: "key-disabled", title: "Key is disabled", fingerprint: "b", firstSeenAt: "2026-11-29T09:30:00.000Z", messageKey: "b" },
          {
            kind: "identity-lacks-permission",
            title: "Default identity lacks permission on the key",
            fingerprint: "a",
            firstSeenAt: "2026-11-29T09:12:00.000Z",
            messageKey: "a",
          },
        ],
      },
      { at: "2026-11-29T09:12:00.000Z", title: "Default identity lacks permission on the key" },
    ],
  ])("%s", (_name, state, expected) => {
    expect(priorWarning(state)).toEqual(expected);
  });
});
