/**
 * What the monitor tells a filed support ticket when the incident moves on: the cause changed, the
 * fix was undone, or the account recovered ("you may close this case"). Pure; one message per
 * outbox message, named from its key, so retries and other instances find it instead of adding it twice.
 */
import { createHash } from "node:crypto";
import { getCause } from "./causes";
import type { MessageFacts } from "./incident";

export interface SupportTicketUpdate {
  subscriptionId: string;
  ticketName: string;
  name: string;
  subject: string;
  body: string;
}

/** The update an email's transition sends to the incident's ticket; undefined when there is none to send. */
export function supportTicketUpdate(messageKey: string, facts: MessageFacts): SupportTicketUpdate | undefined {
  const { incident } = facts;
  const ticket = incident.supportTicket;
  if (ticket?.state !== "filed") return undefined;
  const cause = getCause(incident.cause);
  const code = incident.code === null ? "" : ` (code ${incident.code})`;
  const base = {
    subscriptionId: ticket.subscriptionId,
    ticketName: ticket.name,
    name: `cmk-${createHash("sha256").update(messageKey).digest("hex").slice(0, 32)}`,
  };
  switch (facts.kind) {
    case "cause-changed":
      return {
        ...base,
        subject: "Cause changed",
        body: `The monitor now sees a different cause: ${cause.title}${code}${facts.previousCause ? `, was ${getCause(facts.previousCause).title}` : ""}. Status from Azure: ${incident.statusText || "not reported"}`,
      };
    case "fix-undone":
      return {
        ...base,
        subject: "Fix undone",
        body: `The fix recorded for this account no longer holds: the monitor's checks show "${cause.title}" again${code}.`,
      };
    case "resolved":
      return incident.resolution === "account-removed"
        ? {
            ...base,
            subject: "Account removed",
            body: `The account was deleted or stopped using a customer-managed key at ${incident.resolvedAt}. You may close this case.`,
          }
        : {
            ...base,
            subject: "Recovered",
            body: `Access to the customer-managed key was confirmed: recovered at ${incident.resolvedAt}. You may close this case.`,
          };
    default:
      return undefined;
  }
}
