/**
 * What a confirmed email link does: the same lifecycle inputs as `cmk-monitor ack` (and a
 * snooze), committed together with the token's "used" row in one ETag-guarded transaction.
 */
import type { Incident } from "../domain/incident";
import { decide, type LifecycleInput } from "../domain/lifecycle";
import type { LinkClaims } from "../domain/linkTokens";
import { applyToIncident } from "../pipeline/applyToIncident";
import { startCycle } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { describeFailure } from "../ports/failures";
import { drainOutboxIn } from "./drainOutbox";

export type LinkActionResult =
  /** The change is recorded (and its emails sent, or queued for the next cycle). */
  | { outcome: "applied"; incident: Incident }
  /** Nothing to do (already recovering, same snooze): the token is not spent. */
  | { outcome: "no-change"; incident: Incident }
  /** The token was used before (possibly a moment ago, by a concurrent click). */
  | { outcome: "link-used" }
  /** The incident the link was made for is over, or another one is open now. */
  | { outcome: "incident-closed" }
  | { outcome: "failed"; message: string };

/** Open incident the link was minted for, or undefined. */
export function linkedIncident(incident: Incident | undefined, claims: LinkClaims): Incident | undefined {
  return incident && incident.state !== "resolved" && incident.id === claims.incidentId ? incident : undefined;
}

export async function applyLinkAction(deps: MonitorDeps, claims: LinkClaims, input: LifecycleInput): Promise<LinkActionResult> {
  const ctx = startCycle(deps, deps.clock.now());
  const { store, log } = deps;
  const spent = { nonce: claims.nonce, action: claims.action, incidentId: claims.incidentId };
  try {
    // State first, then the token: a use committed after the state read fails our commit; one
    // committed before it is seen by the token read (the token row and the state change are one write).
    const applied = await applyToIncident<LinkActionResult>(store, claims.accountId, async (record) => {
      if (await store.isLinkTokenUsed(claims.accountId, claims.nonce)) return { stop: { outcome: "link-used" } };
      const incident = linkedIncident(record.incident, claims);
      if (!incident) return { stop: { outcome: "incident-closed" } };
      const decision = decide(incident, input, ctx.now, ctx.lifecycle);
      if (decision.reasons.length === 0) return { stop: { outcome: "no-change", incident } };
      return { commit: decision, commitOptions: { consumeLinkToken: spent } };
    });
    if (applied.outcome === "stopped") return applied.value;
    if (applied.outcome === "gave-up") return { outcome: "failed", message: "The incident kept changing while the link was applied; try again in a minute." };
    log.info(`cmk-monitor: ${applied.decision.reasons.join(", ")} for ${claims.accountId} via email link [${claims.incidentId}]`);
    try {
      // Owners hear about the acknowledgment at once, as with the CLI; else the next cycle sends it.
      await drainOutboxIn(ctx);
    } catch (error) {
      log.warn(`cmk-monitor: the email after a link action waits for the next cycle: ${describeFailure(error).message}`);
    }
    return { outcome: "applied", incident: applied.decision.incident! };
  } catch (error) {
    const info = describeFailure(error);
    log.error(`cmk-monitor: email link for ${claims.accountId} failed (${info.reason}): ${info.message}`);
    return { outcome: "failed", message: "The monitor could not record this right now; nothing changed. Try again in a few minutes." };
  }
}
