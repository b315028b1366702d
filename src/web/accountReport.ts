/**
 * One account's story: its state now and the evidence behind it, every incident the store keeps
 * for it with full timelines, the last daily check's warnings, every email recorded for it, and
 * links to the Azure portal built from validated ids only. `GET /api/accounts/{subscriptionId}/
 * {resourceGroup}/{name}` returns it as JSON; `GET /api/dashboard/accounts/…` renders it. Building
 * it is pure; loading it reads one account partition, one check row and the heartbeat.
 */
import { parseAccountResourceId, type ResourceIdParts } from "../domain/account";
import type { Incident, IncidentEvent, MessageFacts, MessageKind } from "../domain/incident";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import type { EvidenceLine } from "../domain/probeFindings";
import type { CheckedAccount, WarningFinding } from "../domain/warnings";
import type { MessageStatus, StoredMessage } from "../ports/incidentStore";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { buildFleet, type FleetOptions, type FleetState } from "./fleetOverview";
import { summarizeIncident, type IncidentSummary } from "./incidentHistory";
import { fleetOptions } from "./statusReport";

export interface AccountIncident extends IncidentSummary {
  /** As Azure last reported it: untrusted text. */
  statusText: string;
  fixAcknowledgedBy: string | null;
  /** The monitor's own probes' last conclusive verdict on the cause. */
  probe: Incident["probe"] | null;
  /** Every event, oldest first. */
  timeline: Array<{ seq: number; at: string; type: IncidentEvent["type"]; detail: string }>;
  /** What the probes found, as carried by the latest email that recorded it. */
  evidence: EvidenceLine[];
}

export interface AccountEmail {
  key: string;
  kind: MessageKind;
  incidentId: string;
  to: string[];
  cc: string[];
  createdAt: string;
  /** Delivery as far as the monitor knows: handed to ACS ("sent"), waiting, being sent, or given up ("dead"). */
  status: MessageStatus;
  attempts: number;
  sentAt: string | null;
  lastError: string | null;
  /** ACS delivery reports (Event Grid), per recipient by address: the latest result each; empty until one arrives. */
  deliveryReports: Array<{ recipient: string; status: string; at: string; details: string | null }>;
}

export interface AccountReport {
  generatedAt: string;
  accountId: string;
  accountName: string;
  subscriptionId: string;
  resourceGroup: string;
  state: FleetState;
  /** The key URI as last seen on an incident; null when only a daily check knows the account. */
  keyVaultKeyUri: string | null;
  links: { account: string; vaults: string | null; vaultName: string | null };
  warnings: { checkedAt: string; findings: WarningFinding[] } | null;
  /** Newest first. */
  incidents: AccountIncident[];
  /** Oldest first. */
  emails: AccountEmail[];
}

// Azure's own rules for these names: anything else is refused before it reaches a link or a query.
const SUBSCRIPTION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;
const ACCOUNT_NAME = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/;

/** The account's resource id from the route's three parts; undefined unless each has Azure's shape. */
export function accountIdFromRoute(params: Partial<Record<"subscriptionId" | "resourceGroup" | "name", string>>): string | undefined {
  const { subscriptionId, resourceGroup, name } = params;
  if (!subscriptionId || !resourceGroup || !name) return undefined;
  if (!SUBSCRIPTION_ID.test(subscriptionId) || !RESOURCE_GROUP.test(resourceGroup) || !ACCOUNT_NAME.test(name)) return undefined;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`;
}

/** `subscriptionId/resourceGroup/name`, each part URL-encoded: the account's path under /api/accounts and /api/dashboard/accounts. */
export function accountPath(accountId: string): string | undefined {
  const parts = parseAccountResourceId(accountId);
  if (!parts || !accountIdFromRoute(parts)) return undefined;
  return [parts.subscriptionId, parts.resourceGroup, parts.name].map(encodeURIComponent).join("/");
}

const PORTAL = "https://portal.azure.com/#@";

/** Portal links from validated parts only; the vault's own page needs its resource id, which the monitor does not keep. */
export function portalLinks(parts: ResourceIdParts, keyVaultKeyUri: string | null): AccountReport["links"] {
  const id = accountIdFromRoute(parts);
  const vaultName = parseKeyVaultKeyUri(keyVaultKeyUri ?? undefined)?.vaultName ?? null;
  const validVault = vaultName !== null && /^[a-zA-Z0-9-]{3,24}$/.test(vaultName) ? vaultName : null;
  return {
    account: id ? `${PORTAL}/resource${id.split("/").map(encodeURIComponent).join("/")}/overview` : "",
    vaults: validVault ? "https://portal.azure.com/#browse/Microsoft.KeyVault%2Fvaults" : null,
    vaultName: validVault,
  };
}

export interface AccountInput {
  accountId: string;
  incidents: ReadonlyArray<{ incident: Incident; events: readonly IncidentEvent[] }>;
  check: CheckedAccount | undefined;
  messages: readonly StoredMessage[];
}

/** Undefined when nothing records the account: no incident, no check, no email. */
export function buildAccountReport(input: AccountInput, now: Date, options: FleetOptions): AccountReport | undefined {
  const parts = parseAccountResourceId(input.accountId);
  if (!parts || (input.incidents.length === 0 && !input.check && input.messages.length === 0)) return undefined;
  const incidents = [...input.incidents].sort((a, b) => b.incident.detectedAt.localeCompare(a.incident.detectedAt));
  const open = incidents.filter(({ incident }) => incident.state !== "resolved").map(({ incident }) => incident);
  const [fleetAccount] = buildFleet(open, input.check ? [input.check] : [], undefined, now, options).accounts;
  const latest = incidents[0]?.incident;
  const keyVaultKeyUri = latest?.account?.keyVaultKeyUri ?? null;
  const evidenceFor = (incidentId: string): EvidenceLine[] => {
    const withEvidence = input.messages.filter(
      (stored) =>
        stored.message.incidentId === incidentId &&
        stored.message.kind !== "warning-digest" &&
        ((stored.message.facts as MessageFacts).evidence?.length ?? 0) > 0,
    );
    return (withEvidence.at(-1)?.message.facts as MessageFacts | undefined)?.evidence ?? [];
  };
  return {
    generatedAt: now.toISOString(),
    accountId: input.accountId,
    accountName: latest?.account?.name || input.check?.accountName || parts.name,
    subscriptionId: parts.subscriptionId,
    resourceGroup: parts.resourceGroup,
    // Nothing open and no check: the account was healthy when its last incident resolved.
    state: fleetAccount?.state ?? "healthy",
    keyVaultKeyUri,
    links: portalLinks(parts, keyVaultKeyUri),
    warnings: input.check ? { checkedAt: input.check.checkedAt, findings: input.check.findings } : null,
    incidents: incidents.map(({ incident, events }) => ({
      ...summarizeIncident(incident),
      statusText: incident.statusText,
      fixAcknowledgedBy: incident.fixAcknowledgedBy ?? null,
      probe: incident.probe ?? null,
      timeline: [...events].sort((a, b) => a.seq - b.seq).map(({ seq, at, type, detail }) => ({ seq, at, type, detail })),
      evidence: evidenceFor(incident.id),
    })),
    emails: input.messages.map(({ message, status, attempts, sentAt, lastError, deliveryResults }) => ({
      key: message.key,
      kind: message.kind,
      incidentId: message.incidentId,
      to: message.to,
      cc: message.cc,
      createdAt: message.createdAt,
      status,
      attempts,
      sentAt: sentAt ?? null,
      lastError: lastError ?? null,
      deliveryReports: Object.entries(deliveryResults ?? {})
        .map(([recipient, result]) => ({ recipient, status: result.status, at: result.at, details: result.details ?? null }))
        .sort((a, b) => a.recipient.localeCompare(b.recipient)),
    })),
  };
}

export async function loadAccountReport(
  deps: Pick<MonitorDeps, "store" | "warnings" | "clock" | "settings">,
  accountId: string,
): Promise<AccountReport | undefined> {
  const [incidents, check, messages] = await Promise.all([
    deps.store.listIncidents({ accountId }),
    deps.warnings.getAccountCheck(accountId),
    deps.store.listMessages({ accountId }),
  ]);
  const withEvents = await Promise.all(incidents.map(async (incident) => ({ incident, events: await deps.store.listEvents(accountId, incident.id) })));
  return buildAccountReport({ accountId, incidents: withEvents, check: check?.check, messages }, deps.clock.now(), fleetOptions(deps.settings));
}
