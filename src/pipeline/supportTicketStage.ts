/**
 * With CMK_SUPPORT_TICKETS=create, an escalation email goes out only once its support ticket is
 * filed or known not to be (the email then names the ticket, or says why not). Runs on claimed
 * units, so one instance at a time works on a given escalation; the ticket itself is guarded by
 * the intent on the incident (src/domain/supportTicketFiling.ts), read and written ETag-guarded,
 * and by reading the ticket by its derived name before every create.
 */
import { parseAccountResourceId } from "../domain/account";
import { isIncidentFacts, type Incident, type MessageFacts } from "../domain/incident";
import type { Decision } from "../domain/lifecycle";
import { chooseProblemClassification, COSMOS_DB_RESOURCE_TYPE, draftSupportTicket, supportTicketName } from "../domain/supportTicket";
import { supportTicketUpdate } from "../domain/supportTicketUpdates";
import { nextFilingStep, recordCreating, recordFiled, recordNotFiled, recordTransientFailure } from "../domain/supportTicketFiling";
import { StateConflictError } from "../ports/errors";
import { describeFailure } from "../ports/failures";
import type { AccountRecord } from "../ports/incidentStore";
import { SupportTicketRefusedError, type SupportTickets } from "../ports/supportTickets";
import type { CycleContext } from "./cycleContext";
import type { SendUnit } from "./sendUnit";
import type { Stage } from "./stage";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const supportTicketStage: Stage<SendUnit, SendUnit> = {
  name: "support-ticket",
  async run(ctx, units) {
    const api = ctx.deps.supportTickets;
    if (!api || ctx.settings.supportTickets.mode !== "create") return [...units];
    const ready: SendUnit[] = [];
    for (const unit of units) {
      let waitUntil: string | undefined;
      for (const stored of unit.members) {
        if (isIncidentFacts(stored.message.facts)) await postUpdate(ctx, api, stored.message.key, stored.message.facts);
        if (stored.message.kind !== "escalation") continue;
        const outcome = await ensureTicket(ctx, api, stored.message.accountId, stored.message.incidentId);
        if (outcome.kind === "wait" && (!waitUntil || outcome.until > waitUntil)) waitUntil = outcome.until;
      }
      if (!waitUntil) {
        ready.push(unit);
        continue;
      }
      for (const stored of unit.members) {
        try {
          // Nothing was sent to ACS: `verified`, so the next claim sends without a status read first.
          await ctx.deps.store.markFailed(stored, "waiting for the support ticket", new Date(waitUntil), { verified: true });
        } catch (error) {
          ctx.deps.log.warn(`cmk-monitor: could not hold the escalation for its ticket [${stored.message.key}]: ${describeFailure(error).message}`);
        }
      }
    }
    return ready;
  },
};

type Outcome = { kind: "ready" } | { kind: "wait"; until: string };

async function ensureTicket(ctx: CycleContext, api: SupportTickets, accountId: string, incidentId: string): Promise<Outcome> {
  const { store, log } = ctx.deps;
  const record = await store.getRecord(accountId);
  const incident = record.incident;
  // The incident moved on (a later one, or none): the email goes as recorded.
  if (!incident || incident.id !== incidentId) return { kind: "ready" };
  const ticket = incident.supportTicket;
  if (ticket?.state === "filed" || ticket?.state === "not-filed") return { kind: "ready" };
  const subscriptionId = incident.account?.subscriptionId ?? parseAccountResourceId(incident.accountId)?.subscriptionId ?? "";
  const name = supportTicketName(incident.id);
  const settings = ctx.settings.supportTickets;
  if (!GUID.test(subscriptionId) || !settings.contact) {
    return settle(
      ctx,
      record,
      recordNotFiled(
        incident,
        !settings.contact ? "no contact is configured (CMK_SUPPORT_CONTACT_NAME)" : "the account's subscription id is not a GUID",
        ctx.now,
      ),
    );
  }
  try {
    const existing = await api.getTicket(subscriptionId, name);
    if (existing) return settle(ctx, record, recordFiled(incident, { ...existing, subscriptionId }, ctx.now));
    const step = nextFilingStep(ticket, { nameAvailable: await api.isNameAvailable(subscriptionId, name) }, ctx.now);
    if (step.kind === "wait") return step;
    if (step.kind === "give-up") return settle(ctx, record, recordNotFiled(incident, step.reason, ctx.now));
    if (step.kind === "done") return { kind: "ready" };

    const service = await api.findService(subscriptionId, COSMOS_DB_RESOURCE_TYPE);
    const classification = chooseProblemClassification(service?.classifications ?? [], settings.fallbackProblemClassificationId);
    if (!service || !classification) {
      return settle(
        ctx,
        record,
        recordNotFiled(incident, "no Azure Cosmos DB problem classification was found and CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID is not set", ctx.now),
      );
    }
    // The intent, before the call: a crash from here on leaves a record that makes the next attempt read before it creates.
    const intent = recordCreating(incident, ctx.now);
    await store.commit(record, intent);
    const facts = await escalationFacts(ctx, incident);
    const draft = draftSupportTicket(facts, settings);
    const filed = await api.createTicket(subscriptionId, {
      name,
      title: draft.title,
      description: draft.description,
      severity: draft.severity,
      serviceId: service.id,
      problemClassificationId: classification,
      resourceId: incident.accountId,
      problemStartTime: incident.detectedAt,
      contact: settings.contact,
    });
    ctx.stats.supportTicketsFiled += 1;
    log.info(`cmk-monitor: filed support ticket ${filed.ticketNumber} (${name}) for ${accountId}`);
    const after = await store.getRecord(accountId);
    if (after.incident?.id !== incidentId) return { kind: "ready" };
    return settle(ctx, after, recordFiled(after.incident, { ...filed, subscriptionId }, ctx.now), true);
  } catch (error) {
    if (error instanceof StateConflictError) return { kind: "wait", until: new Date(ctx.now.getTime() + 60_000).toISOString() };
    const fresh = await store.getRecord(accountId);
    const current = fresh.incident?.id === incidentId ? fresh.incident : undefined;
    if (!current) return { kind: "ready" };
    if (error instanceof SupportTicketRefusedError) {
      log.error(`cmk-monitor: support ticket for ${accountId} not filed: ${error.message}`);
      return settle(ctx, fresh, recordNotFiled(current, error.message, ctx.now));
    }
    const info = describeFailure(error);
    log.warn(`cmk-monitor: support ticket for ${accountId} not filed yet (${info.reason}): ${info.message}`);
    await commitQuietly(ctx, fresh, recordTransientFailure(current, `${info.reason}: ${info.message}`, ctx.now));
    return { kind: "wait", until: new Date(ctx.now.getTime() + 60_000).toISOString() };
  }
}

/**
 * Tells the ticket what the email tells people (cause changed, fix undone, recovered). Once: named
 * from the message key and looked up first. Best effort: a failure is logged and the email still goes.
 */
async function postUpdate(ctx: CycleContext, api: SupportTickets, key: string, facts: MessageFacts): Promise<void> {
  const update = supportTicketUpdate(key, facts);
  if (!update) return;
  try {
    if (!(await api.isCommunicationNameAvailable(update.subscriptionId, update.ticketName, update.name))) return;
    await api.addCommunication(update.subscriptionId, update.ticketName, update);
    ctx.stats.supportTicketUpdates += 1;
  } catch (error) {
    ctx.deps.log.warn(`cmk-monitor: could not add "${update.subject}" to support ticket ${update.ticketName}: ${describeFailure(error).message}`);
  }
}

/** Records the end of filing (filed or not) and lets the email go; a lost race is read again next time. */
async function settle(ctx: CycleContext, record: AccountRecord, decision: Decision, afterCreate = false): Promise<Outcome> {
  const committed = await commitQuietly(ctx, record, decision);
  if (!committed && afterCreate) {
    // The ticket exists; the next attempt finds it by name and records it.
    return { kind: "wait", until: new Date(ctx.now.getTime() + 60_000).toISOString() };
  }
  if (decision.incident?.supportTicket?.state === "not-filed") ctx.stats.supportTicketsNotFiled += 1;
  return committed ? { kind: "ready" } : { kind: "wait", until: new Date(ctx.now.getTime() + 60_000).toISOString() };
}

async function commitQuietly(ctx: CycleContext, record: AccountRecord, decision: Decision): Promise<boolean> {
  try {
    await ctx.deps.store.commit(record, decision);
    return true;
  } catch (error) {
    ctx.deps.log.warn(`cmk-monitor: could not record the support ticket for ${record.accountId}: ${describeFailure(error).message}`);
    return false;
  }
}

/** The case as support should read it: the timeline up to now and the incident as it stands. */
async function escalationFacts(ctx: CycleContext, incident: Incident): Promise<Pick<MessageFacts, "incident" | "timeline">> {
  const timeline = await ctx.deps.store.listEvents(incident.accountId, incident.id);
  return { incident, timeline };
}
