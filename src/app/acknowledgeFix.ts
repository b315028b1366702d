/** `cmk-monitor ack --fixed`: records an owner's "fixed" on the account's open incident and starts the recovery clock. */
import { decide } from "../domain/lifecycle";
import { applyToIncident } from "../pipeline/applyToIncident";
import { startCycle } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { drainOutboxIn } from "./drainOutbox";

export type AcknowledgeResult =
  | { outcome: "acknowledged"; incidentId: string; expectedRecoveryBy?: string; escalateAt?: string }
  | { outcome: "already-recovering"; incidentId: string; state: string }
  | { outcome: "no-open-incident" }
  /** Another writer kept changing the incident; nothing was recorded: try again. */
  | { outcome: "busy"; incidentId: string };

export async function acknowledgeFix(deps: MonitorDeps, accountId: string, by: string): Promise<AcknowledgeResult> {
  const ctx = startCycle(deps, deps.clock.now());
  const input = { kind: "acknowledged" as const, by };
  const applied = await applyToIncident<AcknowledgeResult>(deps.store, accountId, (record) => {
    const incident = record.incident;
    if (!incident || incident.state === "resolved") return { stop: { outcome: "no-open-incident" } };
    const decision = decide(incident, input, ctx.now, ctx.lifecycle);
    if (decision.reasons.length === 0) return { stop: { outcome: "already-recovering", incidentId: incident.id, state: incident.state } };
    return { commit: decision };
  });
  if (applied.outcome === "stopped") return applied.value;
  if (applied.outcome === "gave-up") return { outcome: "busy", incidentId: (await deps.store.getRecord(accountId)).incident?.id ?? "" };
  // Owners hear about the acknowledgment at once.
  await drainOutboxIn(ctx);
  const after = applied.decision.incident;
  return {
    outcome: "acknowledged",
    incidentId: applied.record.incident!.id,
    ...(after?.expectedRecoveryBy ? { expectedRecoveryBy: after.expectedRecoveryBy } : {}),
    ...(after?.escalateAt ? { escalateAt: after.escalateAt } : {}),
  };
}
