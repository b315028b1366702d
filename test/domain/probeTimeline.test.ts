/**
 * Timelines with the probes: "at minute N the facts change → these emails at these minutes",
 * with exact totals. The fix is observed by the monitor itself; nobody acknowledges anything.
 */
import type { CmkAccount } from "../../src/domain/account";
import { getCause, type CauseId } from "../../src/domain/causes";
import type { Classification } from "../../src/domain/classifier";
import type { Incident, MessageFacts, MessageKind } from "../../src/domain/incident";
import type { LifecycleContext } from "../../src/domain/lifecycle";
import type { ProbeFacts } from "../../src/domain/probeFacts";
import { couldNotCheck } from "../../src/domain/probeFacts";
import { decideWithProbe } from "../../src/domain/probeDecision";
import { resolveOwnerRecipients } from "../../src/domain/recipients";
import { factsFor, PROBE_VISIBLE_CAUSES } from "../fixtures/probes";

const START = Date.parse("2026-11-29T00:00:00.000Z");
const CTX: LifecycleContext = {
  reminderIntervalInMinutes: 60,
  escalationRecipients: ["support@contoso.com"],
  newRecipientsPerDay: 20,
  resolveOwners: (account) => resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: [], allowedRecipientDomains: [] }),
};
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };
const revoked = (cause: CauseId): Classification => ({ health: "revoked", cause, code: null, matchedBy: "code" });

type FactsState = "broken" | "fixed" | "unknown";

interface Script {
  cause: CauseId;
  /** From this minute on, Azure's status. */
  status: Record<number, "revoked" | "healthy">;
  /** From this minute on, what the probes find. */
  facts: Record<number, FactsState>;
  until: number;
}

interface Sent {
  minute: number;
  kind: MessageKind;
  facts: MessageFacts;
}

/** A poll every 5 minutes: observe the account, probe it, decide once. Counts the commits too. */
function simulate(script: Script): { sent: Sent[]; incident: Incident | undefined; commits: number[] } {
  let incident: Incident | undefined;
  let status: "revoked" | "healthy" = "healthy";
  let state: FactsState = "fixed";
  const sent: Sent[] = [];
  const commits: number[] = [];
  for (let minute = 0; minute <= script.until; minute += 5) {
    if (script.status[minute] !== undefined) status = script.status[minute]!;
    if (script.facts[minute] !== undefined) state = script.facts[minute]!;
    const { account, facts } = factsAt(script.cause, state);
    const result = decideWithProbe(
      incident,
      { kind: "observed", account, classification: status === "revoked" ? revoked(script.cause) : HEALTHY },
      facts,
      new Date(START + minute * 60_000),
      CTX,
    );
    const { decision } = result;
    if (decision.reasons.length > 0 || decision.events.length > 0 || result.probeStateChanged) commits.push(minute);
    incident = decision.incident;
    for (const message of decision.messages) sent.push({ minute, kind: message.kind, facts: message.facts as MessageFacts });
  }
  return { sent, incident, commits };
}

function factsAt(cause: CauseId, state: FactsState): { account: CmkAccount; facts: ProbeFacts } {
  if (state !== "unknown") return factsFor(cause, state);
  const broken = factsFor(cause, "broken");
  // Every probe that reaches Azure times out; only the local ones still answer.
  const timeout = couldNotCheck("timed out after 10 s");
  return { account: broken.account, facts: { ...broken.facts, dns: timeout, vault: timeout, key: timeout, roleAssignments: timeout } };
}

const summary = (sent: Sent[]) => sent.map((s) => `${s.minute} ${s.kind}`);
const at = (minute: number) => new Date(START + minute * 60_000).toISOString();

describe("fix observed by the probes", () => {
  it.each(PROBE_VISIBLE_CAUSES)("%s: broken at 10, fixed at 40, still revoked → fix-observed at 40 and escalation per the cause's clock", (cause) => {
    // No acknowledgment: the monitor sees the fix itself, and the clock runs from that moment.
    const { sent, incident } = simulate({ cause, status: { 10: "revoked" }, facts: { 10: "broken", 40: "fixed" }, until: 200 });
    // Owner-fixable causes get the full window from the fix (DNS too: detection + 120 < fix + 120).
    const clockFrom = getCause(cause).policy.clockStartsAt === "fix" || getCause(cause).fixableBy === "owner" ? 40 : 10;
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed", `${clockFrom + 120} escalation`]);
    const observed = sent[1]!.facts.incident;
    expect(observed).toMatchObject({ fixSource: "observed", fixObservedAt: at(40), escalateAt: at(clockFrom + 120), expectedRecoveryBy: at(clockFrom + 60) });
    expect(incident?.state).toBe("escalated");
  });

  it.each(PROBE_VISIBLE_CAUSES)("%s: fixed at 40, Azure confirms at 90 → revoked, fix-observed, resolved; nothing else", (cause) => {
    // The happy path: three emails, no reminders once the fix is seen.
    const { sent } = simulate({ cause, status: { 10: "revoked", 90: "healthy" }, facts: { 10: "broken", 40: "fixed" }, until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed", "90 resolved"]);
  });

  it("fix undone at 60: reported, the clock stops, reminders resume from then", () => {
    // Someone grants the permission and then removes it again (or a policy reverts it).
    const { sent, incident } = simulate({
      cause: "default-identity-unauthorized",
      status: { 10: "revoked" },
      facts: { 10: "broken", 40: "fixed", 60: "broken" },
      until: 200,
    });
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed", "60 fix-undone", "120 reminder", "180 reminder"]);
    expect(incident).toMatchObject({ state: "revoked" });
    expect(incident?.escalateAt).toBeUndefined();
  });

  it("a fix observed again after being undone keeps the first fix's deadline, and is not mailed again", () => {
    // A flapping probe must not postpone escalation for ever: 40 + 120, not 100 + 120.
    const { sent } = simulate({
      cause: "key-not-found",
      status: { 10: "revoked" },
      facts: { 10: "broken", 40: "fixed", 60: "broken", 100: "fixed" },
      until: 240,
    });
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed", "60 fix-undone", "160 escalation"]);
  });

  it("probes that cannot check in between do not lose the transition", () => {
    // A timeout is not "fixed" and not "broken": the last conclusive verdict stands.
    const { sent } = simulate({
      cause: "key-not-found",
      status: { 10: "revoked" },
      facts: { 10: "broken", 20: "unknown", 40: "fixed" },
      until: 60,
    });
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed"]);
  });

  it("facts already fine at detection are not taken as a fix: reminders continue until Azure agrees", () => {
    // The probes never saw this cause, so they cannot claim it was fixed (e.g. a perimeter rule we cannot read).
    const { sent } = simulate({ cause: "key-vault-network-blocked", status: { 10: "revoked", 150: "healthy" }, facts: { 0: "fixed" }, until: 200 });
    expect(summary(sent)).toEqual(["10 revoked", "70 reminder", "130 reminder", "150 resolved"]);
  });

  it("writes only when something changes: detection, the fix, and nothing while the facts stand still", () => {
    // An idle cycle with an open incident must not touch the store.
    const { commits } = simulate({ cause: "key-not-found", status: { 10: "revoked" }, facts: { 10: "broken", 40: "fixed" }, until: 55 });
    expect(commits).toEqual([10, 40]);
  });

  it("every notice carries the evidence it was decided on; the resolved notice does not need it", () => {
    // Evidence is part of the recorded message, so a re-send shows what was true then.
    const { sent } = simulate({ cause: "key-not-found", status: { 10: "revoked", 90: "healthy" }, facts: { 10: "broken", 40: "fixed" }, until: 90 });
    const evidence = Object.fromEntries(sent.map((s) => [s.kind, s.facts.evidence?.find((l) => l.probe === "key")?.outcome]));
    expect(evidence).toEqual({ revoked: "problem", "fix-observed": "ok", resolved: undefined });
  });
});
