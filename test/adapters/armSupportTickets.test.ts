/** The Microsoft.Support adapter against the sandbox: the same SDK client, a local HTTPS endpoint. */
import { createDefaultHttpClient } from "@azure/core-rest-pipeline";
import { ArmSupportTickets } from "../../src/adapters/armSupportTickets";
import { COSMOS_DB_RESOURCE_TYPE, supportTicketName } from "../../src/domain/supportTicket";
import { SupportTicketRefusedError, type SupportTicketRequest } from "../../src/ports/supportTickets";
import { LocalSandbox } from "../../src/sandbox";

const SUBSCRIPTION = "11111111-1111-4111-8111-111111111111";
const NO_PLAN = "22222222-2222-4222-8222-222222222222";
const NO_ROLE = "33333333-3333-4333-8333-333333333333";

let sandbox: LocalSandbox;
let api: ArmSupportTickets;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  sandbox.support.withoutSupportPlan(NO_PLAN);
  sandbox.support.denySubscription(NO_ROLE);
  api = new ArmSupportTickets({
    credential: sandbox.credential,
    endpoint: sandbox.url,
    clientOptions: { tlsOptions: { ca: sandbox.ca }, httpClient: createDefaultHttpClient(), retryOptions: { maxRetries: 0 } },
    pollIntervalInMs: 0,
  });
});

afterAll(async () => {
  await sandbox.stop();
});

async function request(name: string): Promise<SupportTicketRequest> {
  const service = (await api.findService(SUBSCRIPTION, COSMOS_DB_RESOURCE_TYPE))!;
  return {
    name,
    title: "Cosmos DB account orders-db: customer-managed key access revoked",
    description: "Case summary",
    severity: "moderate",
    serviceId: service.id,
    problemClassificationId: service.classifications[0]!.id,
    resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`,
    problemStartTime: "2026-11-29T07:15:00.000Z",
    contact: { firstName: "Ada", lastName: "Lovelace", email: "ada@contoso.com", country: "gbr", language: "en-gb", timezone: "UTC" },
  };
}

describe("ArmSupportTickets", () => {
  it("finds the Cosmos DB service by resource type, with its classifications", async () => {
    const service = await api.findService(SUBSCRIPTION, COSMOS_DB_RESOURCE_TYPE);
    expect(service?.id).toMatch(/^\/providers\/Microsoft\.Support\/services\/[0-9a-f-]{36}$/);
    expect(service?.classifications.some((c) => /customer-managed key/i.test(c.displayName))).toBe(true);
  });

  it("creates a ticket through the long-running operation, then reads it by name", async () => {
    const name = supportTicketName("orders-db-20261129T0715Z-1a2b3c4d");
    // Before: nothing by that name.
    expect(await api.getTicket(SUBSCRIPTION, name)).toBeUndefined();
    expect(await api.isNameAvailable(SUBSCRIPTION, name)).toBe(true);
    const filed = await api.createTicket(SUBSCRIPTION, await request(name));
    expect(filed.ticketNumber).toMatch(/^\d{16}$/);
    // After: GET and the name check both see it.
    expect(await api.getTicket(SUBSCRIPTION, name)).toEqual(filed);
    expect(await api.isNameAvailable(SUBSCRIPTION, name)).toBe(false);
    expect(sandbox.support.duplicateTickets).toBe(0);
    // A message on the ticket, found by its name afterwards.
    expect(await api.isCommunicationNameAvailable(SUBSCRIPTION, name, "cmk-update-1")).toBe(true);
    await api.addCommunication(SUBSCRIPTION, name, { name: "cmk-update-1", subject: "Recovered", body: "You may close this case." });
    expect(await api.isCommunicationNameAvailable(SUBSCRIPTION, name, "cmk-update-1")).toBe(false);
    expect(sandbox.support.communications.map((c) => c.subject)).toEqual(["Recovered"]);
  });

  it("never re-sends a create the SDK would retry: a 500 after Azure acted leaves one ticket", async () => {
    // The SDK's default policy retries 5xx; a ticket create must not be repeated blindly.
    const retrying = new ArmSupportTickets({
      credential: sandbox.credential,
      endpoint: sandbox.url,
      clientOptions: { tlsOptions: { ca: sandbox.ca }, retryOptions: { retryDelayInMs: 1, maxRetryDelayInMs: 1 } },
      pollIntervalInMs: 0,
    });
    const before = sandbox.support.ticketsOpened;
    sandbox.support.actThenFailCreates(1, 0);
    const name = "cmk-00000000000000000000000000000500";
    await expect(retrying.createTicket(SUBSCRIPTION, await request(name))).rejects.toMatchObject({ statusCode: 500 });
    expect(sandbox.support.ticketsOpened - before).toBe(1);
    // The ticket the failed call opened is found by name: the monitor records it instead of creating again.
    expect(await retrying.getTicket(SUBSCRIPTION, name)).toMatchObject({ name });
  });

  it.each<[string, string, string]>([
    // No support plan: a refusal a retry will not change.
    ["no support plan", NO_PLAN, "no-support-plan"],
    // Missing Support Request Contributor: named with the role id.
    ["missing role", NO_ROLE, "missing-role"],
  ])("%s is refused with its reason", async (_case, subscription, refusal) => {
    const attempt = api.createTicket(subscription, await request("cmk-00000000000000000000000000000001"));
    await expect(attempt).rejects.toBeInstanceOf(SupportTicketRefusedError);
    await expect(attempt).rejects.toMatchObject({ refusal });
  });
});
