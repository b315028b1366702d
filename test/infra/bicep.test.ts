/**
 * Checks on infra/ and azure.yaml that need no Bicep compiler: the Function App sets every
 * setting src/config.ts reads, each role assignment is a known role with a reason, nothing
 * secret-looking is deployed, and azd finds the service and the infra.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { SETTING_NAMES, settingsSchema } from "../../src/config";

const ROOT = join(__dirname, "..", "..");
const INFRA = join(ROOT, "infra");

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** Settings the app reads that must NOT be deployed: each is a key-bearing local-only alternative. */
const LOCAL_ONLY_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  // endpoint=...;accesskey=... — in Azure the app uses ACS_ENDPOINT with its identity.
  ["ACS_CONNECTION_STRING", "ACS access-key connection string"],
  // Azurite/storage connection string for state — in Azure, AzureWebJobsStorage__tableServiceUri.
  ["CMK_STATE_CONNECTION", "storage connection string for the state table"],
  // Host storage connection string — in Azure, the AzureWebJobsStorage__* identity settings.
  ["AzureWebJobsStorage", "host storage connection string"],
  // A secret never put in Bicep — unset, the app creates its link-signing key and keeps it in its meta table.
  ["CMK_LINK_SIGNING_KEY", "link-signing secret"],
];

/** Every role definition the templates may assign, verified against Azure's built-in roles list. */
const KNOWN_ROLES: Readonly<Record<string, string>> = {
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
  "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
  "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e": "Support Request Contributor",
};

/** The only actions a custom role may hold: Microsoft's documented set for Entra-authenticated ACS email. */
const CUSTOM_ROLE_ALLOWED_ACTIONS: readonly string[] = [
  "Microsoft.Communication/CommunicationServices/Read",
  "Microsoft.Communication/CommunicationServices/Write",
  "Microsoft.Communication/EmailServices/write",
];

// ---------------------------------------------------------------------------------------------
// A small Bicep reader: comments blanked (string-aware), resources and statements located
// ---------------------------------------------------------------------------------------------

interface BicepFile {
  readonly path: string; // relative to the repo root
  readonly raw: string;
  readonly code: string; // raw with comments replaced by spaces; same offsets and lines
}

interface BicepResource {
  readonly file: BicepFile;
  readonly symbol: string;
  readonly type: string;
  readonly existing: boolean;
  readonly line: number; // 0-based line of the `resource` keyword
  readonly body: string; // text between the body's braces
}

function listFiles(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listFiles(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

/** Replaces // and /* *\/ comments with spaces, leaving strings ('…' and '''…''') intact. */
function blankComments(text: string): string {
  const out = text.split("");
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      i = end < 0 ? text.length : end + 3;
    } else if (text[i] === "'") {
      i++;
      while (i < text.length && text[i] !== "'") i += text[i] === "\\" ? 2 : 1;
      i++;
    } else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") out[i++] = " ";
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (; i < stop; i++) if (out[i] !== "\n") out[i] = " ";
    } else {
      i++;
    }
  }
  return out.join("");
}

/** Index just past the bracket that closes the one at `open`, skipping strings. */
function closingIndex(code: string, open: number): number {
  const pairs: Record<string, string> = { "{": "}", "[": "]", "(": ")" };
  const stack: string[] = [];
  let i = open;
  while (i < code.length) {
    const ch = code[i]!;
    if (code.startsWith("'''", i)) {
      const end = code.indexOf("'''", i + 3);
      i = end < 0 ? code.length : end + 3;
      continue;
    }
    if (ch === "'") {
      i++;
      while (i < code.length && code[i] !== "'") i += code[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (pairs[ch]) stack.push(pairs[ch]!);
    else if (ch === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i + 1;
    }
    i++;
  }
  throw new Error(`unbalanced bracket at offset ${open}`);
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length - 1;
}

function readBicep(path: string): BicepFile {
  const raw = readFileSync(path, "utf8");
  return { path: relative(ROOT, path), raw, code: blankComments(raw) };
}

function resourcesIn(file: BicepFile): BicepResource[] {
  const found: BicepResource[] = [];
  const declaration = /^[ \t]*resource\s+(\w+)\s+'([^']+)'\s+(existing\s+)?=/gm;
  for (const match of file.code.matchAll(declaration)) {
    const open = file.code.indexOf("{", match.index! + match[0].length);
    const close = closingIndex(file.code, open);
    found.push({
      file,
      symbol: match[1]!,
      type: match[2]!.split("@")[0]!,
      existing: Boolean(match[3]),
      line: lineOf(file.code, match.index!),
      body: file.code.slice(open + 1, close - 1),
    });
  }
  return found;
}

/** Top-level statements (decorators, params, vars…), each joined across open brackets. */
function statementsIn(file: BicepFile): string[] {
  const { code } = file;
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i <= code.length) {
    if (i === code.length || code[i] === "\n") {
      const statement = code.slice(start, i).trim();
      if (statement) statements.push(statement);
      start = ++i;
    } else if (code[i] === "'") i = skipString(code, i);
    else if ("{[(".includes(code[i]!)) i = closingIndex(code, i);
    else i++;
  }
  return statements;
}

function skipString(code: string, start: number): number {
  if (code.startsWith("'''", start)) return code.indexOf("'''", start + 3) + 3;
  let i = start + 1;
  while (i < code.length && code[i] !== "'") i += code[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** Calls `visit` at the start of every line that sits directly inside `text` (depth 0). */
function forEachTopLevelLine(text: string, visit: (rest: string) => void): void {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    if (depth === 0 && (i === 0 || text[i - 1] === "\n")) visit(text.slice(i));
    const ch = text[i]!;
    if (ch === "'") {
      i = skipString(text, i);
      continue;
    }
    if ("{[(".includes(ch)) depth++;
    else if ("}])".includes(ch)) depth--;
    i++;
  }
}

/** Strips the braces of an object literal; a resource body (already inside braces) is left as is. */
function unwrap(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith("{") && trimmed.endsWith("}") ? trimmed.slice(1, -1) : text;
}

/** The value expression of `key:` directly inside a body or object literal (not nested deeper). */
function propertyOf(text: string, key: string): string | undefined {
  const body = unwrap(text);
  let value: string | undefined;
  forEachTopLevelLine(body, (rest) => {
    if (value !== undefined) return;
    const match = new RegExp(`^[ \\t]*${key}[ \\t]*:[ \\t]*`).exec(rest);
    if (!match) return;
    const start = match[0].length;
    if ("{[".includes(rest[start]!)) value = rest.slice(start, closingIndex(rest, start));
    else value = rest.slice(start, rest.indexOf("\n") < 0 ? rest.length : rest.indexOf("\n")).trim();
  });
  return value;
}

/** Keys written directly inside an object literal `{ … }`. */
function keysOf(objectLiteral: string): string[] {
  const keys: string[] = [];
  forEachTopLevelLine(unwrap(objectLiteral), (rest) => {
    const match = /^[ \t]*([A-Za-z_]\w*|'[^']+')[ \t]*:/.exec(rest);
    if (match) keys.push(match[1]!.replace(/'/g, ""));
  });
  return keys;
}

/** `//` lines directly above a line, bottom-up order reversed back to reading order. */
function commentAbove(file: BicepFile, line: number): string {
  const lines = file.raw.split("\n");
  const comment: string[] = [];
  for (let i = line - 1; i >= 0 && lines[i]!.trim().startsWith("//"); i--) {
    comment.unshift(lines[i]!.trim().replace(/^\/\/\s?/, ""));
  }
  return comment.join(" ");
}

// ---------------------------------------------------------------------------------------------
// Loaded once
// ---------------------------------------------------------------------------------------------

const bicepFiles = listFiles(INFRA, ".bicep").map(readBicep);
const resources = bicepFiles.flatMap(resourcesIn);
const byPath = (path: string): BicepFile => {
  const file = bicepFiles.find((f) => f.path === path);
  if (!file) throw new Error(`${path} is missing`);
  return file;
};

const roleAssignments = resources.filter((r) => r.type === "Microsoft.Authorization/roleAssignments" && !r.existing);
const siteResources = resources.filter((r) => r.type === "Microsoft.Web/sites" && !r.existing);
const appSettingsResource = resources.find((r) => r.type === "config" && propertyOf(r.body, "name") === "'appsettings'");
const appSettingsBlock = appSettingsResource ? (propertyOf(appSettingsResource.body, "properties") ?? "") : "";
const appSettingNames = keysOf(appSettingsBlock);

function varValue(file: BicepFile, name: string): { value: string; comment: string } | undefined {
  const line = file.raw.split("\n").find((l) => new RegExp(`^var\\s+${name}\\s*=`).test(l));
  const match = line && /=\s*'([^']*)'\s*(?:\/\/\s*(.*))?$/.exec(line);
  return match ? { value: match[1]!, comment: (match[2] ?? "").trim() } : undefined;
}

/** What a role assignment's roleDefinitionId points to: a built-in id (with its label) or a custom role. */
function roleOf(
  assignment: BicepResource,
): { kind: "built-in"; id: string; label?: string } | { kind: "custom"; definition: BicepResource } | { kind: "unknown"; expression: string } {
  const expression = propertyOf(propertyOf(assignment.body, "properties") ?? "", "roleDefinitionId") ?? "";
  const argument = /ResourceId\(\s*'Microsoft\.Authorization\/roleDefinitions'\s*,\s*([^)]+?)\s*\)/.exec(expression)?.[1];
  if (!argument) return { kind: "unknown", expression };
  const literal = /^'([0-9a-f-]{36})'$/.exec(argument);
  if (literal) return { kind: "built-in", id: literal[1]! };
  const symbolName = /^(\w+)\.name$/.exec(argument);
  if (symbolName) {
    const definition = resources.find((r) => r.file === assignment.file && r.symbol === symbolName[1] && r.type === "Microsoft.Authorization/roleDefinitions");
    return definition ? { kind: "custom", definition } : { kind: "unknown", expression };
  }
  const variable = varValue(assignment.file, argument);
  return variable ? { kind: "built-in", id: variable.value, label: variable.comment } : { kind: "unknown", expression };
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("infra layout", () => {
  it.each([
    // Subscription scope: the template creates its own resource group (azd and `az deployment sub create`).
    ["infra/main.bicep", "subscription"],
    // Deployable on its own at each monitored subscription (and from main.bicep in a loop).
    ["infra/monitored-scope/subscription.bicep", "subscription"],
    // Deployable on its own at a management group, covering every subscription below it.
    ["infra/monitored-scope/management-group.bicep", "managementGroup"],
  ])("%s targets %s", (path, scope) => {
    expect(byPath(path).code).toMatch(new RegExp(`^targetScope = '${scope}'`, "m"));
  });

  it("main.bicep creates the resource group it deploys into", () => {
    expect(resources.some((r) => r.file.path === "infra/main.bicep" && r.type === "Microsoft.Resources/resourceGroups")).toBe(true);
  });

  it("finds exactly one Function App and its appsettings", () => {
    expect(siteResources).toHaveLength(1);
    expect(appSettingsResource?.file).toBe(siteResources[0]!.file);
    expect(appSettingNames.length).toBeGreaterThan(10);
  });
});

describe("Function App settings match src/config.ts", () => {
  const deployed = SETTING_NAMES.filter((name) => !LOCAL_ONLY_SETTINGS.some(([excluded]) => excluded === name));

  it.each(deployed.map((name) => [name]))("sets %s under the same name", (name) => {
    expect(appSettingNames).toContain(name);
  });

  it.each(LOCAL_ONLY_SETTINGS)("does not set %s (%s)", (name) => {
    expect(appSettingNames).not.toContain(name);
    for (const file of bicepFiles) expect(file.code).not.toMatch(new RegExp(`^\\s*${name}\\s*:`, "m"));
  });

  it("excludes only names the app actually reads, so the list cannot go stale", () => {
    for (const [name] of LOCAL_ONLY_SETTINGS) expect(SETTING_NAMES).toContain(name);
  });

  it.each([
    // The host reaches storage with the identity, never a connection string.
    ["AzureWebJobsStorage__credential", /^'managedidentity'$/],
    // User-assigned: the host must be told which identity.
    ["AzureWebJobsStorage__clientId", /^identityClientId$/],
    ["AzureWebJobsStorage__blobServiceUri", /primaryEndpoints\.blob$/],
    ["AzureWebJobsStorage__queueServiceUri", /primaryEndpoints\.queue$/],
    ["AzureWebJobsStorage__tableServiceUri", /primaryEndpoints\.table$/],
    // DefaultAzureCredential picks the user-assigned identity for ARM, Key Vault and email.
    ["AZURE_CLIENT_ID", /^identityClientId$/],
    // Telemetry is signed with the identity because App Insights has local auth off.
    ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING", /Authorization=AAD'$/],
  ])("wires %s for identity-based access", (name, value) => {
    expect(propertyOf(appSettingsBlock, name)).toMatch(value);
  });

  it.each([
    // Flex Consumption rejects these: the runtime lives in functionAppConfig instead.
    ["FUNCTIONS_WORKER_RUNTIME"],
    ["FUNCTIONS_EXTENSION_VERSION"],
    ["WEBSITE_RUN_FROM_PACKAGE"],
  ])("does not set %s (not allowed on Flex Consumption)", (name) => {
    expect(appSettingNames).not.toContain(name);
  });

  describe("main.bicep parameter defaults equal the code's defaults", () => {
    // Parsing with only the required sender yields every default the schema applies.
    const defaults = settingsSchema.parse({ CMK_EMAIL_SENDER: "sender@example.com" }) as Record<string, unknown>;
    const main = byPath("infra/main.bicep");
    it.each([
      ["CMK_POLL_SCHEDULE", "pollSchedule"],
      ["CMK_POLL_INTERVAL_MINUTES", "pollIntervalInMinutes"],
      ["CMK_KEY_EXPIRY_WARNING_DAYS", "keyExpiryWarningDays"],
      ["CMK_PROBES", "probes"],
      ["CMK_REMINDER_INTERVAL_MINUTES", "reminderIntervalInMinutes"],
      ["CMK_OWNER_TAG", "ownerTag"],
      ["CMK_STATE_TABLE", "stateTableName"],
      // Lists default to empty: '' in Bicep, [] after the app splits it.
      ["CMK_DEFAULT_RECIPIENTS", "defaultRecipients"],
      // Caps on what one account's tag can make the monitor email.
      ["CMK_MAX_OWNER_RECIPIENTS", "maxOwnerRecipients"],
      ["CMK_MAX_NEW_RECIPIENTS_PER_DAY", "maxNewRecipientsPerDay"],
      // The dashboard needs a function key unless App Service Authentication is configured.
      ["CMK_DASHBOARD_AUTH", "dashboardAuth"],
      ["CMK_DASHBOARD_ALLOWED_PRINCIPALS", "dashboardAllowedPrincipals"],
      // Fleet scale: discovery, fan-out, digests and the ACS send rate.
      ["CMK_MANAGEMENT_GROUPS", "monitoredManagementGroups"],
      ["CMK_DISCOVERY", "discovery"],
      ["CMK_ARM_CONCURRENCY", "armConcurrency"],
      ["CMK_FANOUT", "fanout"],
      ["CMK_FANOUT_THRESHOLD", "fanoutThreshold"],
      ["CMK_WORK_QUEUE", "workQueueName"],
      ["CMK_DIGEST_THRESHOLD", "digestThreshold"],
      // How long the state table keeps what the retention sweep prunes.
      ["CMK_RETENTION_DAYS", "retentionDays"],
      // The weekly report is off unless asked for.
      ["CMK_WEEKLY_REPORT", "weeklyReport"],
    ])("%s defaults like param %s", (setting, param) => {
      const declaration = new RegExp(`^param\\s+${param}\\s+\\w+\\s*=\\s*(.+)$`, "m").exec(main.code)?.[1]?.trim();
      const expected = defaults[setting];
      const asBicep = Array.isArray(expected) ? `'${expected.join(",")}'` : typeof expected === "number" ? String(expected) : `'${String(expected)}'`;
      expect(declaration).toBe(asBicep);
    });
  });
});

describe("email rates follow the sender domain", () => {
  const main = byPath("infra/main.bicep");
  const functionApp = byPath("infra/modules/function-app.bicep");
  it.each([["emailRatePerMinute"], ["emailRatePerHour"], ["emailStatusRatePerMinute"], ["emailStatusRatePerHour"]])(
    "param %s defaults to 0 (the domain kind's ACS limit) and 0 reaches the app as an empty setting",
    (param) => {
      // An explicit number in main.bicep would override the domain's limits for every deployment.
      expect(new RegExp(`^param\\s+${param}\\s+int\\s*=\\s*0$`, "m").test(main.code)).toBe(true);
      expect(functionApp.code).toMatch(new RegExp(`${param} == 0 \\? '' : string\\(${param}\\)`));
    },
  );

  it("derives CMK_EMAIL_DOMAIN_KIND from whether a verified custom domain is the sender", () => {
    // The sender is the custom domain only once verified (modules/communication.bicep); the limits must match the sender.
    expect(main.code).toMatch(/emailDomainKind: !empty\(customEmailDomain\) && customEmailDomainVerified \? 'custom' : 'azure-managed'/);
    expect(functionApp.code).toMatch(/CMK_EMAIL_DOMAIN_KIND: emailDomainKind/);
  });
});

describe("Function App hosting", () => {
  it.each([
    // Flex Consumption plan.
    ["plan sku FC1", /name:\s*'FC1'/],
    ["plan tier FlexConsumption", /tier:\s*'FlexConsumption'/],
    // Linux Function App.
    ["kind functionapp,linux", /kind:\s*'functionapp,linux'/],
    // Node 22 runtime, declared in functionAppConfig.
    ["runtime node", /runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/],
    // The deployment package is read with the user-assigned identity, not a storage key.
    ["deployment storage via user-assigned identity", /type:\s*'UserAssignedIdentity'\s*userAssignedIdentityResourceId:\s*identityId/],
    // One identity: user-assigned only, no system-assigned identity alongside it.
    ["identity UserAssigned only", /identity:\s*\{\s*type:\s*'UserAssigned'/],
  ])("%s", (_what, pattern) => {
    expect(siteResources[0]!.file.code).toMatch(pattern);
  });
});

describe("the dashboard in anonymous mode", () => {
  const auth = resources.filter((r) => r.type === "Microsoft.Web/sites/config" && /name:\s*'authsettingsV2'/.test(r.body));
  const declaration = (r: BicepResource) => r.file.code.split("\n")[r.line] ?? "";

  it("deploys App Service Authentication exactly when dashboardAuth is anonymous", () => {
    // Without the module, x-ms-client-principal-id is whatever a client sends.
    expect(auth).toHaveLength(1);
    expect(declaration(auth[0]!)).toMatch(/=\s*if\s*\(dashboardAuth == 'anonymous'\)\s*\{/);
  });

  it.each([
    // The module is on and every request must be signed in...
    ["platform enabled", /platform:\s*\{\s*enabled:\s*true\s*\}/],
    ["sign-in required", /requireAuthentication:\s*true/],
    // ...except the owners' one-click links, whose signed token is the credential.
    ["link endpoints excluded", /excludedPaths:\s*\[\s*'\/api\/incidents\/\*'\s*\]/],
    // Tokens for this app only.
    ["allowed audiences", /allowedAudiences:\s*\[\s*dashboardAuthClientId\s*'api:\/\/\$\{dashboardAuthClientId\}'\s*\]/],
    // Only the configured users and groups get through, the same list the app checks.
    ["allowed principals", /allowedPrincipals:\s*\{\s*identities:\s*dashboardPrincipalIds\s*groups:\s*dashboardPrincipalIds\s*\}/],
  ])("%s", (_what, pattern) => {
    expect(auth[0]!.body).toMatch(pattern);
  });

  it("the allow-list comes from the same parameter as the app setting", () => {
    const file = auth[0]!.file.code;
    expect(file).toMatch(/var dashboardPrincipalIds = .*split\(dashboardAllowedPrincipals, ','\)/);
    expect(file).toMatch(/CMK_DASHBOARD_ALLOWED_PRINCIPALS:\s*dashboardAllowedPrincipals/);
  });
});

describe("role assignments", () => {
  it("there are role assignments to check", () => {
    // Storage ×3, telemetry, email (custom and built-in alternatives), Reader ×2, Key Vault Reader ×2.
    expect(roleAssignments.length).toBeGreaterThanOrEqual(8);
  });

  const cases = roleAssignments.map((r) => [`${r.file.path} ${r.symbol}`, r] as const);

  it.each(cases)("%s names a known role definition", (_name, assignment) => {
    const role = roleOf(assignment);
    if (role.kind === "unknown") throw new Error(`cannot tell which role ${role.expression} is`);
    if (role.kind === "built-in") {
      expect(Object.keys(KNOWN_ROLES)).toContain(role.id);
      // The label beside the id must be that id's real name, so a reviewer can trust it.
      if (role.label !== undefined) expect(role.label).toBe(KNOWN_ROLES[role.id]);
    } else {
      // permissions: [ { actions: [...], dataActions: [] } ] — one entry, only allowed actions.
      const permissions = propertyOf(propertyOf(role.definition.body, "properties") ?? "", "permissions") ?? "[]";
      const entry = permissions.trim().slice(1, -1);
      const actions = [...(propertyOf(entry, "actions") ?? "").matchAll(/'([^']+)'/g)].map((m) => m[1]);
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) expect(CUSTOM_ROLE_ALLOWED_ACTIONS).toContain(action);
      expect(propertyOf(entry, "dataActions")).toBe("[]");
    }
  });

  it.each(cases)("%s has a comment above it saying why", (_name, assignment) => {
    const comment = commentAbove(assignment.file, assignment.line);
    expect(comment.split(/\s+/).filter(Boolean).length).toBeGreaterThanOrEqual(8);
  });

  it.each(cases)("%s is named with guid()", (_name, assignment) => {
    expect(propertyOf(assignment.body, "name")).toMatch(/^guid\(/);
  });

  it.each(cases)("%s targets the identity as a service principal", (_name, assignment) => {
    // Declaring the type avoids replication-delay failures right after the identity is created.
    expect(propertyOf(propertyOf(assignment.body, "properties") ?? "", "principalType")).toBe("'ServicePrincipal'");
  });

  it.each(resources.filter((r) => r.type === "Microsoft.Authorization/roleDefinitions" && !r.existing).map((r) => [r.symbol, r] as const))(
    "custom role %s is named with guid() and commented",
    (_name, definition) => {
      expect(propertyOf(definition.body, "name")).toMatch(/^guid\(/);
      expect(commentAbove(definition.file, definition.line).split(/\s+/).length).toBeGreaterThanOrEqual(8);
    },
  );

  it.each([
    // Data access to the monitor's own storage.
    ["Storage Blob Data Owner"],
    ["Storage Queue Data Contributor"],
    ["Storage Table Data Contributor"],
    // Telemetry with local auth off.
    ["Monitoring Metrics Publisher"],
    // Listing Cosmos DB accounts, vaults and role assignments at the monitored scopes.
    ["Reader"],
    // Key metadata probes at the monitored scopes.
    ["Key Vault Reader"],
  ])("grants %s somewhere", (roleName) => {
    const ids = roleAssignments.map(roleOf).flatMap((r) => (r.kind === "built-in" ? [r.id] : []));
    expect(ids.map((id) => KNOWN_ROLES[id])).toContain(roleName);
  });

  it("grants an email-send role (custom or built-in)", () => {
    const roles = roleAssignments.map(roleOf);
    const emailRoles = roles.filter((r) => r.kind === "custom" || (r.kind === "built-in" && KNOWN_ROLES[r.id] === "Communication and Email Service Owner"));
    expect(emailRoles.length).toBeGreaterThanOrEqual(1);
  });
});

describe("parameters", () => {
  const params = bicepFiles.flatMap((file) => {
    const found: Array<[string, boolean]> = [];
    let decorators: string[] = [];
    for (const statement of statementsIn(file)) {
      if (statement.startsWith("@")) {
        decorators.push(statement);
        continue;
      }
      const param = /^param\s+(\w+)/.exec(statement);
      if (param) found.push([`${file.path} ${param[1]}`, decorators.some((d) => d.startsWith("@description("))]);
      decorators = [];
    }
    return found;
  });

  it("finds the parameters", () => {
    expect(params.length).toBeGreaterThan(20);
  });

  it.each(params)("%s has @description", (_name, described) => {
    expect(described).toBe(true);
  });

  it("location only offers regions with the Flex Consumption plan", () => {
    // A region without the plan fails late in the deployment; the prompt should not offer it.
    const code = byPath("infra/main.bicep").code;
    const allowed = /@allowed\(\[([^\]]*)\]\)\s*@metadata\(\{ azd: \{ type: 'location' \} \}\)\s*param location string/.exec(code);
    expect(allowed).not.toBeNull();
    const regions = [...allowed![1]!.matchAll(/'([a-z0-9]+)'/g)].map((m) => m[1]);
    expect(regions).toEqual(expect.arrayContaining(["westeurope", "eastus", "swedencentral"]));
    expect(regions).not.toContain("westindia");
  });

  it("the recipient-domain allow-list is required, with no default that would allow any domain", () => {
    // Owner tags are writable by tag writers: an empty allow-list is a decision the deployer must make ("*"), not a default.
    const main = byPath("infra/main.bicep").code;
    expect(main).toMatch(/@minLength\(1\)\s*\nparam allowedRecipientDomains string\s*$/m);
  });

  it("main.parameters.json wires every main.bicep parameter to an azd environment variable", () => {
    const json = JSON.parse(readFileSync(join(INFRA, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const mainParams = [...byPath("infra/main.bicep").code.matchAll(/^param\s+(\w+)/gm)].map((m) => m[1]!);
    expect(Object.keys(json.parameters).sort()).toEqual([...mainParams].sort());
    for (const [name, { value }] of Object.entries(json.parameters)) {
      expect([name, value]).toEqual([name, expect.stringMatching(/^\$\{[A-Z][A-Z0-9_]*\}$/)]);
    }
    // azd's own variables feed the environment name and region.
    expect(json.parameters.environmentName!.value).toBe("${AZURE_ENV_NAME}");
    expect(json.parameters.location!.value).toBe("${AZURE_LOCATION}");
  });
});

describe("no secrets", () => {
  const scanned = [
    ...bicepFiles.map((f) => [f.path, f.raw] as const),
    ["infra/main.parameters.json", readFileSync(join(INFRA, "main.parameters.json"), "utf8")] as const,
    ["azure.yaml", readFileSync(join(ROOT, "azure.yaml"), "utf8")] as const,
  ];

  it.each([
    // Storage account key in a connection string.
    ["AccountKey=", /AccountKey\s*=/i],
    // ACS access key in a connection string.
    ["accesskey=", /accesskey\s*=/i],
    // Service Bus / Event Hubs key.
    ["SharedAccessKey", /SharedAccessKey/i],
    // SAS tokens.
    ["SharedAccessSignature or sig=", /SharedAccessSignature|[?&]sig=/i],
    // A storage connection string of any kind.
    ["DefaultEndpointsProtocol", /DefaultEndpointsProtocol/i],
    // ARM list* functions hand back keys, SAS or connection strings.
    ["listKeys( and friends", /\blist(Keys|AccountSas|ServiceSas|ConnectionStrings|Secrets|Credentials)\s*\(/i],
    // Key or connection-string properties read off a resource.
    ["primary/secondary keys", /\b(primary|secondary)(Master)?(Key|ConnectionString)\b/i],
    // Shared keys on: what the storage account must never allow.
    ["allowSharedKeyAccess: true", /allowSharedKeyAccess\s*:\s*true/i],
    // Nothing secret is taken in or handed out, so nothing needs @secure().
    ["@secure()", /@secure\(\)/],
    // Passwords or client secrets assigned anywhere.
    ["password or client secret values", /(password|clientSecret|client_secret)\s*[:=]/i],
    // Long base64 literals look like keys.
    ["base64-looking literals", /'[A-Za-z0-9+/]{40,}={0,2}'/],
    // Private keys.
    ["PEM blocks", /-----BEGIN/],
  ])("no %s", (_what, pattern) => {
    for (const [path, text] of scanned) expect([path, pattern.test(text)]).toEqual([path, false]);
  });

  it.each(
    // Outputs land in the azd .env file and the deployment history, so none may carry a secret.
    bicepFiles.flatMap((f) => [...f.code.matchAll(/^output\s+(\w+)/gm)].map((m) => [`${f.path} ${m[1]}`, m[1]!] as const)),
  )("output %s is not a key or connection string", (_where, name) => {
    expect(name).not.toMatch(/key|secret|password|connection/i);
  });
});

describe("local auth off", () => {
  it.each([
    // Application Insights: telemetry only with Entra ID.
    ["Microsoft.Insights/components", /DisableLocalAuth\s*:\s*true/i],
    // Log Analytics: queries and ingestion only with Entra ID.
    ["Microsoft.OperationalInsights/workspaces", /disableLocalAuth\s*:\s*true/i],
    // Communication Services: no access keys, email only with the identity.
    ["Microsoft.Communication/communicationServices", /disableLocalAuth\s*:\s*true/i],
    // Storage: shared keys (and so account SAS) off.
    ["Microsoft.Storage/storageAccounts", /allowSharedKeyAccess\s*:\s*false/],
  ])("every %s deployed has local auth off", (type, pattern) => {
    const deployed = resources.filter((r) => r.type === type && !r.existing);
    expect(deployed.length).toBeGreaterThan(0);
    for (const resource of deployed) expect([resource.symbol, pattern.test(resource.body)]).toEqual([resource.symbol, true]);
  });
});

describe("the watcher is watched", () => {
  const rules = resources.filter((r) => r.type === "Microsoft.Insights/scheduledQueryRules");
  const srcText = listFiles(join(ROOT, "src"), ".ts")
    .map((path) => readFileSync(path, "utf8"))
    .join("\n");

  it.each([
    // Missed cycles: fewer than one completed-cycle trace in the window.
    ["cmk-monitor: cycle completed", "'LessThan'"],
    // Failing sends: at least the threshold of send-failed traces in the window.
    ["cmk-monitor: send failed", "'GreaterThanOrEqual'"],
    // A work item the queue gave up on.
    ["cmk-monitor: poison work item", "'GreaterThanOrEqual'"],
  ])("a log alert counts traces starting %j", (prefix, operator) => {
    const rule = rules.find((r) => r.body.includes(`startswith "${prefix}"`));
    expect(rule).toBeDefined();
    expect(rule!.body).toContain(`operator: ${operator}`);
    expect(rule!.body).toMatch(/actionGroups:\s*\[\s*actionGroup\.id/);
    // The alert is only as good as the log line: the app must still write it.
    expect(srcText).toContain(prefix);
  });

  it("the missed-cycle window is 3 × the poll interval", () => {
    const file = rules[0]!.file;
    expect(file.code).toMatch(/>=\s*3\s*\*\s*pollIntervalInMinutes/);
    expect(rules.find((r) => r.body.includes("cycle completed"))!.body).toMatch(/windowSize:\s*missedCycleWindow/);
  });

  it("the action group emails the alert address", () => {
    const group = resources.find((r) => r.type === "Microsoft.Insights/actionGroups");
    expect(group?.body).toMatch(/emailAddress:\s*alertEmailAddress/);
  });
});

describe("azure.yaml", () => {
  /** Enough YAML for azure.yaml: nested maps of scalars, by indentation. */
  function parseYaml(text: string): Record<string, unknown> {
    const root: Record<string, unknown> = {};
    const stack: Array<{ indent: number; node: Record<string, unknown> }> = [{ indent: -1, node: root }];
    for (const rawLine of text.split("\n")) {
      const line = rawLine.replace(/\s+#.*$/, "");
      if (!line.trim() || line.trim().startsWith("#")) continue;
      const indent = line.length - line.trimStart().length;
      const match = /^([\w.-]+):\s*(.*)$/.exec(line.trim());
      if (!match) continue;
      while (stack[stack.length - 1]!.indent >= indent) stack.pop();
      const parent = stack[stack.length - 1]!.node;
      if (match[2] === "") {
        const child: Record<string, unknown> = {};
        parent[match[1]!] = child;
        stack.push({ indent, node: child });
      } else {
        parent[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, "");
      }
    }
    return root;
  }

  const yaml = parseYaml(readFileSync(join(ROOT, "azure.yaml"), "utf8"));
  const services = (yaml.services ?? {}) as Record<string, Record<string, string>>;

  it.each([
    // The Function App is an azd "function" host…
    ["host", "function"],
    // …built from TypeScript (npm run build) …
    ["language", "ts"],
    // …from the repository root, where package.json and host.json live.
    ["project", "."],
  ])("the function service has %s: %s", (key, value) => {
    const functionServices = Object.values(services).filter((s) => s.host === "function");
    expect(functionServices).toHaveLength(1);
    expect(functionServices[0]![key]).toBe(value);
  });

  it("deploys the lean package that its prepackage hook builds, not the repository's node_modules", () => {
    const service = Object.values(services).find((s) => s.host === "function") as unknown as Record<string, unknown>;
    expect(service.dist).toBe("dist/package");
    const hooks = service.hooks as Record<string, Record<string, string>>;
    expect(hooks.prepackage?.posix).toBeDefined();
    const text = readFileSync(join(ROOT, "azure.yaml"), "utf8");
    expect(text).toMatch(/run: npm run package/);
    expect(readFileSync(join(ROOT, "scripts", "package.js"), "utf8")).toMatch(/dist", "package"/);
  });

  it("the service name matches the azd-service-name tag on the Function App", () => {
    const [name] = Object.entries(services).find(([, s]) => s.host === "function")!;
    expect(byPath("infra/main.bicep").code).toMatch(new RegExp(`serviceName:\\s*'${name}'`));
    expect(siteResources[0]!.body).toMatch(/'azd-service-name':\s*serviceName/);
  });

  it("names the infra path and module", () => {
    expect(yaml.infra).toEqual({ provider: "bicep", path: "infra", module: "main" });
  });
});
