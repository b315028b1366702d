import { readFileSync } from "node:fs";
import path from "node:path";
import type { RecordedExchange } from "../../src/sandbox";
import { ContractChecker, SPECS_DIR } from "./contractChecker";
import { runContracts } from "./runContracts";

let checker: ContractChecker;

beforeAll(async () => {
  checker = await ContractChecker.load();
});

const SUB = "5a5a5a5a-0000-4000-8000-00000000c0de";
const ACCOUNT_PATH = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/db1`;
const ACCOUNT = {
  id: ACCOUNT_PATH,
  name: "db1",
  location: "West Europe",
  type: "Microsoft.DocumentDB/databaseAccounts",
  kind: "GlobalDocumentDB",
  tags: {},
  identity: { type: "SystemAssigned", principalId: "p", tenantId: "t" },
  properties: {
    provisioningState: "Succeeded",
    enableAutomaticFailover: false,
    consistencyPolicy: { defaultConsistencyLevel: "Session" },
    keyVaultKeyUri: "https://kv.vault.azure.net/keys/k",
  },
};

function exchange(overrides: Partial<RecordedExchange> & { json?: unknown }): RecordedExchange {
  const { json, ...rest } = overrides;
  return {
    method: "GET",
    host: "127.0.0.1:443",
    url: `${ACCOUNT_PATH}?api-version=2025-10-15`,
    requestHeaders: {},
    requestBody: "",
    status: 200,
    responseHeaders: { "content-type": "application/json" },
    responseBody: JSON.stringify(json ?? ACCOUNT),
    ...rest,
  };
}

const ROLE_ASSIGNMENTS_URL = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`;
const assignment = (properties: Record<string, unknown>) => ({
  value: [{ id: "a", name: "a", type: "t", properties: { roleDefinitionId: "r", principalId: "p", ...properties } }],
});
const RESOURCES = { method: "POST", url: "/providers/Microsoft.ResourceGraph/resources?api-version=2021-06-01-preview", requestBody: '{"query":"Resources"}' };
const QUOTA = { "x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05" };
const graphAnswer = (facets: unknown[]) => ({ totalRecords: 0, count: 0, resultTruncated: "false", data: [], facets });
const SEND = {
  method: "POST",
  url: "/emails:send?api-version=2025-09-01",
  requestBody: '{"senderAddress":"a@b.c","content":{"subject":"s"},"recipients":{"to":[{"address":"x@y.z"}]}}',
};
const SEND_RESULT = { id: "op", status: "Running" };
const TICKET_URL = `/subscriptions/${SUB}/providers/Microsoft.Support/supportTickets/t1?api-version=2020-04-01`;
const STATUS_URL = `https://127.0.0.1:1/subscriptions/${SUB}/providers/Microsoft.Support/operationsStatus/op1?api-version=2020-04-01`;
const CONTACT = {
  firstName: "a",
  lastName: "b",
  preferredContactMethod: "email",
  primaryEmailAddress: "a@b.c",
  preferredTimeZone: "UTC",
  country: "usa",
  preferredSupportLanguage: "en-us",
};
const TICKET_PROPERTIES = { serviceId: "s", title: "t", description: "d", problemClassificationId: "p", severity: "critical", contactDetails: CONTACT };
const CREATE = { method: "PUT", url: TICKET_URL, requestBody: JSON.stringify({ properties: TICKET_PROPERTIES }) };
/** A ticket create that started (202 + Azure-AsyncOperation), then one poll of its status URL. */
const createThenPoll = (poll: Partial<RecordedExchange> & { json?: unknown }): RecordedExchange[] => [
  exchange({ ...CREATE, status: 202, responseHeaders: { "azure-asyncoperation": STATUS_URL }, responseBody: "" }),
  exchange({ url: STATUS_URL.replace("https://127.0.0.1:1", ""), ...poll }),
];

describe("ContractChecker", () => {
  it("accepts the specs' own x-ms-examples (a check on the checker)", () => {
    const { examples, failures } = checker.checkExamples();

    expect(failures).toEqual([]);
    expect(examples).toBeGreaterThanOrEqual(22);
  });

  it.each([
    // A conforming account passes: the baseline every broken case below differs from.
    { case: "conforming account", exchange: exchange({}), expected: [] },
    // Wrong property type: a boolean sent as a string.
    {
      case: "wrong property type",
      exchange: exchange({ json: { ...ACCOUNT, properties: { ...ACCOUNT.properties, enableAutomaticFailover: "false" } } }),
      expected: ["body/properties/enableAutomaticFailover: must be boolean"],
    },
    // A required property missing in a nested object.
    {
      case: "required property missing",
      exchange: exchange({ json: { ...ACCOUNT, properties: { ...ACCOUNT.properties, consistencyPolicy: {} } } }),
      expected: ["body/properties/consistencyPolicy: must have required property 'defaultConsistencyLevel'"],
    },
    // x-ms-enum modelAsString: true is extensible: a kind the spec does not list passes.
    { case: "extensible enum", exchange: exchange({ json: { ...ACCOUNT, kind: "SomethingNew" } }), expected: [] },
    // modelAsString: false is a closed enum.
    {
      case: "closed enum",
      exchange: exchange({ json: { ...ACCOUNT, identity: { type: "Managed" } } }),
      expected: [expect.stringContaining("body/identity/type: must be equal to one of the allowed values")],
    },
    // A 2xx the operation does not declare.
    { case: "undeclared status", exchange: exchange({ status: 201 }), expected: [expect.stringContaining("status 201 is not declared")] },
    // An error answer must carry the error envelope's code.
    {
      case: "error without code",
      exchange: exchange({ status: 404, json: { error: { message: "gone" } } }),
      expected: ["error envelope without error.code"],
    },
    // api-version other than the spec's, answered as if it were fine.
    {
      case: "other api-version accepted",
      exchange: exchange({ url: `${ACCOUNT_PATH}?api-version=2099-01-01` }),
      expected: [expect.stringContaining('api-version "2099-01-01" is not the spec\'s "2025-10-15"')],
    },
    // A subscription id that is not a GUID breaks the path parameter's format.
    {
      case: "non-GUID subscription id",
      exchange: exchange({ url: `${ACCOUNT_PATH.replace(SUB, "not-a-guid")}?api-version=2025-10-15` }),
      expected: ['path parameter "subscriptionId": must match format "uuid"'],
    },
    // The spec does not page this list (nextLinkName null): the SDK would drop every page after the first.
    {
      case: "nextLink on an unpaged list",
      exchange: exchange({
        url: `/subscriptions/${SUB}/providers/Microsoft.DocumentDB/databaseAccounts?api-version=2025-10-15`,
        json: { value: [ACCOUNT], nextLink: "https://127.0.0.1/x" },
      }),
      expected: ["nextLink on a list the spec does not page (the SDK ignores it)"],
    },
    // A pageable list's nextLink must keep the api-version.
    {
      case: "nextLink with another api-version",
      exchange: exchange({
        url: `/subscriptions?api-version=2022-12-01`,
        json: { value: [], nextLink: "https://127.0.0.1/subscriptions?api-version=2016-06-01&$skiptoken=1" },
      }),
      expected: ["nextLink changes the api-version"],
    },
    // x-nullable properties may be null…
    { case: "x-nullable null", exchange: exchange({ url: ROLE_ASSIGNMENTS_URL, json: assignment({ condition: null }) }), expected: [] },
    // …others may not.
    {
      case: "null where not x-nullable",
      exchange: exchange({ url: ROLE_ASSIGNMENTS_URL, json: assignment({ principalId: null }) }),
      expected: ["body/value/0/properties/principalId: must be string"],
    },
    // The discriminator picks the subtype: a FacetError must list its errors.
    {
      case: "discriminated subtype incomplete",
      exchange: exchange({ ...RESOURCES, responseHeaders: QUOTA, json: graphAnswer([{ expression: "location", resultType: "FacetError" }]) }),
      expected: ["body/facets/0: must have required property 'errors'"],
    },
    // Resource Graph answers carry the caller's quota (Learn, throttling guidance).
    {
      case: "Resource Graph without quota headers",
      exchange: exchange({ ...RESOURCES, json: graphAnswer([]) }),
      expected: [expect.stringContaining("x-ms-user-quota-remaining"), expect.stringContaining("x-ms-user-quota-resets-after")],
    },
    // Every 429 says when to come back.
    {
      case: "429 without Retry-After",
      exchange: exchange({ status: 429, json: { error: { code: "TooManyRequests", message: "slow down" } } }),
      expected: ["429 without a Retry-After in seconds"],
    },
    // The send's 202 without the Operation-Location the poller follows.
    {
      case: "send without Operation-Location",
      exchange: exchange({ ...SEND, status: 202, json: SEND_RESULT }),
      expected: ['declared header "Operation-Location" missing'],
    },
    // A declared header of the wrong type.
    {
      case: "Retry-After not an integer",
      exchange: exchange({
        ...SEND,
        status: 202,
        responseHeaders: { "operation-location": "https://127.0.0.1:1/emails/operations/op", "retry-after": "soon" },
        json: SEND_RESULT,
      }),
      expected: ['header "retry-after": must be integer'],
    },
    // A request body missing what the spec requires.
    {
      case: "request body incomplete",
      exchange: exchange({
        ...SEND,
        requestBody: '{"senderAddress":"a@b.c"}',
        status: 202,
        responseHeaders: { "operation-location": "https://127.0.0.1:1/emails/operations/op" },
        json: SEND_RESULT,
      }),
      expected: ["request: must have required property 'content'", "request: must have required property 'recipients'"],
    },
    // A path no spec describes.
    {
      case: "unknown path",
      exchange: exchange({ method: "PUT", url: "/subscriptions/x/unknown?api-version=1" }),
      expected: ["no operation in the specs matches this path and method"],
    },
    // A support ticket missing what the spec requires in every answer (the sandbox once left contactDetails out).
    {
      case: "support ticket without contactDetails",
      exchange: exchange({
        url: TICKET_URL,
        json: { id: "i", name: "t1", type: "Microsoft.Support/supportTickets", properties: { ...TICKET_PROPERTIES, contactDetails: undefined } },
      }),
      expected: ["body/properties: must have required property 'contactDetails'"],
    },
    // A long-running create that started without saying where to follow it.
    {
      case: "long-running start without a status URL",
      exchange: exchange({ ...CREATE, status: 202, responseBody: "" }),
      expected: ["long-running operation started without Azure-AsyncOperation, Location or Operation-Location"],
    },
  ])("$case", ({ exchange: recorded, expected }) => {
    const report = checker.checkExchanges([recorded]);

    expect(report.failures.map((f) => f.message)).toEqual(expected);
  });

  it.each([
    // A running operation: only status is required.
    { case: "InProgress", poll: { json: { status: "InProgress" } }, expected: [] },
    // The status is ARM's required field.
    { case: "status missing", poll: { json: { name: "op1" } }, expected: ["body: must have required property 'status'"] },
    // A failed operation says why.
    { case: "Failed without error", poll: { json: { status: "Failed" } }, expected: ["a Failed operation status without error"] },
    // A throttled poll says when to come back.
    {
      case: "429 without Retry-After",
      poll: { status: 429, json: { error: { code: "TooManyRequests", message: "slow down" } } },
      expected: ["429 without a Retry-After in seconds"],
    },
    // The status URL keeps the operation's api-version.
    {
      case: "status URL with another api-version",
      poll: { url: STATUS_URL.replace("https://127.0.0.1:1", "").replace("2020-04-01", "2024-04-01"), json: { status: "Succeeded" } },
      expected: ['status URL api-version "2024-04-01" is not the operation\'s "2020-04-01"'],
    },
  ])("a long-running operation's status poll: $case", ({ poll, expected }) => {
    const exchanges = createThenPoll(poll);

    const report = checker.checkExchanges(exchanges);

    expect(report.failures.map((f) => f.message)).toEqual(expected);
    expect(checker.operationFor(exchanges[1]!)?.id).toBe("SupportTickets_Create (status)");
  });
});

const REPORT_EVENT = {
  id: "5f04f77c-2a6a-43bd-9b74-576a64c01f9e",
  topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs",
  subject: "sender/a@contoso.com/message/m",
  eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
  data: {
    sender: "a@contoso.com",
    recipient: "b@contoso.com",
    internetMessageId: "<m@contoso.com>",
    messageId: "m",
    status: "Bounced",
    deliveryStatusDetails: { statusMessage: "550" },
    deliveryAttemptTimestamp: "2026-12-03T10:00:00Z",
  },
  dataVersion: "1.0",
  metadataVersion: "1",
  eventTime: "2026-12-03T10:00:00Z",
};

describe("ContractChecker on Event Grid events", () => {
  it.each([
    // A report with what the schema requires passes.
    { case: "conforming report", event: REPORT_EVENT, expected: [] },
    // The data's required internetMessageId missing.
    {
      case: "required data property missing",
      event: { ...REPORT_EVENT, data: { ...REPORT_EVENT.data, internetMessageId: undefined } },
      expected: ["event/data: must have required property 'internetMessageId'"],
    },
    // A data property of the wrong type.
    { case: "wrong type", event: { ...REPORT_EVENT, data: { ...REPORT_EVENT.data, recipient: 7 } }, expected: ["event/data/recipient: must be string"] },
    // The envelope's eventTime is required.
    { case: "envelope incomplete", event: { ...REPORT_EVENT, eventTime: undefined }, expected: ["event: must have required property 'eventTime'"] },
    // An event type no vendored spec describes.
    {
      case: "unknown event type",
      event: { ...REPORT_EVENT, eventType: "Microsoft.Communication.SMSReceived" },
      expected: ["no spec describes this event type"],
    },
  ])("$case", ({ event, expected }) => {
    // JSON round trip: undefined fields are absent, as on the wire.
    const { failures } = checker.checkEvents([JSON.parse(JSON.stringify(event)) as unknown]);

    expect(failures.map((f) => f.message)).toEqual(expected);
  });

  it("finds the published example short of its own schema (why the monitor reads both timestamp spellings)", () => {
    const file = "specification/eventgrid/data-plane/Microsoft.Communication/stable/2018-01-01/examples/event-grid-schema/email_delivery_report_received.json";
    const example = JSON.parse(readFileSync(path.join(SPECS_DIR, file), "utf8")) as { data: Record<string, unknown> };

    expect(checker.checkEvents([example]).failures.map((f) => f.message)).toEqual(["event/data: must have required property 'internetMessageId'"]);
    expect(Object.keys(example.data)).toContain("deliveryAttemptTimeStamp");
  });
});

describe("the sandbox against the specs", () => {
  it("conforms on every exchange of the contract run, over the 22 operations the monitor calls", async () => {
    const run = await runContracts();

    expect(run.failures).toEqual([]);
    expect(run.operations).toBe(22);
    expect(run.bodiesValidated).toBeGreaterThan(40);
    // Delivery reports: a delivered and a bounced recipient at least.
    expect(run.events).toBeGreaterThanOrEqual(2);
  });
});
