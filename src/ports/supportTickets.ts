/**
 * Port: Microsoft support tickets (Microsoft.Support, subscription scope). Errors a caller acts on:
 * SupportTicketRefusedError (Azure said no for a reason a retry will not change: no support plan,
 * a missing role, a request it rejects); anything else is described by ports/failures.
 */
import type { SupportContact, SupportSeverity } from "../domain/supportTicket";

export interface FiledSupportTicket {
  name: string;
  /** Azure's ticket number (`supportTicketId`), what people quote on the phone. */
  ticketNumber: string;
  /** e.g. "Open", "Closed". */
  status: string;
}

export interface SupportService {
  /** `/providers/Microsoft.Support/services/<guid>` */
  id: string;
  classifications: Array<{ id: string; displayName: string }>;
}

export interface SupportTicketRequest {
  name: string;
  title: string;
  description: string;
  severity: SupportSeverity;
  serviceId: string;
  problemClassificationId: string;
  /** The Cosmos DB account: `technicalTicketDetails.resourceId`. */
  resourceId: string;
  problemStartTime: string;
  contact: SupportContact;
}

export type SupportRefusal = "no-support-plan" | "missing-role" | "rejected";

export class SupportTicketRefusedError extends Error {
  override readonly name = "SupportTicketRefusedError";
  constructor(
    readonly refusal: SupportRefusal,
    message: string,
  ) {
    super(message);
  }
}

export interface SupportTickets {
  /** The service whose resource types include `resourceType`, with its problem classifications; undefined when none does. */
  findService(subscriptionId: string, resourceType: string): Promise<SupportService | undefined>;
  /** The ticket of that name in the subscription; undefined when Azure has none (yet). */
  getTicket(subscriptionId: string, name: string): Promise<FiledSupportTicket | undefined>;
  /** False when a ticket of that name exists. */
  isNameAvailable(subscriptionId: string, name: string): Promise<boolean>;
  /** Files the ticket and follows the long-running create to its end (within the invocation's deadline). */
  createTicket(subscriptionId: string, request: SupportTicketRequest): Promise<FiledSupportTicket>;
  /** False when the ticket already has a communication of that name (one posted before a crash or by another instance). */
  isCommunicationNameAvailable(subscriptionId: string, ticketName: string, communicationName: string): Promise<boolean>;
  /** Adds a message to the ticket and follows the long-running create to its end. */
  addCommunication(subscriptionId: string, ticketName: string, communication: { name: string; subject: string; body: string }): Promise<void>;
}
