/**
 * Seeded fault plans: a fleet's story (revocations, acks, cause changes, recoveries) and the
 * faults to inject into it. Stories are shaped so that a fault which only delays an observation
 * by up to two polls cannot legitimately change which emails are due: status changes keep
 * clear of reminder and escalation boundaries. Any difference from the fault-free run is then
 * a real loss or duplicate.
 *
 * Some stories are mass revocations: a group of accounts with one owner and one vault revoked,
 * acknowledged and recovered together, so the fault-free run sends digests. Which messages are
 * due is as fixed as for single accounts; how they are grouped into digests may differ.
 */
import { SeededRandom } from "./random";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
export const HEALTHY_STATUS = "Access to the configured customer managed key confirmed.";

/** Revoked statuses as Azure words them (code last), one per cause the classifier knows. */
const REVOKED_STATUSES: readonly string[] = [
  [
    4000,
    "the Azure Cosmos DB service is unable to obtain the AAD authentication token for the account's default identity",
    "#azure-active-directory-token-acquisition-error",
  ],
  [
    4002,
    "the current default identity no longer has permission to the associated Key Vault key",
    "#default-identity-is-unauthorized-to-access-the-azure-key-vault-key",
  ],
  [4003, "the correspondent key is not found on the specified Key Vault", "#azure-key-vault-resource-not-found"],
  [4005, "the Azure Cosmos DB service is unable to wrap or unwrap the key", "#internal-unwrapping-procedure-error"],
  [4006, "the Azure Cosmos DB account's key vault key URI does not follow the expected format", "#improper-syntax-detected-on-the-key-vault-uri-property"],
  [4009, "the Azure Key Vault DNS name specified by the account's keyvaultkeyuri property could not be resolved", "#unable-to-resolve-the-key-vaults-dns"],
  [4015, "the Azure Cosmos DB account has an undefined default identity", "#invalid-azure-cosmos-db-default-identity"],
  [4016, "the access rules are blocking outbound requests to the Azure Key Vault service", ""],
  [4017, "the correspondent Azure Key Vault was not found", "#azure-key-vault-resource-not-found"],
  [4018, "", ""],
  [4004, "", ""],
  [4099, "", ""],
].map(([code, because, anchor]) =>
  because
    ? `Access to your account is currently revoked because ${because}; for more details about this error and how to restore access to your account please visit ${GUIDE}${anchor} (${code}).`
    : `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`,
);

export type CrashStep = "after-commit" | "after-claim" | "before-send" | "after-send" | "after-mark-sent";

export type FaultSpec =
  /** ACS answers 503 to the next `times` sends. */
  | { kind: "acs-5xx"; atMinute: number; times: number }
  /** ACS throttles the next `times` sends with Retry-After. */
  | { kind: "acs-429"; atMinute: number; times: number }
  /** ACS accepts, then the operation ends Failed (not delivered). */
  | { kind: "acs-failed"; atMinute: number; times: number }
  /** ACS delivers but the answer never reaches us (client timeout). */
  | { kind: "acs-timeout"; atMinute: number; times: number }
  /** ACS is down for a while: every send fails until `untilMinute`. */
  | { kind: "acs-outage"; atMinute: number; untilMinute: number }
  /** Table storage answers 503 to the next `times` requests. */
  | { kind: "storage-503"; atMinute: number; times: number }
  /** Azurite stops mid-cycle and comes back (from its files) for the next poll. */
  | { kind: "storage-restart"; atMinute: number }
  /** ARM throttles the next `times` list calls. */
  | { kind: "arm-429"; atMinute: number; times: number }
  /** ARM fails the next `times` list calls. */
  | { kind: "arm-5xx"; atMinute: number; times: number }
  /** ARM answers the next `times` list calls with truncated JSON. */
  | { kind: "arm-malformed"; atMinute: number; times: number }
  /** One monitor instance dies at a step of its cycle; a fresh one takes its place. */
  | { kind: "crash"; atMinute: number; instance: number; step: CrashStep }
  /** Fan-out only: the next `times` work items are handed to two instances at once (at-least-once delivery). */
  | { kind: "queue-duplicate"; atMinute: number; times: number }
  /** Fan-out only: the next `times` work items succeed but their delete is lost, so they come back a pass later. */
  | { kind: "queue-redeliver"; atMinute: number; times: number };

export interface AccountStory {
  name: string;
  subscriptionId: string;
  /** Status changes, in minute order; the first is the initial status at minute 0. */
  statuses: { atMinute: number; status: string }[];
  acks: number[];
  /** A mass revocation's shared owner (tag local part) and vault; otherwise both are the account's own. */
  owner?: string;
  vault?: string;
}

export interface FaultPlan {
  seed: number;
  start: Date;
  durationMinutes: number;
  pollIntervalMinutes: number;
  instances: number;
  /** Cycles put their work on a queue (CMK_FANOUT=queue) that the harness's simulated Functions host drains. */
  fanOut: boolean;
  subscriptionIds: string[];
  accounts: AccountStory[];
  faults: FaultSpec[];
}

export interface PlanOptions {
  revokedAccounts: number;
  healthyAccounts: number;
}

/** Seeds that fan out over the queue: every third, so with the RG/ARM alternation (seed % 2) all four pairs occur. */
export function fansOut(seed: number): boolean {
  return seed % 3 === 0;
}

/** Seeds with a mass revocation: half, chosen by seed % 4 so they also meet both discovery modes and fan-out. */
export function hasMassRevocation(seed: number): boolean {
  return seed % 4 >= 2;
}

/** Accounts in one mass revocation: from the digest threshold (5) up. */
const MASS_REVOCATION_SIZE = { min: 5, max: 12 } as const;

type StoryKind = "ack-recovers" | "ack-escalates" | "no-ack" | "cause-change";

/** When one story's status changes and acks fall; the same for every account of a mass revocation. */
function storyTimeline(random: SeededRandom): Pick<AccountStory, "statuses" | "acks"> {
  const revokedAt = random.int(1, 60);
  const status = random.pick(REVOKED_STATUSES);
  const statuses = [
    { atMinute: 0, status: HEALTHY_STATUS },
    { atMinute: revokedAt, status },
  ];
  const acks: number[] = [];
  const story = random.pick<StoryKind>(["ack-recovers", "ack-escalates", "no-ack", "cause-change"]);
  let healthyAt: number;
  if (story === "ack-recovers") {
    // ack ≤ revoked + 40, so the first safe minute after ack + 10 is well before ack + 120.
    const ackAt = revokedAt + random.int(20, 40);
    acks.push(ackAt);
    healthyAt = safeMinute(random, revokedAt, ackAt + 10);
  } else if (story === "ack-escalates") {
    const ackAt = revokedAt + random.int(20, 40);
    acks.push(ackAt);
    healthyAt = safeMinute(random, revokedAt, ackAt + 140);
  } else if (story === "no-ack") {
    healthyAt = safeMinute(random, revokedAt, revokedAt + random.pick([20, 80, 140]));
  } else {
    const changeAt = revokedAt + random.int(20, 25);
    let next = random.pick(REVOKED_STATUSES);
    if (next === status) next = REVOKED_STATUSES[(REVOKED_STATUSES.indexOf(status) + 1) % REVOKED_STATUSES.length]!;
    statuses.push({ atMinute: changeAt, status: next });
    healthyAt = safeMinute(random, changeAt, changeAt + random.pick([20, 80]));
  }
  statuses.push({ atMinute: healthyAt, status: HEALTHY_STATUS });
  return { statuses, acks };
}

const CRASH_STEPS: readonly CrashStep[] = ["after-commit", "after-claim", "before-send", "after-send", "after-mark-sent"];

/** A minute m ≥ from with (m - base) mod 60 in [30, 45]: clear of reminder/escalation edges. */
function safeMinute(random: SeededRandom, base: number, from: number): number {
  let cycle = Math.max(0, Math.ceil((from - base - 45) / 60));
  if (base + cycle * 60 + 45 < from) cycle += 1;
  const low = Math.max(from, base + cycle * 60 + 30);
  return random.int(low, base + cycle * 60 + 45);
}

export function generatePlan(seed: number, options: PlanOptions): FaultPlan {
  const random = new SeededRandom(seed);
  const tag = seed.toString(36).padStart(4, "0").slice(-6);
  const subscriptionIds = [0, 1].map((i) => `00000000-0000-4000-8000-${(seed * 2 + i).toString(16).padStart(12, "0").slice(-12)}`);
  const accounts: AccountStory[] = [];
  let lastEvent = 0;

  const lastEventOf = (story: Pick<AccountStory, "statuses" | "acks">) => Math.max(...story.statuses.map((s) => s.atMinute), ...story.acks);
  for (let i = 0; i < options.revokedAccounts; i++) {
    const story = storyTimeline(random);
    lastEvent = Math.max(lastEvent, lastEventOf(story));
    accounts.push({ name: `f${tag}-r${i}`, subscriptionId: subscriptionIds[i % 2]!, ...story });
  }
  if (hasMassRevocation(seed)) {
    // One vault goes, one owner hears about all its accounts: one timeline, copied to each account.
    const size = random.int(MASS_REVOCATION_SIZE.min, MASS_REVOCATION_SIZE.max);
    const story = storyTimeline(random);
    lastEvent = Math.max(lastEvent, lastEventOf(story));
    for (let i = 0; i < size; i++) {
      accounts.push({
        name: `f${tag}-m${i}`,
        // Spread over both subscriptions: a fault in one subscription's listing splits the group for a poll.
        subscriptionId: subscriptionIds[i % 2]!,
        statuses: story.statuses.map((change) => ({ ...change })),
        acks: [...story.acks],
        owner: `f${tag}-mass`,
        vault: `f${tag}-mass`,
      });
    }
  }
  for (let i = 0; i < options.healthyAccounts; i++) {
    accounts.push({ name: `f${tag}-h${i}`, subscriptionId: subscriptionIds[i % 2]!, statuses: [{ atMinute: 0, status: HEALTHY_STATUS }], acks: [] });
  }

  // A tail after the last change gives retries time to finish once faults have ended.
  const durationMinutes = lastEvent + 45;
  const instances = random.pick([1, 2, 2, 3]);
  const fanOut = fansOut(seed);
  const faults: FaultSpec[] = [];
  const faultCount = random.int(3, 7);
  for (let i = 0; i < faultCount; i++) {
    const atMinute = random.int(0, Math.max(1, durationMinutes - 40));
    const kind = random.pick([
      "acs-5xx",
      "acs-429",
      "acs-failed",
      "acs-timeout",
      "acs-outage",
      "storage-503",
      "storage-restart",
      "arm-429",
      "arm-5xx",
      "arm-malformed",
      "crash",
      "crash",
    ] as const);
    switch (kind) {
      case "acs-outage":
        faults.push({ kind, atMinute, untilMinute: atMinute + 30 });
        break;
      case "storage-restart":
        faults.push({ kind, atMinute: atMinute - (atMinute % 5) });
        break;
      case "crash":
        faults.push({ kind, atMinute: atMinute - (atMinute % 5), instance: random.int(0, instances - 1), step: random.pick(CRASH_STEPS) });
        break;
      case "arm-429":
      case "arm-5xx":
      case "arm-malformed":
        // At most two polls' worth of list calls: the stories tolerate a 10-minute delay.
        faults.push({ kind, atMinute, times: random.int(1, 2 * instances) });
        break;
      default:
        faults.push({ kind, atMinute, times: random.int(1, 6) });
    }
  }
  if (fanOut) {
    // The queue's own at-least-once delivery, on top of the faults every run gets.
    const queueFaults = random.int(1, 3);
    for (let i = 0; i < queueFaults; i++) {
      const atMinute = random.int(0, Math.max(1, durationMinutes - 40));
      faults.push({ kind: random.pick(["queue-duplicate", "queue-redeliver"] as const), atMinute, times: random.int(1, 3) });
    }
  }
  faults.sort((a, b) => a.atMinute - b.atMinute);
  // Faults that delay observations are kept 15 minutes apart, so no story edge is crossed.
  let lastDelaying = -Infinity;
  const spaced = faults.filter((fault) => {
    // ACS faults delay sends, not observations; queue faults repeat work, they delay nothing.
    if (fault.kind.startsWith("acs-") || fault.kind.startsWith("queue-")) return true;
    if (fault.atMinute - lastDelaying < 15) return false;
    lastDelaying = fault.atMinute;
    return true;
  });
  return {
    seed,
    start: new Date(Date.UTC(2026, 0, 1, 0, 0) + (seed % 1000) * 86_400_000),
    durationMinutes,
    pollIntervalMinutes: 5,
    instances,
    fanOut,
    subscriptionIds,
    accounts,
    faults: spaced,
  };
}
