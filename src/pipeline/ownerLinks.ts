/**
 * Mints the one-click links an owner email carries, when the message is sent (so a re-send
 * carries fresh, valid tokens). Which messages get which links is decided here.
 */
import type { MessageFacts, MessageKind } from "../domain/incident";
import { linkClaims, linkUrl, signLinkToken } from "../domain/linkTokens";
import type { OwnerLinks } from "../email/templates";
import type { MonitorDeps } from "./monitorDeps";

/** The kinds that tell owners how to fix the cause, and so how to say they did. */
const KINDS_WITH_LINKS: ReadonlySet<MessageKind> = new Set(["revoked", "reminder", "cause-changed", "fix-undone"]);

/** Offered in emails; the lifecycle caps any snooze at MAX_SNOOZE_IN_HOURS anyway. */
export const SNOOZE_CHOICES_IN_HOURS: readonly number[] = [4, 24];

/**
 * Links for one message, or undefined when it gets none (links off, another kind, the key
 * unavailable). A missing link never holds a notice back: the CLI line is always in the email.
 */
export async function ownerLinksFor(
  deps: Pick<MonitorDeps, "settings" | "linkKeys" | "log">,
  facts: MessageFacts,
  now: Date,
  /** Whom the email goes to: signed into each link, so the timeline says whose link was used. */
  recipients: readonly string[],
): Promise<OwnerLinks | undefined> {
  const baseUrl = deps.settings.publicBaseUrl;
  if (!baseUrl || !KINDS_WITH_LINKS.has(facts.kind)) return undefined;
  let key: Buffer;
  try {
    key = await deps.linkKeys.linkSigningKey();
  } catch (error) {
    deps.log.warn(`cmk-monitor: sending without one-click links, the signing key is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  const incident = facts.incident;
  const mint = (action: "ack" | "snooze", hours?: number): string => {
    const claims = linkClaims(incident, action, now, { sentTo: recipients, ...(hours === undefined ? {} : { hours }) });
    return linkUrl(baseUrl, claims, signLinkToken(claims, key));
  };
  return {
    acknowledgeUrl: mint("ack"),
    // Snoozing only means something while reminders are scheduled.
    snooze: incident.nextReminderAt ? SNOOZE_CHOICES_IN_HOURS.map((hours) => ({ hours, url: mint("snooze", hours) })) : [],
  };
}
