/**
 * Reads the status of filed support tickets on a slow cadence (TICKET_STATUS_INTERVAL_IN_MINUTES),
 * a few per cycle, for the dashboard and /api/status. A courtesy: a failure waits for the next cycle.
 */
import { parseAccountResourceId } from "../domain/account";
import { recordTicketStatus, ticketStatusDue } from "../domain/supportTicketFiling";
import { describeFailure } from "../ports/failures";
import type { AccountRecord } from "../ports/incidentStore";
import { nearDeadline, type CycleContext } from "./cycleContext";

/** Enough for a burst of escalations; the rest are read next cycle. */
const STATUS_READS_PER_CYCLE = 10;

export async function refreshTicketStatuses(ctx: CycleContext, records: readonly AccountRecord[]): Promise<void> {
  const api = ctx.deps.supportTickets;
  if (!api) return;
  const due = records.filter((record) => record.incident && ticketStatusDue(record.incident, ctx.now)).slice(0, STATUS_READS_PER_CYCLE);
  for (const record of due) {
    if (nearDeadline()) return;
    const incident = record.incident!;
    const ticket = incident.supportTicket;
    if (ticket?.state !== "filed") continue;
    const subscriptionId = ticket.subscriptionId || parseAccountResourceId(incident.accountId)?.subscriptionId || "";
    try {
      const read = await api.getTicket(subscriptionId, ticket.name);
      await ctx.deps.store.commit(record, recordTicketStatus(incident, read?.status ?? "not found", ctx.now));
    } catch (error) {
      ctx.deps.log.warn(`cmk-monitor: could not read support ticket ${ticket.ticketNumber} for ${record.accountId}: ${describeFailure(error).message}`);
    }
  }
}
