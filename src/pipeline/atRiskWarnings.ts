/**
 * Warnings before revocation, the urgent part: right after a healthy account's check, the findings
 * that will revoke it are emailed at once (src/domain/atRisk.ts decides), each exactly once. The
 * account's at-risk state and those emails are one ETag-guarded transaction in the account's
 * partition; a race with another instance (or a replayed change event) re-reads and re-plans, and
 * the deterministic keys make a second email for the same finding impossible.
 */
import type { CmkAccount } from "../domain/account";
import { planAtRisk, type CheckTrigger } from "../domain/atRisk";
import type { AccountWarnings } from "../domain/warnings";
import { StateConflictError } from "../ports/errors";
import { describeFailure } from "../ports/failures";
import type { CycleContext } from "./cycleContext";

const MAX_ATTEMPTS = 3;

/** Records what the account's check means for its urgent warnings; returns the emails recorded (0 when nothing changed or on failure). */
export async function recordAtRisk(ctx: CycleContext, account: CmkAccount, warnings: AccountWarnings, trigger: CheckTrigger): Promise<number> {
  const store = ctx.deps.warnings;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const { state, etag } = await store.getAtRisk(account.id);
      // Nothing open and nothing urgent: the common case costs one point read and no write.
      const lastIncidentDetectedAt = state && state.open.length > 0 ? (await ctx.deps.store.getRecord(account.id)).incident?.detectedAt : undefined;
      const plan = planAtRisk(
        state,
        {
          account,
          findings: warnings.findings,
          unchecked: warnings.unchecked,
          recipients: recipientsOf(ctx, account),
          ...(lastIncidentDetectedAt ? { lastIncidentDetectedAt } : {}),
          trigger,
        },
        ctx.now,
      );
      if (!plan.changed) return 0;
      await store.commitAtRisk(plan.next, etag, plan.messages);
      ctx.stats.atRiskWarningsRecorded += plan.messages.length;
      return plan.messages.length;
    } catch (error) {
      // Another instance (or an earlier delivery of the same event) recorded first: read again and re-plan.
      if (error instanceof StateConflictError) continue;
      ctx.deps.log.error(`cmk-monitor: could not record the at-risk warnings of ${account.id}: ${describeFailure(error).message}`);
      return 0;
    }
  }
  return 0;
}

/** Owners as for incidents; nobody to tell falls back to the escalation contacts. */
function recipientsOf(ctx: CycleContext, account: CmkAccount): string[] {
  const owners = ctx.lifecycle.resolveOwners(account).recipients;
  return owners.length > 0 ? owners : [...ctx.settings.escalationRecipients];
}
