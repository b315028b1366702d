/**
 * What one decideWithProbe step returns besides the emails (the timelines are in probeTimeline.test.ts): the verdict,
 * whether the stored probe state changed (a commit with no email), and which emails carry the "What we checked" section.
 */
import type { Classification } from "../../src/domain/classifier";
import type { Incident, MessageFacts } from "../../src/domain/incident";
import type { LifecycleContext, LifecycleInput } from "../../src/domain/lifecycle";
import { decideWithProbe } from "../../src/domain/probeDecision";
import { resolveOwnerRecipients } from "../../src/domain/recipients";
import { factsFor } from "../fixtures/probes";

const START = Date.parse("2026-11-29T00:00:00.000Z");
const CTX: LifecycleContext = {
  reminderIntervalInMinutes: 60,
  escalationRecipients: ["support@contoso.com"],
  newRecipientsPerDay: 20,
  resolveOwners: (account) => resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: [], allowedRecipientDomains: [] }),
};
const CAUSE = "default-identity-unauthorized";
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };
const REVOKED: Classification = { health: "revoked", cause: CAUSE, code: null, matchedBy: "code" };

type Step = { minute: number; input: "revoked" | "healthy" | "acknowledged"; facts: "broken" | "fixed" };

/** Runs the steps in order; per step: the incident's state, the verdict, whether the probe state changed, the emails (+ with evidence). */
function run(steps: Step[]): string[] {
  let incident: Incident | undefined;
  return steps.map(({ minute, input, facts }) => {
    const { account, facts: probed } = factsFor(CAUSE, facts);
    const lifecycleInput: LifecycleInput =
      input === "acknowledged"
        ? { kind: "acknowledged", by: "owner@contoso.com" }
        : { kind: "observed", account, classification: input === "revoked" ? REVOKED : HEALTHY };
    const result = decideWithProbe(incident, lifecycleInput, probed, new Date(START + minute * 60_000), CTX);
    incident = result.decision.incident;
    const emails = result.decision.messages.map((m) => `${m.kind}${(m.facts as MessageFacts).evidence ? "+evidence" : ""}`);
    return `${minute} ${incident?.state ?? "-"} verdict=${result.verdict?.verdict ?? "-"} changed=${result.probeStateChanged} ${emails.join(",")}`.trim();
  });
}

describe("decideWithProbe", () => {
  it.each<[string, Step[], string[]]>([
    [
      // Nothing open and nothing wrong: no verdict to compute, nothing to store.
      "a healthy account without an incident",
      [{ minute: 0, input: "healthy", facts: "fixed" }],
      ["0 - verdict=- changed=false"],
    ],
    [
      // The first verdict is stored with the incident (a change), the same verdict again is not; the fix is seen, then Azure agrees:
      // a resolved incident gets no verdict and no probe write.
      "detection, an idle poll, the fix, resolution",
      [
        { minute: 10, input: "revoked", facts: "broken" },
        { minute: 15, input: "revoked", facts: "broken" },
        { minute: 40, input: "revoked", facts: "fixed" },
        { minute: 90, input: "healthy", facts: "fixed" },
      ],
      [
        "10 revoked verdict=present changed=true revoked+evidence",
        "15 revoked verdict=present changed=false",
        "40 recovering verdict=gone changed=true fix-observed+evidence",
        "90 resolved verdict=- changed=false resolved",
      ],
    ],
    [
      // An owner's acknowledgment the probes never confirmed: the cause still present is no "fix undone" (the probes never saw it gone),
      // and the acknowledgment email has no "What we checked" section.
      "an acknowledged fix the probes still see as broken",
      [
        { minute: 10, input: "revoked", facts: "broken" },
        { minute: 20, input: "acknowledged", facts: "broken" },
        { minute: 25, input: "revoked", facts: "broken" },
      ],
      [
        "10 revoked verdict=present changed=true revoked+evidence",
        "20 recovering verdict=present changed=false fix-acknowledged",
        "25 recovering verdict=present changed=false",
      ],
    ],
  ])("%s", (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });
});
