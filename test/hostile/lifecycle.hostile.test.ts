/**
 * The lifecycle over hostile accounts, without any I/O: every email it plans fits the email
 * service's recipient limit, every address left out is on the timeline, and an incident stays
 * small enough to store however long the account's status text is.
 */
import fc from "fast-check";
import type { Classification } from "../../src/domain/classifier";
import type { Decision } from "../../src/domain/lifecycle";
import { decide, type LifecycleContext } from "../../src/domain/lifecycle";
import type { CmkAccount } from "../../src/domain/account";
import { MAX_RECIPIENTS, resolveOwnerRecipients } from "../../src/domain/recipients";
import { makeAccount, STATUS_4002 } from "../fixtures/incidents";
import { propertyParameters } from "./hostileText";

const REVOKED_4002: Classification = { health: "revoked", cause: "default-identity-unauthorized", code: 4002, matchedBy: "code" };
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };

function context(escalation: string[], defaults: string[]): LifecycleContext {
  return {
    reminderIntervalInMinutes: 60,
    escalationRecipients: escalation,
    // Above ACS's 50 per message: this suite is about that cap, not the daily one.
    newRecipientsPerDay: 1000,
    resolveOwners: (account) =>
      resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: defaults, allowedRecipientDomains: ["contoso.com"] }),
  };
}

/** Detection → reminder → fix → escalation → recovery, as one list of decisions. */
function wholeIncident(owners: number, escalation: string[], defaults: string[], status = STATUS_4002): Decision[] {
  const ctx = context(escalation, defaults);
  const account = makeAccount({
    tags: { "cmk-owner": Array.from({ length: owners }, (_, i) => `owner${i}@contoso.com`).join(",") },
    customerManagedKeyStatus: status,
  });
  const at = (minutes: number) => new Date(Date.parse("2026-11-29T07:00:00Z") + minutes * 60_000);
  const decisions: Decision[] = [];
  let incident = decide(undefined, { kind: "observed", account, classification: REVOKED_4002 }, at(0), ctx);
  decisions.push(incident);
  for (const [minutes, input] of [
    [61, { kind: "observed", account, classification: REVOKED_4002 }],
    [70, { kind: "acknowledged", by: "owner0@contoso.com" }],
    [191, { kind: "tick" }],
    [200, { kind: "observed", account, classification: HEALTHY }],
  ] as const) {
    incident = decide(incident.incident, input, at(minutes), ctx);
    decisions.push(incident);
  }
  return decisions;
}

describe("every planned email fits the recipient limit", () => {
  it("for any number of owners, defaults and escalation contacts", () => {
    // ACS rejects a message over the limit outright: the escalation would be lost, not sent.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.uniqueArray(
          fc.integer({ min: 0, max: 20 }).map((i) => `support${i}@contoso.com`),
          { minLength: 1, maxLength: 8 },
        ),
        fc.uniqueArray(
          fc.integer({ min: 0, max: 20 }).map((i) => `ops${i}@contoso.com`),
          { maxLength: 8 },
        ),
        (owners, escalation, defaults) => {
          const decisions = wholeIncident(owners, escalation, defaults);
          const messages = decisions.flatMap((d) => d.messages);
          expect(messages.map((m) => m.kind)).toEqual(expect.arrayContaining(["revoked", "escalation", "resolved"]));
          const dropped = decisions
            .flatMap((d) => d.events)
            .filter((e) => e.type === "recipients-dropped")
            .map((e) => e.detail)
            .join(" ");
          for (const message of messages) {
            const all = [...message.to, ...message.cc];
            expect(all.length).toBeGreaterThan(0);
            expect(all.length).toBeLessThanOrEqual(MAX_RECIPIENTS);
            expect(new Set(all.map((a) => a.toLowerCase())).size).toBe(all.length);
          }
          // Support is never the one cut from its own escalation.
          const escalationMessage = messages.find((m) => m.kind === "escalation")!;
          for (const address of escalation) expect(escalationMessage.to).toContain(address);
          // Everyone an owner list named but no email reached is on the timeline.
          const reached = new Set(messages.flatMap((m) => [...m.to, ...m.cc]).map((a) => a.toLowerCase()));
          for (let i = 0; i < owners; i++) {
            const address = `owner${i}@contoso.com`;
            if (!reached.has(address)) expect(dropped).toContain(`"${address}"`);
          }
        },
      ),
      propertyParameters(30),
    );
  });
});

describe("an incident stays storable", () => {
  it.each<[string, string]>([
    // A megabyte of status text: the stored account keeps head and tail, not all of it.
    ["1 MB of text", `Access to your account is currently revoked ${"x".repeat(1_000_000)} (4002).`],
    // A megabyte of markup.
    ["1 MB of markup", `${"<x-evil>".repeat(130_000)} revoked (4002)`],
  ])("%s: the incident and each outbox message stay well under a table row", (_why, status) => {
    // A row holds at most 1 MiB; an incident that does not fit is never recorded nor emailed.
    for (const decision of wholeIncident(3, ["support@contoso.com"], [], status)) {
      expect(JSON.stringify(decision.incident).length).toBeLessThan(64_000);
      for (const message of decision.messages) expect(JSON.stringify(message).length).toBeLessThan(64_000);
    }
  });

  it.each<[string, Partial<CmkAccount>]>([
    // The key URI and default identity are whatever the account writer typed: a megabyte each.
    ["1 MB key URI", { keyVaultKeyUri: `https://kv-orders.vault.azure.net/keys/${"k".repeat(1_000_000)}` }],
    ["1 MB default identity", { defaultIdentity: `UserAssignedIdentity=${"/x".repeat(500_000)}` }],
    // More tags, and longer ones, than ARM allows (a list response is not validated by us).
    ["5,000 long tags", { tags: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`t${i}${"n".repeat(600)}`, "v".repeat(1000)])) }],
    ["one 1 MB tag", { tags: { notes: "x".repeat(1_000_000) } }],
  ])("%s: the stored account is cut to bounds, so the incident and its messages fit a table row", (_why, overrides) => {
    // Each outbox row embeds the incident: without bounds the row passes 1 MiB and the notice is never recorded.
    const ctx = context(["support@contoso.com"], []);
    const account = makeAccount({ ...overrides, tags: { "cmk-owner": "owner@contoso.com", ...(overrides.tags ?? {}) } });
    const decision = decide(undefined, { kind: "observed", account, classification: REVOKED_4002 }, new Date("2026-11-29T08:00:00Z"), ctx);
    expect(JSON.stringify(decision.incident).length).toBeLessThan(64_000);
    for (const message of decision.messages) expect(JSON.stringify(message).length).toBeLessThan(64_000);
  });

  it("keeps Azure's code, which is at the end of the status, in what it stores", () => {
    // Later readers of the stored account (probes, re-classification) still see "(4002)".
    const [first] = wholeIncident(1, ["support@contoso.com"], [], `Access to your account is currently revoked ${"x".repeat(1_000_000)} (4002).`);
    expect(first!.incident!.account.customerManagedKeyStatus).toMatch(/\(4002\)\.$/);
  });
});
