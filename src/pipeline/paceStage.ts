/**
 * Keeps to the ACS sending limits (CMK_EMAIL_RATE_PER_MINUTE/_PER_HOUR): reserves what it sends from
 * the budget shared by every instance and leaves the rest pending (not failed), in the group
 * stage's priority order. Warning digests reserve last and only below the limits less
 * INCIDENT_RESERVED_SHARE, so they can never take the budget incident mail needs.
 */
import { describeFailure } from "../ports/failures";
import type { EmailRateLimits } from "../ports/sendBudget";
import type { CycleContext } from "./cycleContext";
import type { Stage } from "./stage";
import { INCIDENT_RESERVED_SHARE, isWarningDigest, type SendTally, type SendUnit } from "./sendUnit";

export function paceStage(tally: SendTally): Stage<SendUnit, SendUnit> {
  return {
    name: "pace",
    async run(ctx, units) {
      const limits = { perMinute: ctx.settings.emailRatePerMinute, perHour: ctx.settings.emailRatePerHour };
      const incident = units.filter((unit) => !isWarningDigest(unit));
      const digests = units.filter(isWarningDigest);
      const grantedIncident = await reserve(ctx, incident.length, limits);
      const grantedDigests = await reserve(ctx, digests.length, digestLimits(limits));
      const held = units.length - grantedIncident - grantedDigests;
      if (held > 0) {
        ctx.stats.emailsDeferred += held;
        ctx.deps.log.info(`cmk-monitor: ${held} email(s) held back by the send rate (${limits.perMinute}/minute, ${limits.perHour}/hour); they stay queued`);
      }
      tally.reserved += grantedIncident + grantedDigests;
      return [...incident.slice(0, grantedIncident), ...digests.slice(0, grantedDigests)];
    },
  };
}

/** What warning digests may fill: the limits less the share kept for incident mail (never below 1). */
export function digestLimits(limits: EmailRateLimits): EmailRateLimits {
  const keep = (limit: number) => Math.max(1, Math.floor(limit * (1 - INCIDENT_RESERVED_SHARE)));
  return { perMinute: keep(limits.perMinute), perHour: keep(limits.perHour) };
}

async function reserve(ctx: CycleContext, wanted: number, limits: EmailRateLimits): Promise<number> {
  if (wanted === 0) return 0;
  try {
    return await ctx.deps.sendBudget.reserveEmailSends(ctx.now, wanted, limits, "send");
  } catch (error) {
    // Without the shared budget, sending could overrun ACS's limits: hold everything for the next drain.
    ctx.deps.log.warn(`cmk-monitor: could not reserve email sends, holding ${wanted} email(s): ${describeFailure(error).message}`);
    return 0;
  }
}
