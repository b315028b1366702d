/**
 * End to end, with the real SDK clients against the HTTPS sandbox and Azurite: a fleet whose
 * accounts carry a megabyte of status, binary junk, markup in names, tags and statuses, CR/LF in
 * tags, 500 owners, look-alike domains and garbage identities and key URIs. Every cycle must
 * complete for every account, and what goes out must be clean: no raw markup, one-line subjects,
 * only allowed recipients within the service's limit, and every dropped recipient on the timeline.
 */
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import type { IncidentEvent } from "../../src/domain/incident";
import type { SandboxAccountSpec, SentEmail } from "../../src/sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import { HEADER_UNSAFE } from "./hostileText";
import type { Logger } from "../../src/ports/logger";
import { acknowledgeFix } from "../../src/app/acknowledgeFix";
import { runCycle, type CycleReport } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const SUB = "00000000-0000-0000-0000-0000000000e7";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const revoked = (code: number) =>
  `Access to your account is currently revoked; for more details about this error and how to restore access to your account please visit ${GUIDE} (${code}).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const CANARY = "/tmp/cmk-monitor-pipeline-canary";
const MAX_RECIPIENTS = 50;

/** Deterministic bytes without parentheses, so the junk cannot carry a "(40xx)" of its own. */
function binaryJunk(length: number): string {
  let state = 12345;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const byte = (state >> 16) & 0xff;
    bytes[i] = byte === 0x28 || byte === 0x29 ? 0x20 : byte;
  }
  return bytes.toString("latin1");
}

const OWNERS_500 = Array.from({ length: 500 }, (_, i) => `owner${i}@contoso.com`);
const LOOK_ALIKES = ["ceo@contoso.com.evil.example", "cfo@evilcontoso.com", "cto@c\u043entoso.com", "@contoso.com:mallory@evil.example"];

type FleetEntry = Omit<SandboxAccountSpec, "subscriptionId" | "resourceGroup"> & { expectIncident: boolean };

/** The fleet: why each account is here is in its comment. */
const HOSTILE_ACCOUNTS: FleetEntry[] = [
  // A megabyte of status text with Azure's code at the end: classified, stored and emailed anyway.
  {
    name: "huge-status-db",
    status: `Access to your account is currently revoked ${"<x-evil-huge>".repeat(80_000)} (4002).`,
    tags: { "cmk-owner": "alice@contoso.com" },
    expectIncident: true,
  },
  // Binary junk followed by a code.
  { name: "binary-revoked-db", status: `${binaryJunk(4096)} (4005)`, tags: { "cmk-owner": "bob@contoso.com" }, expectIncident: true },
  // Binary junk alone says nothing: no incident, no crash.
  { name: "binary-unknown-db", status: binaryJunk(65_536), tags: { "cmk-owner": "bob@contoso.com" }, expectIncident: false },
  // Markup in the status, in tag names and values, and in the account name itself.
  {
    name: `evil<x-evil-name>"'\`$(touch ${CANARY})`,
    status: `<script>alert("x")</script><x-evil-status> revoked (4017)`,
    tags: { "cmk-owner": "carol@contoso.com", team: "<img src=x onerror=alert(1)><x-evil-tag>", "<x-evil-tagname>": "v" },
    expectIncident: true,
  },
  // CR/LF header injection in the owner tag and in the default identity.
  {
    name: "crlf-db",
    status: revoked(4002),
    tags: { "cmk-owner": "dave@contoso.com\r\nBcc: mallory@evil.example\r\nSubject: pwned" },
    defaultIdentity: "UserAssignedIdentity=/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id\r\nX-Injected: 1",
    expectIncident: true,
  },
  // 500 owners plus look-alike domains: capped, the rest dropped and reported.
  { name: "crowd-db", status: revoked(4002), tags: { "cmk-owner": [...OWNERS_500, ...LOOK_ALIKES].join("; ") }, expectIncident: true },
  // Garbage identity and a key URI built to escape the RBAC scope and run code when pasted.
  {
    name: "garbage-identity-db",
    status: revoked(4015),
    defaultIdentity: `UserAssignedIdentity=$(touch ${CANARY})'; rm -rf ~ #&FederatedClientId=\`id\`<x-evil-fed>`,
    keyVaultKeyUri: `https://kv.vault.azure.net/keys/%2E%2E%2F%2E%2E%2F$(touch%20${encodeURIComponent(CANARY)})`,
    identity: { type: "UserAssigned", userAssignedIdentities: { [`/subscriptions/x/$(touch ${CANARY})<x-evil-ua>`]: {} } },
    tags: { "cmk-owner": "erin@contoso.com" },
    expectIncident: true,
  },
  // A key URI that is not a URI at all.
  {
    name: "garbage-uri-db",
    status: revoked(4006),
    keyVaultKeyUri: "javascript:alert(1)<x-evil-uri>",
    tags: { "cmk-owner": "frank@contoso.com" },
    expectIncident: true,
  },
  // An empty status is unknown; an unknown code and several codes are revocations.
  { name: "empty-status-db", status: "", tags: { "cmk-owner": "grace@contoso.com" }, expectIncident: false },
  { name: "unknown-code-db", status: "Access to your account is currently revoked (4099).", tags: { "cmk-owner": "heidi@contoso.com" }, expectIncident: true },
  {
    name: "several-codes-db",
    status: "Access to your account is currently revoked (4003) (4002) (4017).",
    tags: { "cmk-owner": "ivan@contoso.com" },
    expectIncident: true,
  },
  // Only invalid and off-domain owners: nobody valid to tell, so the escalation contacts hear of it.
  {
    name: "no-valid-owner-db",
    status: revoked(4002),
    tags: { "cmk-owner": `<x-evil-owner>, mallory@evil.example, ${LOOK_ALIKES.join(" ")}` },
    expectIncident: true,
  },
];

const FLEET: Array<SandboxAccountSpec & { expectIncident: boolean }> = HOSTILE_ACCOUNTS.map((spec) => ({
  subscriptionId: SUB,
  resourceGroup: "rg-hostile",
  keyVaultKeyUri: `https://kv-${spec.name.replace(/[^a-z0-9-]/g, "").slice(0, 20)}.vault.azure.net/keys/cmk`,
  defaultIdentity: "SystemAssignedIdentity",
  identity: { type: "SystemAssigned", principalId: "7c1e5a52-3b0d-4f7e-9a61-2d8c4b9e0f13" },
  ...spec,
}));

let azure: LocalAzure;
let deps: MonitorDeps;
let now = new Date("2026-11-29T06:00:00.000Z");
const ids = new Map<string, string>();
const errors: string[] = [];
const log: Logger = { info: () => {}, warn: () => {}, error: (message) => void errors.push(message) };

beforeAll(async () => {
  azure = await startLocalAzure();
  for (const { expectIncident: _expect, ...spec } of FLEET) ids.set(spec.name, azure.sandbox.putAccount(spec));
  const env = sandboxEnvironment(azure.sandbox, azure.azurite, {
    CMK_SUBSCRIPTION_IDS: SUB,
    CMK_STATE_TABLE: "hostile",
    CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
    CMK_DEFAULT_RECIPIENTS: "ops@contoso.com",
    // The owner caps at their most, so the crowd reaches ACS's per-message limit (the caps themselves:
    // test/domain/recipients.test.ts and lifecycle.test.ts).
    CMK_MAX_OWNER_RECIPIENTS: "50",
    CMK_MAX_NEW_RECIPIENTS_PER_DAY: "1000",
  });
  deps = createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock: { now: () => now }, log, maxRetries: 0 }));
});
afterAll(async () => {
  await azure?.stop();
});

/** One cycle that must complete for every account: nothing failed to record or to send. */
async function cleanCycle(): Promise<CycleReport> {
  const report = await runCycle(deps);
  // The logged errors first: they say which account or email failed and why.
  expect(errors).toEqual([]);
  expect(report.commitFailures).toEqual([]);
  expect(report.subscriptionsFailed).toEqual([]);
  expect(report.emailsDead).toBe(0);
  expect(report.emailsRetrying).toBe(0);
  return report;
}

/** What every delivered email must satisfy, whatever the accounts said. */
function expectClean(email: SentEmail): void {
  expect(email.html).not.toContain("<x-evil-");
  expect(email.html).not.toMatch(/<script|<img|onerror=/i);
  expect(email.subject).not.toMatch(HEADER_UNSAFE);
  const recipients = [...email.to, ...email.cc, ...email.bcc];
  expect(recipients.length).toBeGreaterThan(0);
  expect(recipients.length).toBeLessThanOrEqual(MAX_RECIPIENTS);
  for (const address of recipients) expect(address).toMatch(/^[A-Za-z0-9._%+-]+@contoso\.com$/);
  expect(Object.values(email.headers).join("\n")).not.toMatch(/[\r\n]|mallory|Injected/);
}

async function timelineOf(name: string): Promise<IncidentEvent[]> {
  const accountId = ids.get(name)!;
  const record = await deps.store.getRecord(accountId);
  expect(record.incident).toBeDefined();
  return deps.store.listEvents(accountId, record.incident!.id);
}

function emailsAbout(name: string): SentEmail[] {
  const marker = name.startsWith("evil") ? "evil" : name;
  return azure.sandbox.sentEmails().filter((email) => email.subject.includes(marker));
}

describe("a poll cycle over a hostile fleet", () => {
  it("completes, opens an incident for every revoked account and none for the others", async () => {
    const report = await cleanCycle();
    expect(report.accountsSeen).toBe(FLEET.length);
    for (const spec of FLEET) {
      const record = await deps.store.getRecord(ids.get(spec.name)!);
      expect([spec.name, record.incident !== undefined]).toEqual([spec.name, spec.expectIncident]);
    }
  });

  it("delivers one first notice per incident, each one clean", () => {
    // Exactly one each: a crash mid-fleet would show up as a missing email.
    const sent = azure.sandbox.sentEmails();
    expect(sent).toHaveLength(FLEET.filter((spec) => spec.expectIncident).length);
    for (const email of sent) expectClean(email);
  });

  it("shows hostile text escaped, not dropped: the reader still sees what Azure said", () => {
    const [email] = emailsAbout("evil");
    expect(email!.html).toContain("&lt;script&gt;");
    expect(email!.html).toContain("&lt;x-evil-status&gt;");
    // The subject carries the name on one line, markup and all, as text.
    expect(email!.subject).toContain('evil<x-evil-name>"');
  });

  it("keeps a megabyte status out of the email and the store, but still names the cause", () => {
    // Stored and emailed in bounded form; the code at the end still decided the cause.
    const [email] = emailsAbout("huge-status-db");
    expect(email!.subject).toContain("(4002)");
    expect(email!.html!.length).toBeLessThan(200_000);
  });

  it("drops every recipient outside the allowed domains and records why on the timeline", async () => {
    const [crowd] = emailsAbout("crowd-db");
    const recipients = [...crowd!.to, ...crowd!.cc];
    expect(recipients).toHaveLength(MAX_RECIPIENTS);
    expect(recipients).toContain("ops@contoso.com");
    const dropped = (await timelineOf("crowd-db")).filter((event) => event.type === "recipients-dropped");
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.detail).toContain("(too-many)");
    expect(dropped[0]!.detail).toContain('"ceo@contoso.com.evil.example" (domain-not-allowed)');
    expect(dropped[0]!.detail).toContain('"cfo@evilcontoso.com" (domain-not-allowed)');
    expect(dropped[0]!.detail).toContain("(invalid)");
  });

  it("turns a CR/LF injection in the owner tag into a dropped token, never a header or a recipient", async () => {
    const [email] = emailsAbout("crlf-db");
    expect(email!.to.sort()).toEqual(["dave@contoso.com", "ops@contoso.com"]);
    expect(email!.bcc).toEqual([]);
    const details = (await timelineOf("crlf-db"))
      .filter((e) => e.type === "recipients-dropped")
      .map((e) => e.detail)
      .join(" ");
    expect(details).toContain('"Bcc:" (invalid)');
    expect(details).toContain('"mallory@evil.example" (domain-not-allowed)');
    expect(details).not.toMatch(/[\r\n]/);
  });

  it("tells the defaults when no owner in the tag is valid, and reports every dropped owner", async () => {
    const [email] = emailsAbout("no-valid-owner-db");
    expect(email!.to).toEqual(["ops@contoso.com"]);
    const details = (await timelineOf("no-valid-owner-db"))
      .filter((e) => e.type === "recipients-dropped")
      .map((e) => e.detail)
      .join(" ");
    expect(details).toContain('"mallory@evil.example" (domain-not-allowed)');
    expect(details).toContain("(invalid)");
  });

  it("renders commands for garbage identities and key URIs without a path out of the key's scope", () => {
    const [email] = emailsAbout("garbage-identity-db");
    // The key name "../../$(touch …)" cannot extend the RBAC scope: a placeholder stands in.
    expect(email!.plainText).not.toContain("/keys/'../../");
    expect(email!.plainText).toContain('"/keys/<key-name>');
    // An identity id with a quote in it (no real one has) is left for the reader to fill in.
    expect(email!.plainText).toContain("--ids <user-assigned-identity-resource-id>");
    const commandLines = email!.plainText!.split("\n").filter((line) => /^ {6}(az|nslookup|npx) /.test(line));
    expect(commandLines.length).toBeGreaterThan(3);
    for (const line of commandLines) expect(line).not.toMatch(/rm -rf|touch/);
  });

  it("an hour later: reminders go out, still clean, nothing fails", async () => {
    now = new Date(now.getTime() + 61 * 60_000);
    const before = azure.sandbox.sentEmails().length;
    await cleanCycle();
    const reminders = azure.sandbox.sentEmails().slice(before);
    expect(reminders.length).toBeGreaterThan(0);
    for (const email of reminders) expectClean(email);
  });

  it("the escalation for an account with 500 owners reaches support within the recipient limit", async () => {
    // Escalation goes to support with the owners copied; together they must not exceed ACS's limit.
    const crowd = ids.get("crowd-db")!;
    expect(await acknowledgeFix(deps, crowd, "owner0@contoso.com")).toMatchObject({ outcome: "acknowledged" });
    now = new Date(now.getTime() + 121 * 60_000);
    const before = azure.sandbox.sentEmails().length;
    await cleanCycle();
    const sent = azure.sandbox.sentEmails().slice(before);
    for (const email of sent) expectClean(email);
    const escalation = sent.find((email) => email.subject.includes("crowd-db") && /escalation/i.test(email.subject));
    expect(escalation).toBeDefined();
    expect(escalation!.to).toContain("cosmos-support@contoso.com");
    // The owners who did not fit are on the timeline, not silently lost.
    const dropped = (await timelineOf("crowd-db")).filter((event) => event.type === "recipients-dropped");
    expect(dropped.some((event) => event.detail.startsWith("Not emailed (escalation): ") && event.detail.includes("(too-many)"))).toBe(true);
  });

  it("the resolved notice for that account reaches everyone it can, within the limit", async () => {
    // Everyone who heard of the incident hears it is over; more than 50 of them must not lose the email.
    azure.sandbox.setStatus(ids.get("crowd-db")!, HEALTHY);
    now = new Date(now.getTime() + 5 * 60_000);
    const before = azure.sandbox.sentEmails().length;
    await cleanCycle();
    const sent = azure.sandbox.sentEmails().slice(before);
    for (const email of sent) expectClean(email);
    const resolved = sent.find((email) => email.subject.includes("crowd-db") && /recovered/i.test(email.subject));
    expect(resolved).toBeDefined();
    expect(resolved!.to).toHaveLength(MAX_RECIPIENTS);
  });
});
