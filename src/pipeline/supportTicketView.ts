/** The support-ticket part of an escalation email: the draft, the command and what became of the ticket. */
import type { MessageFacts } from "../domain/incident";
import { draftSupportTicket, type SupportTicketSettings } from "../domain/supportTicket";
import { problemClassificationLookupCommand, supportTicketCreateCommand } from "../domain/supportTicketCommand";
import type { SupportTicketView } from "../email/templates";

export function supportTicketView(
  facts: MessageFacts,
  settings: SupportTicketSettings,
  outcome: SupportTicketView["outcome"] = { kind: "draft" },
): SupportTicketView {
  const draft = draftSupportTicket(
    {
      incident: facts.incident,
      timeline: facts.timeline,
      ...(facts.evidence ? { evidence: facts.evidence } : {}),
    },
    settings,
  );
  const command = supportTicketCreateCommand({
    draft,
    incident: facts.incident,
    timeline: facts.timeline,
    ...(settings.contact ? { contact: settings.contact } : {}),
  });
  return {
    draft,
    command: command.text,
    ...(draft.problemClassificationId ? {} : { lookupCommand: problemClassificationLookupCommand().text }),
    outcome,
  };
}
