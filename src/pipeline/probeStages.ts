/**
 * Probes revoked accounts before the decision, so what they find can start the recovery clock
 * (fix observed) and goes into the emails as evidence. Only accounts that need it are probed:
 * those observed revoked this cycle (new or with an open incident). A probe failure never
 * stops the cycle; the account is decided on its ARM status alone.
 */
import { describeFailure } from "../adapters/azureErrors";
import type { ProbeSession } from "../probes/accountProber";
import type { WorkItem } from "./observeStages";
import { mapWithConcurrency, type CycleContext, type Stage } from "./stage";

/** Accounts probed at once; each probe makes a handful of calls, most cached per cycle. */
export const PROBE_CONCURRENCY = 8;

/** The cycle's probe session (created on first use), shared by every stage that probes. */
export function probeSessionFor(ctx: CycleContext): ProbeSession | undefined {
  if (!ctx.deps.probes) return undefined;
  ctx.probeSession ??= ctx.deps.probes.session();
  return ctx.probeSession;
}

export const probeStage: Stage<WorkItem, WorkItem> = {
  name: "probe",
  async run(ctx, items) {
    const session = probeSessionFor(ctx);
    if (!session) return [...items];
    return mapWithConcurrency(items, PROBE_CONCURRENCY, async (item) => {
      const input = item.input;
      if (input.kind !== "observed" || input.classification.health !== "revoked") return item;
      try {
        const probe = await session.probe(input.account);
        ctx.stats.accountsProbed += 1;
        return { ...item, probe };
      } catch (error) {
        // The session maps every expected failure to "could not check"; this is a bug or worse.
        ctx.deps.log.warn(`cmk-monitor: probes failed for ${item.accountId}: ${describeFailure(error).message}`);
        return item;
      }
    });
  },
};
