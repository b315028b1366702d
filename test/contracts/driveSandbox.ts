/**
 * Drives the local sandbox through the monitor's own adapters, built on the same SDK clients and
 * options as src/composition.ts, so every operation the monitor calls today is exchanged at
 * least once: answers that succeed (paged where the spec pages), the error answers the monitor
 * branches on (each kind of not found, forbidden, an unserved api-version, an old key version),
 * an injected fault per route (429, 503), and the polls of Microsoft.Support's long-running creates.
 */
import { CosmosDBManagementClient } from "@azure/arm-cosmosdb";
import { createDefaultHttpClient } from "@azure/core-rest-pipeline";
import { MicrosoftSupport } from "@azure/arm-support";
import { KeyClient } from "@azure/keyvault-keys";
import { AcsEmailSender } from "../../src/adapters/acsEmail";
import { dailyChartPng } from "../../src/email/pngCharts";
import { ArmAccountSource } from "../../src/adapters/armAccounts";
import { ArmSubscriptionLister } from "../../src/adapters/armSubscriptions";
import { ArmSupportTickets } from "../../src/adapters/armSupportTickets";
import { SdkKeyMetadataReader } from "../../src/adapters/keyVaultKeys";
import { ArmVaultDirectory } from "../../src/adapters/keyVaultManagement";
import { ResourceGraphDiscovery } from "../../src/adapters/resourceGraphAccounts";
import { buildRoleAssignmentQueries } from "../../src/domain/roleAssignmentChanges";
import { ArmRoleAssignmentReader } from "../../src/adapters/roleAssignments";
import { CRYPTO_SERVICE_ENCRYPTION_USER, type LocalSandbox, type SandboxRouteId } from "../../src/sandbox";

export const CONTRACT_SUBSCRIPTION = "5a5a5a5a-0000-4000-8000-00000000c0de";
const FORBIDDEN_SUBSCRIPTION = "5a5a5a5a-0000-4000-8000-0000000f0bd0";
const UNKNOWN_SUBSCRIPTION = "5a5a5a5a-0000-4000-8000-000000000404";
const PRINCIPAL = "5a5a5a5a-0000-4000-8000-0000000000aa";
/** Sent on purpose once, to see it refused in ARM's envelope; not a version any SDK sends. */
export const UNSERVED_API_VERSION = "2099-01-01";

/**
 * Calls each adapter method; failures the monitor expects (404, 403, injected faults) are swallowed:
 * the exchanges are what count. Returns what failed where it should have worked, so a broken
 * answer is reported beside the contract failures instead of ending the run.
 */
export async function driveAllOperations(sandbox: LocalSandbox): Promise<string[]> {
  const unexpected: string[] = [];
  const must = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      unexpected.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const clientOptions = { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries: 0 } };
  const armOptions = { credential: sandbox.credential, endpoint: sandbox.url, clientOptions: { ...clientOptions, httpClient: createDefaultHttpClient() } };
  const accounts = new ArmAccountSource(armOptions);
  const subscriptions = new ArmSubscriptionLister(armOptions);
  const graph = new ResourceGraphDiscovery({ ...armOptions, sleep: async () => undefined });
  const vaults = new ArmVaultDirectory(armOptions);
  const roles = new ArmRoleAssignmentReader(armOptions);
  const keys = new SdkKeyMetadataReader({ credential: sandbox.credential, clientOptions: { ...clientOptions, agent: sandbox.keyVaultAgent } });
  const email = new AcsEmailSender(sandbox.acsConnectionString, undefined, clientOptions);

  const healthy = sandbox.putAccount({
    name: "contract-healthy",
    subscriptionId: CONTRACT_SUBSCRIPTION,
    resourceGroup: "rg-contract",
    keyVaultKeyUri: "https://kv-contract-ok.vault.azure.net/keys/cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned", principalId: PRINCIPAL },
    tags: { owner: "owner@contoso.com" },
    status: "Access to the configured customer managed key confirmed.",
  });
  sandbox.putAccount({
    name: "contract-revoked",
    subscriptionId: CONTRACT_SUBSCRIPTION,
    resourceGroup: "rg-contract",
    keyVaultKeyUri: "https://kv-contract-gone.vault.azure.net/keys/cmk",
    defaultIdentity: "SystemAssignedIdentity",
    identity: { type: "SystemAssigned" },
    keyVault: "none",
    status:
      "Access to your account is currently revoked because the Azure Key Vault key is not found; for more details about this error and how to restore access " +
      "to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#azure-key-vault-resource-not-found (4003).",
  });
  for (let i = 0; i < 3; i++) {
    sandbox.putAccount({ name: `contract-plain-${i}`, subscriptionId: CONTRACT_SUBSCRIPTION, resourceGroup: "rg-plain" });
  }
  sandbox.putAccount({
    name: "contract-hidden",
    subscriptionId: FORBIDDEN_SUBSCRIPTION,
    resourceGroup: "rg-hidden",
    keyVaultKeyUri: "https://kv-hidden.vault.azure.net/keys/cmk",
    keyVault: "none",
  });
  sandbox.forbidSubscription(FORBIDDEN_SUBSCRIPTION);
  // A vault whose key was deleted (soft-delete keeps it), and a deleted vault.
  sandbox.keyVault.createVault({ name: "kv-contract-gone", subscriptionId: CONTRACT_SUBSCRIPTION, resourceGroup: "rg-contract" });
  sandbox.keyVault.createKey("kv-contract-gone", "cmk");
  sandbox.keyVault.deleteKey("kv-contract-gone", "cmk");
  sandbox.keyVault.createVault({ name: "kv-contract-deleted", subscriptionId: CONTRACT_SUBSCRIPTION, resourceGroup: "rg-contract" });
  sandbox.keyVault.deleteVault("kv-contract-deleted");

  const swallow = async (call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch {
      // Expected for the error cases: the exchange was recorded all the same.
    }
  };
  const drain = async <T>(items: AsyncIterable<T>): Promise<void> => {
    for await (const item of items) void item;
  };
  const withFaults = async (route: SandboxRouteId, call: () => Promise<unknown>): Promise<void> => {
    // No Retry-After given: the sandbox must add one itself, as Azure does on every 429. ACS faults
    // are shaped in acsRoutes.ts (another issue's); they get theirs from the fault.
    sandbox.injectFault({ route, status: 429, ...(route.startsWith("acs-") ? { retryAfterInSeconds: 7 } : {}) });
    await swallow(call);
    sandbox.injectFault({ route, status: 503 });
    await swallow(call);
  };

  // Every pageable list answers one item a page, so the nextLinks are exchanged and checked too.
  sandbox.setListPageSize(1);

  // Subscriptions list.
  await must("list subscriptions", () => drain(subscriptions.listSubscriptions()));
  await withFaults("arm-subscriptions", () => drain(subscriptions.listSubscriptions()));

  // Cosmos DB accounts: list (paged), get, not found, forbidden, unknown subscription.
  await must("list accounts", () => drain(accounts.listAccounts(CONTRACT_SUBSCRIPTION)));
  await swallow(() => drain(accounts.listAccounts(FORBIDDEN_SUBSCRIPTION)));
  await swallow(() => drain(accounts.listAccounts(UNKNOWN_SUBSCRIPTION)));
  await withFaults("arm-list", () => drain(accounts.listAccounts(CONTRACT_SUBSCRIPTION)));
  await must("get account", () => accounts.getAccount(healthy));
  await swallow(() => accounts.getAccount(healthy.replace("contract-healthy", "contract-missing")));
  await swallow(() => accounts.getAccount(healthy.replace("rg-contract", "rg-missing")));
  await swallow(() => accounts.getAccount(healthy.replace(CONTRACT_SUBSCRIPTION, UNKNOWN_SUBSCRIPTION)));
  // An api-version Cosmos DB does not serve is refused in ARM's error envelope.
  await swallow(() =>
    drain(
      new CosmosDBManagementClient(sandbox.credential, CONTRACT_SUBSCRIPTION, {
        ...clientOptions,
        endpoint: sandbox.url,
        apiVersion: UNSERVED_API_VERSION,
      }).databaseAccounts.list(),
    ),
  );
  await withFaults("arm-get", () => accounts.getAccount(healthy));

  // Resource Graph: the CMK accounts and the visible subscriptions.
  const scope = { subscriptionIds: [CONTRACT_SUBSCRIPTION, FORBIDDEN_SUBSCRIPTION], managementGroups: [] };
  await must("Resource Graph discovery", () => graph.discover(scope));
  await must("Resource Graph subscriptions", () => graph.visibleSubscriptions(scope));
  // The catch-up's authorizationresources role-assignment query: the same operation, another table.
  await must("Resource Graph role assignments", () => graph.queryRoleAssignments(buildRoleAssignmentQueries([PRINCIPAL])[0]!, scope));
  await withFaults("resource-graph", () => graph.discover(scope));

  // Key Vault over ARM: vaults list and get, deleted vaults; a missing vault.
  await must("list vaults", () => vaults.listVaults(CONTRACT_SUBSCRIPTION));
  await must("get vault", () => vaults.getVault(CONTRACT_SUBSCRIPTION, "rg-contract", "kv-contract-ok"));
  await swallow(() => vaults.getVault(CONTRACT_SUBSCRIPTION, "rg-contract", "kv-contract-missing"));
  await must("list deleted vaults", () => vaults.listDeletedVaults(CONTRACT_SUBSCRIPTION));
  await withFaults("kv-vaults", () => vaults.listVaults(CONTRACT_SUBSCRIPTION));
  await withFaults("kv-deleted-vaults", () => vaults.listDeletedVaults(CONTRACT_SUBSCRIPTION));

  // Key Vault data plane: a key, a missing key, a deleted key.
  await must("get key", () => keys.getKey("https://kv-contract-ok.vault.azure.net", "cmk"));
  await swallow(() =>
    new KeyClient("https://kv-contract-ok.vault.azure.net", sandbox.credential, { ...clientOptions, agent: sandbox.keyVaultAgent }).getKey("cmk", {
      version: "0123456789abcdef0123456789abcdef",
    }),
  );
  await swallow(() => keys.getKey("https://kv-contract-ok.vault.azure.net", "no-such-key"));
  await must("get deleted key", () => keys.getDeletedKey("https://kv-contract-gone.vault.azure.net", "cmk"));
  await swallow(() => keys.getDeletedKey("https://kv-contract-ok.vault.azure.net", "cmk"));
  await withFaults("kv-key", () => keys.getKey("https://kv-contract-ok.vault.azure.net", "cmk"));
  await withFaults("kv-deleted-key", () => keys.getDeletedKey("https://kv-contract-gone.vault.azure.net", "cmk"));

  // Authorization: the principal's assignments at the vault, the deny assignments there, a role definition.
  const vaultScope = `/subscriptions/${CONTRACT_SUBSCRIPTION}/resourceGroups/rg-contract/providers/Microsoft.KeyVault/vaults/kv-contract-ok`;
  const assignments = await roles.listApplying(vaultScope, PRINCIPAL).catch((error: unknown) => {
    unexpected.push(`list role assignments: ${String(error)}`);
    return [];
  });
  const definitionId = assignments[0]?.roleDefinitionId ?? `/providers/Microsoft.Authorization/roleDefinitions/${CRYPTO_SERVICE_ENCRYPTION_USER}`;
  await must("get role definition", () => roles.getRoleDefinition(definitionId));
  await swallow(() => roles.getRoleDefinition("/providers/Microsoft.Authorization/roleDefinitions/5a5a5a5a-0000-4000-8000-000000000000"));
  await withFaults("role-assignments", () => roles.listApplying(vaultScope, PRINCIPAL));
  await must("list deny assignments", () => roles.listDenyAssignments(vaultScope));
  await withFaults("deny-assignments", () => roles.listDenyAssignments(vaultScope));
  await withFaults("role-definitions", () => roles.getRoleDefinition(definitionId));

  // Email: a send that succeeds, and faults on the send and on the poll.
  const outgoing = (n: number) => ({
    operationId: `5a5a5a5a-0000-4000-8000-${String(n).padStart(12, "0")}`,
    from: "cmk-monitor@sandbox.contoso.com",
    to: ["owner@contoso.com"],
    cc: [],
    subject: "Contract check",
    text: "Plain text.",
    html: "<p>HTML.</p>",
    idempotencyKey: `contract-${n}`,
  });
  // Each accepted send makes ACS post a delivery report per recipient (Event Grid): one recipient
  // bounces, none repeats, and they wait until the caller hands them over.
  sandbox.acs.deliveryReports.configure({ bouncingAddresses: ["bounce@contoso.com"], repeatShare: 0, autoDeliver: false });
  // The send is one POST; its result is read separately, once (the monitor's send protocol).
  await must("send email", () => email.send(outgoing(1)));
  await must("send email to several", () => email.send({ ...outgoing(3), to: ["owner@contoso.com", "bounce@contoso.com"], cc: ["team@contoso.com"] }));
  // The weekly report's shape: an inline PNG the HTML names by contentId.
  await must("send email with an inline image", () =>
    email.send({
      ...outgoing(4),
      html: '<p><img src="cid:chart.png" width="1" height="1" alt="A chart."></p>',
      attachments: [{ name: "chart.png", contentType: "image/png", contentInBase64: dailyChartPng({ daily: [] }).toString("base64"), contentId: "chart.png" }],
    }),
  );
  await must("read send result", () => email.readOperationStatus(outgoing(1).operationId));
  await withFaults("acs-send", () => email.send(outgoing(2)));
  await withFaults("acs-poll", () => email.readOperationStatus(outgoing(1).operationId));

  // Microsoft.Support: the service and its classifications, name checks, a ticket created through
  // its long-running operation (polled twice InProgress, then the final GET), a communication; a
  // missing ticket, a communication on it, an unserved api-version; faults on every route.
  const support = new ArmSupportTickets({ ...armOptions, pollIntervalInMs: 0 });
  const service = await support.findService(CONTRACT_SUBSCRIPTION, "Microsoft.DocumentDB/databaseAccounts").catch((error: unknown) => {
    unexpected.push(`find support service: ${String(error)}`);
    return undefined;
  });
  const ticket = (name: string) => ({
    name,
    title: "Contract check",
    description: "Contract check.",
    severity: "critical" as const,
    serviceId: service?.id ?? "/providers/Microsoft.Support/services/missing",
    problemClassificationId: service?.classifications[0]?.id ?? "/providers/Microsoft.Support/services/missing/problemClassifications/missing",
    resourceId: healthy,
    problemStartTime: "2026-12-03T09:00:00.000Z",
    contact: { firstName: "Contract", lastName: "Check", email: "owner@contoso.com", country: "usa", language: "en-us", timezone: "UTC" },
  });
  sandbox.support.setPollsBeforeDone(2);
  await must("check ticket name", () => support.isNameAvailable(CONTRACT_SUBSCRIPTION, "cmk-contract"));
  await must("create ticket", () => support.createTicket(CONTRACT_SUBSCRIPTION, ticket("cmk-contract")));
  await must("get ticket", () => support.getTicket(CONTRACT_SUBSCRIPTION, "cmk-contract"));
  await must("check communication name", () => support.isCommunicationNameAvailable(CONTRACT_SUBSCRIPTION, "cmk-contract", "note-1"));
  await must("add communication", () =>
    support.addCommunication(CONTRACT_SUBSCRIPTION, "cmk-contract", { name: "note-1", subject: "Contract check", body: "Still revoked." }),
  );
  // A missing ticket reads as undefined (a 404 underneath); adding to it is refused with 404.
  await must("get missing ticket", () => support.getTicket(CONTRACT_SUBSCRIPTION, "cmk-missing"));
  await swallow(() => support.addCommunication(CONTRACT_SUBSCRIPTION, "cmk-missing", { name: "note-1", subject: "s", body: "b" }));
  await swallow(() => support.isCommunicationNameAvailable(CONTRACT_SUBSCRIPTION, "cmk-missing", "note-1"));
  await swallow(() =>
    drain(
      new MicrosoftSupport(sandbox.credential, CONTRACT_SUBSCRIPTION, {
        ...clientOptions,
        endpoint: sandbox.url,
        apiVersion: UNSERVED_API_VERSION,
      }).services.list(),
    ),
  );
  await withFaults("support-services", () => support.findService(CONTRACT_SUBSCRIPTION, "Microsoft.DocumentDB/databaseAccounts"));
  await withFaults("support-classifications", () => support.findService(CONTRACT_SUBSCRIPTION, "Microsoft.DocumentDB/databaseAccounts"));
  await withFaults("support-check-name", () => support.isNameAvailable(CONTRACT_SUBSCRIPTION, "cmk-contract"));
  await withFaults("support-ticket-get", () => support.getTicket(CONTRACT_SUBSCRIPTION, "cmk-contract"));
  await withFaults("support-ticket-create", () => support.createTicket(CONTRACT_SUBSCRIPTION, ticket("cmk-contract-2")));
  // The fault lands on the create's status poll.
  await withFaults("support-operation", () => support.createTicket(CONTRACT_SUBSCRIPTION, ticket("cmk-contract-3")));
  await withFaults("support-communication", () =>
    support.addCommunication(CONTRACT_SUBSCRIPTION, "cmk-contract", { name: "note-2", subject: "Contract check", body: "Still revoked." }),
  );
  sandbox.support.setPollsBeforeDone(1);
  return unexpected;
}
