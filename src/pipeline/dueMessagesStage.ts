/** Rows a drain may consider: every row due now (within the drain's scope), plus every unsent row bound to a digest. */
import type { StoredMessage } from "../ports/incidentStore";
import type { Stage } from "./stage";
import type { OutboxScope } from "./sendUnit";

export function dueMessagesStage(scope: OutboxScope): Stage<Date, StoredMessage> {
  return {
    name: "due",
    async run(ctx, [now]) {
      if (scope.only) return scope.only.filter((stored) => stored.status === "pending" || stored.status === "sending");
      const rows = await ctx.deps.store.listDueMessages(now ?? ctx.now, { withDigestMembers: true });
      const cutoff = scope.createdUpTo;
      // Rows a running work batch just recorded are its own to send (with their digest); older ones are fair game.
      return cutoff ? rows.filter((stored) => stored.digestId || stored.message.createdAt <= cutoff) : rows;
    },
  };
}
