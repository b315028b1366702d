/**
 * Microsoft.Support on the fakes, playing the sandbox's least convenient behaviour: every create
 * opens a ticket (a repeated name acts twice), and a ticket whose create "crashed" stays invisible
 * to get and the name check until `finishPending()`.
 */
import { COSMOS_DB_RESOURCE_TYPE } from "../../src/domain/supportTicket";
import {
  SupportTicketRefusedError,
  type FiledSupportTicket,
  type SupportRefusal,
  type SupportService,
  type SupportTicketRequest,
  type SupportTickets,
} from "../../src/ports/supportTickets";

export const FAKE_SERVICE_ID = "/providers/Microsoft.Support/services/8f2a4c9e-1b3d-4e5f-9a7b-000000c05db1";
export const FAKE_CMK_CLASSIFICATION = `${FAKE_SERVICE_ID}/problemClassifications/5d1e7f3a-2c4b-4d6e-8f9a-0000000c0c31`;

/** What the next create does: opens the ticket but the caller never hears back (visible now or later), or is refused. */
export type CreateFault = { kind: "lost-reply"; visible: boolean } | { kind: "refused"; refusal: SupportRefusal } | { kind: "transient" };

export class FakeSupportTickets implements SupportTickets {
  readonly opened: Array<SupportTicketRequest & { subscriptionId: string; ticketNumber: string; visible: boolean }> = [];
  readonly calls: string[] = [];
  readonly communications: Array<{ subscriptionId: string; ticketName: string; name: string; subject: string; body: string }> = [];
  private faults: CreateFault[] = [];

  failNextCreate(fault: CreateFault): void {
    this.faults.push(fault);
  }

  /** Creates still running finish: their tickets become visible. */
  finishPending(): void {
    for (const ticket of this.opened) ticket.visible = true;
  }

  get duplicates(): number {
    return this.opened.length - new Set(this.opened.map((t) => `${t.subscriptionId}/${t.name}`)).size;
  }

  async findService(_subscriptionId: string, resourceType: string): Promise<SupportService | undefined> {
    this.calls.push("findService");
    if (resourceType !== COSMOS_DB_RESOURCE_TYPE) return undefined;
    return { id: FAKE_SERVICE_ID, classifications: [{ id: FAKE_CMK_CLASSIFICATION, displayName: "Customer-managed key (CMK) issues" }] };
  }

  async getTicket(subscriptionId: string, name: string): Promise<FiledSupportTicket | undefined> {
    this.calls.push("getTicket");
    const ticket = this.opened.find((t) => t.visible && t.subscriptionId === subscriptionId && t.name === name);
    return ticket ? { name, ticketNumber: ticket.ticketNumber, status: "Open" } : undefined;
  }

  async isNameAvailable(subscriptionId: string, name: string): Promise<boolean> {
    this.calls.push("isNameAvailable");
    return !this.opened.some((t) => t.visible && t.subscriptionId === subscriptionId && t.name === name);
  }

  async createTicket(subscriptionId: string, request: SupportTicketRequest): Promise<FiledSupportTicket> {
    this.calls.push("createTicket");
    const fault = this.faults.shift();
    if (fault?.kind === "refused") throw new SupportTicketRefusedError(fault.refusal, `refused: ${fault.refusal}`);
    if (fault?.kind === "transient") throw Object.assign(new Error("Service unavailable"), { statusCode: 503 });
    const ticketNumber = `26120300${String(this.opened.length + 1).padStart(8, "0")}`;
    this.opened.push({ ...request, subscriptionId, ticketNumber, visible: fault?.kind !== "lost-reply" || fault.visible });
    if (fault?.kind === "lost-reply") throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    return { name: request.name, ticketNumber, status: "Open" };
  }

  async isCommunicationNameAvailable(subscriptionId: string, ticketName: string, communicationName: string): Promise<boolean> {
    this.calls.push("isCommunicationNameAvailable");
    return !this.communications.some((c) => c.subscriptionId === subscriptionId && c.ticketName === ticketName && c.name === communicationName);
  }

  async addCommunication(subscriptionId: string, ticketName: string, communication: { name: string; subject: string; body: string }): Promise<void> {
    this.calls.push("addCommunication");
    this.communications.push({ subscriptionId, ticketName, ...communication });
  }
}
