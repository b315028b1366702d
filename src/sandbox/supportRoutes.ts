/**
 * Microsoft.Support as `@azure/arm-support` 2.1.0 (api-version 2020-04-01) speaks it: services and
 * their problem classifications, check name availability, ticket and communication create (each a
 * long-running PUT followed through `Azure-AsyncOperation`, then a GET) and get. Where Azure does
 * not document a behaviour the
 * sandbox plays its least convenient version (docs/azure-behaviour.md, "Support tickets"):
 * - a ticket is invisible to GET and to check-name-availability until its create operation has
 *   finished, and
 * - every PUT opens a ticket, even one repeating a name: a repeated create acts twice.
 * `ticketsOpened` and `duplicateTickets` count what a monitor did, for the fault suite.
 */
import { randomUUID } from "node:crypto";
import { apiVersionRejection } from "./armConventions";
import type { MatchedRoute, SandboxFault, SandboxRequest, SandboxResponse } from "./server";

const API_VERSION = "2020-04-01";
/** The Azure Cosmos DB service as Microsoft.Support lists it (the id is the sandbox's own). */
export const SANDBOX_COSMOS_SERVICE_NAME = "8f2a4c9e-1b3d-4e5f-9a7b-000000c05db1";
export const SANDBOX_CMK_CLASSIFICATION_NAME = "5d1e7f3a-2c4b-4d6e-8f9a-0000000c0c31";

const SERVICES = [
  { name: "2d5c7b1a-9e3f-4a8b-8c6d-0000000000a1", displayName: "Virtual Machine running Windows", resourceTypes: ["MICROSOFT.COMPUTE/VIRTUALMACHINES"] },
  { name: SANDBOX_COSMOS_SERVICE_NAME, displayName: "Azure Cosmos DB", resourceTypes: ["MICROSOFT.DOCUMENTDB/DATABASEACCOUNTS"] },
];
const CLASSIFICATIONS = [
  { name: "1a2b3c4d-0000-4000-8000-0000000c0c01", displayName: "Availability, Performance and Connectivity / Account unavailable" },
  { name: SANDBOX_CMK_CLASSIFICATION_NAME, displayName: "Security / Customer-managed key (CMK) issues" },
  { name: "1a2b3c4d-0000-4000-8000-0000000c0c03", displayName: "Backup and Restore / Restore request" },
];

const COMMUNICATION = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.support\/supporttickets\/([^/]+)\/communications\/([^/]+)\/?$/i;
const COMMUNICATION_NAME_CHECK = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.support\/supporttickets\/([^/]+)\/checknameavailability\/?$/i;
const TICKETS = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.support\/supporttickets\/([^/]+)\/?$/i;
const CHECK_NAME = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.support\/checknameavailability\/?$/i;
const OPERATION = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.support\/operationsstatus\/([^/]+)\/?$/i;
const SERVICES_PATH = /^\/providers\/microsoft\.support\/services\/?$/i;
const CLASSIFICATIONS_PATH = /^\/providers\/microsoft\.support\/services\/([^/]+)\/problemclassifications\/?$/i;

export interface SandboxSupportTicket {
  subscriptionId: string;
  name: string;
  ticketNumber: string;
  title: string;
  description: string;
  severity: string;
  problemClassificationId: string;
  serviceId: string;
  resourceId: string | undefined;
  /** As the create sent it: the spec requires it in every answer. */
  contactDetails: Record<string, unknown>;
  createdAt: Date;
  /** Visible to GET and name checks once its operation has finished. */
  visible: boolean;
  /** A create that failed after acting: the ticket appears at this time (epoch ms) without anyone polling. */
  visibleAt?: number;
}

export interface SandboxCommunication {
  subscriptionId: string;
  ticketName: string;
  name: string;
  subject: string;
  body: string;
  createdAt: Date;
  /** Readable by GET once its create operation has finished (the name check sees it at once). */
  visible: boolean;
}

export class SupportRoutes {
  /** Every ticket opened, duplicates included, in order. */
  readonly tickets: SandboxSupportTicket[] = [];
  /** Every communication added, in order; like tickets, a repeated name is added again. */
  readonly communications: SandboxCommunication[] = [];
  private readonly noPlan = new Set<string>();
  private readonly denied = new Set<string>();
  private readonly operations = new Map<string, { created: { visible: boolean }; pollsLeft: number }>();
  private pollsBeforeDone = 1;
  private actThenFail = 0;
  private actThenFailVisibleAfterInMs = 120_000;
  private nextNumber = 1;

  constructor(
    private readonly baseUrl: () => string,
    private now: () => number = Date.now,
  ) {}

  setClock(now: () => number): void {
    this.now = now;
  }

  /** The subscription has no support plan that allows technical tickets: creates are refused (400). */
  withoutSupportPlan(subscriptionId: string): void {
    this.noPlan.add(subscriptionId.toLowerCase());
  }

  /** The caller lacks Support Request Contributor on the subscription: every ticket call is 403. */
  denySubscription(subscriptionId: string): void {
    this.denied.add(subscriptionId.toLowerCase());
  }

  /** Forgets every ticket and operation (the fault suite starts each run with none). */
  reset(): void {
    this.tickets.length = 0;
    this.actThenFail = 0;
    this.communications.length = 0;
    this.operations.clear();
  }

  /**
   * The next `times` creates open their ticket and then answer 500, as a gateway might after the
   * service acted; the ticket shows up `visibleAfterInMs` later (sandbox clock). A create retried on
   * that 500 opens a second ticket.
   */
  actThenFailCreates(times: number, visibleAfterInMs = 120_000): void {
    this.actThenFail = times;
    this.actThenFailVisibleAfterInMs = visibleAfterInMs;
  }

  /** How many status polls answer InProgress before a create finishes (default 1). */
  setPollsBeforeDone(polls: number): void {
    this.pollsBeforeDone = polls;
  }

  get ticketsOpened(): number {
    return this.tickets.length;
  }

  /** Tickets beyond the first for one (subscription, name): a create that acted twice. */
  get duplicateTickets(): number {
    const names = new Set(this.tickets.map((t) => `${t.subscriptionId}/${t.name}`.toLowerCase()));
    return this.tickets.length - names.size;
  }

  route(request: SandboxRequest): MatchedRoute | undefined {
    const path = request.url.pathname;
    if (request.method === "GET" && SERVICES_PATH.test(path)) return this.matched("support-services", request, () => this.services());
    const classifications = CLASSIFICATIONS_PATH.exec(path);
    if (request.method === "GET" && classifications) return this.matched("support-classifications", request, () => this.classifications(classifications[1]!));
    const check = CHECK_NAME.exec(path);
    if (request.method === "POST" && check) return this.matched("support-check-name", request, () => this.checkName(check[1]!, request), check[1]);
    const operation = OPERATION.exec(path);
    if (request.method === "GET" && operation) return this.matched("support-operation", request, () => this.operation(operation[2]!), operation[1]);
    const communicationCheck = COMMUNICATION_NAME_CHECK.exec(path);
    if (request.method === "POST" && communicationCheck) {
      return this.matched(
        "support-communication",
        request,
        () => this.checkCommunicationName(communicationCheck[1]!, decodeURIComponent(communicationCheck[2]!), request),
        communicationCheck[1],
      );
    }
    const communication = COMMUNICATION.exec(path);
    if (request.method === "GET" && communication) {
      return this.matched(
        "support-communication",
        request,
        () => this.getCommunication(communication[1]!, decodeURIComponent(communication[2]!), decodeURIComponent(communication[3]!)),
        communication[1],
      );
    }
    if (request.method === "PUT" && communication) {
      return this.matched(
        "support-communication",
        request,
        () => this.addCommunication(communication[1]!, decodeURIComponent(communication[2]!), decodeURIComponent(communication[3]!), request),
        communication[1],
      );
    }
    const ticket = TICKETS.exec(path);
    if (ticket && request.method === "GET")
      return this.matched("support-ticket-get", request, () => this.get(ticket[1]!, decodeURIComponent(ticket[2]!)), ticket[1]);
    if (ticket && request.method === "PUT")
      return this.matched("support-ticket-create", request, () => this.create(ticket[1]!, decodeURIComponent(ticket[2]!), request), ticket[1]);
    return undefined;
  }

  private matched(id: MatchedRoute["id"], request: SandboxRequest, answer: () => SandboxResponse, subscriptionId?: string): MatchedRoute {
    return {
      id,
      handle: (fault: SandboxFault | undefined) => {
        if (fault)
          return {
            status: fault.status,
            ...(fault.retryAfterInSeconds ? { headers: { "retry-after": String(fault.retryAfterInSeconds) } } : {}),
            json: { error: { code: "Injected", message: `Injected ${fault.status}.` } },
          };
        if (!/^Bearer /i.test(String(request.headers.authorization ?? "")))
          return { status: 401, json: { error: { code: "AuthenticationFailed", message: "Missing bearer token." } } };
        // ARM refuses a version Microsoft.Support does not serve before the provider sees the call.
        const rejected = apiVersionRejection(request, "supportTickets");
        if (rejected) return rejected;
        if (subscriptionId && this.denied.has(subscriptionId.toLowerCase())) {
          return {
            status: 403,
            json: {
              error: {
                code: "AuthorizationFailed",
                message: `The client does not have authorization to perform action 'Microsoft.Support/supportTickets/write' over scope '/subscriptions/${subscriptionId}'.`,
              },
            },
          };
        }
        return answer();
      },
    };
  }

  private services(): SandboxResponse {
    return {
      status: 200,
      json: {
        value: SERVICES.map((s) => ({
          id: `/providers/Microsoft.Support/services/${s.name}`,
          name: s.name,
          type: "Microsoft.Support/services",
          properties: { displayName: s.displayName, resourceTypes: s.resourceTypes },
        })),
      },
    };
  }

  private classifications(serviceName: string): SandboxResponse {
    if (!SERVICES.some((s) => s.name === serviceName)) return { status: 404, json: { error: { code: "ServiceNotFound", message: "No such service." } } };
    const list = serviceName === SANDBOX_COSMOS_SERVICE_NAME ? CLASSIFICATIONS : [];
    return {
      status: 200,
      json: {
        value: list.map((c) => ({
          id: `/providers/Microsoft.Support/services/${serviceName}/problemClassifications/${c.name}`,
          name: c.name,
          type: "Microsoft.Support/problemClassifications",
          properties: { displayName: c.displayName },
        })),
      },
    };
  }

  private visible(subscriptionId: string, name: string): SandboxSupportTicket | undefined {
    return this.tickets.find(
      (t) =>
        (t.visible || (t.visibleAt !== undefined && this.now() >= t.visibleAt)) &&
        t.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
        t.name.toLowerCase() === name.toLowerCase(),
    );
  }

  private checkName(subscriptionId: string, request: SandboxRequest): SandboxResponse {
    const body = JSON.parse(request.body.toString("utf8") || "{}") as { name?: string; type?: string };
    if (typeof body.name !== "string" || body.type !== "Microsoft.Support/supportTickets") {
      return { status: 400, json: { error: { code: "InvalidParameter", message: "name and type Microsoft.Support/supportTickets are required." } } };
    }
    const taken = this.visible(subscriptionId, body.name) !== undefined;
    return { status: 200, json: taken ? { nameAvailable: false, reason: "AlreadyExists", message: "Name not available" } : { nameAvailable: true } };
  }

  private get(subscriptionId: string, name: string): SandboxResponse {
    const ticket = this.visible(subscriptionId, name);
    if (!ticket) return { status: 404, json: { error: { code: "ResourceNotFound", message: `Support ticket '${name}' was not found.` } } };
    return { status: 200, json: ticketJson(ticket) };
  }

  private create(subscriptionId: string, name: string, request: SandboxRequest): SandboxResponse {
    const body = JSON.parse(request.body.toString("utf8") || "{}") as {
      properties?: {
        title?: string;
        description?: string;
        severity?: string;
        problemClassificationId?: string;
        serviceId?: string;
        contactDetails?: Record<string, unknown>;
        technicalTicketDetails?: { resourceId?: string };
      };
    };
    const p = body.properties ?? {};
    const missing = ["title", "description", "severity", "problemClassificationId", "serviceId"].filter((k) => !(p as Record<string, unknown>)[k]);
    if (!p.contactDetails || !p.contactDetails["primaryEmailAddress"] || !p.contactDetails["country"]) missing.push("contactDetails");
    if (missing.length > 0) return { status: 400, json: { error: { code: "InvalidParameter", message: `Missing: ${missing.join(", ")}.` } } };
    if (this.noPlan.has(subscriptionId.toLowerCase())) {
      return {
        status: 400,
        json: {
          error: { code: "InvalidSupportPlan", message: "The subscription does not have a support plan that allows creating technical support tickets." },
        },
      };
    }
    const ticket: SandboxSupportTicket = {
      subscriptionId,
      name,
      ticketNumber: `2612${String(this.nextNumber++).padStart(12, "0")}`,
      title: p.title!,
      description: p.description!,
      severity: p.severity!,
      problemClassificationId: p.problemClassificationId!,
      serviceId: p.serviceId!,
      resourceId: p.technicalTicketDetails?.resourceId,
      contactDetails: p.contactDetails!,
      createdAt: new Date(this.now()),
      visible: this.pollsBeforeDone <= 0,
    };
    this.tickets.push(ticket);
    if (this.actThenFail > 0) {
      this.actThenFail -= 1;
      ticket.visible = false;
      ticket.visibleAt = this.now() + this.actThenFailVisibleAfterInMs;
      return { status: 500, json: { error: { code: "InternalServerError", message: "An internal error occurred." } } };
    }
    return this.accepted(subscriptionId, ticket, ticketJson(ticket));
  }

  /** 202 with the status URL a long-running create is followed through; `created` turns visible when it is done. */
  private accepted(subscriptionId: string, created: { visible: boolean }, json: unknown): SandboxResponse {
    const operationId = randomUUID();
    this.operations.set(operationId, { created, pollsLeft: this.pollsBeforeDone });
    return {
      status: 202,
      headers: {
        "azure-asyncoperation": `${this.baseUrl()}/subscriptions/${subscriptionId}/providers/Microsoft.Support/operationsStatus/${operationId}?api-version=${API_VERSION}`,
      },
      json,
    };
  }

  private checkCommunicationName(subscriptionId: string, ticketName: string, request: SandboxRequest): SandboxResponse {
    if (!this.visible(subscriptionId, ticketName))
      return { status: 404, json: { error: { code: "ResourceNotFound", message: `Support ticket '${ticketName}' was not found.` } } };
    const body = JSON.parse(request.body.toString("utf8") || "{}") as { name?: string; type?: string };
    if (typeof body.name !== "string" || body.type !== "Microsoft.Support/communications") {
      return { status: 400, json: { error: { code: "InvalidParameter", message: "name and type Microsoft.Support/communications are required." } } };
    }
    const taken = this.communications.some(
      (c) => c.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && c.ticketName === ticketName && c.name === body.name,
    );
    return { status: 200, json: taken ? { nameAvailable: false, reason: "AlreadyExists", message: "Name not available" } : { nameAvailable: true } };
  }

  private addCommunication(subscriptionId: string, ticketName: string, name: string, request: SandboxRequest): SandboxResponse {
    if (!this.visible(subscriptionId, ticketName))
      return { status: 404, json: { error: { code: "ResourceNotFound", message: `Support ticket '${ticketName}' was not found.` } } };
    const body = JSON.parse(request.body.toString("utf8") || "{}") as { properties?: { subject?: string; body?: string } };
    if (!body.properties?.subject || !body.properties.body)
      return { status: 400, json: { error: { code: "InvalidParameter", message: "subject and body are required." } } };
    const communication: SandboxCommunication = {
      subscriptionId,
      ticketName,
      name,
      subject: body.properties.subject,
      body: body.properties.body,
      createdAt: new Date(this.now()),
      visible: this.pollsBeforeDone <= 0,
    };
    this.communications.push(communication);
    // Long-running like the ticket create (the published example answers 202): followed, then read by GET.
    return this.accepted(subscriptionId, communication, communicationJson(communication));
  }

  private getCommunication(subscriptionId: string, ticketName: string, name: string): SandboxResponse {
    const communication = this.communications.find(
      (c) => c.visible && c.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && c.ticketName === ticketName && c.name === name,
    );
    if (!communication) return { status: 404, json: { error: { code: "ResourceNotFound", message: `Communication '${name}' was not found.` } } };
    return { status: 200, json: communicationJson(communication) };
  }

  private operation(operationId: string): SandboxResponse {
    const op = this.operations.get(operationId);
    if (!op) return { status: 404, json: { error: { code: "NotFound", message: "No such operation." } } };
    if (op.pollsLeft > 0) {
      op.pollsLeft -= 1;
      return { status: 200, json: { status: "InProgress" } };
    }
    op.created.visible = true;
    return { status: 200, json: { status: "Succeeded" } };
  }
}

function communicationJson(communication: SandboxCommunication): unknown {
  return {
    id: `/subscriptions/${communication.subscriptionId}/providers/Microsoft.Support/supportTickets/${communication.ticketName}/communications/${communication.name}`,
    name: communication.name,
    type: "Microsoft.Support/communications",
    properties: {
      subject: communication.subject,
      body: communication.body,
      communicationType: "web",
      communicationDirection: "outbound",
      createdDate: communication.createdAt.toISOString(),
    },
  };
}

function ticketJson(ticket: SandboxSupportTicket): unknown {
  return {
    id: `/subscriptions/${ticket.subscriptionId}/providers/Microsoft.Support/supportTickets/${ticket.name}`,
    name: ticket.name,
    type: "Microsoft.Support/supportTickets",
    properties: {
      supportTicketId: ticket.ticketNumber,
      title: ticket.title,
      description: ticket.description,
      severity: ticket.severity,
      problemClassificationId: ticket.problemClassificationId,
      serviceId: ticket.serviceId,
      status: "Open",
      createdDate: ticket.createdAt.toISOString(),
      contactDetails: ticket.contactDetails,
      ...(ticket.resourceId ? { technicalTicketDetails: { resourceId: ticket.resourceId } } : {}),
    },
  };
}
