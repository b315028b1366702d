/** Microsoft.Support through `@azure/arm-support` 2.1.0 (api-version 2020-04-01; see docs/azure-behaviour.md). */
import { MicrosoftSupport, type SupportTicketDetails } from "@azure/arm-support";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import { statusCodeOf } from "../ports/failures";
import {
  SupportTicketRefusedError,
  type FiledSupportTicket,
  type SupportService,
  type SupportTicketRequest,
  type SupportTickets,
} from "../ports/supportTickets";
import { ClientCache, CLIENTS_KEPT } from "./clientCache";

export interface ArmSupportTicketsOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions: CommonClientOptions;
  /** Milliseconds between polls of a create's status (the SDK's default is 2 s, or what Retry-After says). */
  pollIntervalInMs?: number;
}

/** Support Request Contributor: what the monitor's identity needs on each subscription to file tickets. */
export const SUPPORT_REQUEST_CONTRIBUTOR_ROLE_ID = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e";

export class ArmSupportTickets implements SupportTickets {
  private readonly clients = new ClientCache<MicrosoftSupport>(CLIENTS_KEPT);
  /**
   * For creates: no SDK retry. A 5xx or a lost reply may follow a create Azure carried out, and a
   * blind re-PUT could open a second ticket; the monitor's own retry reads the ticket by name first.
   */
  private readonly createClients = new ClientCache<MicrosoftSupport>(CLIENTS_KEPT);

  constructor(private readonly options: ArmSupportTicketsOptions) {}

  async findService(subscriptionId: string, resourceType: string): Promise<SupportService | undefined> {
    const client = this.client(subscriptionId);
    const wanted = resourceType.toUpperCase();
    for (const service of await translate(() => collect(client.services.list()))) {
      if (!service.name || !service.id || !(service.resourceTypes ?? []).some((type: string) => type.toUpperCase() === wanted)) continue;
      const classifications = [];
      for (const c of await translate(() => collect(client.problemClassifications.list(service.name!)))) {
        if (c.id && c.displayName) classifications.push({ id: c.id, displayName: c.displayName });
      }
      return { id: service.id, classifications };
    }
    return undefined;
  }

  async getTicket(subscriptionId: string, name: string): Promise<FiledSupportTicket | undefined> {
    try {
      return filed(await this.client(subscriptionId).supportTickets.get(name));
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw refusal(error);
    }
  }

  async isNameAvailable(subscriptionId: string, name: string): Promise<boolean> {
    const answer = await translate(() => this.client(subscriptionId).supportTickets.checkNameAvailability({ name, type: "Microsoft.Support/supportTickets" }));
    return answer.nameAvailable === true;
  }

  async createTicket(subscriptionId: string, request: SupportTicketRequest): Promise<FiledSupportTicket> {
    const body: SupportTicketDetails = {
      title: request.title,
      description: request.description,
      severity: request.severity,
      serviceId: request.serviceId,
      problemClassificationId: request.problemClassificationId,
      problemStartTime: new Date(request.problemStartTime),
      technicalTicketDetails: { resourceId: request.resourceId },
      contactDetails: {
        firstName: request.contact.firstName,
        lastName: request.contact.lastName,
        primaryEmailAddress: request.contact.email,
        preferredContactMethod: "email",
        preferredTimeZone: request.contact.timezone,
        country: request.contact.country,
        preferredSupportLanguage: request.contact.language,
      },
    };
    const result = await translate(async () => {
      const poller = await this.createClient(subscriptionId).supportTickets.beginCreate(request.name, body, {
        ...(this.options.pollIntervalInMs !== undefined ? { updateIntervalInMs: this.options.pollIntervalInMs } : {}),
      });
      return poller.pollUntilDone();
    });
    return filed(result);
  }

  async isCommunicationNameAvailable(subscriptionId: string, ticketName: string, communicationName: string): Promise<boolean> {
    const answer = await translate(() =>
      this.client(subscriptionId).communications.checkNameAvailability(ticketName, { name: communicationName, type: "Microsoft.Support/communications" }),
    );
    return answer.nameAvailable === true;
  }

  async addCommunication(subscriptionId: string, ticketName: string, communication: { name: string; subject: string; body: string }): Promise<void> {
    await translate(async () => {
      const poller = await this.client(subscriptionId).communications.beginCreate(
        ticketName,
        communication.name,
        { subject: communication.subject, body: communication.body },
        { ...(this.options.pollIntervalInMs !== undefined ? { updateIntervalInMs: this.options.pollIntervalInMs } : {}) },
      );
      return poller.pollUntilDone();
    });
  }

  private createClient(subscriptionId: string): MicrosoftSupport {
    return this.createClients.get(
      subscriptionId,
      () =>
        new MicrosoftSupport(this.options.credential, subscriptionId, {
          ...this.options.clientOptions,
          endpoint: this.options.endpoint,
          retryOptions: { ...this.options.clientOptions.retryOptions, maxRetries: 0 },
        }),
    );
  }

  private client(subscriptionId: string): MicrosoftSupport {
    return this.clients.get(
      subscriptionId,
      () => new MicrosoftSupport(this.options.credential, subscriptionId, { ...this.options.clientOptions, endpoint: this.options.endpoint }),
    );
  }
}

function filed(details: SupportTicketDetails): FiledSupportTicket {
  return { name: details.name ?? "", ticketNumber: details.supportTicketId ?? "", status: details.status ?? "unknown" };
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw refusal(error);
  }
}

/**
 * Azure's refusals a retry will not change, by status and error code; anything else (throttling,
 * 5xx, timeouts, conflicts) is left as it is, for ports/failures to call transient.
 */
function refusal(error: unknown): unknown {
  const status = statusCodeOf(error);
  const code = String((error as { code?: unknown }).code ?? "");
  if (status === 401 || status === 403) {
    return new SupportTicketRefusedError(
      "missing-role",
      `Azure refused (HTTP ${status}${code ? ` ${code}` : ""}): the monitor's identity needs the Support Request Contributor role (${SUPPORT_REQUEST_CONTRIBUTOR_ROLE_ID}) on the subscription`,
    );
  }
  if (status === 400 && /support\s*plan|supportplan/i.test(`${code} ${(error as { message?: unknown }).message ?? ""}`)) {
    return new SupportTicketRefusedError(
      "no-support-plan",
      `Azure refused (HTTP 400 ${code}): the subscription has no support plan that allows technical support tickets`,
    );
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 409 && status !== 429) {
    return new SupportTicketRefusedError("rejected", `Azure rejected the ticket (HTTP ${status}${code ? ` ${code}` : ""})`);
  }
  return error;
}
