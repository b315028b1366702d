/**
 * The lifecycle's guards and deadline rules, one rule per case, written as the timeline an incident
 * records: which reasons, timeline entries and emails each input produces at which minute. Where
 * lifecycle.test.ts shows the stories, this file pins the rules a silent change would break: who
 * is paged, when, and what the timeline says about it.
 */
import type { CmkAccount } from "../../src/domain/account";
import { getCause, type CauseId } from "../../src/domain/causes";
import type { Classification } from "../../src/domain/classifier";
import type { Incident, MessageFacts } from "../../src/domain/incident";
import { decide, decideMany, incidentIdFor, type LifecycleContext, type LifecycleInput } from "../../src/domain/lifecycle";
import { resolveOwnerRecipients } from "../../src/domain/recipients";

const START = Date.parse("2026-11-29T00:00:00.000Z");
const at = (minute: number) => new Date(START + minute * 60_000);
const iso = (minute: number) => at(minute).toISOString();

const ACCOUNT: CmkAccount = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/orders-db",
  name: "orders-db",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-orders",
  keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/cmk",
  customerManagedKeyStatus: "Access to the key was revoked (4002)",
  defaultIdentity: "SystemAssignedIdentity",
  principalId: "11111111-2222-3333-4444-555555555555",
  userAssignedIdentities: {},
  tags: { "cmk-owner": "owner@contoso.com" },
};

function context(escalationRecipients: readonly string[] = ["support@contoso.com"]): LifecycleContext {
  return {
    reminderIntervalInMinutes: 60,
    escalationRecipients,
    // Generous: these timelines are about the rules, not the daily cap on new addresses.
    newRecipientsPerDay: 1000,
    resolveOwners: (account) => resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: [], allowedRecipientDomains: [] }),
  };
}

const CODE_FOR: Partial<Record<CauseId, number>> = {
  "default-identity-unauthorized": 4002,
  "key-not-found": 4003,
  "key-vault-dns-unresolved": 4009,
  "key-vault-network-blocked": 4016,
  "service-side-outage": 4004,
};
const revoked = (cause: CauseId, code: number | null = CODE_FOR[cause] ?? null): Classification => ({ health: "revoked", cause, code, matchedBy: "code" });
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };
const observed = (classification: Classification, account: CmkAccount = ACCOUNT): LifecycleInput => ({ kind: "observed", account, classification });

interface Entry {
  minute: number;
  /** "reason" lines, then "event type: detail" lines, then "email kind → to | cc" lines. */
  lines: string[];
}

/**
 * Applies inputs in minute order to one account and returns everything each produced. Polls are
 * explicit (no implicit poll every 5 minutes) so a case shows exactly what happened when.
 */
function run(steps: Array<[minute: number, input: LifecycleInput]>, ctx = context(), start?: Incident) {
  let incident = start;
  const journal: Entry[] = [];
  const facts: Array<{ minute: number; facts: MessageFacts }> = [];
  for (const [minute, input] of steps) {
    const decision = decide(incident, input, at(minute), ctx);
    incident = decision.incident;
    const lines = [
      ...decision.reasons.map((r) => `reason ${r}`),
      ...decision.events.map((e) => `event #${e.seq} ${e.type}: ${e.detail}`),
      ...decision.messages.map((m) => `email ${m.kind} → ${m.to.join(",")} | ${m.cc.join(",")}`),
    ];
    for (const m of decision.messages) facts.push({ minute, facts: m.facts as MessageFacts });
    if (lines.length > 0) journal.push({ minute, lines });
  }
  return { journal, incident: incident!, facts };
}

const TITLE = (cause: CauseId) => getCause(cause).title;

describe("what the timeline records, entry by entry", () => {
  it("a 4002 incident from detection to escalation and recovery", () => {
    // Every reason, numbered timeline entry and email, with the cause's title and code in the details.
    const { journal, incident } = run([
      [10, observed(revoked("default-identity-unauthorized"))],
      [30, { kind: "acknowledged", by: "owner@contoso.com" }],
      [150, { kind: "tick" }],
      [200, observed(HEALTHY)],
    ]);
    expect(journal).toEqual([
      {
        minute: 10,
        lines: ["reason first-notice", `event #1 detected: Revoked: ${TITLE("default-identity-unauthorized")} (4002)`, "email revoked → owner@contoso.com | "],
      },
      {
        minute: 30,
        lines: [
          "reason fix-acknowledged",
          `event #2 fix-acknowledged: Fix acknowledged by owner@contoso.com; recovery expected by ${iso(90)}`,
          "email fix-acknowledged → owner@contoso.com | ",
        ],
      },
      {
        minute: 150,
        lines: [
          "reason escalation-due",
          `event #3 escalated: Still revoked at the escalation deadline ${iso(150)}; support contacted`,
          "email escalation → support@contoso.com | owner@contoso.com",
        ],
      },
      {
        minute: 200,
        lines: ["reason recovered", "event #4 resolved: Key access confirmed; account recovered", "email resolved → owner@contoso.com,support@contoso.com | "],
      },
    ]);
    // The incident keeps what the emails and the dashboard show.
    expect(incident).toMatchObject({ state: "resolved", resolution: "recovered", resolvedAt: iso(200), eventCount: 4, fixSource: "acknowledged" });
    expect(incident.fixAcknowledgedBy).toBe("owner@contoso.com");
  });

  it("a probe-observed fix, undone, then a cause change and an account removal", () => {
    // The other transitions' wording; a status without a code has no "(code)" suffix.
    const { journal } = run([
      [10, observed(revoked("key-not-found"))],
      [20, { kind: "fix-observed", detail: "key recovered" }],
      [25, { kind: "fix-undone", detail: "key deleted again" }],
      [30, { kind: "snoozed", until: iso(90), by: "owner@contoso.com" }],
      [40, observed(revoked("key-vault-network-blocked", null))],
      [50, { kind: "account-missing" }],
    ]);
    expect(journal).toEqual([
      { minute: 10, lines: ["reason first-notice", `event #1 detected: Revoked: ${TITLE("key-not-found")} (4003)`, "email revoked → owner@contoso.com | "] },
      {
        minute: 20,
        lines: [
          "reason fix-observed",
          `event #2 fix-observed: Fix observed: key recovered; recovery expected by ${iso(80)}`,
          "email fix-observed → owner@contoso.com | ",
        ],
      },
      { minute: 25, lines: ["reason fix-undone", "event #3 fix-undone: Fix undone: key deleted again", "email fix-undone → owner@contoso.com | "] },
      {
        minute: 30,
        lines: ["reason snoozed", `event #4 snoozed: Reminders snoozed by owner@contoso.com until ${iso(90)}; escalation is not affected`],
      },
      {
        minute: 40,
        lines: [
          "reason cause-changed",
          `event #5 cause-changed: Cause changed from ${TITLE("key-not-found")} to ${TITLE("key-vault-network-blocked")}`,
          "email cause-changed → owner@contoso.com | ",
        ],
      },
      {
        minute: 50,
        lines: ["reason account-removed", "event #6 resolved: Account no longer found (deleted or CMK removed)", "email resolved → owner@contoso.com | "],
      },
    ]);
  });

  it("reminders are numbered, and each email's facts carry what its template needs", () => {
    // Reminder 1, 2, 3 in the text and the email; the cause change names the previous cause; no timeline unless asked.
    const { journal, facts } = run([
      [10, observed(revoked("key-not-found"))],
      [70, { kind: "tick" }],
      [130, { kind: "tick" }],
      [190, { kind: "tick" }],
      [200, observed(revoked("key-vault-network-blocked"))],
    ]);
    expect(journal.flatMap((e) => e.lines.filter((l) => l.startsWith("event")))).toEqual([
      `event #1 detected: Revoked: ${TITLE("key-not-found")} (4003)`,
      "event #2 reminded: Reminder 1: still revoked",
      "event #3 reminded: Reminder 2: still revoked",
      "event #4 reminded: Reminder 3: still revoked",
      `event #5 cause-changed: Cause changed from ${TITLE("key-not-found")} to ${TITLE("key-vault-network-blocked")} (4016)`,
    ]);
    expect(facts.map((f) => [f.minute, f.facts.kind, f.facts.reminderNumber, f.facts.previousCause])).toEqual([
      [10, "revoked", undefined, undefined],
      [70, "reminder", 1, undefined],
      [130, "reminder", 2, undefined],
      [190, "reminder", 3, undefined],
      [200, "cause-changed", undefined, "key-not-found"],
    ]);
    expect(facts.every((f) => f.facts.timeline.length === 0)).toBe(true);
    // The facts are the incident as it was when the email was decided.
    expect(facts[1]!.facts.incident.reminderCount).toBe(1);
  });
});

describe("inputs that do nothing in the wrong state", () => {
  // Each case: an incident brought to a state, then an input that must change nothing at all.
  const toRecovering: Array<[number, LifecycleInput]> = [
    [10, observed(revoked("default-identity-unauthorized"))],
    [20, { kind: "fix-observed", detail: "role assignment found" }],
  ];
  const toEscalated: Array<[number, LifecycleInput]> = [
    [10, observed(revoked("key-vault-dns-unresolved"))],
    [130, { kind: "tick" }],
  ];
  const toRevoked: Array<[number, LifecycleInput]> = [[10, observed(revoked("default-identity-unauthorized"))]];

  it.each<[string, Array<[number, LifecycleInput]>, LifecycleInput]>([
    // Two owners clicking "fixed": the second must not restart the clock.
    ["acknowledged while recovering", toRecovering, { kind: "acknowledged", by: "other@contoso.com" }],
    // Support has the case; an ack after escalation would quietly restart the clock and stop nothing.
    ["acknowledged while escalated", toEscalated, { kind: "acknowledged", by: "owner@contoso.com" }],
    // The probes seeing the fix again is not news.
    ["fix observed while recovering", toRecovering, { kind: "fix-observed", detail: "again" }],
    // An escalated case stays with support; a fix does not take it back.
    ["fix observed while escalated", toEscalated, { kind: "fix-observed", detail: "DNS resolves" }],
    // Nothing was fixed, so nothing can be undone.
    ["fix undone while revoked", toRevoked, { kind: "fix-undone", detail: "still missing" }],
    // Escalated cases keep their state: support is already on it.
    ["fix undone while escalated", toEscalated, { kind: "fix-undone", detail: "DNS fails again" }],
    // A snooze into the past, or ending now, pauses nothing.
    ["snooze ending in the past", toRevoked, { kind: "snoozed", until: iso(20), by: "owner@contoso.com" }],
    ["snooze ending now", toRevoked, { kind: "snoozed", until: iso(30), by: "owner@contoso.com" }],
    // A malformed time is refused rather than read as "for ever".
    ["snooze with an unreadable time", toRevoked, { kind: "snoozed", until: "tomorrow", by: "owner@contoso.com" }],
    // An unknown health says nothing about the incident.
    ["observation with unknown health", toRevoked, observed({ health: "unknown", cause: "unrecognized", code: null, matchedBy: "none" })],
  ])("%s", (_name, setup, input) => {
    const before = run(setup).incident;
    // Decided after the setup's last step, at minute 30 at the earliest (the snooze cases' "now").
    const decision = decide(before, input, at(Math.max(30, setup.at(-1)![0] + 5)), context());
    expect(decision.reasons).toEqual([]);
    expect(decision.events).toEqual([]);
    expect(decision.messages).toEqual([]);
    expect(decision.incident).toEqual(before);
  });

  it("the same snooze twice is recorded once", () => {
    // Both owners clicking the same "snooze until" link: one timeline entry.
    const { journal } = run([
      [10, observed(revoked("key-not-found"))],
      [20, { kind: "snoozed", until: iso(100), by: "a@contoso.com" }],
      [21, { kind: "snoozed", until: iso(100), by: "b@contoso.com" }],
    ]);
    expect(journal.map((e) => e.minute)).toEqual([10, 20]);
  });

  it("a tick on an incident that is due escalates it, like a poll would", () => {
    // A failed listing must not stop the deadline sweep.
    const { journal, incident } = run([
      [10, observed(revoked("service-side-outage"))],
      [129, { kind: "tick" }],
      [131, { kind: "tick" }],
    ]);
    expect(journal.map((e) => `${e.minute} ${e.lines[0]}`)).toEqual(["10 reason first-notice", "131 reason escalation-due"]);
    expect(incident.escalatedAt).toBe(iso(131));
  });
});

describe("reminders and clocks", () => {
  it.each<[string, CauseId, Partial<Incident>]>([
    // Owner-fixable, clock at fix: a reminder is scheduled, no escalation until a fix.
    ["4002", "default-identity-unauthorized", { nextReminderAt: iso(70), escalateAt: undefined, fixSource: undefined }],
    // DNS: the clock runs from detection (and says so), and the owner is still reminded.
    [
      "DNS",
      "key-vault-dns-unresolved",
      { nextReminderAt: iso(70), clockStartedAt: iso(10), expectedRecoveryBy: iso(70), escalateAt: iso(130), fixSource: "detection" },
    ],
    // Nobody on the owner's side can fix an outage: no reminders, clock from detection.
    ["service-side outage", "service-side-outage", { nextReminderAt: undefined, escalateAt: iso(130), fixSource: "detection" }],
  ])("opening a %s incident sets its deadlines", (_name, cause, expected) => {
    const { incident } = run([[10, observed(revoked(cause))]]);
    expect(incident).toMatchObject({ state: "revoked", detectedAt: iso(10), reminderCount: 0, cause });
    for (const [field, value] of Object.entries(expected)) expect([field, incident[field as keyof Incident]]).toEqual([field, value]);
  });

  it("a cause change to something owners cannot fix stops the reminders", () => {
    // 4002 then a service-side outage: reminding owners to fix Azure's problem would be noise.
    const { journal } = run([
      [10, observed(revoked("default-identity-unauthorized"))],
      [40, observed(revoked("service-side-outage"))],
      [70, { kind: "tick" }],
      [130, { kind: "tick" }],
      [160, { kind: "tick" }],
    ]);
    expect(journal.map((e) => `${e.minute} ${e.lines[0]}`)).toEqual(["10 reason first-notice", "40 reason cause-changed", "160 reason escalation-due"]);
  });

  it("an owner tag changed while revoked: the next reminder goes to the new owner", () => {
    // The incident keeps the latest tags; reminders follow them.
    const moved = { ...ACCOUNT, tags: { "cmk-owner": "new-owner@contoso.com" } };
    const { journal, incident } = run([
      [10, observed(revoked("key-not-found"))],
      [40, observed(revoked("key-not-found"), moved)],
      [70, { kind: "tick" }],
    ]);
    expect(journal.map((e) => `${e.minute} ${e.lines.at(-1)}`)).toEqual([
      "10 email revoked → owner@contoso.com | ",
      "70 email reminder → new-owner@contoso.com | ",
    ]);
    expect(incident.notified).toEqual(["owner@contoso.com", "new-owner@contoso.com"]);
  });

  it("recovery keeps the account as last observed", () => {
    // The resolved email shows the account as Azure reports it now.
    const renamed = { ...ACCOUNT, tags: { "cmk-owner": "owner@contoso.com", team: "orders" }, customerManagedKeyStatus: "Access to the key is granted" };
    const { incident } = run([
      [10, observed(revoked("key-not-found"))],
      [40, observed(HEALTHY, renamed)],
    ]);
    expect(incident.account).toEqual(renamed);
  });
});

describe("an undone fix never postpones an escalation already scheduled", () => {
  it("DNS: fix observed at 20 (escalation 140), undone at 30 → escalation still at 140", () => {
    // The detection clock restarted at the undo would move support's call to 150.
    const { journal, incident } = run([
      [10, observed(revoked("key-vault-dns-unresolved"))],
      [20, { kind: "fix-observed", detail: "host resolves" }],
      [30, { kind: "fix-undone", detail: "host does not resolve" }],
      [139, { kind: "tick" }],
      [140, { kind: "tick" }],
    ]);
    expect(journal.map((e) => `${e.minute} ${e.lines[0]}`)).toEqual([
      "10 reason first-notice",
      "20 reason fix-observed",
      "30 reason fix-undone",
      // Reminders resume after the undo (due at 90, first sweep 139).
      "139 reason reminder-due",
      "140 reason escalation-due",
    ]);
    expect(incident.escalatedAt).toBe(iso(140));
  });

  it("DNS fixed late: fix observed at 100 (escalation 220), undone at 110 → escalation still at 220", () => {
    // The fix's window stands; restarting the detection clock at the undo would move it to 230.
    const { journal } = run([
      [10, observed(revoked("key-vault-dns-unresolved"))],
      [100, { kind: "fix-observed", detail: "host resolves" }],
      [110, { kind: "fix-undone", detail: "host does not resolve" }],
      [219, { kind: "tick" }],
      [220, { kind: "tick" }],
    ]);
    expect(journal.map((e) => `${e.minute} ${e.lines[0]}`)).toEqual([
      "10 reason first-notice",
      "100 reason fix-observed",
      "110 reason fix-undone",
      // The reminder the undo scheduled (110 + 60) is due at the first sweep after it.
      "219 reason reminder-due",
      "220 reason escalation-due",
    ]);
  });

  it("4002: an undone fix stops the clock (no escalation on a fix that is gone)", () => {
    // Escalating on the old clock would blame Azure for the owner's broken permission.
    const { incident } = run([
      [10, observed(revoked("default-identity-unauthorized"))],
      [20, { kind: "fix-observed", detail: "role assignment found" }],
      [30, { kind: "fix-undone", detail: "role assignment removed" }],
    ]);
    expect([incident.state, incident.clockStartedAt, incident.expectedRecoveryBy, incident.escalateAt, incident.nextReminderAt]).toEqual([
      "revoked",
      undefined,
      undefined,
      undefined,
      iso(90),
    ]);
  });
});

describe("a fix on a detection clock", () => {
  it("a fix observed on an instance whose clock is behind never brings the escalation forward", () => {
    // Detected at 10 (escalation 130); a second instance, minutes behind, sees the fix at "5".
    const { incident } = run([
      [10, observed(revoked("key-vault-dns-unresolved"))],
      [5, { kind: "fix-observed", detail: "host resolves" }],
    ]);
    expect([incident.state, incident.clockStartedAt, incident.escalateAt]).toEqual(["recovering", iso(10), iso(130)]);
  });

  it("a fix observed later moves the whole clock: expected recovery and escalation", () => {
    // Fix at 100: recovery expected by 160, escalation at 220.
    const { incident } = run([
      [10, observed(revoked("key-vault-dns-unresolved"))],
      [100, { kind: "fix-observed", detail: "host resolves" }],
    ]);
    expect([incident.clockStartedAt, incident.expectedRecoveryBy, incident.escalateAt]).toEqual([iso(100), iso(160), iso(220)]);
  });
});

describe("who is emailed", () => {
  it("addresses a resolver returns twice are emailed once", () => {
    // Whatever the owner resolver returns, ACS gets each mailbox once, first spelling kept.
    const ctx: LifecycleContext = {
      ...context(),
      resolveOwners: () => ({ recipients: ["owner@contoso.com", "OWNER@contoso.com", "b@contoso.com"], rejected: [] }),
    };
    const { journal, incident } = run([[10, observed(revoked("key-not-found"))]], ctx);
    expect(journal[0]!.lines.at(-1)).toBe("email revoked → owner@contoso.com,b@contoso.com | ");
    expect(incident.notified).toEqual(["owner@contoso.com", "b@contoso.com"]);
  });

  it("escalation copies the owners but not support twice, whatever the spelling", () => {
    // An owner tag that lists the support address must not put it in both to and cc.
    const account = { ...ACCOUNT, tags: { "cmk-owner": "owner@contoso.com, SUPPORT@Contoso.com" } };
    const { journal } = run([
      [10, observed(revoked("service-side-outage"), account)],
      [130, { kind: "tick" }],
    ]);
    expect(journal.find((e) => e.minute === 130)!.lines.at(-1)).toBe("email escalation → support@contoso.com | owner@contoso.com");
  });

  it.each<[string, string, string]>([
    // Not escalated: owners only; support hears nothing about a case it does not have.
    ["before escalation", "key-not-found", "email cause-changed → owner@contoso.com | "],
    // Escalated: support is copied on the new cause.
    ["after escalation", "service-side-outage", "email cause-changed → owner@contoso.com | support@contoso.com"],
  ])("cause change %s", (_name, first, expected) => {
    const { journal } = run([
      [10, observed(revoked(first as CauseId))],
      [130, { kind: "tick" }],
      [140, observed(revoked("key-vault-network-blocked"))],
    ]);
    expect(journal.find((e) => e.minute === 140)!.lines.at(-1)).toBe(expected);
  });

  it("cause change after escalation, support listed as an owner: support is in to, not copied again", () => {
    // Case-insensitive: Support@ in the tag is the same mailbox as support@.
    const account = { ...ACCOUNT, tags: { "cmk-owner": "Support@Contoso.com" } };
    const { journal } = run([
      [10, observed(revoked("service-side-outage"), account)],
      [130, { kind: "tick" }],
      [140, observed(revoked("key-vault-network-blocked"), account)],
    ]);
    expect(journal.find((e) => e.minute === 140)!.lines.at(-1)).toBe("email cause-changed → Support@Contoso.com | ");
  });

  it("an address spelled two ways is notified once", () => {
    // The owner in the tag and the same mailbox as an escalation contact: one entry, the first spelling.
    const account = { ...ACCOUNT, tags: { "cmk-owner": "Support@Contoso.com" } };
    const { incident } = run([
      [10, observed(revoked("service-side-outage"), account)],
      [130, { kind: "tick" }],
    ]);
    expect(incident.notified).toEqual(["Support@Contoso.com"]);
  });

  it("owners rejected from the tag are named on the timeline, at opening and at a cause change", () => {
    // Someone must see that an owner was never told.
    const account = { ...ACCOUNT, tags: { "cmk-owner": "owner@contoso.com, not-an-address, also bad" } };
    const { journal } = run([
      [10, observed(revoked("key-not-found"), account)],
      [40, observed(revoked("key-vault-network-blocked"), account)],
    ]);
    expect(journal.flatMap((e) => e.lines.filter((l) => l.includes("recipients-dropped")))).toEqual([
      'event #2 recipients-dropped: Not emailed: "not-an-address" (invalid), "also" (invalid), "bad" (invalid)',
      'event #4 recipients-dropped: Not emailed: "not-an-address" (invalid), "also" (invalid), "bad" (invalid)',
    ]);
  });

  it("a rejected address is quoted at most 100 characters long on the timeline", () => {
    // A hostile tag must not flood the timeline.
    const long = `${"x".repeat(150)}`;
    const account = { ...ACCOUNT, tags: { "cmk-owner": long } };
    const { journal } = run([[10, observed(revoked("key-not-found"), account)]]);
    expect(journal[0]!.lines).toContain(`event #2 recipients-dropped: Not emailed: "${"x".repeat(100)}" (invalid)`);
  });

  it("an escalation with more recipients than ACS takes keeps support and records who was left out", () => {
    // 50 owners + support is 51: ACS would refuse the whole message, so the last owner is dropped and named.
    const owners = Array.from({ length: 50 }, (_, i) => `owner${i}@contoso.com`);
    const account = { ...ACCOUNT, tags: { "cmk-owner": owners.join(",") } };
    const { journal } = run([
      [10, observed(revoked("service-side-outage"), account)],
      [130, { kind: "tick" }],
    ]);
    const lines = journal.find((e) => e.minute === 130)!.lines;
    expect(lines).toContain('event #3 recipients-dropped: Not emailed (escalation): "owner49@contoso.com" (too-many)');
    expect(lines.at(-1)).toBe(`email escalation → support@contoso.com | ${owners.slice(0, 49).join(",")}`);
  });

  it("two escalation contacts and 50 owners: the two owners over the limit are both named", () => {
    // One timeline entry lists every address left out, in order.
    const owners = Array.from({ length: 50 }, (_, i) => `owner${i}@contoso.com`);
    const account = { ...ACCOUNT, tags: { "cmk-owner": owners.join(",") } };
    const { journal } = run(
      [
        [10, observed(revoked("service-side-outage"), account)],
        [130, { kind: "tick" }],
      ],
      context(["support@contoso.com", "oncall@contoso.com"]),
    );
    expect(journal.find((e) => e.minute === 130)!.lines).toContain(
      'event #3 recipients-dropped: Not emailed (escalation): "owner48@contoso.com" (too-many), "owner49@contoso.com" (too-many)',
    );
  });

  it("the resolution goes to everyone told, capped, duplicates first", () => {
    // 50 owners and support were told; the resolved email to all 51 keeps 50 and names the rest.
    const owners = Array.from({ length: 50 }, (_, i) => `owner${i}@contoso.com`);
    const account = { ...ACCOUNT, tags: { "cmk-owner": owners.join(",") } };
    const { journal } = run([
      [10, observed(revoked("service-side-outage"), account)],
      [130, { kind: "tick" }],
      [140, observed(HEALTHY, account)],
    ]);
    const lines = journal.find((e) => e.minute === 140)!.lines;
    expect(lines.filter((l) => l.startsWith("event"))).toEqual([
      "event #4 resolved: Key access confirmed; account recovered",
      'event #5 recipients-dropped: Not emailed (resolved): "support@contoso.com" (too-many)',
    ]);
    expect(lines.at(-1)).toBe(`email resolved → ${owners.join(",")} | `);
  });

  it("with no owner and no escalation contact there is no email, and no resolution email either", () => {
    // Nobody to write to: no message with an empty "to" that ACS would refuse.
    const account = { ...ACCOUNT, tags: {} };
    const { journal, incident } = run(
      [
        [10, observed(revoked("key-not-found"), account)],
        [40, observed(HEALTHY, account)],
      ],
      context([]),
    );
    expect(journal).toEqual([
      { minute: 10, lines: ["reason first-notice", `event #1 detected: Revoked: ${TITLE("key-not-found")} (4003)`] },
      { minute: 40, lines: ["reason recovered", "event #2 resolved: Key access confirmed; account recovered"] },
    ]);
    expect(incident.notified).toEqual([]);
  });
});

describe("decideMany", () => {
  it("merges reasons, events and messages in order, starting from nothing", () => {
    // One commit: exactly what the two decisions produced, nothing else.
    const decision = decideMany(undefined, [observed(revoked("key-not-found")), { kind: "fix-observed", detail: "key recovered" }], at(10), context());
    expect(decision.reasons).toEqual(["first-notice", "fix-observed"]);
    expect(decision.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "detected"],
      [2, "fix-observed"],
    ]);
    expect(decision.messages.map((m) => m.key)).toEqual([`${decision.incident!.id}.1.revoked`, `${decision.incident!.id}.2.fix-observed`]);
  });
});

describe("what the incident stores from Azure's free text", () => {
  it.each<[string, string | undefined, string]>([
    // No status: an empty text, not "undefined".
    ["absent", undefined, ""],
    // Exactly the limit: kept whole.
    ["4000 characters", "a".repeat(4000), "a".repeat(4000)],
    // One over: cut at the limit and marked.
    ["4001 characters", "a".repeat(4001), `${"a".repeat(4000)}…`],
  ])("status text %s", (_name, status, expected) => {
    const { incident } = run([[10, observed(revoked("key-not-found"), { ...ACCOUNT, customerManagedKeyStatus: status })]]);
    expect(incident.statusText).toBe(expected);
  });

  it("a cause change takes the status text of the account as last observed", () => {
    // The email about the new cause quotes what Azure says now.
    const { incident } = run([
      [10, observed(revoked("key-not-found"))],
      [40, observed(revoked("key-vault-network-blocked"), { ...ACCOUNT, customerManagedKeyStatus: undefined })],
    ]);
    expect(incident.statusText).toBe("");
  });

  it.each<[string, number, (status: string) => string]>([
    // Up to twice the limit the account is stored as observed.
    ["8000 characters", 8000, (status) => status],
    // Longer: head and tail, since Azure's code is at the end.
    ["8001 characters", 8001, (status) => `${status.slice(0, 4000)}…${status.slice(-4000)}`],
  ])("stored account status of %s", (_name, length, expected) => {
    const status = `${"h".repeat(length - 4100)}${"m".repeat(100)}${"t".repeat(3999)}7`;
    const { incident } = run([[10, observed(revoked("key-not-found"), { ...ACCOUNT, customerManagedKeyStatus: status })]]);
    expect(incident.account.customerManagedKeyStatus).toBe(expected(status));
    expect(incident.account.name).toBe("orders-db");
  });
});

describe("incident ids", () => {
  it.each<[string, string, RegExp]>([
    // Lower-cased; characters a Table key or URL would choke on dropped.
    ["mixed case and symbols", "Orders_DB#1", /^ordersdb1-20261129T0000Z-[0-9a-f]{8}$/],
    // Long names are cut to 44 characters so the key stays short.
    ["a long name", "a".repeat(60), new RegExp(`^${"a".repeat(44)}-20261129T0000Z-[0-9a-f]{8}$`)],
    // Nothing usable left: a fixed word, never an empty prefix.
    ["no usable character", "___", /^account-20261129T0000Z-[0-9a-f]{8}$/],
  ])("%s", (_name, name, pattern) => {
    expect(incidentIdFor(ACCOUNT.id, name, at(0))).toMatch(pattern);
  });
});
