/**
 * The incident lifecycle, as a pure function of (incident, input, now).
 *
 *   revoked ──fix acknowledged/observed──▶ recovering ──healthy──▶ resolved
 *      │                                        │
 *      └──────────── escalateAt passed ─────────┴──▶ escalated ──healthy──▶ resolved
 *
 * Deadlines are data on the incident (expectedRecoveryBy, escalateAt, nextReminderAt), so a
 * late or skipped poll catches up on the next one. Nothing here reads a clock or does I/O.
 */
import { createHash } from "node:crypto";
import type { CmkAccount } from "./account";
import { normalizeResourceId } from "./account";
import { getCause, type CauseId } from "./causes";
import type { Classification } from "./classifier";
import type { Incident, IncidentEvent, IncidentEventType, IncidentMessageKind, OutboxMessage } from "./incident";
import { MAX_RECIPIENTS, type RecipientResolution } from "./recipients";

export interface LifecycleContext {
  reminderIntervalInMinutes: number;
  escalationRecipients: readonly string[];
  /**
   * Addresses new to an incident it may email per UTC day (CMK_MAX_NEW_RECIPIENTS_PER_DAY): a tag
   * rewritten between reminders must not reach an unbounded list. Defaults and escalation contacts
   * do not count.
   */
  newRecipientsPerDay: number;
  /** Owners of an account (tag + defaults, filtered); pure. */
  resolveOwners(account: CmkAccount): RecipientResolution;
}

export type LifecycleInput =
  /** A fresh ARM observation of the account. */
  | { kind: "observed"; account: CmkAccount; classification: Classification; priorWarning?: { at: string; title: string } }
  /** The account's subscription was listed successfully and the account was not in it. */
  | { kind: "account-missing" }
  /** An owner says the cause is fixed (CLI or link). */
  | { kind: "acknowledged"; by: string }
  /** The monitor's own checks show the cause is gone (e.g. permission granted, key restored). */
  | { kind: "fix-observed"; detail: string }
  /** The checks that showed the fix now show the cause again (fix undone). */
  | { kind: "fix-undone"; detail: string }
  /** Pause reminders (never escalation) until `until`; bounded by MAX_SNOOZE_IN_HOURS. */
  | { kind: "snoozed"; until: string; by: string }
  /** No new observation (e.g. the listing failed): only deadlines are swept. */
  | { kind: "tick" };

export type DecisionReason =
  | "first-notice"
  | "reminder-due"
  | "escalation-due"
  | "recovered"
  | "account-removed"
  | "cause-changed"
  | "fix-acknowledged"
  | "fix-observed"
  | "fix-undone"
  | "snoozed";

export interface Decision {
  /** What happened, in order; empty when nothing changed. */
  reasons: DecisionReason[];
  /** The incident after the step; undefined when there is none (e.g. a healthy account). */
  incident: Incident | undefined;
  /** New timeline entries, in order. */
  events: IncidentEvent[];
  /** Emails to record in the outbox with this change. */
  messages: OutboxMessage[];
}

const MAX_STATUS_LENGTH = 4000;
/** A snooze longer than this is a way to silence an outage; escalation is never snoozed. */
export const MAX_SNOOZE_IN_HOURS = 24;
/**
 * All snoozes of one incident together: chained 24-hour snoozes would otherwise keep an owner-fix
 * incident (which has no escalation clock until a fix) at one reminder a day for ever.
 */
export const MAX_TOTAL_SNOOZE_IN_HOURS = 48;
const MINUTE = 60_000;

/** Decides what should happen to an account's incident now. Pure and deterministic. */
export function decide(current: Incident | undefined, input: LifecycleInput, now: Date, ctx: LifecycleContext): Decision {
  const step = new Step(current, now, ctx);
  if (!current || current.state === "resolved") {
    if (input.kind === "observed" && input.classification.health === "revoked") {
      step.open(input.account, input.classification, input.priorWarning);
    }
    return step.finish();
  }

  switch (input.kind) {
    case "observed":
      if (input.classification.health === "healthy") {
        step.resolve("recovered", input.account);
        return step.finish();
      }
      if (input.classification.health === "revoked") {
        step.refreshAccount(input.account);
        if (input.classification.cause !== step.incident!.cause) step.changeCause(input.classification);
      }
      break;
    case "account-missing":
      step.resolve("account-removed");
      return step.finish();
    case "acknowledged":
      step.acknowledge(input.by);
      break;
    case "fix-observed":
      step.observeFix(input.detail);
      break;
    case "fix-undone":
      step.undoFix(input.detail);
      break;
    case "snoozed":
      step.snooze(input.until, input.by);
      break;
    // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, without the case a tick falls through the switch to the same sweep
    case "tick":
      break;
  }
  step.sweepDeadlines();
  return step.finish();
}

/**
 * Applies several inputs that arrive in one cycle (an observation, then what the probes
 * found) as one decision, so they commit together.
 */
export function decideMany(current: Incident | undefined, inputs: readonly LifecycleInput[], now: Date, ctx: LifecycleContext): Decision {
  const merged: Decision = { reasons: [], incident: current, events: [], messages: [] };
  for (const input of inputs) {
    const next = decide(merged.incident, input, now, ctx);
    merged.reasons.push(...next.reasons);
    merged.events.push(...next.events);
    merged.messages.push(...next.messages);
    merged.incident = next.incident;
  }
  return merged;
}

/** Accumulates one decision; keeps the transitions small and named. */
class Step {
  incident: Incident | undefined;
  private readonly reasons: DecisionReason[] = [];
  private readonly events: IncidentEvent[] = [];
  private readonly messages: OutboxMessage[] = [];
  private readonly at: string;

  constructor(
    current: Incident | undefined,
    private readonly now: Date,
    private readonly ctx: LifecycleContext,
  ) {
    this.incident = current ? structuredClone(current) : undefined;
    this.at = now.toISOString();
  }

  finish(): Decision {
    return { reasons: this.reasons, incident: this.incident, events: this.events, messages: this.messages };
  }

  open(account: CmkAccount, classification: Classification, priorWarning?: { at: string; title: string }): void {
    const detectedAt = this.at;
    this.incident = {
      id: incidentIdFor(account.id, account.name, this.now),
      accountId: account.id,
      state: "revoked",
      cause: classification.cause,
      code: classification.code,
      statusText: truncate(account.customerManagedKeyStatus ?? ""),
      detectedAt,
      reminderCount: 0,
      notified: [],
      account: storedAccount(account),
      eventCount: 0,
      ...(priorWarning ? { priorWarning } : {}),
    };
    this.applyCausePolicy();
    const owners = this.ctx.resolveOwners(account);
    // The at-risk warning it followed, so the timeline shows the owners were told first.
    const warned = priorWarning ? `; we warned at ${priorWarning.at.slice(11, 16)} UTC on ${priorWarning.at.slice(0, 10)} (${priorWarning.title})` : "";
    this.record("detected", `Revoked: ${getCause(classification.cause).title}${codeSuffix(classification.code)}${warned}`);
    this.reportRejected(owners);
    this.reasons.push("first-notice");
    this.email("revoked", this.ownersOrEscalation(owners), []);
  }

  refreshAccount(account: CmkAccount): void {
    // Keep the latest tags/identity for rendering, without counting it as a change on its own.
    this.incident!.account = storedAccount(account);
  }

  changeCause(classification: Classification): void {
    const incident = this.incident!;
    const previous = incident.cause;
    incident.cause = classification.cause;
    incident.code = classification.code;
    incident.statusText = truncate(incident.account.customerManagedKeyStatus ?? "");
    if (incident.state !== "escalated") {
      // A fix for the old cause does not fix the new one: the clock starts again per the new policy.
      incident.state = "revoked";
      delete incident.fixObservedAt;
      delete incident.fixSource;
      delete incident.fixAcknowledgedBy;
      // Nor is a fix of the new cause a flap of the old one's: it is mailed and gets its full window.
      delete incident.firstFixObservedAt;
      delete incident.fixObservedEmailed;
      delete incident.fixUndoneEmailed;
      delete incident.clockStartedAt;
      delete incident.expectedRecoveryBy;
      delete incident.escalateAt;
      this.applyCausePolicy();
    }
    const owners = this.ctx.resolveOwners(incident.account);
    this.record("cause-changed", `Cause changed from ${getCause(previous).title} to ${getCause(classification.cause).title}${codeSuffix(classification.code)}`);
    this.reportRejected(owners);
    this.reasons.push("cause-changed");
    const to = this.ownersOrEscalation(owners);
    // Support already has the case once escalated: they need the new cause as much as owners do.
    // Stryker disable next-line MethodExpression,ArrowFunction: equivalent, capRecipients drops an address already in "to" anyway
    const cc = incident.state === "escalated" ? this.ctx.escalationRecipients.filter((e) => !to.some((t) => t.toLowerCase() === e.toLowerCase())) : [];
    this.email("cause-changed", to, cc, { previousCause: previous });
  }

  acknowledge(by: string): void {
    const incident = this.incident!;
    if (incident.state !== "revoked" || incident.fixObservedAt) return; // already recovering: idempotent
    incident.fixObservedAt = this.at;
    incident.fixSource = "acknowledged";
    incident.fixAcknowledgedBy = by;
    incident.state = "recovering";
    delete incident.nextReminderAt;
    // Anyone with the email can acknowledge: a claim must never push back an escalation already scheduled.
    // Stryker disable next-line ObjectLiteral: equivalent, an empty options object reads as false too
    this.startClockForFix({ mayDelayEscalation: false });
    this.record("fix-acknowledged", `Fix acknowledged by ${by}; recovery expected by ${incident.expectedRecoveryBy}`);
    this.reasons.push("fix-acknowledged");
    const owners = this.ctx.resolveOwners(incident.account);
    this.email("fix-acknowledged", this.ownersOrEscalation(owners), []);
  }

  observeFix(detail: string): void {
    const incident = this.incident!;
    // Every path back to "revoked" clears fixObservedAt, so the state alone says whether a fix is new.
    if (incident.state !== "revoked") return;
    const firstFixAt = incident.firstFixObservedAt;
    incident.fixObservedAt = this.at;
    incident.fixSource = "observed";
    incident.firstFixObservedAt ??= this.at;
    incident.state = "recovering";
    delete incident.nextReminderAt;
    if (firstFixAt === undefined) this.startClockForFix({ mayDelayEscalation: true });
    else this.startClockForRepeatedFix(firstFixAt);
    this.record("fix-observed", `Fix observed: ${detail}; recovery expected by ${incident.expectedRecoveryBy}`);
    this.reasons.push("fix-observed");
    // A flapping probe would mail owners twice per flap: only the incident's first observed fix is mailed.
    if (incident.fixObservedEmailed) return;
    incident.fixObservedEmailed = true;
    this.email("fix-observed", this.ownersOrEscalation(this.ctx.resolveOwners(incident.account)), []);
  }

  undoFix(detail: string): void {
    const incident = this.incident!;
    if (incident.state !== "recovering") return;
    incident.state = "revoked";
    delete incident.fixObservedAt;
    delete incident.fixSource;
    delete incident.fixAcknowledgedBy;
    if (getCause(incident.cause).policy.clockStartsAt === "fix") {
      delete incident.clockStartedAt;
      delete incident.expectedRecoveryBy;
      delete incident.escalateAt;
    }
    // A detection clock keeps running: restarting it here would postpone the escalation already scheduled.
    // Stryker disable next-line ObjectLiteral: equivalent, an empty options object reads as false too
    this.applyCausePolicy({ startDetectionClock: false });
    this.record("fix-undone", `Fix undone: ${detail}`);
    this.reasons.push("fix-undone");
    if (incident.fixUndoneEmailed) return;
    incident.fixUndoneEmailed = true;
    this.email("fix-undone", this.ownersOrEscalation(this.ctx.resolveOwners(incident.account)), []);
  }

  snooze(until: string, by: string): void {
    const incident = this.incident!;
    const requested = Date.parse(until);
    if (!Number.isFinite(requested) || requested <= this.now.getTime()) return;
    let bounded = Math.min(requested, this.now.getTime() + MAX_SNOOZE_IN_HOURS * 60 * MINUTE);
    // Only time beyond the current snooze counts against the incident's allowance; shortening is free.
    const current = incident.remindersSnoozedUntil ? Math.max(Date.parse(incident.remindersSnoozedUntil), this.now.getTime()) : this.now.getTime();
    const used = incident.snoozedInMinutes ?? 0;
    const left = MAX_TOTAL_SNOOZE_IN_HOURS * 60 - used;
    let capped = false;
    if (bounded > current) {
      const added = Math.min(Math.ceil((bounded - current) / MINUTE), Math.max(0, left));
      if (added <= 0) return;
      capped = current + added * MINUTE < bounded;
      bounded = Math.min(bounded, current + added * MINUTE);
      incident.snoozedInMinutes = used + added;
    }
    const untilIso = new Date(bounded).toISOString();
    if (incident.remindersSnoozedUntil === untilIso) return;
    incident.remindersSnoozedUntil = untilIso;
    const allowance = capped ? ` (the incident's ${MAX_TOTAL_SNOOZE_IN_HOURS}-hour snooze allowance is used up)` : "";
    this.record("snoozed", `Reminders snoozed by ${by} until ${untilIso}${allowance}; escalation is not affected`);
    this.reasons.push("snoozed");
  }

  resolve(resolution: "recovered" | "account-removed", account?: CmkAccount): void {
    const incident = this.incident!;
    if (account) incident.account = storedAccount(account);
    incident.state = "resolved";
    incident.resolvedAt = this.at;
    incident.resolution = resolution;
    delete incident.nextReminderAt;
    this.record("resolved", resolution === "recovered" ? "Key access confirmed; account recovered" : "Account no longer found (deleted or CMK removed)");
    this.reasons.push(resolution === "recovered" ? "recovered" : "account-removed");
    // Everyone who heard about the incident hears that it is over.
    if (incident.notified.length > 0) this.email("resolved", [...incident.notified], []);
  }

  sweepDeadlines(): void {
    const incident = this.incident!;
    const nowMs = this.now.getTime();
    if ((incident.state === "revoked" || incident.state === "recovering") && incident.escalateAt !== undefined && nowMs >= Date.parse(incident.escalateAt)) {
      incident.state = "escalated";
      incident.escalatedAt = this.at;
      delete incident.nextReminderAt;
      this.record("escalated", `Still revoked at the escalation deadline ${incident.escalateAt}; support contacted`);
      this.reasons.push("escalation-due");
      const owners = this.ctx.resolveOwners(incident.account).recipients;
      this.email(
        "escalation",
        [...this.ctx.escalationRecipients],
        // Stryker disable next-line MethodExpression: equivalent, capRecipients drops an owner already in "to" anyway
        owners.filter((o) => !this.isEscalationRecipient(o)),
      );
      return;
    }
    const snoozed = incident.remindersSnoozedUntil !== undefined && nowMs < Date.parse(incident.remindersSnoozedUntil);
    if (incident.state === "revoked" && !snoozed && incident.nextReminderAt !== undefined && nowMs >= Date.parse(incident.nextReminderAt)) {
      incident.reminderCount += 1;
      // After a missed poll, send one reminder, not one per missed interval.
      incident.nextReminderAt = addMinutes(this.now, this.ctx.reminderIntervalInMinutes);
      this.record("reminded", `Reminder ${incident.reminderCount}: still revoked`);
      this.reasons.push("reminder-due");
      const owners = this.ctx.resolveOwners(incident.account);
      this.email("reminder", this.ownersOrEscalation(owners), [], { reminderNumber: incident.reminderCount });
    }
  }

  private applyCausePolicy(options: { startDetectionClock: boolean } = { startDetectionClock: true }): void {
    const incident = this.incident!;
    const cause = getCause(incident.cause);
    if (cause.policy.clockStartsAt === "detection") {
      incident.fixSource = "detection";
      if (options.startDetectionClock) this.startClock(this.now);
    }
    // Reminders go to people who can act: only while an owner fix is awaited.
    if (cause.fixableBy === "owner" && incident.state === "revoked") {
      incident.nextReminderAt = addMinutes(this.now, this.ctx.reminderIntervalInMinutes);
    } else {
      delete incident.nextReminderAt;
    }
  }

  /**
   * A fix starts the clock for owner-fixable causes. Where the clock already runs from detection
   * (the DNS case), a fix the monitor observed itself still gets the full recovery window:
   * escalating 10 minutes after the vault is back would be a false alarm. An acknowledgment is
   * only a claim (anyone the email reached can make it), so it never moves an escalation later.
   * Outages nobody can fix keep their clock.
   */
  private startClockForFix(options: { mayDelayEscalation: boolean }): void {
    const incident = this.incident!;
    const cause = getCause(incident.cause);
    if (cause.policy.clockStartsAt === "fix") {
      this.startClock(this.now);
      return;
    }
    if (!options.mayDelayEscalation || cause.fixableBy !== "owner" || incident.escalateAt === undefined) return;
    const escalateAt = addMinutes(this.now, cause.policy.escalateAfterInMinutes);
    if (Date.parse(escalateAt) > Date.parse(incident.escalateAt)) this.startClock(this.now);
  }

  /**
   * A fix observed again after an undo (a flapping probe) does not restart the escalation clock:
   * escalation stays tied to the first observed fix (the policy's flapping window), so a probe
   * flapping faster than the window still escalates. That is never earlier than what is scheduled:
   * a fix clock was cleared by the undo, and the DNS detection clock (detection + 120) and first
   * fix's window (+ 120) both end before its first fix + 240. Outages nobody can fix keep their clock.
   */
  private startClockForRepeatedFix(firstFixAt: string): void {
    const incident = this.incident!;
    const cause = getCause(incident.cause);
    if (cause.fixableBy !== "owner") return;
    this.startClock(this.now);
    incident.escalateAt = addMinutes(new Date(firstFixAt), cause.policy.escalateAfterFirstFixWhenFlappingInMinutes);
  }

  private startClock(from: Date): void {
    const incident = this.incident!;
    const policy = getCause(incident.cause).policy;
    incident.clockStartedAt = from.toISOString();
    incident.expectedRecoveryBy = addMinutes(from, policy.expectedRecoveryInMinutes);
    incident.escalateAt = addMinutes(from, policy.escalateAfterInMinutes);
  }

  private record(type: IncidentEventType, detail: string): IncidentEvent {
    const incident = this.incident!;
    incident.eventCount += 1;
    const event: IncidentEvent = {
      incidentId: incident.id,
      seq: incident.eventCount,
      at: this.at,
      type,
      cause: incident.cause,
      detail,
    };
    this.events.push(event);
    return event;
  }

  private reportRejected(owners: RecipientResolution): void {
    if (owners.rejected.length === 0) return;
    const list = owners.rejected.map((r) => `${JSON.stringify(r.address.slice(0, 100))} (${r.reason})`).join(", ");
    this.record("recipients-dropped", `Not emailed: ${list}`);
  }

  /** Nobody to tell is not a reason to stay silent: fall back to the escalation contacts. */
  private ownersOrEscalation(owners: RecipientResolution): string[] {
    return owners.recipients.length > 0 ? [...owners.recipients] : [...this.ctx.escalationRecipients];
  }

  /**
   * The addresses of `list` this incident may email today: known ones, configured ones, and new
   * ones while today's allowance lasts (counted on the incident, per UTC day).
   */
  private admitNew(list: readonly string[]): string[] {
    const incident = this.incident!;
    const day = this.at.slice(0, 10);
    if (incident.newRecipients?.day !== day) incident.newRecipients = { day, count: 0 };
    const counter = incident.newRecipients;
    // What an untagged account resolves to is exactly the configured defaults.
    // Stryker disable next-line ObjectLiteral: equivalent, resolvers read only the tags (src/pipeline/lifecycleContext.ts) and read none as {}
    const configured = this.ctx.resolveOwners({ ...incident.account, tags: {} }).recipients.map((a) => a.toLowerCase());
    return list.filter((address) => {
      const key = address.toLowerCase();
      if (incident.notified.some((n) => n.toLowerCase() === key) || configured.includes(key) || this.isEscalationRecipient(address)) return true;
      if (counter.count >= this.ctx.newRecipientsPerDay) return false;
      counter.count += 1;
      return true;
    });
  }

  private isEscalationRecipient(address: string): boolean {
    return this.ctx.escalationRecipients.some((e) => e.toLowerCase() === address.toLowerCase());
  }

  private email(kind: IncidentMessageKind, to: string[], cc: string[], extra: { previousCause?: CauseId; reminderNumber?: number } = {}): void {
    const incident = this.incident!;
    if (to.length === 0) return;
    const capped = capRecipients(to, cc);
    const admittedTo = this.admitNew(capped.to);
    const admittedCc = this.admitNew(capped.cc);
    // A full day's allowance never leaves a notice with nobody to go to.
    const recipients = { to: admittedTo.length > 0 ? admittedTo : [...this.ctx.escalationRecipients], cc: admittedCc };
    const dropped = [
      ...capped.dropped.map((address) => `${JSON.stringify(address)} (too-many)`),
      ...[...capped.to, ...capped.cc]
        .filter((address) => !admittedTo.includes(address) && !admittedCc.includes(address))
        .map((address) => `${JSON.stringify(address)} (new-recipients-per-day)`),
    ];
    if (dropped.length > 0) this.record("recipients-dropped", `Not emailed (${kind}): ${dropped.join(", ")}`);
    const seq = incident.eventCount;
    for (const address of [...recipients.to, ...recipients.cc]) {
      if (!incident.notified.some((n) => n.toLowerCase() === address.toLowerCase())) incident.notified.push(address);
    }
    this.messages.push({
      key: `${incident.id}.${seq}.${kind}`,
      incidentId: incident.id,
      accountId: incident.accountId,
      kind,
      to: recipients.to,
      cc: recipients.cc,
      createdAt: this.at,
      facts: { kind, incident: structuredClone(incident), timeline: [], ...extra },
    });
  }
}

/**
 * ACS refuses a message with more than MAX_RECIPIENTS addresses over to + cc, so a larger one
 * (support plus 50 copied owners, or everyone notified about a long incident) would be lost,
 * not sent. Duplicates go first; then `to` keeps its place before `cc`, and the rest is dropped.
 */
function capRecipients(to: readonly string[], cc: readonly string[]): { to: string[]; cc: string[]; dropped: string[] } {
  const seen = new Set<string>();
  const unique = (list: readonly string[]) =>
    list.filter((address) => {
      // Stryker disable next-line MethodExpression: equivalent, any one case folding makes the same key for both spellings
      const key = address.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const allTo = unique(to);
  const allCc = unique(cc);
  const keptTo = allTo.slice(0, MAX_RECIPIENTS);
  const keptCc = allCc.slice(0, MAX_RECIPIENTS - keptTo.length);
  return { to: keptTo, cc: keptCc, dropped: [...allTo.slice(keptTo.length), ...allCc.slice(keptCc.length)] };
}

/** Deterministic: the same account revoked at the same minute always gets the same id. */
export function incidentIdFor(accountId: string, accountName: string, detectedAt: Date): string {
  const hash = createHash("sha256").update(normalizeResourceId(accountId)).digest("hex").slice(0, 8);
  const stamp = detectedAt.toISOString().slice(0, 16).replace(/[-:]/g, "");
  const safeName =
    accountName
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "")
      .slice(0, 44) || "account";
  return `${safeName}-${stamp}Z-${hash}`;
}

function addMinutes(from: Date, minutes: number): string {
  return new Date(from.getTime() + minutes * MINUTE).toISOString();
}

function truncate(text: string): string {
  return text.length > MAX_STATUS_LENGTH ? `${text.slice(0, MAX_STATUS_LENGTH)}…` : text;
}

/**
 * The account as the incident keeps it. The status is free text from Azure: a megabyte of it
 * would make the incident (and every outbox row, which embeds it) too large for a table row, so
 * the account would never be recorded or emailed. Head and tail are kept: Azure's code is at the end.
 */
function storedAccount(account: CmkAccount): CmkAccount {
  const status = account.customerManagedKeyStatus;
  const bounded = boundedAccountText(account);
  if (status === undefined || status.length <= 2 * MAX_STATUS_LENGTH) return bounded;
  return { ...bounded, customerManagedKeyStatus: `${status.slice(0, MAX_STATUS_LENGTH)}…${status.slice(-MAX_STATUS_LENGTH)}` };
}

/** Longer than any real key URI or identity reference; the account writer chooses both. */
const MAX_ACCOUNT_TEXT_LENGTH = 2048;
/**
 * ARM allows 50 tags of up to 512 + 256 characters (38,400 in all): bounds ARM enforces never bite,
 * and tags from anywhere else are kept, in order, while they fit.
 */
const MAX_TAGS = 50;
const MAX_TAGS_LENGTH = 40_000;

/** The writer-chosen strings cut to bounds, so the incident (and every outbox row embedding it) fits one table entity. */
function boundedAccountText(account: CmkAccount): CmkAccount {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
  const tags = Object.entries(account.tags ?? {});
  const tagsLength = tags.reduce((total, [name, value]) => total + name.length + String(value).length, 0);
  const oversized =
    account.keyVaultKeyUri.length > MAX_ACCOUNT_TEXT_LENGTH ||
    (account.defaultIdentity?.length ?? 0) > MAX_ACCOUNT_TEXT_LENGTH ||
    tags.length > MAX_TAGS ||
    tagsLength > MAX_TAGS_LENGTH;
  if (!oversized) return account;
  const kept: Array<[string, string]> = [];
  let length = 0;
  for (const [name, value] of tags.slice(0, MAX_TAGS)) {
    length += name.length + String(value).length;
    if (length > MAX_TAGS_LENGTH) break;
    kept.push([name, String(value)]);
  }
  return {
    ...account,
    keyVaultKeyUri: cut(account.keyVaultKeyUri, MAX_ACCOUNT_TEXT_LENGTH),
    ...(account.defaultIdentity !== undefined ? { defaultIdentity: cut(account.defaultIdentity, MAX_ACCOUNT_TEXT_LENGTH) } : {}),
    tags: Object.fromEntries(kept),
  };
}

function codeSuffix(code: number | null): string {
  return code === null ? "" : ` (${code})`;
}
