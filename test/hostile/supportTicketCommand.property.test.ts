/**
 * The `az support in-subscription tickets create` command of a draft ticket, for hostile accounts,
 * status texts and timeline details: pasted into a shell it runs exactly one `az` call, and every
 * argument is a checked value, our own text or a placeholder, never Azure's free text.
 */
import fc from "fast-check";
import type { IncidentEvent } from "../../src/domain/incident";
import { draftSupportTicket } from "../../src/domain/supportTicket";
import { supportTicketCreateCommand } from "../../src/domain/supportTicketCommand";
import { makeIncident } from "../fixtures/incidents";
import { hostileAccount } from "./hostileAccounts";
import { hostileText, propertyParameters } from "./hostileText";
import { createPasteSandbox, flagValue, PLACEHOLDER_PREFIX, pasteIntoShell } from "./pasteIntoShell";

const paste = createPasteSandbox();
afterAll(() => paste.dispose());

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_ID = /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[A-Za-z0-9_().-]+\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[a-z0-9-]{3,44}$/;

describe.each(["bash", "sh"] as const)("the support ticket command pasted into %s", (shell) => {
  it("runs one az call whose arguments are checked values, our text or placeholders", () => {
    fc.assert(
      fc.property(hostileAccount(paste.canary), hostileText({ canary: paste.canary }), hostileText({ canary: paste.canary }), (account, status, detail) => {
        const incident = makeIncident({ account, accountId: account.id, statusText: status });
        const timeline: IncidentEvent[] = [{ incidentId: incident.id, seq: 1, at: incident.detectedAt, type: "detected", cause: incident.cause, detail }];
        const draft = draftSupportTicket({ incident, timeline }, { severity: "moderate" });
        const command = supportTicketCreateCommand({ draft, incident, timeline }).text;
        const result = pasteIntoShell(shell, [command], paste.dir, paste.canary);
        expect(result.canaryTouched).toBe(false);
        expect(result.strayFiles).toEqual([]);
        expect(result.stderr).toBe("");
        expect(result.calls).toHaveLength(1);
        const call = result.calls[0]!;
        const subscription = flagValue(call, "--subscription")!;
        expect(GUID.test(subscription) || subscription.startsWith(PLACEHOLDER_PREFIX)).toBe(true);
        const resource = flagValue(call, "--technical-resource")!;
        expect(RESOURCE_ID.test(resource) || resource.startsWith(PLACEHOLDER_PREFIX)).toBe(true);
        // Azure's status and the timeline's details never reach the command.
        const description = flagValue(call, "--description")!;
        if (status.trim().length > 8) expect(description).not.toContain(status);
        if (detail.trim().length > 8) expect(description).not.toContain(detail);
      }),
      propertyParameters(shell === "bash" ? 40 : 20),
    );
  });
});
