import {
  chooseProblemClassification,
  draftSupportTicket,
  supportTicketName,
  SUPPORT_TICKET_NAME,
  MAX_DESCRIPTION_LENGTH,
} from "../../src/domain/supportTicket";
import { ACCOUNT_ID, makeIncident, makeTimeline, SUBSCRIPTION_ID } from "../fixtures/incidents";

const SERVICE = "/providers/Microsoft.Support/services/a1b2c3d4-0000-4000-8000-000000000001";
const CLASSIFICATION = (n: number) => `${SERVICE}/problemClassifications/b1b2c3d4-0000-4000-8000-00000000000${n}`;

describe("supportTicketName", () => {
  it.each<[string, string]>([
    // An ordinary incident id.
    ["orders-db-20261129T0715Z-1a2b3c4d", "orders-db"],
    // The longest account name: the ticket name keeps one fixed length.
    [`${"a".repeat(44)}-20261129T0715Z-1a2b3c4d`, "long"],
  ])("%s gives one fixed-shape name per incident (%s)", (incidentId) => {
    const name = supportTicketName(incidentId);
    expect(name).toMatch(SUPPORT_TICKET_NAME);
    // Deterministic: every retry, crash recovery and instance asks about the same ticket.
    expect(supportTicketName(incidentId)).toBe(name);
    // A different incident of the same account (a later revocation) gets its own ticket.
    expect(supportTicketName(`${incidentId}x`)).not.toBe(name);
  });
});

describe("chooseProblemClassification", () => {
  it.each<[string, Array<{ id: string; displayName: string }>, string | undefined, string | undefined]>([
    // The classification for customer-managed keys wins over a generic one listed first.
    [
      "cmk by name",
      [
        { id: CLASSIFICATION(1), displayName: "Availability and connectivity" },
        { id: CLASSIFICATION(2), displayName: "Customer-managed key (CMK) issues" },
      ],
      undefined,
      CLASSIFICATION(2),
    ],
    // Encryption is the next best hint.
    [
      "encryption",
      [
        { id: CLASSIFICATION(1), displayName: "Backup" },
        { id: CLASSIFICATION(3), displayName: "Data encryption" },
      ],
      CLASSIFICATION(4),
      CLASSIFICATION(3),
    ],
    // Nothing matches: the configured fallback.
    ["fallback", [{ id: CLASSIFICATION(1), displayName: "Billing question" }], CLASSIFICATION(4), CLASSIFICATION(4)],
    // The list could not be read and no fallback: undefined (the command gets a placeholder).
    ["none", [], undefined, undefined],
    // An id of the wrong shape is never chosen, whatever its name says.
    ["bad id", [{ id: "/providers/x; rm -rf", displayName: "Customer-managed key" }], undefined, undefined],
  ])("%s", (_case, list, fallback, expected) => {
    expect(chooseProblemClassification(list, fallback)).toBe(expected);
  });
});

describe("draftSupportTicket", () => {
  it("carries title, severity, service, resource id and the case summary with timeline", () => {
    const incident = makeIncident({ state: "escalated", escalatedAt: "2026-11-29T09:15:00.000Z" });
    const draft = draftSupportTicket({ incident, timeline: makeTimeline() }, { severity: "moderate" });
    expect(draft).toMatchObject({
      name: supportTicketName(incident.id),
      severity: "moderate",
      serviceResourceType: "MICROSOFT.DOCUMENTDB/DATABASEACCOUNTS",
      resourceId: ACCOUNT_ID,
      subscriptionId: SUBSCRIPTION_ID,
      problemStartTime: incident.detectedAt,
    });
    expect(draft.title).toContain("orders-db");
    expect(draft.problemClassificationId).toBeUndefined();
    expect(draft.description).toContain("Timeline (UTC):");
    expect(draft.description).toContain(incident.statusText);
    for (const event of makeTimeline()) expect(draft.description).toContain(event.detail);
  });

  it("bounds the description, however long Azure's status text is", () => {
    // The status is untrusted free text; the ticket must still be filed.
    const incident = makeIncident({ statusText: "x".repeat(20_000) });
    const draft = draftSupportTicket({ incident, timeline: [] }, { severity: "critical", fallbackProblemClassificationId: CLASSIFICATION(4) });
    expect(draft.description.length).toBeLessThanOrEqual(MAX_DESCRIPTION_LENGTH);
    expect(draft.problemClassificationId).toBe(CLASSIFICATION(4));
  });
});
