/** Renders what one send unit carries: an incident email, a warning digest, or a digest of incident emails. */
import { isIncidentFacts, type IncidentMessageKind, type MessageFacts, type OutboxMessage } from "../domain/incident";
import { renderIncidentDigest } from "../email/incidentDigest";
import { renderEmail, type RenderedEmail } from "../email/templates";
import type { CycleContext } from "./cycleContext";
import { ownerLinksFor } from "./ownerLinks";
import { byAge, type SendUnit } from "./sendUnit";
import { supportTicketPortalUrl } from "../domain/supportTicketCommand";
import type { SupportTicketView } from "../email/templates";
import { supportTicketView } from "./supportTicketView";

export function renderUnit(ctx: CycleContext, unit: SendUnit): Promise<RenderedEmail> {
  return unit.digestId ? renderDigest(ctx, unit) : renderOne(ctx, unit.members[0]!.message);
}

function renderOne(ctx: CycleContext, message: OutboxMessage): Promise<RenderedEmail> {
  return isIncidentFacts(message.facts) ? renderIncidentEmail(ctx, message, message.facts) : Promise.resolve(renderEmail(message.facts));
}

async function renderDigest(ctx: CycleContext, unit: SendUnit): Promise<RenderedEmail> {
  const parts = [];
  for (const stored of byAge(unit.members)) {
    const facts = stored.message.facts as MessageFacts;
    parts.push({ facts, rendered: await renderIncidentEmail(ctx, stored.message, facts) });
  }
  return renderIncidentDigest(unit.members[0]!.message.kind as IncidentMessageKind, parts);
}

async function renderIncidentEmail(ctx: CycleContext, message: OutboxMessage, stored: MessageFacts): Promise<RenderedEmail> {
  const facts = { ...stored };
  if (message.kind === "escalation") {
    // The support case carries the whole timeline up to the escalation itself.
    const events = await ctx.deps.store.listEvents(message.accountId, message.incidentId);
    facts.timeline = events.filter((event) => event.seq <= stored.incident.eventCount);
  }
  const ownerLinks = await ownerLinksFor(ctx.deps, facts, ctx.now, [...message.to, ...message.cc]);
  const tickets = ctx.settings.supportTickets;
  const supportTicket =
    message.kind === "escalation" && tickets.mode !== "off" ? supportTicketView(facts, tickets, await ticketOutcome(ctx, message)) : undefined;
  return renderEmail(facts, { ...(ownerLinks ? { ownerLinks } : {}), ...(supportTicket ? { supportTicket } : {}) });
}

/** In create mode, what became of the ticket (src/pipeline/supportTicketStage.ts ran before the send). */
async function ticketOutcome(ctx: CycleContext, message: OutboxMessage): Promise<SupportTicketView["outcome"]> {
  if (ctx.settings.supportTickets.mode !== "create") return { kind: "draft" };
  const record = await ctx.deps.store.getRecord(message.accountId);
  const ticket = record.incident?.id === message.incidentId ? record.incident.supportTicket : undefined;
  if (ticket?.state === "filed")
    return { kind: "filed", ticketNumber: ticket.ticketNumber, portalUrl: supportTicketPortalUrl(ticket.subscriptionId, ticket.name) };
  if (ticket?.state === "not-filed") return { kind: "not-filed", reason: ticket.reason };
  return { kind: "not-filed", reason: "the monitor has no record of filing it" };
}
