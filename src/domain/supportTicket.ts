/**
 * The Microsoft support ticket the monitor drafts (CMK_SUPPORT_TICKETS=draft) or files (create)
 * when an incident escalates. Pure: the draft is a function of the incident, its timeline, the
 * probes' evidence and the settings. The name derives from the incident id alone, so every retry,
 * crash recovery and concurrent instance asks Azure about the same ticket.
 */
import { createHash } from "node:crypto";
import type { Incident, IncidentEvent } from "./incident";
import { getCause } from "./causes";
import { PROBE_LABELS, type EvidenceLine } from "./probeFindings";

export const SUPPORT_TICKET_MODES = ["off", "draft", "create"] as const;
export type SupportTicketsMode = (typeof SUPPORT_TICKET_MODES)[number];

/** The severities Microsoft.Support 2020-04-01 knows; "highestcriticalimpact" needs a Premium/Unified plan. */
export const SUPPORT_SEVERITIES = ["minimal", "moderate", "critical", "highestcriticalimpact"] as const;
export type SupportSeverity = (typeof SUPPORT_SEVERITIES)[number];

/** How Microsoft.Support names the Azure Cosmos DB service: by the resource type it covers, never by display name. */
export const COSMOS_DB_RESOURCE_TYPE = "MICROSOFT.DOCUMENTDB/DATABASEACCOUNTS";
export const COSMOS_DB_SERVICE_DISPLAY_NAME = "Azure Cosmos DB";

/** A problem classification's resource id, as the API returns it and the CLI takes it. */
export const PROBLEM_CLASSIFICATION_ID = /^\/providers\/Microsoft\.Support\/services\/[0-9a-f-]{36}\/problemClassifications\/[0-9a-f-]{36}$/i;
/** A service's resource id. */
export const SERVICE_ID = /^\/providers\/Microsoft\.Support\/services\/[0-9a-f-]{36}$/i;

export interface SupportContact {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  /** ISO 3166-1 alpha-3, e.g. "usa". */
  readonly country: string;
  /** e.g. "en-us". */
  readonly language: string;
  /** A Microsoft time zone index name, e.g. "Pacific Standard Time" or "UTC". */
  readonly timezone: string;
}

export interface SupportTicketSettings {
  readonly mode: SupportTicketsMode;
  readonly severity: SupportSeverity;
  /** Undefined while CMK_SUPPORT_CONTACT_NAME is unset (allowed in draft mode only). */
  readonly contact?: SupportContact;
  /** Used when no classification of the Cosmos DB service matches at run time. */
  readonly fallbackProblemClassificationId?: string;
}

export interface SupportTicketDraft {
  /** Deterministic: `cmk-` and 32 hex characters of the incident id's SHA-256. */
  name: string;
  title: string;
  severity: SupportSeverity;
  serviceDisplayName: string;
  serviceResourceType: string;
  /** Known once the classifications were read (create mode) or from the fallback setting. */
  problemClassificationId?: string;
  /** The case summary: facts, timeline and evidence. */
  description: string;
  /** The account: `technicalTicketDetails.resourceId`. */
  resourceId: string;
  subscriptionId: string;
  problemStartTime: string;
}

/** Microsoft.Support does not document a limit; the portal's description box stops near this length. */
export const MAX_DESCRIPTION_LENGTH = 5000;
/** Likewise undocumented; kept well below what the portal shows. */
export const MAX_TITLE_LENGTH = 140;

/**
 * The ticket's name for an incident. Incident ids are long and carry the account name; a hash keeps
 * the name short, of one fixed shape (letters, digits and a hyphen) and still one per incident.
 */
export function supportTicketName(incidentId: string): string {
  return `cmk-${createHash("sha256").update(incidentId).digest("hex").slice(0, 32)}`;
}

export const SUPPORT_TICKET_NAME = /^cmk-[0-9a-f]{32}$/;

/** Words in a classification's display name that mark the one for customer-managed keys, best first. */
const CLASSIFICATION_HINTS: readonly RegExp[] = [/customer[- ]managed key/i, /\bCMK\b/i, /encryption/i, /\bkey vault\b/i, /availability|unavailable/i];

/**
 * The problem classification for a revoked customer-managed key: the first hint that matches one
 * of the service's classifications, else the configured fallback (if it is one of them, or the
 * list could not be read), else undefined.
 */
export function chooseProblemClassification(
  classifications: ReadonlyArray<{ id: string; displayName: string }>,
  fallbackId: string | undefined,
): string | undefined {
  const valid = classifications.filter((c) => PROBLEM_CLASSIFICATION_ID.test(c.id));
  for (const hint of CLASSIFICATION_HINTS) {
    const match = valid.find((c) => hint.test(c.displayName));
    if (match) return match.id;
  }
  return fallbackId;
}

export interface DraftInput {
  incident: Incident;
  timeline: readonly IncidentEvent[];
  evidence?: readonly EvidenceLine[];
  problemClassificationId?: string;
}

/** The ticket the monitor would file for an escalated incident. */
export function draftSupportTicket(
  input: DraftInput,
  settings: Pick<SupportTicketSettings, "severity" | "fallbackProblemClassificationId">,
): SupportTicketDraft {
  const { incident } = input;
  const cause = getCause(incident.cause);
  const name = incident.account?.name || incident.accountId.split("/").pop() || "account";
  const classification = input.problemClassificationId ?? settings.fallbackProblemClassificationId;
  return {
    name: supportTicketName(incident.id),
    title: clip(`Cosmos DB account ${name}: customer-managed key access revoked (${cause.title})`, MAX_TITLE_LENGTH),
    severity: settings.severity,
    serviceDisplayName: COSMOS_DB_SERVICE_DISPLAY_NAME,
    serviceResourceType: COSMOS_DB_RESOURCE_TYPE,
    ...(classification ? { problemClassificationId: classification } : {}),
    description: clip(caseSummary(input), MAX_DESCRIPTION_LENGTH),
    resourceId: incident.accountId,
    subscriptionId: incident.account?.subscriptionId ?? "",
    problemStartTime: incident.detectedAt,
  };
}

/** Plain text for the ticket: what support needs first, then the timeline, then what the probes saw. */
export function caseSummary(input: DraftInput): string {
  const { incident } = input;
  const cause = getCause(incident.cause);
  const account = incident.account;
  const lines = [
    `Azure Cosmos DB account ${incident.accountId} cannot use its customer-managed key since ${incident.detectedAt} and did not recover in the expected time.`,
    "",
    `Status from Azure: ${incident.statusText || "not reported"}`,
    `Code: ${incident.code ?? "none"}`,
    `Cause (monitor's classification): ${cause.title} (${cause.id})`,
    `Key URI: ${account?.keyVaultKeyUri || "not set"}`,
    `Default identity: ${account?.defaultIdentity || "not set"}`,
    `Location: ${account?.location ?? "unknown"}`,
    `Fix at: ${incident.fixObservedAt ?? "no fix recorded"}${incident.fixSource ? ` (${incident.fixSource})` : ""}`,
    `Expected recovery by: ${incident.expectedRecoveryBy ?? "not set"}`,
    `Escalated at: ${incident.escalatedAt ?? incident.escalateAt ?? "not set"}`,
    `Monitor incident id: ${incident.id}`,
    "",
    "Timeline (UTC):",
    ...[...input.timeline].sort((a, b) => a.seq - b.seq).map((event) => `- ${event.at} ${event.type}: ${event.detail}`),
  ];
  if (input.evidence && input.evidence.length > 0) {
    lines.push("", "What the monitor checked:");
    for (const line of input.evidence) lines.push(`- ${PROBE_LABELS[line.probe]}: ${line.outcome}. ${line.text}`);
  }
  return lines.join("\n");
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
