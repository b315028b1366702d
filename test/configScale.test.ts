/** The fleet-scale settings: discovery, fan-out, the work queue, digests and the ACS send rate. */
import { loadConfig, type Environment } from "../src/config";
import { configProblems, VALID_SETTINGS as VALID } from "./fixtures/settings";

const SUB1 = "00000000-0000-0000-0000-000000000001";
const SUB2 = "00000000-0000-0000-0000-000000000002";

function problemsOf(env: Environment): string[] {
  return configProblems(env);
}

describe("fleet-scale settings", () => {
  it("defaults: ARM for one subscription, fan-out above 200 accounts, ACS's Azure-managed-domain rates", () => {
    expect(loadConfig(VALID)).toMatchObject({
      discovery: "arm",
      managementGroups: [],
      armConcurrency: 8,
      fanout: "auto",
      fanoutThreshold: 200,
      workQueue: "cmk-work",
      digestThreshold: 5,
      // Sent emails, resolved incidents' events and the like are kept 90 days.
      retentionDays: 90,
      emailDomainKind: "azure-managed",
      emailRatePerMinute: 5,
      emailRatePerHour: 10,
      emailStatusRatePerMinute: 10,
      emailStatusRatePerHour: 20,
      queue: { kind: "identity", queueEndpoint: "https://stcmkmonitor.queue.core.windows.net" },
    });
  });

  it.each<[string, Environment, [number, number, number, number]]>([
    // The default deployment sends from the Azure-managed domain: ACS allows 5/10 sends, 10/20 status reads.
    ["no domain kind", {}, [5, 10, 10, 20]],
    // A verified custom domain: 30/100 sends, 60/200 status reads.
    ["a custom domain", { CMK_EMAIL_DOMAIN_KIND: "Custom" }, [30, 100, 60, 200]],
    // An explicit rate overrides the domain's, the others still follow it.
    ["a custom domain with a lower hourly send rate", { CMK_EMAIL_DOMAIN_KIND: "custom", CMK_EMAIL_RATE_PER_HOUR: "50" }, [30, 50, 60, 200]],
    // Empty (as Bicep writes an unset rate) means the domain's default.
    ["empty rates", { CMK_EMAIL_RATE_PER_MINUTE: "", CMK_EMAIL_STATUS_RATE_PER_HOUR: "" }, [5, 10, 10, 20]],
  ])("email rates with %s → sends/status %j", (_name, overrides, [perMinute, perHour, statusPerMinute, statusPerHour]) => {
    expect(loadConfig({ ...VALID, ...overrides })).toMatchObject({
      emailRatePerMinute: perMinute,
      emailRatePerHour: perHour,
      emailStatusRatePerMinute: statusPerMinute,
      emailStatusRatePerHour: statusPerHour,
    });
  });

  it.each<[string, Environment, string]>([
    // More than one subscription: one Resource Graph query beats a list call each.
    ["two subscriptions", { CMK_SUBSCRIPTION_IDS: `${SUB1},${SUB2}` }, "resource-graph"],
    // Management groups can only be read through Resource Graph.
    ["a management group", { CMK_MANAGEMENT_GROUPS: "mg-prod" }, "resource-graph"],
    // Management groups alone are enough scope.
    ["a management group and no subscription", { CMK_SUBSCRIPTION_IDS: "", CMK_MANAGEMENT_GROUPS: "72f988bf-86f1-41af-91ab-2d7cd011db47" }, "resource-graph"],
    // The per-subscription ARM loop stays available.
    ["arm, asked for", { CMK_SUBSCRIPTION_IDS: `${SUB1},${SUB2}`, CMK_DISCOVERY: "arm" }, "arm"],
    // Resource Graph for a single subscription, asked for.
    ["resource-graph, asked for", { CMK_DISCOVERY: "Resource-Graph" }, "resource-graph"],
  ])("auto discovery with %s → %s", (_name, overrides, discovery) => {
    expect(loadConfig({ ...VALID, ...overrides }).discovery).toBe(discovery);
  });

  it.each<[string, Environment, string]>([
    // ARM discovery lists subscriptions: a management group would be silently ignored.
    ["management groups with ARM discovery", { CMK_MANAGEMENT_GROUPS: "mg-prod", CMK_DISCOVERY: "arm" }, "CMK_MANAGEMENT_GROUPS"],
    // No scope at all.
    ["neither subscriptions nor management groups", { CMK_SUBSCRIPTION_IDS: "" }, "CMK_SUBSCRIPTION_IDS"],
    // A queue needs the host's storage; a table endpoint alone says nothing about queues.
    [
      "queue fan-out without queue storage",
      { CMK_FANOUT: "queue", AzureWebJobsStorage__accountName: undefined, AzureWebJobsStorage__tableServiceUri: "https://st.table.core.windows.net" },
      "CMK_FANOUT",
    ],
    // The host adds "-poison" to the name: 57+ characters would exceed a queue name.
    ["a queue name the poison queue cannot extend", { CMK_WORK_QUEUE: "q".repeat(57) }, "CMK_WORK_QUEUE"],
    // A typo must not silently fall back to the Azure-managed limits.
    ["an unknown email domain kind", { CMK_EMAIL_DOMAIN_KIND: "managed" }, "CMK_EMAIL_DOMAIN_KIND"],
    // Zero would hold every status read forever.
    ["a zero status rate", { CMK_EMAIL_STATUS_RATE_PER_HOUR: "0" }, "CMK_EMAIL_STATUS_RATE_PER_HOUR"],
    // Shorter than the owners' link lifetime (7 days): a used link's row could go while the link still works.
    ["a retention shorter than a link's lifetime", { CMK_RETENTION_DAYS: "6" }, "CMK_RETENTION_DAYS"],
    // Not a number of days.
    ["a retention in another unit", { CMK_RETENTION_DAYS: "90d" }, "CMK_RETENTION_DAYS"],
  ])("%s is a configuration error", (_name, overrides, setting) => {
    expect(problemsOf({ ...VALID, ...overrides }).some((problem) => problem.startsWith(`${setting}:`))).toBe(true);
  });

  it.each<[string, Environment, Record<string, unknown>]>([
    // The host's own storage, so the queue trigger sees the messages.
    [
      "AzureWebJobsStorage connection string",
      { AzureWebJobsStorage: "UseDevelopmentStorage=true" },
      { kind: "connection-string", connectionString: "UseDevelopmentStorage=true" },
    ],
    // Identity-based, as deployed.
    [
      "queue service uri",
      { AzureWebJobsStorage__queueServiceUri: "https://st.queue.core.windows.net" },
      { kind: "identity", queueEndpoint: "https://st.queue.core.windows.net" },
    ],
    // Locally, Azurite's connection string in CMK_STATE_CONNECTION names a queue endpoint too.
    [
      "state connection with a queue endpoint",
      {
        AzureWebJobsStorage__accountName: undefined,
        CMK_STATE_CONNECTION:
          "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:2/devstoreaccount1;",
      },
      { kind: "connection-string" },
    ],
  ])("the work queue lives in %s", (_name, overrides, queue) => {
    expect(loadConfig({ ...VALID, ...overrides }).queue).toMatchObject(queue);
  });

  it("without any queue storage the cycle stays inline (auto) rather than failing", () => {
    const config = loadConfig({
      ...VALID,
      AzureWebJobsStorage__accountName: undefined,
      AzureWebJobsStorage__tableServiceUri: "https://st.table.core.windows.net",
    });
    expect(config.queue).toBeUndefined();
    expect(config.fanout).toBe("auto");
  });
});
