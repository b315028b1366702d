/** Scenario files: the zod schema, the published JSON Schema, the built-in and documented scenarios. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { CAUSE_IDS, getCause } from "../../src/domain/causes";
import { classifyStatus } from "../../src/domain/classifier";
import { formatPath, parseScenario, ScenarioError, scenarioSchema, type Scenario } from "../../src/drill/scenario";

const ROOT = path.resolve(__dirname, "../..");
const FIRE_DRILL = path.join(ROOT, "scenarios/fire-drill.json");
const PUBLISHED = JSON.parse(readFileSync(path.join(ROOT, "docs/scenario.schema.json"), "utf8")) as JsonSchema;

interface JsonSchema {
  [key: string]: unknown;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
}

const HEALTHY = "Access to the configured customer managed key confirmed.";
const REVOKED_4002 =
  "Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).";

function minimal(): Record<string, any> {
  return {
    start: "2026-03-02T08:00:00Z",
    durationMinutes: 60,
    pollIntervalMinutes: 5,
    accounts: [
      {
        name: "orders-db",
        subscriptionId: "6f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e",
        resourceGroup: "rg-orders",
        keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/orders-cmk",
        status: HEALTHY,
      },
    ],
    events: [
      { atMinute: 10, account: "orders-db", status: REVOKED_4002 },
      { atMinute: 20, account: "orders-db", ack: "fixed", by: "alice@contoso.com" },
    ],
  };
}

function problemsOf(json: unknown, label = "s.json"): string[] {
  try {
    parseScenario(typeof json === "string" ? json : JSON.stringify(json), label);
  } catch (error) {
    if (error instanceof ScenarioError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("the built-in fire drill", () => {
  const scenario: Scenario = parseScenario(readFileSync(FIRE_DRILL, "utf8"), "fire-drill.json");
  const statuses = [...scenario.accounts.map((a) => a.status), ...scenario.events.flatMap((e) => (e.status ? [e.status] : []))];

  it("is valid", () => {
    expect(scenario.accounts).toHaveLength(16);
    // An identity block pasted from `az cosmosdb show`, tenantId included, is accepted as it is.
    expect(scenario.accounts.find((a) => a.name === "loyalty-db")!.identity).toMatchObject({ tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
    expect(scenario.durationMinutes).toBeGreaterThanOrEqual(240);
    expect(scenario.pollIntervalMinutes).toBe(5);
  });

  it("crosses midnight UTC, so a second day's warning digest can report a resolved warning", () => {
    const start = new Date(scenario.start);
    const end = new Date(start.getTime() + scenario.durationMinutes * 60_000);
    expect(end.toISOString().slice(0, 10)).not.toBe(start.toISOString().slice(0, 10));
  });

  it("fixes the facts behind every owner-fixable revocation before Azure reports the account healthy", () => {
    // A realistic story with probes on: the owner's change happens in the sandbox, then Azure catches up.
    for (const account of scenario.accounts) {
      const changes = [
        { atMinute: 0, status: account.status },
        ...scenario.events.filter((e) => e.account === account.name && e.status !== undefined).map((e) => ({ atMinute: e.atMinute, status: e.status! })),
      ];
      let revokedAt: number | undefined;
      for (const change of changes) {
        const classification = classifyStatus(change.status);
        if (classification.health === "revoked") revokedAt ??= change.atMinute;
        if (classification.health !== "healthy" || revokedAt === undefined) continue;
        const ownerFixable = getCause(classifyStatus(changes.find((c) => c.atMinute === revokedAt)!.status).cause).fixableBy === "owner";
        const fixes = scenario.events.filter((e) => e.account === account.name && e.sandbox && e.atMinute > revokedAt! && e.atMinute <= change.atMinute);
        expect([account.name, fixes.length > 0]).toEqual([account.name, ownerFixable]);
        revokedAt = undefined;
      }
    }
  });

  it("makes every revoked cause the classifier knows happen to some account", () => {
    // The drill's promise: each of the eleven non-healthy causes is seen at least once.
    const causes = new Set(
      statuses
        .map((status) => classifyStatus(status))
        .filter((c) => c.health === "revoked")
        .map((c) => c.cause),
    );
    expect([...causes].sort()).toEqual(CAUSE_IDS.filter((id) => id !== "healthy").sort());
  });

  it("uses only statuses the classifier reads as healthy or revoked, never unknown", () => {
    // An "unknown" status would make the monitor stay silent, which is not what the story says.
    expect(statuses.map((status) => classifyStatus(status).health).filter((health) => health === "unknown")).toEqual([]);
  });
});

describe("the example in docs/scenarios.md", () => {
  it("is a valid scenario", () => {
    const doc = readFileSync(path.join(ROOT, "docs/scenarios.md"), "utf8");
    const example = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    expect(parseScenario(example!, "docs example").events).toHaveLength(4);
  });
});

describe("docs/scenario.schema.json agrees with the zod schema", () => {
  const fromZod = z.toJSONSchema(scenarioSchema, { target: "draft-2020-12", io: "input" }) as JsonSchema;

  function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
    if (!node.$ref) return node;
    const target = node.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<any>((at, key) => at[key], root);
    return resolve(target as JsonSchema, root);
  }

  /** Flattens a schema to "path → facts" so two schemas compare field by field. */
  function facts(node: JsonSchema, root: JsonSchema, at = "$", out = new Map<string, string>()): Map<string, string> {
    const schema = resolve(node, root);
    const keep = ["type", "const", "minimum", "maximum", "minItems", "maxItems", "minLength"];
    const picked = Object.fromEntries(keep.filter((k) => schema[k] !== undefined).map((k) => [k, schema[k]]));
    // The published schema may omit "type" where "const" already says it.
    if (picked.const !== undefined) delete picked.type;
    out.set(at, JSON.stringify(picked));
    if (schema.properties) {
      out.set(`${at} fields`, Object.keys(schema.properties).sort().join(","));
      out.set(`${at} required`, [...(schema.required ?? [])].sort().join(","));
      out.set(`${at} closed`, String(schema.additionalProperties === false));
      for (const [name, child] of Object.entries(schema.properties)) facts(child, root, `${at}.${name}`, out);
    }
    if (schema.items) facts(schema.items, root, `${at}[]`, out);
    if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      facts(schema.additionalProperties, root, `${at}{}`, out);
    }
    return out;
  }

  const published = facts(PUBLISHED, PUBLISHED);
  const zod = facts(fromZod, fromZod);

  it("names the same fields, required fields and closed objects everywhere", () => {
    // Field names and required-ness are what editors use; any drift misleads scenario authors.
    const shape = (map: Map<string, string>) => [...map].filter(([key]) => / (fields|required|closed)$/.test(key));
    expect(shape(published)).toEqual(shape(zod));
  });

  it("has the same types and bounds on every field", () => {
    expect([...published].filter(([key]) => !key.includes(" "))).toEqual([...zod].filter(([key]) => !key.includes(" ")));
  });

  it("validates the built-in scenario's field names (every field it uses is published)", () => {
    // A field the file uses but the schema lacks would be an editor error in the shipped example.
    const scenario = JSON.parse(readFileSync(FIRE_DRILL, "utf8"));
    const accountFields = new Set(scenario.accounts.flatMap((a: object) => Object.keys(a)));
    const eventFields = new Set(scenario.events.flatMap((e: object) => Object.keys(e)));
    const sandboxFields = new Set(scenario.events.flatMap((e: { sandbox?: object }) => Object.keys(e.sandbox ?? {})));
    const defs = PUBLISHED.$defs as Record<string, JsonSchema>;
    for (const field of accountFields) expect(Object.keys(defs.account!.properties!)).toContain(field);
    for (const field of eventFields) expect(Object.keys(defs.event!.properties!)).toContain(field);
    for (const field of sandboxFields) expect(Object.keys(defs.sandbox!.properties!)).toContain(field);
  });
});

describe("validation errors name the field", () => {
  it.each<[string, (s: Record<string, any>) => unknown, string]>([
    // A negative or fractional minute has no meaning on the poll grid.
    ["negative minute", (s) => ((s.events[1].atMinute = -5), s), "s.json: events[1].atMinute: must be a whole number from 0 to 10080"],
    // Strings that look like numbers are a common hand-editing slip.
    ["minute as a string", (s) => ((s.events[0].atMinute = "10"), s), "s.json: events[0].atMinute: must be a whole number from 0 to 10080"],
    ["fractional poll interval", (s) => ((s.pollIntervalMinutes = 2.5), s), "s.json: pollIntervalMinutes: must be a whole number from 1 to 60"],
    // Missing required fields say "is required", not a type error about undefined.
    ["missing start", (s) => (delete s.start, s), "s.json: start: is required"],
    ["missing account status", (s) => (delete s.accounts[0].status, s), "s.json: accounts[0].status: is required"],
    ["start without a zone", (s) => ((s.start = "2026-03-02 08:00"), s), 's.json: start: must be an ISO 8601 time with a zone, e.g. "2026-03-02T08:00:00Z"'],
    // Unknown fields are errors, and the message lists what was meant.
    [
      "typo in an event field",
      (s) => ((s.events[0].atMinutes = 3), s),
      "s.json: events[0].atMinutes: unknown field (expected one of: atMinute, account, status, ack, by, sandbox, note)",
    ],
    ["unknown top-level field", (s) => ((s.pollInterval = 5), s), "s.json: pollInterval: unknown field (expected one of: $schema, description, start"],
    [
      "unknown identity field",
      (s) => ((s.accounts[0].identity = { type: "SystemAssigned", principal: "x" }), s),
      "s.json: accounts[0].identity.principal: unknown field",
    ],
    // Cross-field rules.
    ["event for an unknown account", (s) => ((s.events[1].account = "order-db"), s), 's.json: events[1].account: no account named "order-db" in accounts'],
    ["event after the end", (s) => ((s.events[1].atMinute = 61), s), "s.json: events[1].atMinute: 61 is after the end of the drill (durationMinutes is 60)"],
    [
      "event with two changes",
      (s) => ((s.events[1].status = HEALTHY), s),
      "s.json: events[1]: must have exactly one change (status, ack or sandbox), found status and ack",
    ],
    ["event with no change", (s) => (delete s.events[0].status, s), "s.json: events[0]: must have exactly one change (status, ack or sandbox), found none"],
    ["ack that is not fixed", (s) => ((s.events[1].ack = "done"), s), 's.json: events[1].ack: must be "fixed"'],
    ["by without ack", (s) => ((s.events[0].by = "alice"), s), 's.json: events[0].by: only applies with "ack": "fixed"'],
    ["duplicate account", (s) => (s.accounts.push({ ...s.accounts[0] }), s), 's.json: accounts[1].name: "orders-db" is already used by accounts[0]'],
    [
      "account name with capitals",
      (s) => ((s.accounts[0].name = "Orders"), s),
      "s.json: accounts[0].name: must be 3-44 lower-case letters, digits and hyphens",
    ],
    ["tag value not a string", (s) => ((s.accounts[0].tags = { "cmk-owner": 5 }), s), 's.json: accounts[0].tags["cmk-owner"]: must be a string'],
    ["no accounts", (s) => ((s.accounts = []), s), "s.json: accounts: must list at least one account"],
    ["not an object", () => [], "s.json: (top level): must be a JSON object"],
  ])("%s", (_name, mutate, expected) => {
    const problems = problemsOf(mutate(minimal()));
    expect(problems).toContainEqual(expect.stringContaining(expected));
  });

  it("reports bad JSON with a line and column", () => {
    // People edit these by hand: the position of a trailing comma matters more than the parser's words.
    const [problem] = problemsOf('{\n  "start": "2026-03-02T08:00:00Z",\n}\n');
    expect(problem).toMatch(/^s\.json: not valid JSON: .*\(line 3, column 1\)$/);
  });

  it("lists every field problem at once", () => {
    const s = minimal();
    s.durationMinutes = 0;
    s.events[0].atMinute = -1;
    s.accounts[0].extra = true;
    expect(problemsOf(s)).toHaveLength(3);
  });

  it("accepts the minimal scenario and defaults events to none", () => {
    const s = minimal();
    delete s.events;
    expect(problemsOf(s)).toEqual([]);
    expect(parseScenario(JSON.stringify(s), "s.json").events).toEqual([]);
  });
});

describe("sandbox events and the account's keyVault", () => {
  /** The minimal scenario with its first event replaced by a sandbox event (and an account change, if any). */
  function withSandbox(sandbox: unknown, account: Record<string, unknown> = {}): Record<string, any> {
    const s = minimal();
    s.events[0] = { atMinute: 10, account: "orders-db", sandbox };
    Object.assign(s.accounts[0], account);
    return s;
  }

  it.each<[string, unknown, Record<string, unknown>]>([
    // Each field on its own, with every value it takes.
    ["key deleted", { key: "deleted" }, {}],
    ["key restored, disabled and enabled in turn are each one value", { key: "enabled" }, {}],
    ["expiry in days, negative meaning already expired", { keyExpiresInDays: -1 }, {}],
    ["permission with how it was granted", { permission: "granted", via: "rbac" }, {}],
    ["permission removed without via (both ways)", { permission: "removed" }, {}],
    ["vault recovered", { vault: "recovered" }, {}],
    ["dns fails", { dns: "fails" }, {}],
    ["firewall blocking trusted services", { firewall: "blocks-trusted-services" }, {}],
    ["purge protection off (a vault created without it)", { purgeProtection: "off" }, {}],
    // An empty default identity is a real state worth drilling (4015), not a typo.
    ["default identity cleared", { defaultIdentity: "" }, {}],
    ["a malformed key URI is a story, not an error", { keyVaultKeyUri: "not a uri" }, {}],
    // Several facts can break in one change, e.g. a network hardening script.
    ["several fields at once", { firewall: "blocks-trusted-services", permission: "removed", via: "access-policy" }, {}],
    ["account keyVault none", { key: "deleted" }, { keyVault: "none" }],
    ["account keyVault healthy", { key: "deleted" }, { keyVault: "healthy" }],
  ])("accepts %s", (_name, sandbox, account) => {
    expect(problemsOf(withSandbox(sandbox, account))).toEqual([]);
  });

  it.each<[string, unknown, Record<string, unknown>, string]>([
    // Nothing to change is a mistake, and so is `via` alone: it only says how a permission changes.
    [
      "an empty sandbox",
      {},
      {},
      "s.json: events[0].sandbox: must change at least one thing (key, keyExpiresInDays, permission, vault, dns, firewall, purgeProtection, defaultIdentity, keyVaultKeyUri)",
    ],
    ["via without permission", { via: "rbac" }, {}, 's.json: events[0].sandbox.via: only applies with "permission"'],
    ["via with another field but no permission", { key: "deleted", via: "rbac" }, {}, 's.json: events[0].sandbox.via: only applies with "permission"'],
    // Unknown fields name the field and list the known ones, like everywhere else.
    [
      "a typo in a sandbox field",
      { premission: "granted" },
      {},
      "s.json: events[0].sandbox.premission: unknown field (expected one of: key, keyExpiresInDays, permission, via, vault, dns, firewall, purgeProtection, defaultIdentity, keyVaultKeyUri)",
    ],
    // Values are a closed list: "removed" is a permission word, not a key state.
    ["a key state that does not exist", { key: "removed" }, {}, 's.json: events[0].sandbox.key: must be one of "deleted", "restored", "disabled", "enabled"'],
    ["a permission state that does not exist", { permission: "revoked" }, {}, 's.json: events[0].sandbox.permission: must be one of "granted", "removed"'],
    [
      "via as a free-text role",
      { permission: "granted", via: "Key Vault Crypto User" },
      {},
      's.json: events[0].sandbox.via: must be one of "access-policy", "rbac"',
    ],
    ["vault purged (not a drill state)", { vault: "purged" }, {}, 's.json: events[0].sandbox.vault: must be one of "deleted", "recovered"'],
    ["dns as a boolean", { dns: false }, {}, 's.json: events[0].sandbox.dns: must be one of "resolves", "fails"'],
    ["firewall blocks (which traffic?)", { firewall: "blocks" }, {}, 's.json: events[0].sandbox.firewall: must be one of "blocks-trusted-services", "allows"'],
    ["fractional days", { keyExpiresInDays: 1.5 }, {}, "s.json: events[0].sandbox.keyExpiresInDays: must be a whole number from -3650 to 3650"],
    ["days as a string", { keyExpiresInDays: "12" }, {}, "s.json: events[0].sandbox.keyExpiresInDays: must be a whole number from -3650 to 3650"],
    ["an empty key URI", { keyVaultKeyUri: "" }, {}, "s.json: events[0].sandbox.keyVaultKeyUri: must be the key URI"],
    ["a default identity that is not text", { defaultIdentity: null }, {}, "s.json: events[0].sandbox.defaultIdentity: must be a string"],
    ["sandbox that is not an object", "key deleted", {}, 's.json: events[0].sandbox: must be an object of changes, e.g. { "key": "deleted" }'],
    // A sandbox event is one change: the status moves separately, as in Azure.
    [
      "sandbox and status in one event",
      { key: "deleted" },
      { __status: REVOKED_4002 },
      "s.json: events[0]: must have exactly one change (status, ack or sandbox), found status and sandbox",
    ],
    [
      "an unknown account keyVault setup",
      { key: "deleted" },
      { keyVault: "broken" },
      's.json: accounts[0].keyVault: must be one of "healthy", "match-status", "none"',
    ],
  ])("refuses %s", (_name, sandbox, account, expected) => {
    const { __status, ...accountFields } = account;
    const s = withSandbox(sandbox, accountFields);
    if (__status !== undefined) s.events[0].status = __status;
    expect(problemsOf(s)).toContainEqual(expect.stringContaining(expected));
  });
});

describe("formatPath", () => {
  it.each<[PropertyKey[], string]>([
    [["events", 3, "atMinute"], "events[3].atMinute"],
    // Tag names with hyphens are quoted so the path can be pasted back into a JSON pointer tool.
    [["accounts", 0, "tags", "cmk-owner"], 'accounts[0].tags["cmk-owner"]'],
    [["$schema"], "$schema"],
  ])("%j → %s", (segments, expected) => {
    expect(formatPath(segments)).toBe(expected);
  });
});
