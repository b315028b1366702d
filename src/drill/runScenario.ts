/**
 * Runs a scenario through the real monitor: the same `runCycle` the timer function calls, real
 * SDK clients against the local ARM/ACS sandbox, state in Azurite. Only the clock is fake, so
 * hours of polling take seconds.
 */
import { createMonitorDeps } from "../composition";
import { loadConfig } from "../config";
import { parseAccountResourceId } from "../domain/account";
import { classifyStatus } from "../domain/classifier";
import type { IncidentEvent, MessageKind } from "../domain/incident";
import { acknowledgeFix, runCycle, type CycleReport } from "../pipeline/cycle";
import type { Clock, Logger, MonitorDeps } from "../pipeline/stage";
import { LocalSandbox, startAzurite, type AzuriteInstance, type SentEmail } from "../sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../sandbox/environment";
import { eventChange, type Scenario, type ScenarioEvent } from "./scenario";
import { MESSAGE_KINDS, summarize, type DrillIncident, type DrillSummary, type TimelineEntry } from "./timeline";

const MINUTE = 60_000;

/** One email the sandbox delivered, stamped with the simulated moment it went out. */
export interface DrillEmail {
  atMinute: number;
  at: Date;
  account: string;
  kind: MessageKind | undefined;
  email: SentEmail;
}

/** The moment Azure's reported status for an account changed (from the scenario). */
export interface StatusChange {
  atMinute: number;
  account: string;
  health: "healthy" | "revoked" | "unknown";
  code: number | null;
  note?: string;
}

export interface DrillResult {
  scenario: Scenario;
  start: Date;
  timeline: TimelineEntry[];
  incidents: DrillIncident[];
  emails: DrillEmail[];
  statusChanges: StatusChange[];
  /** Engine warnings and errors, and scenario events the monitor could not act on. */
  warnings: string[];
  summary: DrillSummary;
  realTimeInMs: number;
  live?: LiveDrill;
}

export type DrillProgress =
  | { phase: "starting" }
  | { phase: "running"; minute: number; durationMinutes: number; emails: number }
  | { phase: "stopping" };

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
  private readonly warnings: string[] = [];
  private readonly incidents = new Map<string, DrillIncident>();
  /** Account name → resource id, for acknowledgments. */
  private readonly accountIds = new Map<string, string>();
  /** Account name → minute Azure started reporting it revoked; absent while not revoked. */
  private readonly revokedSince = new Map<string, number>();
  private minute = 0;
  private emailsSeen = 0;
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
    const env = sandboxEnvironment(sandbox, azurite, { CMK_SUBSCRIPTION_IDS: subscriptionIds.join(",") });
    this.deps = createMonitorDeps(loadConfig(env), sandboxOverrides(sandbox, { clock: this.clock, log: this.logger() }));
  }

  /** The monitor the drill drives; `--serve` keeps serving it. */
  get monitor(): MonitorDeps {
    return this.deps;
  }

  async execute(startedReal: number): Promise<DrillResult> {
    const { scenario } = this;
    for (const account of scenario.accounts) {
      // The note is for readers of the scenario; the sandbox takes everything else as ARM would show it.
      const { note: _note, ...spec } = account;
      this.accountIds.set(account.name, this.sandbox.putAccount(spec));
      this.noteStatus(account.name, account.status);
    }

    for (const minute of this.moments()) {
      this.minute = minute;
      this.clock.set(this.timeAt(minute));
      // Changes in Azure and owners' acks at a minute happen before that minute's poll sees them.
      for (const event of scenario.events.filter((e) => e.atMinute === minute)) await this.apply(event);
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
      warnings: this.warnings,
      summary: summarize({
        accountNames: scenario.accounts.map((account) => account.name),
        polls: this.polls,
        timeline: this.timeline,
        incidents,
        warnings: this.warnings.length,
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

  private async apply(event: ScenarioEvent): Promise<void> {
    const change = eventChange(event);
    switch (change.kind) {
      case "status":
        this.sandbox.setStatus(event.account, change.status);
        this.noteStatus(event.account, change.status, event.note);
        return;
      case "ack":
        await this.acknowledge(event.account, change.by ?? "scenario", event.note);
        return;
    }
  }

  private noteStatus(account: string, status: string, note?: string): void {
    const classification = classifyStatus(status);
    this.statusChanges.push({
      atMinute: this.minute,
      account,
      health: classification.health,
      code: classification.code,
      ...(note !== undefined ? { note } : {}),
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
        ...(incident ? { cause: incident.cause, ...(incident.code !== null ? { code: incident.code } : {}) } : {}),
        by,
        ...(note !== undefined ? { note } : {}),
      });
      this.incidents.get(result.incidentId)?.fixAcknowledgedAtMinutes.push(this.minute);
    } else {
      const why = result.outcome === "no-open-incident" ? "no open incident" : `the incident is already ${result.state}`;
      this.warn(`ack for ${account} ignored: ${why}`);
    }
    this.collectEmails();
  }

  private async poll(): Promise<void> {
    const report = await runCycle(this.deps);
    this.polls += 1;
    for (const failure of report.subscriptionsFailed) this.warn(`subscription ${failure.subscriptionId} not listed: ${failure.message}`);
    for (const change of report.changes) {
      const account = accountNameOf(change);
      for (const event of change.decision.events) this.record(account, event, change.decision.incident?.code ?? null);
    }
    this.collectEmails();
  }

  private record(account: string, event: IncidentEvent, code: number | null): void {
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
      case "fix-observed":
        this.push({ account, type: event.type, cause: event.cause, ...codeField });
        return;
      case "reminded":
        // The reminder email itself is the timeline entry.
        return;
      case "recipients-dropped":
        this.warn(`${account}: ${event.detail}`);
        return;
    }
  }

  private incidentAt(event: IncidentEvent, field: "escalatedAtMinute" | "resolvedAtMinute"): void {
    const incident = this.incidents.get(event.incidentId);
    if (incident) incident[field] = this.minute;
  }

  /** Picks up what the sandbox delivered since last time; it was sent at the current minute. */
  private collectEmails(): void {
    const delivered = this.sandbox.sentEmails();
    for (const email of delivered.slice(this.emailsSeen)) {
      const key = headerValue(email.headers, "x-cmk-monitor-key") ?? "";
      const incidentId = key.split(".")[0] ?? "";
      const kindText = key.split(".").at(-1);
      const kind = MESSAGE_KINDS.find((k) => k === kindText);
      const incident = this.incidents.get(incidentId);
      const account = incident?.account ?? "(unknown account)";
      this.emails.push({ atMinute: this.minute, at: this.timeAt(this.minute), account, kind, email });
      this.push({
        account,
        type: "email",
        ...(incident ? { cause: incident.causes.at(-1)! } : {}),
        ...(kind ? { kind } : {}),
        to: email.to,
        ...(email.cc.length > 0 ? { cc: email.cc } : {}),
        subject: email.subject,
      });
    }
    this.emailsSeen = delivered.length;
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
