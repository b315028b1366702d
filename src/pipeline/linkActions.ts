/**
 * What a confirmed email link does: the same lifecycle inputs as `cmk-monitor ack` (and a
 * snooze), committed together with the token's "used" row in one ETag-guarded transaction.
 */
import { StateConflictError } from "../adapters/tableStore";
import { describeFailure } from "../adapters/azureErrors";
import type { Incident } from "../domain/incident";
import { decide, type LifecycleInput } from "../domain/lifecycle";
import type { LinkClaims } from "../domain/linkTokens";
import { drainOutbox } from "./cycle";
import { lifecycleContext } from "./observeStages";
import { newStats, type CycleContext, type MonitorDeps } from "./stage";

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

const MAX_ATTEMPTS = 4;

/** Open incident the link was minted for, or undefined. */
export function linkedIncident(incident: Incident | undefined, claims: LinkClaims): Incident | undefined {
  return incident && incident.state !== "resolved" && incident.id === claims.incidentId ? incident : undefined;
}

export async function applyLinkAction(deps: MonitorDeps, claims: LinkClaims, input: LifecycleInput): Promise<LinkActionResult> {
  const ctx: CycleContext = { deps, now: deps.clock.now(), stats: newStats() };
  const { store, log } = deps;
  const lifecycle = lifecycleContext(deps.settings);
  const spent = { nonce: claims.nonce, action: claims.action, incidentId: claims.incidentId };
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // State first, then the token: a use committed after this read fails our commit below;
      // one committed before it is seen here (the token row and the state change are one write).
      const record = await store.getRecord(claims.accountId);
      if (await store.isLinkTokenUsed(claims.accountId, claims.nonce)) return { outcome: "link-used" };
      const incident = linkedIncident(record.incident, claims);
      if (!incident) return { outcome: "incident-closed" };
      const decision = decide(incident, input, ctx.now, lifecycle);
      if (decision.reasons.length === 0) return { outcome: "no-change", incident };
      try {
        await store.commit(record, decision, { consumeLinkToken: spent });
      } catch (error) {
        // Either the token row now exists (a concurrent use) or the incident moved on: look again.
        if (error instanceof StateConflictError) continue;
        throw error;
      }
      log.info(`cmk-monitor: ${decision.reasons.join(", ")} for ${claims.accountId} via email link [${claims.incidentId}]`);
      try {
        // Owners hear about the acknowledgment at once, as with the CLI; else the next cycle sends it.
        await drainOutbox(ctx);
      } catch (error) {
        log.warn(`cmk-monitor: the email after a link action waits for the next cycle: ${describeFailure(error).message}`);
      }
      return { outcome: "applied", incident: decision.incident! };
    }
    return { outcome: "failed", message: "The incident kept changing while the link was applied; try again in a minute." };
  } catch (error) {
    const info = describeFailure(error);
    log.error(`cmk-monitor: email link for ${claims.accountId} failed (${info.reason}): ${info.message}`);
    return { outcome: "failed", message: "The monitor could not record this right now; nothing changed. Try again in a few minutes." };
  }
}
