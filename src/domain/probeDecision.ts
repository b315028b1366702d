/**
 * An observation plus what the probes found, decided as one step. Pure.
 *
 * The probes' verdict on the incident's cause feeds the lifecycle only on a change the probes
 * themselves saw during this incident:
 *   present → gone   : "fix-observed" (the recovery clock starts now; no acknowledgment needed)
 *   gone → present   : "fix-undone"   (while recovering)
 * A first verdict of "gone" is not taken as a fix: the probes cannot see everything Cosmos DB
 * sees (a network security perimeter, a re-created identity), so a cause they never saw is not
 * one they can declare fixed. Evidence lines are attached to the emails before they are recorded.
 */
import type { CauseId } from "./causes";
import { isIncidentFacts, type Incident, type MessageKind } from "./incident";
import { decide, decideMany, type Decision, type LifecycleContext, type LifecycleInput } from "./lifecycle";
import type { ProbeFacts } from "./probeFacts";
import { causeVerdict, evidenceLines, type CauseVerdict } from "./probeFindings";

/** The emails that carry a "What we checked" section. */
export const KINDS_WITH_EVIDENCE: ReadonlySet<MessageKind> = new Set(["revoked", "reminder", "cause-changed", "fix-observed", "fix-undone", "escalation"]);

export interface ProbedDecision {
  decision: Decision;
  verdict: CauseVerdict | undefined;
  /** True when the stored verdict changed: worth a commit even with no event or email. */
  probeStateChanged: boolean;
}

export function decideWithProbe(current: Incident | undefined, input: LifecycleInput, facts: ProbeFacts, now: Date, ctx: LifecycleContext): ProbedDecision {
  const observed = decide(current, input, now, ctx);
  const after = observed.incident;
  if (!after || after.state === "resolved") return { decision: observed, verdict: undefined, probeStateChanged: false };

  const verdict = causeVerdict(after.cause, facts, now);
  const previous = after.probe?.cause === after.cause ? after.probe.verdict : undefined;
  const extra: LifecycleInput[] = [];
  if (verdict.verdict === "gone" && previous === "present" && after.state === "revoked") {
    extra.push({ kind: "fix-observed", detail: verdict.detail });
  } else if (verdict.verdict === "present" && previous === "gone" && after.state === "recovering") {
    extra.push({ kind: "fix-undone", detail: verdict.detail });
  }
  const decision = extra.length > 0 ? decideMany(current, [input, ...extra], now, ctx) : observed;

  const incident = decision.incident!;
  let probeStateChanged = false;
  if (verdict.verdict !== "unknown" && (incident.probe?.cause !== incident.cause || incident.probe.verdict !== verdict.verdict)) {
    incident.probe = { cause: incident.cause as CauseId, verdict: verdict.verdict, at: now.toISOString(), detail: verdict.detail.slice(0, 1000) };
    probeStateChanged = true;
  }

  const evidence = evidenceLines(incident.account, facts, now);
  for (const message of decision.messages) {
    if (isIncidentFacts(message.facts) && KINDS_WITH_EVIDENCE.has(message.kind)) message.facts.evidence = evidence;
  }
  return { decision, verdict, probeStateChanged };
}
