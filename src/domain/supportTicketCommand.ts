/**
 * The `az support in-subscription tickets create` command an escalation email carries. Only
 * values of a checked shape reach it: the subscription as a GUID, the account's resource id
 * rebuilt from checked parts, our own ticket name, title and description, the severity and the
 * contact from validated settings. Anything else becomes a `<placeholder>`; the free text Azure
 * reports (status, key URI, probe details) stays in the email's draft, never in the command.
 */
import { getCause } from "./causes";
import type { Incident, IncidentEvent } from "./incident";
import { isInertWord, literal, placeholder, sh, type ShellText, type ShellValue } from "./shellQuoting";
import { PROBLEM_CLASSIFICATION_ID, SUPPORT_TICKET_NAME, type SupportContact, type SupportTicketDraft } from "./supportTicket";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Resource group: letters, digits, underscores, hyphens, periods and parentheses, not ending with a period (ASCII only here).
const RESOURCE_GROUP = /^[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]$/;
// Cosmos DB account names: 3-44 lower-case letters, digits and hyphens, not starting or ending with a hyphen.
const COSMOS_ACCOUNT_NAME = /^[a-z0-9][a-z0-9-]{1,42}[a-z0-9]$/;

export interface SupportCommandInput {
  draft: SupportTicketDraft;
  incident: Incident;
  timeline: readonly IncidentEvent[];
  contact?: SupportContact;
}

/** The checked parts of the account, or undefined when any part lacks its Azure shape. */
export function checkedAccount(incident: Incident): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const account = incident.account;
  if (!account) return undefined;
  if (!GUID.test(account.subscriptionId) || !RESOURCE_GROUP.test(account.resourceGroup) || !COSMOS_ACCOUNT_NAME.test(account.name)) return undefined;
  return { subscriptionId: account.subscriptionId, resourceGroup: account.resourceGroup, name: account.name };
}

/**
 * The title and description the command files: written by the monitor from checked values and the
 * timeline's event types and times (event details may quote Azure or a person, so they stay out).
 */
export function commandTicketText(input: Pick<SupportCommandInput, "incident" | "timeline">): { title: string; description: string } {
  const { incident } = input;
  const checked = checkedAccount(incident);
  const cause = getCause(incident.cause);
  const code = incident.code === null ? "" : ` (code ${incident.code})`;
  const title = `Cosmos DB account ${checked?.name ?? "(see description)"}: customer-managed key access revoked`;
  const lines = [
    `Azure Cosmos DB account ${checked ? accountResourceId(checked) : "(resource id in the escalation email)"} cannot use its customer-managed key ` +
      `since ${incident.detectedAt} and did not recover in the expected time.`,
    `Cause (as the monitor classifies it): ${cause.title}${code}.`,
    `Monitor incident id: ${/^[a-z0-9TZ-]+$/.test(incident.id) ? incident.id : "(see the escalation email)"}.`,
    "Timeline (UTC):",
    ...[...input.timeline].sort((a, b) => a.seq - b.seq).map((event) => `${event.at} ${event.type}`),
    "The full case summary with Azure's status text and the monitor's checks is in the escalation email.",
  ];
  return { title, description: lines.join("\n") };
}

/**
 * Text the monitor wrote itself or the operator configured (validated settings), for a command
 * option. `sh` takes only inert words (src/domain/shellQuoting.ts); multi-word text is
 * double-quoted with `literal`, the one quoting POSIX shells, PowerShell and cmd.exe share, and
 * only when it holds nothing any of them reads inside double quotes ($ ` \ " % ! ^ & | < > and
 * line breaks) and is plain ASCII (PowerShell reads typographic quotes and dashes as quotes).
 * Anything else becomes `<name>`. A newline in our own text becomes " / ".
 */
const DOUBLE_QUOTE_SAFE = /^[A-Za-z0-9_(][A-Za-z0-9 _.,:;'()/+=@#*?[\]{}~-]*$/;

function ownText(value: string, name: string): ShellValue {
  const line = value.replace(/\r?\n/g, " / ");
  if (isInertWord(line)) return line;
  return DOUBLE_QUOTE_SAFE.test(line) ? literal(line) : placeholder(name);
}

/** The ready command; placeholders where a value could not be checked or is not configured. */
export function supportTicketCreateCommand(input: SupportCommandInput): ShellText {
  const { draft, incident, contact } = input;
  const checked = checkedAccount(incident);
  const text = commandTicketText(input);
  const subscription: ShellValue = checked?.subscriptionId ?? placeholder("subscription-id");
  const resource: ShellValue = checked ? accountResourceId(checked) : placeholder("cosmos-db-account-resource-id");
  const name: ShellValue = SUPPORT_TICKET_NAME.test(draft.name) ? draft.name : placeholder("ticket-name");
  const classification: ShellValue =
    draft.problemClassificationId && PROBLEM_CLASSIFICATION_ID.test(draft.problemClassificationId)
      ? draft.problemClassificationId
      : placeholder("problem-classification-id");
  const first: ShellValue = contact ? ownText(contact.firstName, "first-name") : placeholder("first-name");
  const last: ShellValue = contact ? ownText(contact.lastName, "last-name") : placeholder("last-name");
  const email: ShellValue = contact ? ownText(contact.email, "contact-email") : placeholder("contact-email");
  const country: ShellValue = contact ? ownText(contact.country, "country-iso3") : placeholder("country-iso3");
  const language: ShellValue = contact ? ownText(contact.language, "language") : placeholder("language");
  const timezone: ShellValue = contact ? ownText(contact.timezone, "time-zone") : placeholder("time-zone");
  const title: ShellValue = ownText(text.title, "title");
  const description: ShellValue = ownText(text.description, "description");
  return sh`az support in-subscription tickets create --subscription ${subscription} --ticket-name ${name} --title ${title} --description ${description} --severity ${draft.severity} --problem-classification ${classification} --technical-resource ${resource} --contact-method email --contact-first-name ${first} --contact-last-name ${last} --contact-email ${email} --contact-country ${country} --contact-language ${language} --contact-timezone ${timezone} --advanced-diagnostic-consent No`;
}

/** Lists the Cosmos DB service's problem classifications, for when the command carries a placeholder. */
export function problemClassificationLookupCommand(): ShellText {
  return sh`az support services problem-classifications list --service-name "$(az support services list --query "[?contains(resourceTypes, 'MICROSOFT.DOCUMENTDB/DATABASEACCOUNTS')].name | [0]" --output tsv)" --query "[].{id: id, name: displayName}" --output table`;
}

function accountResourceId(parts: { subscriptionId: string; resourceGroup: string; name: string }): string {
  return `/subscriptions/${parts.subscriptionId}/resourceGroups/${parts.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${parts.name}`;
}

/** Where a filed ticket opens in the Azure portal. */
export function supportTicketPortalUrl(subscriptionId: string, ticketName: string): string {
  const subscription = GUID.test(subscriptionId) ? subscriptionId : "";
  return `https://portal.azure.com/#resource/subscriptions/${subscription}/providers/Microsoft.Support/supportTickets/${encodeURIComponent(ticketName)}/overview`;
}
