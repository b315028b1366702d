/**
 * Drill scenarios: a fleet of accounts and what happens to them over simulated time.
 * The zod schema here is the contract; docs/scenario.schema.json publishes the same shape for
 * editors, and test/drill/scenario.test.ts keeps the two in step.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** A week of simulated time is plenty for any drill and keeps a typo from running for hours. */
export const MAX_DURATION_MINUTES = 7 * 24 * 60;
export const MAX_ACCOUNTS = 200;
export const MAX_EVENTS = 2000;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// Cosmos DB account names are DNS labels: 3-44 lower-case letters, digits and inner hyphens.
const ACCOUNT_NAME = /^[a-z0-9](?:[a-z0-9-]{1,42})[a-z0-9]$/;
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;

/** "is required" for a missing field, `expected` for anything else of the wrong kind. */
function expecting(expected: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : expected) };
}

function wholeNumber(min: number, max: number) {
  const message = max === Number.MAX_SAFE_INTEGER ? `must be a whole number ≥ ${min}` : `must be a whole number from ${min} to ${max}`;
  return z.number(expecting(message)).int(message).min(min, message).max(max, message);
}

function text(what = "must be a non-empty string") {
  return z.string(expecting(what)).min(1, what);
}

const optionalNote = z.string(expecting("must be a string")).optional();

/** A string from a fixed list; the message lists the choices. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((value) => JSON.stringify(value)).join(", ")}` });
}

export const KEY_VAULT_SETUPS = ["healthy", "match-status", "none"] as const;
/** Ten years either way covers every expiry worth drilling. */
const MAX_KEY_EXPIRY_DAYS = 3650;

const identitySchema = z.strictObject({
  type: text('must be a string such as "SystemAssigned" or "SystemAssigned,UserAssigned"'),
  principalId: z.string(expecting("must be a GUID")).regex(GUID, "must be a GUID").optional(),
  /** As `az cosmosdb show` prints it, so a real account pastes in; the sandbox answers with its own tenant. */
  tenantId: z.string(expecting("must be a GUID")).regex(GUID, "must be a GUID").optional(),
  userAssignedIdentities: z
    .record(
      z.string(),
      z.strictObject({
        principalId: z.string(expecting("must be a GUID")).regex(GUID, "must be a GUID").optional(),
        clientId: z.string(expecting("must be a GUID")).regex(GUID, "must be a GUID").optional(),
      }),
      expecting("must be an object keyed by user-assigned identity resource id"),
    )
    .optional(),
});

export const accountSchema = z.strictObject({
  name: z.string(expecting("must be a string")).regex(ACCOUNT_NAME, "must be 3-44 lower-case letters, digits and hyphens (a Cosmos DB account name)"),
  subscriptionId: z.string(expecting("must be a GUID")).regex(GUID, "must be a GUID"),
  resourceGroup: z.string(expecting("must be a string")).regex(RESOURCE_GROUP, "must be a resource group name (1-90 characters)"),
  location: text().optional(),
  // Not checked for shape: a malformed key URI is itself a scenario worth drilling.
  keyVaultKeyUri: text("must be the key URI, e.g. https://<vault>.vault.azure.net/keys/<key>"),
  defaultIdentity: text().optional(),
  identity: identitySchema.optional(),
  tags: z.record(z.string(), z.string(expecting("must be a string")), expecting("must be an object of string values")).optional(),
  /** The account's `customerManagedKeyStatus` when the drill starts, exactly as Azure words it. */
  status: text("must be the account's customerManagedKeyStatus text"),
  /**
   * The vault and key behind the URI when the drill starts (src/sandbox/keyVaultProvisioning.ts).
   * The drill's default is "match-status": an account that starts revoked starts with the fact its
   * code is about really broken, so the probes see what Azure reports.
   */
  keyVault: oneOf(KEY_VAULT_SETUPS).optional(),
  /** "off": the sandbox's change events for this account's changes are not delivered (only the polls see them). */
  changeEvents: oneOf(["on", "off"]).optional(),
  note: optionalNote,
});

/**
 * What a `sandbox` event changes in the world behind the account: the facts the probes read.
 * Each field is one call on the sandbox's state API (src/drill/sandboxEvents.ts); the account's
 * status does not change with them, as in Azure, where the status lags the facts.
 */
export const sandboxChangeSchema = z.strictObject(
  {
    key: oneOf(["deleted", "restored", "disabled", "enabled"]).optional(),
    /** Sets the key's expiry this many days after the simulated now (0 or less: already expired). */
    keyExpiresInDays: wholeNumber(-MAX_KEY_EXPIRY_DAYS, MAX_KEY_EXPIRY_DAYS).optional(),
    permission: oneOf(["granted", "removed"]).optional(),
    /** How the permission is granted or removed; only with `permission`. */
    via: oneOf(["access-policy", "rbac"]).optional(),
    vault: oneOf(["deleted", "recovered"]).optional(),
    dns: oneOf(["resolves", "fails"]).optional(),
    firewall: oneOf(["blocks-trusted-services", "allows"]).optional(),
    /** Azure cannot turn purge protection off once it is on: "off" describes a vault created without it. */
    purgeProtection: oneOf(["on", "off"]).optional(),
    /** The account's new `properties.defaultIdentity`; "" clears it. */
    defaultIdentity: z.string(expecting("must be a string")).optional(),
    /** The account's new `properties.keyVaultKeyUri`; not checked for shape, like the account's. */
    keyVaultKeyUri: text("must be the key URI, e.g. https://<vault>.vault.azure.net/keys/<key>").optional(),
  },
  expecting('must be an object of changes, e.g. { "key": "deleted" }'),
);

/** Every `sandbox` field that changes something (`via` only qualifies `permission`). */
export const SANDBOX_CHANGE_FIELDS = [
  "key",
  "keyExpiresInDays",
  "permission",
  "vault",
  "dns",
  "firewall",
  "purgeProtection",
  "defaultIdentity",
  "keyVaultKeyUri",
] as const;

/**
 * The fields that say what an event changes; each event has exactly one. A new kind of change
 * is one more optional field here, one more branch in `eventChange`, and one more `oneOf`
 * entry in docs/scenario.schema.json.
 */
export const EVENT_CHANGE_FIELDS = ["status", "ack", "sandbox"] as const;

export const eventSchema = z.strictObject({
  atMinute: wholeNumber(0, MAX_DURATION_MINUTES),
  account: z.string(expecting("must be the name of an account in accounts")),
  /** Azure now reports this `customerManagedKeyStatus` for the account. */
  status: text("must be the account's new customerManagedKeyStatus text").optional(),
  /** An owner tells the monitor the cause is fixed, as `cmk-monitor ack --fixed` would. */
  ack: z.literal("fixed", { error: 'must be "fixed"' }).optional(),
  /** Who acknowledged; only with `ack`. */
  by: text().optional(),
  /** The facts behind the account change (key, vault, permission, DNS, firewall, identity, URI). */
  sandbox: sandboxChangeSchema.optional(),
  note: optionalNote,
});

export const scenarioSchema = z.strictObject({
  /** Lets editors find docs/scenario.schema.json; ignored by the drill. */
  $schema: z.string(expecting("must be a string")).optional(),
  description: optionalNote,
  start: z.iso.datetime({ offset: true, ...expecting('must be an ISO 8601 time with a zone, e.g. "2026-03-02T08:00:00Z"') }),
  durationMinutes: wholeNumber(1, MAX_DURATION_MINUTES),
  pollIntervalMinutes: wholeNumber(1, 60),
  /** "off": no change event is delivered in this run, as without the Event Grid subscriptions. Default "on". */
  changeEvents: oneOf(["on", "off"]).optional(),
  accounts: z
    .array(accountSchema, expecting("must be a list of accounts"))
    .min(1, "must list at least one account")
    .max(MAX_ACCOUNTS, `must list at most ${MAX_ACCOUNTS} accounts`),
  events: z.array(eventSchema, expecting("must be a list of events")).max(MAX_EVENTS, `must list at most ${MAX_EVENTS} events`).optional(),
});

export type ScenarioAccount = z.infer<typeof accountSchema>;
export type ScenarioEvent = z.infer<typeof eventSchema>;
export type Scenario = Omit<z.infer<typeof scenarioSchema>, "events"> & { events: ScenarioEvent[] };

export type SandboxChange = z.infer<typeof sandboxChangeSchema>;

export type EventChange = { kind: "status"; status: string } | { kind: "ack"; by: string | undefined } | { kind: "sandbox"; change: SandboxChange };

/** What one (validated) event changes. */
export function eventChange(event: ScenarioEvent): EventChange {
  if (event.status !== undefined) return { kind: "status", status: event.status };
  if (event.sandbox !== undefined) return { kind: "sandbox", change: event.sandbox };
  return { kind: "ack", by: event.by };
}

/** Every problem in a scenario file, each as "<file>: <field path>: <what is wrong>". */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/** The fire drill `npm start` runs when no --scenario is given. */
export function defaultScenarioPath(): string {
  // Walk up from this file: it runs from src/drill under jest and from dist/src/drill when built.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "scenarios", "fire-drill.json");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve("scenarios", "fire-drill.json");
  }
}

/** Reads and validates a scenario file; throws ScenarioError naming the file and each bad field. */
export async function loadScenario(file: string, label = file): Promise<Scenario> {
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError([`${label}: cannot read the scenario file (${code === "ENOENT" ? "no such file" : (error as Error).message})`]);
  }
  return parseScenario(source, label);
}

/** Validates scenario JSON text; `label` names the file in messages. */
export function parseScenario(source: string, label: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(source.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ScenarioError([`${label}: not valid JSON: ${describeJsonError(source, error as Error)}`]);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    throw new ScenarioError(parsed.error.issues.flatMap((issue) => describeIssue(issue)).map((problem) => `${label}: ${problem}`));
  }
  const scenario: Scenario = { ...parsed.data, events: parsed.data.events ?? [] };
  const problems = crossFieldProblems(scenario);
  if (problems.length > 0) throw new ScenarioError(problems.map((problem) => `${label}: ${problem}`));
  return scenario;
}

/** Rules one field cannot check alone; only run once every field has the right shape. */
function crossFieldProblems(scenario: Scenario): string[] {
  const problems: string[] = [];
  const names = new Map<string, number>();
  scenario.accounts.forEach((account, index) => {
    const earlier = names.get(account.name);
    // Account names are global DNS names in Azure, so the sandbox refuses duplicates too.
    if (earlier !== undefined) problems.push(`accounts[${index}].name: "${account.name}" is already used by accounts[${earlier}]`);
    else names.set(account.name, index);
  });
  scenario.events.forEach((event, index) => {
    const at = `events[${index}]`;
    if (!names.has(event.account)) {
      problems.push(`${at}.account: no account named ${JSON.stringify(event.account)} in accounts`);
    }
    if (event.atMinute > scenario.durationMinutes) {
      problems.push(`${at}.atMinute: ${event.atMinute} is after the end of the drill (durationMinutes is ${scenario.durationMinutes})`);
    }
    const changes = EVENT_CHANGE_FIELDS.filter((field) => event[field] !== undefined);
    if (changes.length !== 1) {
      const found = changes.length === 0 ? "none" : changes.join(" and ");
      problems.push(`${at}: must have exactly one change (${EVENT_CHANGE_FIELDS.slice(0, -1).join(", ")} or ${EVENT_CHANGE_FIELDS.at(-1)}), found ${found}`);
    }
    if (event.by !== undefined && event.ack === undefined) problems.push(`${at}.by: only applies with "ack": "fixed"`);
    if (event.sandbox !== undefined) problems.push(...sandboxChangeProblems(event.sandbox, `${at}.sandbox`));
  });
  return problems;
}

function sandboxChangeProblems(change: SandboxChange, at: string): string[] {
  const problems: string[] = [];
  if (!SANDBOX_CHANGE_FIELDS.some((field) => change[field] !== undefined)) {
    problems.push(`${at}: must change at least one thing (${SANDBOX_CHANGE_FIELDS.join(", ")})`);
  }
  if (change.via !== undefined && change.permission === undefined) problems.push(`${at}.via: only applies with "permission"`);
  return problems;
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field${knownFieldsHint(issue.path)}`);
  }
  const where = issue.path.length === 0 ? "(top level)" : formatPath(issue.path);
  if (issue.code === "invalid_type" && issue.path.length === 0) return [`${where}: must be a JSON object`];
  return [`${where}: ${issue.message}`];
}

/** Lists the allowed fields for an object at `path`, so a typo is one glance from its fix. */
function knownFieldsHint(objectPath: readonly PropertyKey[]): string {
  const last = objectPath.at(-1);
  const parent = objectPath.at(-2);
  const shape =
    objectPath.length === 0
      ? scenarioSchema.shape
      : parent === "accounts" && typeof last === "number"
        ? accountSchema.shape
        : parent === "events" && typeof last === "number"
          ? eventSchema.shape
          : last === "identity"
            ? identitySchema.shape
            : last === "sandbox"
              ? sandboxChangeSchema.shape
              : undefined;
  return shape ? ` (expected one of: ${Object.keys(shape).join(", ")})` : "";
}

/** `events[3].atMinute`, `accounts[0].tags["cmk-owner"]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** Node says "... at position 123"; people want a line and column. */
function describeJsonError(source: string, error: Error): string {
  const message = error.message.replace(/\s+/g, " ").trim();
  const position = /at position (\d+)/.exec(message);
  if (!position) return message;
  const offset = Number(position[1]);
  const before = source.slice(0, offset).split("\n");
  return `${message} (line ${before.length}, column ${before.at(-1)!.length + 1})`;
}
