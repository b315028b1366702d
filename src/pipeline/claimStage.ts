/**
 * Takes a lease on each unit's rows, in key order. A new digest's rows are bound to it by the
 * claim; it goes out with the rows this instance got. An existing digest goes out only whole.
 */
import type { StoredMessage } from "../ports/incidentStore";
import type { Stage } from "./stage";
import type { SendUnit } from "./sendUnit";

export const claimStage: Stage<SendUnit, SendUnit> = {
  name: "claim",
  async run(ctx, units) {
    const { store } = ctx.deps;
    const claimed: SendUnit[] = [];
    for (const unit of units) {
      const held: StoredMessage[] = [];
      // What the rows said before this claim: an attempt that may have reached ACS.
      const inDoubt = unit.members.find((stored) => stored.unverifiedOperationId)?.unverifiedOperationId;
      for (const stored of unit.members) {
        const bindNow = unit.digestId !== undefined && stored.digestId === undefined;
        // The attempt is not marked in doubt here: the send stage does that just before its POST
        // leaves, so a crash between the claim and then needs no status read (nothing was sent).
        const lease = await store.claimMessage(stored, ctx.now, ctx.settings.sendLeaseInSeconds, bindNow ? { digestId: unit.digestId! } : {});
        if (!lease) {
          ctx.stats.emailsSkippedByOtherInstance += 1;
          // Another instance holds this row: the rest is its digest (or its to bind), not ours.
          break;
        }
        held.push(lease);
      }
      const existingDigest = unit.digestId !== undefined && unit.members.every((stored) => stored.digestId === unit.digestId);
      if (held.length === 0 || (existingDigest && held.length < unit.members.length)) continue; // leases run out; retried whole
      claimed.push({ ...unit, members: held, ...(inDoubt ? { inDoubt } : {}) });
    }
    return claimed;
  },
};
