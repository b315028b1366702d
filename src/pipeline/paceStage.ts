/**
 * Keeps to the ACS sending limits (CMK_EMAIL_RATE_PER_MINUTE/_PER_HOUR): reserves what it sends from
 * the budget shared by every instance and leaves the rest pending (not failed), escalations first,
 * then oldest first (the group stage's order).
 */
import { describeFailure } from "../ports/failures";
import type { Stage } from "./stage";
import type { SendTally, SendUnit } from "./sendUnit";

export function paceStage(tally: SendTally): Stage<SendUnit, SendUnit> {
  return {
    name: "pace",
    async run(ctx, units) {
      const { sendBudget, log } = ctx.deps;
      const limits = { perMinute: ctx.settings.emailRatePerMinute, perHour: ctx.settings.emailRatePerHour };
      let granted: number;
      try {
        granted = await sendBudget.reserveEmailSends(ctx.now, units.length, limits);
      } catch (error) {
        // Without the shared budget, sending could overrun ACS's limits: hold everything for the next drain.
        log.warn(`cmk-monitor: could not reserve email sends, holding ${units.length} email(s): ${describeFailure(error).message}`);
        granted = 0;
      }
      const held = units.slice(granted);
      if (held.length > 0) {
        ctx.stats.emailsDeferred += held.length;
        log.info(`cmk-monitor: ${held.length} email(s) held back by the send rate (${limits.perMinute}/minute, ${limits.perHour}/hour); they stay queued`);
      }
      tally.reserved += granted;
      return units.slice(0, granted);
    },
  };
}
