/**
 * A whole MonitorDeps on the fakes, with settings from loadConfig of a valid environment, and
 * handles to each fake so a test can steer and inspect them. Override any piece with `deps`.
 */
import { loadConfig, type Environment, type MonitorSettings } from "../../src/config";
import { Slots } from "../../src/pipeline/concurrency";
import { startCycle, type CycleContext } from "../../src/pipeline/cycleContext";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";
import { PROBE_CONCURRENCY } from "../../src/pipeline/probeStage";
import { VALID_SETTINGS } from "../fixtures/settings";
import { FakeAccountSource } from "./fakeAccountSource";
import { FakeClock } from "./fakeClock";
import { FakeEmailSender } from "./fakeEmailSender";
import { FakeFleetDiscovery } from "./fakeFleetDiscovery";
import { FakeLinkKeys } from "./fakeLinkKeys";
import { MemoryHeartbeat } from "./memoryHeartbeat";
import { MemoryFleetIndex } from "./memoryFleetIndex";
import { MemoryIncidentStore } from "./memoryIncidentStore";
import { MemorySendBudget } from "./memorySendBudget";
import { RecordingLogger } from "./recordingLogger";

export interface FakeMonitor {
  deps: MonitorDeps;
  accounts: FakeAccountSource;
  discovery: FakeFleetDiscovery;
  store: MemoryIncidentStore;
  email: FakeEmailSender;
  heartbeat: MemoryHeartbeat;
  sendBudget: MemorySendBudget;
  linkKeys: FakeLinkKeys;
  clock: FakeClock;
  log: RecordingLogger;
  /** A run's context at the clock's current time. */
  context(): CycleContext;
}

/** The settings of VALID_SETTINGS plus `env`, as the monitor reads them. */
export function testSettings(env: Environment = {}): MonitorSettings {
  return loadConfig({ ...VALID_SETTINGS, ...env });
}

export function fakeMonitorDeps(options: { env?: Environment; deps?: Partial<MonitorDeps>; clock?: FakeClock } = {}): FakeMonitor {
  const accounts = new FakeAccountSource();
  const clock = options.clock ?? new FakeClock();
  const fakes = {
    accounts,
    discovery: new FakeFleetDiscovery(accounts),
    store: new MemoryIncidentStore(),
    fleetIndex: new MemoryFleetIndex(),
    email: new FakeEmailSender(),
    heartbeat: new MemoryHeartbeat(),
    sendBudget: new MemorySendBudget(),
    linkKeys: new FakeLinkKeys(),
    clock,
    log: new RecordingLogger(),
  };
  const deps: MonitorDeps = {
    ...fakes,
    warnings: fakes.store,
    settings: testSettings(options.env),
    callSlots: new Slots(PROBE_CONCURRENCY),
    ...options.deps,
  };
  return { ...fakes, deps, context: () => startCycle(deps, clock.now()) };
}
