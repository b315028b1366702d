/**
 * Runs a scenario through the real monitor: the same `runCycle` the timer function calls, real
 * SDK clients against the local ARM/ACS sandbox, state in Azurite. Only the clock is fake, so
 * hours of polling take seconds.
 */
import { catchUpChanges } from "../app/catchUpChanges";
import { recheckVaultKeys } from "../app/recheckVaultKeys";
import { handleChangeEvent } from "../app/handleChangeEvent";
import { recordDeliveryReport } from "../app/recordDeliveryReport";
import { createMonitorDeps } from "../composition";
import { loadConfig } from "../config";
import { parseAccountResourceId } from "../domain/account";
import { atRiskAccountKey } from "../domain/atRisk";
import { classifyStatus } from "../domain/classifier";
import type { Incident, IncidentEvent, MessageKind } from "../domain/incident";
import { LocalSandbox, startAzurite, type AzuriteInstance, type SentEmail } from "../sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../sandbox/environment";
import { applySandboxChange } from "./sandboxEvents";
import { eventChange, type SandboxChange, type Scenario, type ScenarioEvent } from "./scenario";
import { MESSAGE_KINDS, summarize, type AtRiskVia, type DrillIncident, type DrillSummary, type TimelineEntry } from "./timeline";
import { WarningWatch } from "./warningWatch";
import type { Clock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import { acknowledgeFix } from "../app/acknowledgeFix";
import { runCycle, type CycleReport } from "../app/runCycle";
import type { MonitorDeps } from "../pipeline/monitorDeps";

const MINUTE = 60_000;

/** One email the sandbox delivered, stamped with the simulated moment it went out. */
export interface DrillEmail {
  atMinute: number;
  at: Date;
  account: string;
  kind: MessageKind | undefined;
  email: SentEmail;
}

/** A change to the facts behind an account (a scenario `sandbox` event): what the probes see, not the status. */
export interface SandboxChangeRecord {
  atMinute: number;
  account: string;
  change: SandboxChange;
  note?: string;
  /** Its place in the scenario's events, so a report can keep file order within a minute. */
  eventIndex: number;
  /** The Azure change events it raised that were handed to the monitor ("push"), or 0 with change events off. */
  changeEventsDelivered?: number;
}

/** The moment Azure's reported status for an account changed (from the scenario). */
export interface StatusChange {
  atMinute: number;
  account: string;
  health: "healthy" | "revoked" | "unknown";
  code: number | null;
  note?: string;
  /** Its place in the scenario's events; absent for the account's status at minute 0. */
  eventIndex?: number;
}

export interface DrillResult {
  scenario: Scenario;
  start: Date;
  timeline: TimelineEntry[];
  incidents: DrillIncident[];
  emails: DrillEmail[];
  statusChanges: StatusChange[];
  sandboxChanges: SandboxChangeRecord[];
  /** Engine warnings and errors, and scenario events the monitor could not act on. */
  warnings: string[];
  summary: DrillSummary;
  realTimeInMs: number;
  live?: LiveDrill;
}

export type DrillProgress = { phase: "starting" } | { phase: "running"; minute: number; durationMinutes: number; emails: number } | { phase: "stopping" };

export interface RunScenarioOptions {
  onProgress?(progress: DrillProgress): void;
  /** Leave the sandbox and Azurite running after the drill (for `--serve`); the caller stops them. */
  keepRunning?: boolean;
}

/** The drill's monitor and local services, still up (only with `keepRunning`). */
export interface LiveDrill {
  deps: MonitorDeps;
  stop(): Promise<void>;
}

/** The fake clock the drill moves forward; the engine only ever reads it. */
class SimulatedClock implements Clock {
  private current: number;
  constructor(start: Date) {
    this.current = start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: Date): void {
    this.current = at.getTime();
  }
}

export async function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): Promise<DrillResult> {
  const startedReal = Date.now();
  options.onProgress?.({ phase: "starting" });
  const [sandbox, azurite] = await startLocalServices();
  const stop = async () => {
    await Promise.allSettled([sandbox.stop(), azurite.stop()]);
  };
  let keep = false;
  try {
    const run = new DrillRun(scenario, sandbox, azurite, options);
    const result = await run.execute(startedReal);
    keep = options.keepRunning === true;
    return keep ? { ...result, live: { deps: run.monitor, stop } } : result;
  } finally {
    if (!keep) {
      options.onProgress?.({ phase: "stopping" });
      await stop();
    }
  }
}

async function startLocalServices(): Promise<[LocalSandbox, AzuriteInstance]> {
  const [sandbox, azurite] = await Promise.allSettled([LocalSandbox.start(), startAzurite()]);
  if (sandbox.status === "fulfilled" && azurite.status === "fulfilled") return [sandbox.value, azurite.value];
  // Don't leave whichever half did start running.
  if (sandbox.status === "fulfilled") await sandbox.value.stop();
  if (azurite.status === "fulfilled") await azurite.value.stop();
  throw sandbox.status === "rejected" ? sandbox.reason : (azurite as PromiseRejectedResult).reason;
}

/** The state of one drill while it runs; `execute` is called once. */
class DrillRun {
  private readonly start: Date;
  private readonly clock: SimulatedClock;
  private readonly deps: MonitorDeps;
  private readonly timeline: TimelineEntry[] = [];
  private readonly emails: DrillEmail[] = [];
  private readonly statusChanges: StatusChange[] = [];
  private readonly sandboxChanges: SandboxChangeRecord[] = [];
  private readonly warnings: string[] = [];
  private readonly warningWatch: WarningWatch | undefined;
  private readonly incidents = new Map<string, DrillIncident>();
  /** Account name → resource id, for acknowledgments. */
  private readonly accountIds = new Map<string, string>();
  /** Account name → its place in the scenario, for a timeline in the same order every run. */
  private readonly accountRank: Map<string, number>;
  /** Account name → minute Azure started reporting it revoked; absent while not revoked. */
  private readonly revokedSince = new Map<string, number>();
  private minute = 0;
  private emailsSeen = 0;
  private ticketsSeen = 0;
  private polls = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly sandbox: LocalSandbox,
    azurite: AzuriteInstance,
    private readonly options: RunScenarioOptions,
  ) {
    this.start = new Date(scenario.start);
    this.clock = new SimulatedClock(this.start);
    const subscriptionIds = [...new Set(scenario.accounts.map((account) => account.subscriptionId.toLowerCase()))];
    const env = sandboxEnvironment(sandbox, azurite, {
      CMK_SUBSCRIPTION_IDS: subscriptionIds.join(","),
      // Escalations file a Microsoft support ticket in the sandbox, as `create` mode does in Azure.
      CMK_SUPPORT_TICKETS: "create",
      CMK_SUPPORT_CONTACT_NAME: "Drill Contact",
    });
    this.deps = createMonitorDeps(loadConfig(env), sandboxOverrides(sandbox, { clock: this.clock, log: this.logger() }));
    // ACS's delivery reports reach the monitor's Event Grid handler after each poll (handed over, not timed: the drill's clock is simulated).
    sandbox.acs.deliveryReports.configure({ autoDeliver: false });
    sandbox.acs.deliveryReports.subscribe(async (event) => void (await recordDeliveryReport(this.deps, event)));
    // Deletion and purge dates in the Key Vault world follow the simulated clock too.
    sandbox.setClock(() => this.clock.now());
    // The sandbox's Resource Graph quota (15 queries per 5 s) counts real time, in which the drill's polls are
    // milliseconds apart; five simulated minutes apart, as here, Azure would never throttle them.
    sandbox.resourceGraph.setQuota({ queries: 15, windowInMs: 0 });
    const names = scenario.accounts.map((account) => account.name);
    this.accountRank = new Map(names.map((name, index) => [name, index]));
    this.warningWatch = this.deps.warnings ? new WarningWatch(this.deps.warnings, names) : undefined;
  }

  /** The monitor the drill drives; `--serve` keeps serving it. */
  get monitor(): MonitorDeps {
    return this.deps;
  }

  async execute(startedReal: number): Promise<DrillResult> {
    const { scenario } = this;
    for (const account of scenario.accounts) {
      // The note is for readers of the scenario; the sandbox takes everything else as ARM would show it.
      // "match-status": an account that starts revoked starts with the facts behind its code broken.
      const { note: _note, keyVault, changeEvents: _events, ...spec } = account;
      this.accountIds.set(account.name, this.sandbox.putAccount({ ...spec, keyVault: keyVault ?? "match-status" }));
      this.noteStatus(account.name, account.status);
    }
    // Setting the world up is not a change anyone made: no event, nothing in resourcechanges, its role assignments already indexed.
    this.sandbox.changeFeed.take();
    this.sandbox.changeFeed.clearHistory();
    this.sandbox.keyVault.settleRoleAssignments();

    for (const minute of this.moments()) {
      this.minute = minute;
      this.clock.set(this.timeAt(minute));
      // Changes in Azure and owners' acks at a minute happen before that minute's poll sees them.
      for (const [index, event] of scenario.events.entries()) if (event.atMinute === minute) await this.apply(event, index);
      if (minute % scenario.pollIntervalMinutes === 0) await this.poll();
      this.options.onProgress?.({ phase: "running", minute, durationMinutes: scenario.durationMinutes, emails: this.emails.length });
    }

    const incidents = [...this.incidents.values()];
    return {
      scenario,
      start: this.start,
      timeline: this.timeline,
      incidents,
      emails: this.emails,
      statusChanges: this.statusChanges,
      sandboxChanges: this.sandboxChanges,
      warnings: this.warnings,
      summary: summarize({
        accountNames: scenario.accounts.map((account) => account.name),
        polls: this.polls,
        timeline: this.timeline,
        incidents,
        warnings: this.warnings.length,
        sandboxChanges: this.sandboxChanges,
      }),
      realTimeInMs: Date.now() - startedReal,
    };
  }

  /** Every poll minute and every event minute, in order. */
  private moments(): number[] {
    const { durationMinutes, pollIntervalMinutes, events } = this.scenario;
    const minutes = new Set(events.map((event) => event.atMinute));
    for (let minute = 0; minute <= durationMinutes; minute += pollIntervalMinutes) minutes.add(minute);
    return [...minutes].sort((a, b) => a - b);
  }

  private async apply(event: ScenarioEvent, eventIndex: number): Promise<void> {
    const change = eventChange(event);
    switch (change.kind) {
      case "status":
        this.sandbox.setStatus(event.account, change.status);
        this.noteStatus(event.account, change.status, event.note, eventIndex);
        return;
      case "ack":
        await this.acknowledge(event.account, change.by ?? "scenario", event.note);
        return;
      case "sandbox": {
        const problems = applySandboxChange(this.sandbox, event.account, change.change, this.clock.now());
        for (const problem of problems) this.warn(`sandbox event for ${event.account}: ${problem}`);
        const delivered = await this.deliverChangeEvents(event.account);
        this.sandboxChanges.push({
          atMinute: this.minute,
          account: event.account,
          change: change.change,
          ...(event.note !== undefined ? { note: event.note } : {}),
          eventIndex,
          changeEventsDelivered: delivered,
        });
        return;
      }
    }
  }

  private noteStatus(account: string, status: string, note?: string, eventIndex?: number): void {
    const classification = classifyStatus(status);
    this.statusChanges.push({
      atMinute: this.minute,
      account,
      health: classification.health,
      code: classification.code,
      ...(note !== undefined ? { note } : {}),
      ...(eventIndex !== undefined ? { eventIndex } : {}),
    });
    if (classification.health !== "revoked") this.revokedSince.delete(account);
    else if (!this.revokedSince.has(account)) this.revokedSince.set(account, this.minute);
  }

  /** The same call `cmk-monitor ack --fixed` makes; its email goes out at once. */
  private async acknowledge(account: string, by: string, note: string | undefined): Promise<void> {
    const accountId = this.accountIds.get(account)!;
    const result = await acknowledgeFix(this.deps, accountId, by);
    if (result.outcome === "acknowledged") {
      const incident = (await this.deps.store.getRecord(accountId)).incident;
      this.push({
        account,
        type: "fix-acknowledged",
        ...(incident ? { cause: incident.cause, ...(incident.code !== null ? { code: incident.code } : {}), ...this.deadlines(incident) } : {}),
        by,
        ...(note !== undefined ? { note } : {}),
      });
      this.incidents.get(result.incidentId)?.fixAcknowledgedAtMinutes.push(this.minute);
    } else {
      const why =
        result.outcome === "no-open-incident"
          ? "no open incident"
          : result.outcome === "busy"
            ? "the incident kept changing; try again"
            : `the incident is already ${result.state}`;
      this.warn(`ack for ${account} ignored: ${why}`);
    }
    await this.collectEmails();
  }

  private async poll(): Promise<void> {
    const report = await runCycle(this.deps);
    this.polls += 1;
    for (const failure of report.subscriptionsFailed) this.warn(`subscription ${failure.subscriptionId} not listed: ${failure.message}`);
    // The engine handles accounts concurrently; scenario order keeps the timeline the same from run to run.
    const changes = report.changes.map((change) => ({ change, account: accountNameOf(change) }));
    for (const { change, account } of this.inScenarioOrder(changes, (c) => c.account)) {
      for (const event of change.decision.events) this.record(account, event, change.decision.incident);
    }
    // The daily checks of healthy accounts ran in the same cycle, before its emails went out.
    for (const entry of (await this.warningWatch?.changes()) ?? []) this.push(entry);
    await this.collectEmails();
    // Then, as the timer function does, the resourcechanges catch-up when it is due (every CMK_CHANGES_INTERVAL_MINUTES).
    const catchUp = await catchUpChanges(this.deps);
    const keys = await recheckVaultKeys(this.deps);
    if (catchUp.recheck.rechecked + keys.recheck.rechecked > 0) {
      for (const entry of (await this.warningWatch?.changes()) ?? []) this.push(entry);
      await this.collectEmails("catch-up");
    }
    await this.sandbox.acs.deliveryReports.deliverPending();
  }

  private record(account: string, event: IncidentEvent, incident: Incident | undefined): void {
    const code = incident?.code ?? null;
    const codeField = code !== null ? { code } : {};
    switch (event.type) {
      case "detected": {
        this.incidents.set(event.incidentId, {
          incidentId: event.incidentId,
          account,
          causes: [event.cause],
          revokedAtMinute: this.revokedSince.get(account) ?? this.minute,
          detectedAtMinute: this.minute,
          fixAcknowledgedAtMinutes: [],
          fixObservedAtMinutes: [],
          fixUndoneAtMinutes: [],
        });
        this.push({ account, type: "detected", cause: event.cause, ...codeField });
        return;
      }
      case "cause-changed":
        this.incidents.get(event.incidentId)?.causes.push(event.cause);
        this.push({ account, type: "cause-changed", cause: event.cause, ...codeField });
        return;
      case "escalated":
        this.incidentAt(event, "escalatedAtMinute");
        this.push({ account, type: "escalated", cause: event.cause, ...codeField });
        return;
      case "resolved":
        this.incidentAt(event, "resolvedAtMinute");
        this.push({ account, type: "resolved", cause: event.cause, ...codeField });
        return;
      case "fix-acknowledged":
        this.push({ account, type: event.type, cause: event.cause, ...codeField });
        return;
      case "fix-observed":
      case "fix-undone": {
        const drillIncident = this.incidents.get(event.incidentId);
        drillIncident?.[event.type === "fix-observed" ? "fixObservedAtMinutes" : "fixUndoneAtMinutes"].push(this.minute);
        // The probes' verdict that triggered it is stored on the incident with the event.
        const detail = incident?.probe?.detail;
        this.push({
          account,
          type: event.type,
          cause: event.cause,
          ...codeField,
          ...(detail ? { detail } : {}),
          ...(event.type === "fix-observed" && incident ? this.deadlines(incident) : {}),
        });
        return;
      }
      case "reminded":
        // The reminder email itself is the timeline entry.
        return;
      case "recipients-dropped":
        this.warn(`${account}: ${event.detail}`);
        return;
    }
  }

  /** The incident's recovery deadlines as drill minutes. */
  private deadlines(incident: Incident): Pick<TimelineEntry, "expectedRecoveryAtMinute" | "escalateAtMinute"> {
    const minuteOf = (iso: string) => Math.round((Date.parse(iso) - this.start.getTime()) / MINUTE);
    return {
      ...(incident.expectedRecoveryBy ? { expectedRecoveryAtMinute: minuteOf(incident.expectedRecoveryBy) } : {}),
      ...(incident.escalateAt ? { escalateAtMinute: minuteOf(incident.escalateAt) } : {}),
    };
  }

  private incidentAt(event: IncidentEvent, field: "escalatedAtMinute" | "resolvedAtMinute"): void {
    const incident = this.incidents.get(event.incidentId);
    if (incident) incident[field] = this.minute;
  }

  /** Picks up what the sandbox delivered since last time; it was sent at the current minute. */
  /** Tickets the monitor opened since the last look, one timeline entry each (filed before their escalation email). */
  private collectTickets(): void {
    const opened = this.sandbox.support.tickets;
    for (const ticket of opened.slice(this.ticketsSeen)) {
      const account = ticket.resourceId?.split("/").at(-1) ?? "(unknown account)";
      this.push({ account, type: "support-ticket", ticketName: ticket.name, ticketNumber: ticket.ticketNumber });
    }
    this.ticketsSeen = opened.length;
  }

  /** `via`: how the at-risk emails among them were found ("push": a change event's re-check). */
  private async collectEmails(via: AtRiskVia = "poll"): Promise<void> {
    this.collectTickets();
    const delivered = this.sandbox.sentEmails();
    const fresh = delivered.slice(this.emailsSeen).map((email) => {
      // Incident emails are keyed "<incident id>.<seq>.<kind>", digests "warning-digest.<recipient hash>.<date>",
      // at-risk warnings "at-risk.<account hash>.<finding>.<first seen>[.resolved]".
      const key = (headerValue(email.headers, "x-cmk-monitor-key") ?? "").split(".");
      const digest = key[0] === "warning-digest";
      const atRisk = key[0] === "at-risk" ? this.accountByAtRiskKey(key[1] ?? "") : undefined;
      const incident = digest || key[0] === "at-risk" ? undefined : this.incidents.get(key[0] ?? "");
      const recipient = email.to[0];
      return {
        email,
        digest,
        incident,
        kind: MESSAGE_KINDS.find((k) => k === (digest || key[0] === "at-risk" ? key[0] : key.at(-1))),
        account: incident?.account ?? atRisk ?? (digest && recipient ? recipient : "(unknown account)"),
        seq: digest ? 0 : Number(key[1]) || 0,
      };
    });
    this.emailsSeen = delivered.length;
    // Sent concurrently: in scenario order (digests after the accounts, by recipient), then in the incident's order.
    fresh.sort((a, b) => a.seq - b.seq || a.account.localeCompare(b.account));
    for (const { email, digest, incident, kind, account } of this.inScenarioOrder(fresh, (e) => e.account)) {
      const recipient = email.to[0];
      const accounts =
        digest && recipient && this.warningWatch ? await this.warningWatch.digestAccounts(recipient, (name) => !this.revokedSince.has(name)) : undefined;
      this.emails.push({ atMinute: this.minute, at: this.timeAt(this.minute), account, kind, email });
      this.push({
        account,
        type: "email",
        ...(incident ? { cause: incident.causes.at(-1)! } : {}),
        ...(kind ? { kind } : {}),
        to: email.to,
        ...(email.cc.length > 0 ? { cc: email.cc } : {}),
        subject: email.subject,
        ...(kind === "at-risk" ? { via } : {}),
        ...(accounts ? { accounts } : {}),
      });
    }
  }

  /** A stable sort by the account's place in the scenario; anything else (a digest's recipient) goes last. */
  /**
   * Hands the change events the sandbox raised to the handler the Functions host calls for
   * `cmkAzureChangeEvents` (one event per invocation, as Event Grid delivers them), unless the
   * scenario switched events off for the run or the account. Returns how many were delivered.
   */
  private async deliverChangeEvents(account: string): Promise<number> {
    const events = this.sandbox.changeFeed.take();
    const off = this.scenario.changeEvents === "off" || this.scenario.accounts.find((a) => a.name === account)?.changeEvents === "off";
    if (off || events.length === 0) return 0;
    for (const event of events) await handleChangeEvent(this.deps, event);
    for (const entry of (await this.warningWatch?.changes()) ?? []) this.push(entry);
    await this.collectEmails("push");
    return events.length;
  }

  /** The scenario account an at-risk email's key names (by the hash of its id). */
  private accountByAtRiskKey(hash: string): string | undefined {
    for (const [name, id] of this.accountIds) if (atRiskAccountKey(id) === hash) return name;
    return undefined;
  }

  private inScenarioOrder<T>(items: readonly T[], accountOf: (item: T) => string): T[] {
    const rank = (item: T) => this.accountRank.get(accountOf(item)) ?? this.accountRank.size;
    return [...items].sort((a, b) => rank(a) - rank(b));
  }

  private push(entry: Omit<TimelineEntry, "atMinute" | "at">): void {
    this.timeline.push({ atMinute: this.minute, at: this.timeAt(this.minute).toISOString(), ...entry });
  }

  private warn(message: string): void {
    this.warnings.push(`minute ${this.minute}: ${message}`);
  }

  private timeAt(minute: number): Date {
    return new Date(this.start.getTime() + minute * MINUTE);
  }

  /** The engine's per-cycle info lines would drown the timeline; warnings are kept for the report. */
  private logger(): Logger {
    return {
      info: () => undefined,
      warn: (message) => this.warn(message),
      error: (message) => this.warn(message),
    };
  }
}

function accountNameOf(change: CycleReport["changes"][number]): string {
  return change.decision.incident?.account.name ?? parseAccountResourceId(change.item.accountId)?.name ?? change.item.accountId;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const match = Object.keys(headers).find((key) => key.toLowerCase() === name);
  return match === undefined ? undefined : headers[match];
}
