/** Turns due rows into emails: existing digests whole, new digests above the threshold, the rest one by one. */
import type { StoredMessage } from "../ports/incidentStore";
import type { Stage } from "./stage";
import { byAge, byKey, digestKey, firstKey, isDue, MAX_DIGEST_MEMBERS, newDigestId, oldest, priorityOf, pushTo, type SendUnit } from "./sendUnit";

export const groupStage: Stage<StoredMessage, SendUnit> = {
  name: "group",
  async run(ctx, rows) {
    const now = ctx.now.getTime();
    const units: SendUnit[] = [];
    const bound = new Map<string, StoredMessage[]>();
    const free: StoredMessage[] = [];
    for (const stored of rows) {
      if (stored.digestId) pushTo(bound, stored.digestId, stored);
      else if (isDue(stored, now)) free.push(stored);
    }
    for (const [digestId, members] of bound) {
      // Half a digest under the digest's operation id could be the half ACS keeps: wait for all of it.
      if (members.every((stored) => isDue(stored, now))) units.push({ digestId, members: byKey(members) });
    }
    const groups = new Map<string, StoredMessage[]>();
    for (const stored of free) {
      const key = digestKey(stored.message);
      // A row whose last attempt may have reached ACS is verified and re-sent alone, never inside a new digest.
      if (key === undefined || stored.unverifiedOperationId) units.push({ members: [stored] });
      else pushTo(groups, key, stored);
    }
    for (const members of groups.values()) {
      if (members.length < ctx.settings.digestThreshold) {
        for (const stored of members) units.push({ members: [stored] });
        continue;
      }
      const ordered = byAge(members);
      for (let i = 0; i < ordered.length; i += MAX_DIGEST_MEMBERS) {
        const chunk = byKey(ordered.slice(i, i + MAX_DIGEST_MEMBERS));
        units.push({ digestId: newDigestId(chunk), members: chunk });
      }
    }
    return units.sort((a, b) => priorityOf(a) - priorityOf(b) || oldest(a).localeCompare(oldest(b)) || firstKey(a).localeCompare(firstKey(b)));
  },
};
