/**
 * Integration: the timer handler, invoked directly, runs full cycles with the real SDK
 * clients against the local HTTPS sandbox (ARM + ACS Email) and Azurite (Table storage).
 */
import { InvocationContext, type Timer } from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { setCompositionOverrides } from "../../src/composition";
import { pollTimer } from "../../src/functions/pollTimer";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";

const SUB = "00000000-0000-0000-0000-0000000000aa";
const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const STATUS_4002 = `Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit ${GUIDE}#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).`;
const HEALTHY = "Access to the configured customer managed key confirmed.";
const PRINCIPAL = "9f3c2b1a-1111-2222-3333-444455556666";

let azure: LocalAzure;
let now = new Date("2026-11-29T03:00:00.000Z");
const logs: string[] = [];
const savedEnv = { ...process.env };

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

function invoke(): Promise<void> {
  const context = new InvocationContext({
    invocationId: `test-${now.toISOString()}`,
    functionName: "cmkPoll",
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
  return pollTimer(timer, context);
}

function advance(minutes: number): void {
  now = new Date(now.getTime() + minutes * 60_000);
}

async function tableSnapshot(): Promise<Map<string, string>> {
  const client = TableClient.fromConnectionString(azure.azurite.connectionString, "cmkmonitor", { allowInsecureConnection: true });
  const rows = new Map<string, string>();
  for await (const row of client.listEntities()) rows.set(`${row.partitionKey}/${row.rowKey}`, row.etag);
  return rows;
}

beforeAll(async () => {
  azure = await startLocalAzure();
  const { sandbox } = azure;
  sandbox.putAccount({
    name: "orders-db",
    subscriptionId: SUB,
    resourceGroup: "rg-orders",
    keyVaultKeyUri: "https://kv-orders.vault.azure.net/keys/orders-cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: PRINCIPAL },
    tags: { "cmk-owner": "alice@contoso.com; bob@contoso.com" },
    status: STATUS_4002,
    // The identity really has no permission on the key, as the status says.
    keyVault: "match-status",
  });
  sandbox.putAccount({
    name: "billing-db",
    subscriptionId: SUB,
    resourceGroup: "rg-billing",
    keyVaultKeyUri: "https://kv-billing.vault.azure.net/keys/billing-cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: "aaaaaaaa-0000-0000-0000-000000000001" },
    // Untrusted values: an owner tag with header injection, a status with HTML.
    tags: { "cmk-owner": "carol@contoso.com\r\nBcc: mallory@evil.example", team: "<img src=x onerror=alert(1)>" },
    status: `Access to your account is currently revoked <script>alert("x")</script> (4017).`,
  });
  sandbox.putAccount({
    name: "healthy-db",
    subscriptionId: SUB,
    resourceGroup: "rg-ok",
    keyVaultKeyUri: "https://kv-ok.vault.azure.net/keys/ok",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: "bbbbbbbb-0000-0000-0000-000000000002" },
    tags: { "cmk-owner": "dave@contoso.com" },
    status: HEALTHY,
  });
  // No customer-managed key: not ours to watch.
  sandbox.putAccount({ name: "plain-db", subscriptionId: SUB, resourceGroup: "rg-ok", tags: { "cmk-owner": "erin@contoso.com" } });

  Object.assign(process.env, sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com" }));
  setCompositionOverrides(sandboxOverrides(azure.sandbox, { clock: { now: () => now }, maxRetries: 0 }));
});

afterAll(async () => {
  setCompositionOverrides({});
  process.env = savedEnv;
  await azure?.stop();
});

describe("pollTimer against the sandbox", () => {
  it("first cycle: one email per revoked account, rendered for that account, nothing for healthy ones", async () => {
    await invoke();
    const sent = azure.sandbox.sentEmails();
    expect(sent).toHaveLength(2);

    const orders = sent.find((e) => e.subject.includes("orders-db"))!;
    expect(orders.to.sort()).toEqual(["alice@contoso.com", "bob@contoso.com"]);
    expect(orders.senderAddress).toBe("cmk-monitor@sandbox.contoso.com");
    expect(orders.subject).toMatch(/revoked/i);
    expect(orders.subject).toContain("4002");
    // The az commands are filled in for this account: subscription, vault and principal.
    for (const body of [orders.plainText!, orders.html!]) {
      expect(body).toContain(`az keyvault set-policy`);
      expect(body).toContain("kv-orders");
      expect(body).toContain(PRINCIPAL);
      expect(body).toContain(SUB);
      expect(body).toContain("Key Vault Crypto Service Encryption User");
    }

    const billing = sent.find((e) => e.subject.includes("billing-db"))!;
    // The injected Bcc never becomes a header or a recipient outside the allowed domains.
    expect(billing.to).toEqual(["carol@contoso.com"]);
    expect([...billing.to, ...billing.cc, ...billing.bcc].join(" ")).not.toContain("mallory");
    expect(billing.subject).not.toMatch(/[\r\n]/);
    // Azure's status text is shown, but escaped.
    expect(billing.html).not.toContain("<script>");
    expect(billing.html).toContain("&lt;script&gt;");
    expect(logs.some((line) => line.startsWith("cmk-monitor: cycle completed"))).toBe(true);
  });

  it("an idle cycle sends nothing and writes nothing", async () => {
    // Nothing changed in Azure: the store must be left exactly as it was. The first cycle five minutes
    // on makes the two accepted emails' one final-status read (recorded on their rows); after that, nothing.
    advance(5);
    await invoke();
    const before = await tableSnapshot();
    await invoke();
    expect(azure.sandbox.sentEmails()).toHaveLength(2);
    expect(await tableSnapshot()).toEqual(before);
  });

  it("a reminder after the interval, then a resolved notice when access is confirmed", async () => {
    // 60 minutes after detection the owners are reminded; recovery tells everyone who was told.
    advance(56);
    await invoke();
    const reminders = azure.sandbox.sentEmails().filter((e) => /reminder/i.test(e.subject));
    expect(reminders.map((e) => e.subject.includes("orders-db") || e.subject.includes("billing-db"))).toEqual([true, true]);

    // The owners' fix comes first (Azure's status follows the facts), or the daily check would warn about it.
    azure.sandbox.keyVault.grantPermission("kv-orders", PRINCIPAL, "access-policy");
    azure.sandbox.setStatus("orders-db", HEALTHY);
    advance(5);
    await invoke();
    const resolved = azure.sandbox.sentEmails().filter((e) => /resolved|recovered/i.test(e.subject));
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.to.sort()).toEqual(["alice@contoso.com", "bob@contoso.com"]);
    expect(azure.sandbox.sentEmails()).toHaveLength(5);
  });

  it("a failed send is kept and retried on a later cycle, and delivered once", async () => {
    // ACS is down for one attempt: the message waits in the outbox, not lost, not doubled.
    azure.sandbox.setStatus("healthy-db", STATUS_4002.replace("(4002)", "(4016)"));
    azure.sandbox.injectFault({ route: "acs-send", status: 503, times: 1 });
    advance(5);
    await invoke();
    expect(azure.sandbox.sentEmails().filter((e) => e.subject.includes("healthy-db"))).toHaveLength(0);
    expect(logs.some((line) => line.startsWith("cmk-monitor: send failed"))).toBe(true);

    advance(5);
    await invoke();
    const delivered = azure.sandbox.sentEmails().filter((e) => e.subject.includes("healthy-db"));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.to).toEqual(["dave@contoso.com"]);
  });
});
