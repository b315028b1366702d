/**
 * Timeline tests of the incident lifecycle, in the style of Alertmanager's acceptance tests:
 * "at minute N this happens → these emails at these minutes", with exact totals so both
 * duplicates and misses fail.
 */
import type { CmkAccount } from "../../src/domain/account";
import { CAUSE_IDS, getCause, type CauseId } from "../../src/domain/causes";
import type { Classification } from "../../src/domain/classifier";
import type { Incident, MessageKind, OutboxMessage } from "../../src/domain/incident";
import {
  decide,
  decideMany,
  incidentIdFor,
  MAX_SNOOZE_IN_HOURS,
  MAX_TOTAL_SNOOZE_IN_HOURS,
  type LifecycleContext,
  type LifecycleInput,
} from "../../src/domain/lifecycle";
import { resolveOwnerRecipients } from "../../src/domain/recipients";

const START = Date.parse("2026-11-29T00:00:00.000Z");
const POLL_EVERY = 5;
const iso = (minute: number) => new Date(START + minute * 60_000).toISOString();

const ACCOUNT: CmkAccount = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-orders/providers/Microsoft.DocumentDB/databaseAccounts/orders-db",
  name: "orders-db",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-orders",
  keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/cmk",
  defaultIdentity: "SystemAssignedIdentity",
  principalId: "11111111-2222-3333-4444-555555555555",
  userAssignedIdentities: {},
  tags: { "cmk-owner": "owner@contoso.com" },
};

const CTX: LifecycleContext = {
  reminderIntervalInMinutes: 60,
  escalationRecipients: ["support@contoso.com"],
  newRecipientsPerDay: 20,
  resolveOwners: (account) => resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: [], allowedRecipientDomains: [] }),
};

const OPEN_OPTIONS = { ownerTag: "cmk-owner", defaultRecipients: [] as string[], allowedRecipientDomains: [] as string[] };

const CODE_FOR: Partial<Record<CauseId, number>> = {
  "default-identity-unauthorized": 4002,
  "aad-token-acquisition": 4000,
  "key-not-found": 4003,
  "invalid-default-identity": 4015,
  "invalid-key-vault-uri": 4006,
  "unwrap-failure": 4005,
  "key-vault-dns-unresolved": 4009,
  "key-disabled-or-expired": 4018,
  "key-vault-network-blocked": 4016,
  "service-side-outage": 4004,
};

function revoked(cause: CauseId): Classification {
  return { health: "revoked", cause, code: CODE_FOR[cause] ?? null, matchedBy: "code" };
}
const HEALTHY: Classification = { health: "healthy", cause: "healthy", code: null, matchedBy: "healthy-text" };

interface Script {
  /** Status from this minute on (the account's status as ARM would report it). */
  status: Record<number, Classification | "missing">;
  acks?: number[];
  /** Other inputs at a minute (what the probes found, a snooze), applied before that poll. */
  inputs?: Record<number, LifecycleInput>;
  until: number;
  /** Minutes at which the poll does not run (a skipped timer). */
  skipped?: (minute: number) => boolean;
  account?: CmkAccount;
}

interface Sent {
  minute: number;
  kind: MessageKind;
  to: string[];
  cc: string[];
  key: string;
}

/** Runs the pure lifecycle as the monitor would: a poll every 5 minutes, acks in between. */
function simulate(script: Script): { sent: Sent[]; incident: Incident | undefined } {
  let incident: Incident | undefined;
  let status: Classification | "missing" = HEALTHY;
  const sent: Sent[] = [];
  const apply = (input: LifecycleInput, minute: number) => {
    const decision = decide(incident, input, new Date(START + minute * 60_000), CTX);
    incident = decision.incident;
    for (const message of decision.messages) sent.push(toSent(message, minute));
  };
  for (let minute = 0; minute <= script.until; minute++) {
    if (script.status[minute] !== undefined) status = script.status[minute]!;
    if (script.acks?.includes(minute)) apply({ kind: "acknowledged", by: "owner@contoso.com" }, minute);
    if (script.inputs?.[minute]) apply(script.inputs[minute]!, minute);
    if (minute % POLL_EVERY !== 0 || script.skipped?.(minute)) continue;
    const account = { ...(script.account ?? ACCOUNT) };
    apply(status === "missing" ? { kind: "account-missing" } : { kind: "observed", account, classification: status }, minute);
  }
  return { sent, incident };
}

function toSent(message: OutboxMessage, minute: number): Sent {
  return { minute, kind: message.kind, to: message.to, cc: message.cc, key: message.key };
}

function summary(sent: Sent[]): string[] {
  return sent.map((s) => `${s.minute} ${s.kind}`);
}

describe("incident lifecycle timelines", () => {
  it("owner fixes and acknowledges: first notice, acknowledgment, resolved — nothing else", () => {
    // The common happy path: revoked at 10, owner acks at 30, Azure confirms access at 70.
    const { sent, incident } = simulate({ status: { 10: revoked("default-identity-unauthorized"), 70: HEALTHY }, acks: [30], until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "30 fix-acknowledged", "70 resolved"]);
    expect(incident?.state).toBe("resolved");
    expect(incident?.resolution).toBe("recovered");
  });

  it("status flips at 10, ack at 30, still revoked at 150 → escalation exactly at the deadline", () => {
    // The guide: still revoked two hours after the fix → support. 30 + 120 = 150.
    const { sent, incident } = simulate({
      status: { 10: revoked("default-identity-unauthorized"), 200: HEALTHY },
      acks: [30],
      until: 400,
    });
    expect(summary(sent)).toEqual(["10 revoked", "30 fix-acknowledged", "150 escalation", "200 resolved"]);
    const escalation = sent.find((s) => s.kind === "escalation")!;
    expect(escalation.to).toEqual(["support@contoso.com"]);
    expect(escalation.cc).toEqual(["owner@contoso.com"]);
    // Everyone who was told hears the resolution.
    expect(sent.at(-1)!.to.sort()).toEqual(["owner@contoso.com", "support@contoso.com"]);
    expect(incident?.escalatedAt).toBe(new Date(START + 150 * 60_000).toISOString());
  });

  it("no fix: an hourly reminder while revoked, never an escalation, stops when healthy", () => {
    // Without a fix there is no recovery clock; reminders keep the owner on it.
    const { sent } = simulate({ status: { 10: revoked("key-not-found"), 260: HEALTHY }, until: 400 });
    expect(summary(sent)).toEqual(["10 revoked", "70 reminder", "130 reminder", "190 reminder", "250 reminder", "260 resolved"]);
  });

  it("a skipped timer run catches up with one reminder and an on-time-as-possible escalation", () => {
    // Polls between 40 and 200 never ran: deadlines are data, so the first poll back acts once.
    const { sent } = simulate({
      status: { 10: revoked("default-identity-unauthorized") },
      acks: [20],
      skipped: (m) => m > 40 && m < 200,
      until: 230,
    });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-acknowledged", "200 escalation"]);
  });

  it("DNS: the clock starts at detection; one reminder, escalation two hours after detection", () => {
    // The guide's DNS case: wait up to two hours, then support, with no acknowledgment needed.
    const { sent } = simulate({ status: { 10: revoked("key-vault-dns-unresolved") }, until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "70 reminder", "130 escalation"]);
  });

  it("DNS acknowledged late: the ack never delays the escalation already scheduled", () => {
    // Detection at 10 schedules escalation at 130; an ack at 110 (anyone with the email can send one) leaves it there.
    const { sent, incident } = simulate({ status: { 10: revoked("key-vault-dns-unresolved") }, acks: [110], until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "70 reminder", "110 fix-acknowledged", "130 escalation"]);
    expect(incident?.escalateAt).toBe(new Date(START + 130 * 60_000).toISOString());
  });

  it("DNS fixed late, seen by the monitor's own checks: the fix gets the full window before escalation", () => {
    // Vault restored at 110 and observed (not claimed): escalate at 110 + 120, not at 130.
    const { sent } = simulate({
      status: { 10: revoked("key-vault-dns-unresolved") },
      inputs: { 110: { kind: "fix-observed", detail: "the vault host resolves again" } },
      until: 300,
    });
    expect(summary(sent)).toEqual(["10 revoked", "70 reminder", "110 fix-observed", "230 escalation"]);
  });

  it("DNS acknowledged early: the detection clock stands, neither shortened nor delayed", () => {
    // Ack at 20: fix + 120 = 140 would be later than detection + 120 = 130; an ack never delays, so 130.
    const { sent } = simulate({ status: { 10: revoked("key-vault-dns-unresolved") }, acks: [20], until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-acknowledged", "130 escalation"]);
  });

  it("service-side outage: owners are told once, no reminders, support at two hours", () => {
    // Nothing for owners to do; reminders would be noise.
    const { sent } = simulate({ status: { 10: revoked("service-side-outage"), 140: HEALTHY }, until: 300 });
    expect(summary(sent)).toEqual(["10 revoked", "130 escalation", "140 resolved"]);
  });

  it("cause change while recovering: the fix no longer counts and the clock restarts", () => {
    // 4002 fixed (ack at 20), then the vault firewall starts blocking: a new problem for the owner.
    const { sent, incident } = simulate({
      status: { 10: revoked("default-identity-unauthorized"), 40: revoked("key-vault-network-blocked"), 110: HEALTHY },
      acks: [20],
      until: 300,
    });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-acknowledged", "40 cause-changed", "100 reminder", "110 resolved"]);
    expect(incident?.cause).toBe("key-vault-network-blocked");
  });

  it("cause change after escalation keeps the case escalated and copies support", () => {
    // Support is already working the case; a new cause is news for them too.
    const { sent, incident } = simulate({
      status: { 10: revoked("service-side-outage"), 150: revoked("key-vault-network-blocked") },
      until: 160,
    });
    expect(summary(sent)).toEqual(["10 revoked", "130 escalation", "150 cause-changed"]);
    expect(sent.at(-1)!.cc).toEqual(["support@contoso.com"]);
    expect(incident?.state).toBe("escalated");
  });

  it("account deleted while revoked: resolved as removed, owners told", () => {
    // The subscription listed fine and the account is gone: no one should wait on it.
    const { sent, incident } = simulate({ status: { 10: revoked("key-not-found"), 50: "missing" }, until: 100 });
    expect(summary(sent)).toEqual(["10 revoked", "50 resolved"]);
    expect(incident?.resolution).toBe("account-removed");
  });

  it("revoked again after recovering opens a new incident with a new id", () => {
    // A second outage is a new story; its emails must not collide with the first one's keys.
    const { sent } = simulate({
      status: { 10: revoked("key-not-found"), 20: HEALTHY, 40: revoked("key-not-found"), 50: HEALTHY },
      until: 100,
    });
    expect(summary(sent)).toEqual(["10 revoked", "20 resolved", "40 revoked", "50 resolved"]);
    expect(new Set(sent.map((s) => s.key)).size).toBe(4);
  });

  it("an account with no owner tag is reported to the escalation contacts, not dropped", () => {
    // Nobody to tell is not a reason for silence.
    const account = { ...ACCOUNT, tags: {} };
    const { sent } = simulate({ status: { 10: revoked("key-not-found") }, until: 10, account });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toEqual(["support@contoso.com"]);
  });

  it("acknowledging twice changes nothing the second time", () => {
    // Two owners clicking "fixed" must not restart the clock or send twice.
    const { sent } = simulate({ status: { 10: revoked("key-not-found") }, acks: [20, 25], until: 30 });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-acknowledged"]);
  });

  it("unknown health (status missing) neither opens nor closes an incident", () => {
    // ARM not reporting the property is not evidence either way.
    const unknown: Classification = { health: "unknown", cause: "unrecognized", code: null, matchedBy: "none" };
    const { sent, incident } = simulate({ status: { 5: unknown, 10: revoked("key-not-found"), 20: unknown }, until: 30 });
    expect(summary(sent)).toEqual(["10 revoked"]);
    expect(incident?.state).toBe("revoked");
  });
});

describe("fixes the monitor observes itself, undone fixes and snoozes", () => {
  it("fix observed at 40 starts the clock without an ack; escalation at 160", async () => {
    // The probes saw the permission granted: the clock starts then, and owners hear it.
    const { sent, incident } = simulate({
      status: { 10: revoked("default-identity-unauthorized") },
      inputs: { 40: { kind: "fix-observed", detail: "access policy grants get, wrapKey, unwrapKey" } },
      until: 300,
    });
    expect(summary(sent)).toEqual(["10 revoked", "40 fix-observed", "160 escalation"]);
    expect(incident?.fixSource).toBe("observed");
  });

  it("an acknowledged fix that the probes later confirm is not announced twice", () => {
    // One clock, one "recovering" email: the observation only adds to the timeline.
    const { sent } = simulate({
      status: { 10: revoked("key-not-found"), 100: HEALTHY },
      acks: [20],
      inputs: { 30: { kind: "fix-observed", detail: "key restored" } },
      until: 120,
    });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-acknowledged", "100 resolved"]);
  });

  it("a fix undone stops the clock and resumes reminders", () => {
    // Someone removed the permission again: escalating on the old clock would blame Azure.
    const { sent, incident } = simulate({
      status: { 10: revoked("default-identity-unauthorized") },
      inputs: {
        30: { kind: "fix-observed", detail: "role assignment found" },
        60: { kind: "fix-undone", detail: "role assignment removed" },
      },
      until: 200,
    });
    expect(summary(sent)).toEqual(["10 revoked", "30 fix-observed", "60 fix-undone", "120 reminder", "180 reminder"]);
    expect(incident?.state).toBe("revoked");
    expect(incident?.escalateAt).toBeUndefined();
  });

  it("a snooze pauses reminders but never escalation, and is bounded", () => {
    // DNS case: escalation at detection + 120 happens even while reminders are snoozed.
    const { sent, incident } = simulate({
      status: { 10: revoked("key-vault-dns-unresolved") },
      inputs: { 15: { kind: "snoozed", until: new Date(START + 10_000 * 60_000).toISOString(), by: "owner@contoso.com" } },
      until: 300,
    });
    expect(summary(sent)).toEqual(["10 revoked", "130 escalation"]);
    // Asked for a week, got the maximum.
    expect(incident?.remindersSnoozedUntil).toBe(new Date(START + (15 + MAX_SNOOZE_IN_HOURS * 60) * 60_000).toISOString());
  });

  it.each<[string, number[], number]>([
    // Two chained 24-hour snoozes use the whole 48-hour allowance.
    ["two day-long snoozes", [20, 20 + 24 * 60], 20 + 48 * 60],
    // A third, a day later: nothing left, reminders come back when the second ends.
    ["three day-long snoozes", [20, 20 + 24 * 60, 20 + 47 * 60], 20 + 48 * 60],
    // Re-snoozing every hour for 24 hours each still ends 48 hours after the first.
    ["hourly re-snoozes", Array.from({ length: 60 }, (_, i) => 20 + i * 60), 20 + 48 * 60],
  ])("chained snoozes (%s) stop at the incident's 48-hour allowance", (_name, at, endsAt) => {
    // Without a cap an owner-fix incident, which has no escalation clock, could be muted to one reminder a day for ever.
    const inputs: Record<number, LifecycleInput> = {};
    for (const minute of at) inputs[minute] = { kind: "snoozed", until: new Date(START + (minute + 24 * 60) * 60_000).toISOString(), by: "o@contoso.com" };
    const { sent, incident } = simulate({ status: { 10: revoked("key-not-found") }, inputs, until: endsAt + 90 });
    expect(incident?.remindersSnoozedUntil).toBe(new Date(START + endsAt * 60_000).toISOString());
    expect(incident?.snoozedInMinutes).toBe(MAX_TOTAL_SNOOZE_IN_HOURS * 60);
    // Reminders resume at the first poll after the allowance ran out.
    const after = sent.filter((s) => s.kind === "reminder" && s.minute >= 20);
    expect(after[0]?.minute).toBe(Math.ceil(endsAt / 5) * 5);
  });

  it("a snooze past the allowance says so on the timeline, and one with nothing left changes nothing", () => {
    // The timeline explains why reminders came back sooner than asked.
    const day = (minute: number): LifecycleInput => ({
      kind: "snoozed",
      until: new Date(START + (minute + 24 * 60) * 60_000).toISOString(),
      by: "o@contoso.com",
    });
    let incident = decide(
      undefined,
      { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") },
      new Date(START + 10 * 60_000),
      CTX,
    ).incident;
    incident = decide(incident, day(20), new Date(START + 20 * 60_000), CTX).incident; // 24 h used
    incident = decide(incident, day(10 * 60), new Date(START + 10 * 60 * 60_000), CTX).incident; // 9 h 40 more
    const third = decide(incident, day(30 * 60), new Date(START + 30 * 60 * 60_000), CTX); // wants 20 h, 14 h 20 left
    expect(third.events.map((e) => e.detail)).toEqual([expect.stringContaining("48-hour snooze allowance is used up")]);
    expect(third.incident?.remindersSnoozedUntil).toBe(new Date(START + (48 * 60 + 20) * 60_000).toISOString());
    const fourth = decide(third.incident, day(40 * 60), new Date(START + 40 * 60 * 60_000), CTX);
    expect(fourth.reasons).toEqual([]);
  });

  it("only time beyond the current snooze counts against the allowance; shortening is free and says nothing of it", () => {
    // A day at 20 (until 1460), cut back to 100 at 30, a day again at 40 (until 1480): 1440 + 0 + 1380 minutes used.
    // A day more at 200 (160 minutes past 1480) finds 60 left: until 1540, and the timeline says why.
    const snooze = (minute: number, until: number): [number, LifecycleInput] => [
      minute,
      { kind: "snoozed", until: new Date(START + until * 60_000).toISOString(), by: "o@contoso.com" },
    ];
    let incident = decide(
      undefined,
      { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") },
      new Date(START + 10 * 60_000),
      CTX,
    ).incident;
    const timeline: Array<[number, string, number | undefined]> = [];
    for (const [minute, input] of [snooze(20, 20 + 24 * 60), snooze(30, 100), snooze(40, 40 + 24 * 60), snooze(200, 200 + 24 * 60)]) {
      const decision = decide(incident, input, new Date(START + minute * 60_000), CTX);
      incident = decision.incident;
      for (const event of decision.events) timeline.push([minute, event.detail, incident?.snoozedInMinutes]);
    }
    const until = (minute: number) => new Date(START + minute * 60_000).toISOString();
    expect(timeline).toEqual([
      [20, `Reminders snoozed by o@contoso.com until ${until(1460)}; escalation is not affected`, 1440],
      [30, `Reminders snoozed by o@contoso.com until ${until(100)}; escalation is not affected`, 1440],
      [40, `Reminders snoozed by o@contoso.com until ${until(1480)}; escalation is not affected`, 2820],
      [200, `Reminders snoozed by o@contoso.com until ${until(1540)} (the incident's 48-hour snooze allowance is used up); escalation is not affected`, 2880],
    ]);
  });

  it("reminders resume when the snooze ends", () => {
    // Snoozed for one hour at minute 20: the reminder due at 70 waits until 80.
    const { sent } = simulate({
      status: { 10: revoked("key-not-found") },
      inputs: { 20: { kind: "snoozed", until: new Date(START + 80 * 60_000).toISOString(), by: "o@contoso.com" } },
      until: 100,
    });
    expect(summary(sent)).toEqual(["10 revoked", "80 reminder"]);
  });

  it("decideMany applies an observation and a probe result as one decision", () => {
    // Both land in one commit, in order.
    const now = new Date(START + 10 * 60_000);
    const decision = decideMany(
      undefined,
      [
        { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") },
        { kind: "fix-observed", detail: "key recovered" },
      ],
      now,
      CTX,
    );
    expect(decision.reasons).toEqual(["first-notice", "fix-observed"]);
    expect(decision.messages.map((m) => m.kind)).toEqual(["revoked", "fix-observed"]);
    expect(decision.incident?.state).toBe("recovering");
  });
});

describe("a flapping probe: fix observed, undone, observed again", () => {
  /** The probe sees the fix at `from`, `from + every`, … and loses it `undoneAfter` minutes into each. */
  function flapping(from: number, every: number, undoneAfter: number, until: number): Record<number, LifecycleInput> {
    const inputs: Record<number, LifecycleInput> = {};
    for (let at = from; at <= until; at += every) {
      inputs[at] = { kind: "fix-observed", detail: "role assignment found" };
      inputs[at + undoneAfter] = { kind: "fix-undone", detail: "role assignment gone" };
    }
    return inputs;
  }

  it.each<[string, CauseId, Record<number, LifecycleInput>, string[]]>([
    // One fix, never undone: unchanged, escalation two hours after it.
    [
      "a single fix",
      "default-identity-unauthorized",
      { 40: { kind: "fix-observed", detail: "role assignment found" } },
      ["10 revoked", "40 fix-observed", "160 escalation"],
    ],
    // Flapping every 30 minutes used to restart the clock each time and never escalate; now it
    // escalates at the first fix + 120, and owners get one fix-observed and one fix-undone email.
    [
      "flapping every 30 minutes",
      "default-identity-unauthorized",
      flapping(30, 30, 15, 300),
      ["10 revoked", "30 fix-observed", "45 fix-undone", "150 escalation"],
    ],
    // DNS: the detection clock (130) moves to the first fix + 120 (150) once, and a flap at most
    // to the first fix + 240, never further.
    [
      "DNS flapping every 30 minutes",
      "key-vault-dns-unresolved",
      flapping(30, 30, 15, 300),
      ["10 revoked", "30 fix-observed", "45 fix-undone", "270 escalation"],
    ],
    // A real undo and one re-fix 40 minutes later: the deadline stays the first fix + 120 (150,
    // not 100 + 120), and the re-fix is on the timeline but not mailed.
    [
      "an undo, then one re-fix before the deadline",
      "default-identity-unauthorized",
      {
        30: { kind: "fix-observed", detail: "role assignment found" },
        60: { kind: "fix-undone", detail: "role assignment removed" },
        100: { kind: "fix-observed", detail: "role assignment found" },
      },
      ["10 revoked", "30 fix-observed", "60 fix-undone", "150 escalation"],
    ],
    // The re-fix after the first fix + 120: the deadline has passed, so support is called at once.
    [
      "an undo, then one re-fix after the deadline",
      "default-identity-unauthorized",
      {
        30: { kind: "fix-observed", detail: "role assignment found" },
        60: { kind: "fix-undone", detail: "role assignment removed" },
        200: { kind: "fix-observed", detail: "role assignment found" },
      },
      ["10 revoked", "30 fix-observed", "60 fix-undone", "120 reminder", "180 reminder", "200 escalation"],
    ],
  ])("%s (%s)", (_name, cause, inputs, expected) => {
    const { sent } = simulate({ status: { 10: revoked(cause) }, inputs, until: 300 });
    expect(summary(sent)).toEqual(expected);
  });

  it.each<[string, CauseId, [string | undefined, string | undefined, string | undefined]]>([
    // 4002, third fix at 70: recovery expected from it, escalation still the first fix (20) + 120.
    ["a fix clock", "default-identity-unauthorized", [iso(70), iso(130), iso(140)]],
    // DNS, third fix at 70: the same, with the first fix + 240.
    ["the DNS detection clock", "key-vault-dns-unresolved", [iso(70), iso(130), iso(260)]],
    // An outage nobody can fix keeps its detection clock (10 + 120), however the probes flap.
    ["an outage nobody can fix", "service-side-outage", [iso(10), iso(70), iso(130)]],
  ])("the clock after a fix seen for the third time: %s", (_name, cause, expected) => {
    let incident: Incident | undefined;
    const steps: Array<[number, LifecycleInput]> = [
      [10, { kind: "observed", account: ACCOUNT, classification: revoked(cause) }],
      [20, { kind: "fix-observed", detail: "seen" }],
      [30, { kind: "fix-undone", detail: "gone" }],
      [40, { kind: "fix-observed", detail: "seen" }],
      [50, { kind: "fix-undone", detail: "gone" }],
      [70, { kind: "fix-observed", detail: "seen" }],
    ];
    for (const [minute, input] of steps) incident = decide(incident, input, new Date(START + minute * 60_000), CTX).incident;
    expect([incident?.clockStartedAt, incident?.expectedRecoveryBy, incident?.escalateAt]).toEqual(expected);
  });

  it("later flaps are recorded as events without email", () => {
    // The account page shows every flap; the owners' inbox does not.
    const at = (minute: number) => new Date(START + minute * 60_000);
    const steps: Array<[number, LifecycleInput]> = [
      [10, { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") }],
      [20, { kind: "fix-observed", detail: "key restored" }],
      [30, { kind: "fix-undone", detail: "key deleted" }],
      [40, { kind: "fix-observed", detail: "key restored" }],
      [50, { kind: "fix-undone", detail: "key deleted" }],
    ];
    let incident: Incident | undefined;
    const lines: string[] = [];
    for (const [minute, input] of steps) {
      const decision = decide(incident, input, at(minute), CTX);
      incident = decision.incident;
      lines.push(`${minute} ${decision.events.map((e) => e.type).join(",")} | ${decision.messages.map((m) => m.kind).join(",")}`);
    }
    expect(lines).toEqual(["10 detected | revoked", "20 fix-observed | fix-observed", "30 fix-undone | fix-undone", "40 fix-observed | ", "50 fix-undone | "]);
    expect(incident?.firstFixObservedAt).toBe(at(20).toISOString());
  });

  it("a new cause starts a new first fix: mailed, and its clock not tied to the old cause's fix", () => {
    // 4003 fixed at 20 and undone at 30; the cause changes to 4002 at 40; its fix at 60 is news and gets 60 + 120.
    const { sent, incident } = simulate({
      status: { 10: revoked("key-not-found"), 40: revoked("default-identity-unauthorized") },
      inputs: {
        20: { kind: "fix-observed", detail: "key restored" },
        30: { kind: "fix-undone", detail: "key deleted" },
        60: { kind: "fix-observed", detail: "role assignment found" },
      },
      until: 300,
    });
    expect(summary(sent)).toEqual(["10 revoked", "20 fix-observed", "30 fix-undone", "40 cause-changed", "60 fix-observed", "180 escalation"]);
    expect(incident?.firstFixObservedAt).toBe(new Date(START + 60 * 60_000).toISOString());
  });
});

describe("addresses new to an incident, per day", () => {
  const DAY = 24 * 60;
  /** Three new addresses a day; the tag is whatever `tags` says at the time. */
  let tags: Record<string, string> = {};
  const ctx: LifecycleContext = {
    ...CTX,
    newRecipientsPerDay: 3,
    resolveOwners: (account) =>
      resolveOwnerRecipients(account.tags, { ownerTag: "cmk-owner", defaultRecipients: ["ops@contoso.com"], allowedRecipientDomains: [] }),
  };
  const owners = (from: number, count: number) => Array.from({ length: count }, (_, i) => `o${from + i}@contoso.com`).join(",");
  const at = (minute: number) => new Date(START + minute * 60_000);
  const observe = (incident: Incident | undefined, minute: number) =>
    decide(incident, { kind: "observed", account: { ...ACCOUNT, tags }, classification: revoked("key-not-found") }, at(minute), ctx);

  it("a tag rewritten between reminders reaches at most the day's allowance of new addresses; the rest wait for the next day", () => {
    // Tag churn would otherwise reach an unbounded list, one reminder at a time, on the shared email budget.
    tags = { "cmk-owner": owners(0, 2) };
    const first = observe(undefined, 10); // o0, o1: two new
    expect(first.messages[0]!.to).toEqual(["o0@contoso.com", "o1@contoso.com", "ops@contoso.com"]);
    tags = { "cmk-owner": owners(10, 4) };
    const reminder = observe(first.incident, 70); // one left today: o10; o11-o13 dropped
    expect(reminder.messages[0]!.to).toEqual(["o10@contoso.com", "ops@contoso.com"]);
    expect(reminder.events.find((e) => e.type === "recipients-dropped")?.detail).toBe(
      'Not emailed (reminder): "o11@contoso.com" (new-recipients-per-day), "o12@contoso.com" (new-recipients-per-day), "o13@contoso.com" (new-recipients-per-day)',
    );
    // Known addresses never count again; a new UTC day brings a new allowance.
    let incident = reminder.incident;
    for (let minute = 130; minute < DAY; minute += 60) incident = observe(incident, minute).incident;
    const nextDay = observe(incident, DAY + 10);
    expect(nextDay.messages[0]!.to).toEqual(["o10@contoso.com", "o11@contoso.com", "o12@contoso.com", "o13@contoso.com", "ops@contoso.com"]);
  });

  it("escalation contacts and the configured defaults never count against the allowance, however spelled", () => {
    // One new address a day, two escalation contacts: the owner tag names one of them in capitals.
    // Detected at 10 (DNS: escalation at 130); nobody is left out at any point.
    const twoContacts: LifecycleContext = { ...ctx, newRecipientsPerDay: 1, escalationRecipients: ["support@contoso.com", "oncall@contoso.com"] };
    tags = { "cmk-owner": "o0@contoso.com, OnCall@Contoso.com" };
    const account = { ...ACCOUNT, tags };
    const journal: string[] = [];
    let incident: Incident | undefined;
    for (const minute of [10, 70, 130]) {
      const decision = decide(incident, { kind: "observed", account, classification: revoked("key-vault-dns-unresolved") }, at(minute), twoContacts);
      incident = decision.incident;
      for (const event of decision.events) journal.push(`${minute} ${event.type}`);
      for (const m of decision.messages) journal.push(`${minute} ${m.kind} → ${m.to.join(",")} | ${m.cc.join(",")}`);
    }
    expect(journal).toEqual([
      "10 detected",
      "10 revoked → o0@contoso.com,OnCall@Contoso.com,ops@contoso.com | ",
      "70 reminded",
      "70 reminder → o0@contoso.com,OnCall@Contoso.com,ops@contoso.com | ",
      "130 escalated",
      "130 escalation → support@contoso.com,oncall@contoso.com | o0@contoso.com,ops@contoso.com",
    ]);
    // Only o0 was new to the incident and counted.
    expect(incident?.newRecipients).toEqual({ day: "2026-11-29", count: 1 });
  });

  it("with the day's allowance spent and only new owners left, the notice goes to the escalation contacts, never nobody", () => {
    const noDefaults: LifecycleContext = {
      ...ctx,
      newRecipientsPerDay: 1,
      resolveOwners: (account) => resolveOwnerRecipients(account.tags, { ...OPEN_OPTIONS }),
    };
    tags = { "cmk-owner": owners(0, 1) };
    const first = decide(undefined, { kind: "observed", account: { ...ACCOUNT, tags }, classification: revoked("key-not-found") }, at(10), noDefaults);
    tags = { "cmk-owner": owners(20, 2) };
    const reminder = decide(first.incident, { kind: "observed", account: { ...ACCOUNT, tags }, classification: revoked("key-not-found") }, at(70), noDefaults);
    expect(reminder.messages[0]!.to).toEqual(["support@contoso.com"]);
  });
});

describe("every cause's recovery policy", () => {
  const revokedCauses = CAUSE_IDS.filter((c) => c !== "healthy");

  it.each(revokedCauses)("%s: escalation minute follows the policy with and without an ack", (cause) => {
    // Policy: clock at fix (ack at 30 → escalate at 150) or at detection (10 → 130); an ack on a
    // detection-clock cause (DNS) never delays the escalation already scheduled (130).
    const policy = getCause(cause).policy;
    const withAck = simulate({ status: { 10: revoked(cause) }, acks: [30], until: 400 });
    const escalations = withAck.sent.filter((s) => s.kind === "escalation").map((s) => s.minute);
    expect(escalations).toEqual([policy.clockStartsAt === "fix" ? 150 : 130]);

    const withoutAck = simulate({ status: { 10: revoked(cause) }, until: 400 });
    const unacked = withoutAck.sent.filter((s) => s.kind === "escalation").map((s) => s.minute);
    expect(unacked).toEqual(policy.clockStartsAt === "fix" ? [] : [130]);
    // Reminders only where an owner can act and the clock has not escalated yet.
    const reminders = withoutAck.sent.filter((s) => s.kind === "reminder").length;
    if (getCause(cause).fixableBy !== "owner") expect(reminders).toBe(0);
    else expect(reminders).toBeGreaterThan(0);
  });
});

describe("determinism", () => {
  it("the same transition from the same state yields the same idempotency keys", () => {
    // Two instances deciding the same thing must produce identical outbox rows.
    const now = new Date(START + 10 * 60_000);
    const input: LifecycleInput = { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") };
    const a = decide(undefined, input, now, CTX);
    const b = decide(undefined, input, now, CTX);
    expect(a.messages.map((m) => m.key)).toEqual(b.messages.map((m) => m.key));
    // And once recorded, deciding again does nothing.
    const again = decide(a.incident, input, now, CTX);
    expect(again.reasons).toEqual([]);
    expect(again.messages).toEqual([]);
  });

  it("does not mutate the incident it is given", () => {
    // The store's copy must stay as read until a commit succeeds.
    const opened = decide(undefined, { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") }, new Date(START), CTX).incident!;
    const frozen = JSON.stringify(opened);
    decide(opened, { kind: "acknowledged", by: "x@contoso.com" }, new Date(START + 60_000), CTX);
    expect(JSON.stringify(opened)).toBe(frozen);
  });

  it("incident ids are safe Table Storage keys", () => {
    // No '/', '\\', '#', '?' or control characters, whatever the account name.
    const id = incidentIdFor(ACCOUNT.id, "we/ird#name?\n", new Date(START));
    expect(id).toMatch(/^[a-z0-9-]+-\d{8}T\d{4}Z-[0-9a-f]{8}$/);
  });
});

describe("a revocation that follows an at-risk warning", () => {
  const warning = { at: "2026-11-28T23:50:00.000Z", title: "Default identity lacks permission on the key" };
  const now = new Date(START + 10 * 60_000);

  it.each<[string, LifecycleInput, { priorWarning?: typeof warning } | undefined, string]>([
    // Warned first: the incident keeps the link and the detected event says when the owners were told.
    [
      "warned",
      { kind: "observed", account: ACCOUNT, classification: revoked("default-identity-unauthorized"), priorWarning: warning },
      { priorWarning: warning },
      "Revoked: Default identity has no permission on the key (4002); we warned at 23:50 UTC on 2026-11-28 (Default identity lacks permission on the key)",
    ],
    // No warning before it: nothing to link, the event reads as before.
    [
      "not warned",
      { kind: "observed", account: ACCOUNT, classification: revoked("default-identity-unauthorized") },
      undefined,
      "Revoked: Default identity has no permission on the key (4002)",
    ],
  ])("%s", (_name, input, link, detail) => {
    const decision = decide(undefined, input, now, CTX);
    expect(decision.incident?.priorWarning).toEqual(link?.priorWarning);
    expect(decision.events.map((e) => [e.type, e.detail])).toEqual([["detected", detail]]);
  });

  it("a warning passed with a later observation of an open incident changes nothing", () => {
    // The link is made when the incident opens; an open incident is not rewritten.
    const opened = decide(undefined, { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found") }, now, CTX).incident;
    const later = decide(opened, { kind: "observed", account: ACCOUNT, classification: revoked("key-not-found"), priorWarning: warning }, now, CTX);
    expect(later.incident?.priorWarning).toBeUndefined();
  });
});
