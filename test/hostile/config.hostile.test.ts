/**
 * Configuration, all wrong at once: one ConfigurationError that names every setting, raised
 * before any client is built, and never echoing a secret. And no value, however odd, makes
 * loadConfig fail any other way.
 */
import fc from "fast-check";
import { getMonitorDeps } from "../../src/composition";
import { ConfigurationError, loadConfig, SETTING_NAMES, type Environment } from "../../src/config";
import { createBufferedIo } from "../../src/cli/io";
import { runRun } from "../../src/cli/run";
import { hostileText, propertyParameters } from "./hostileText";

const SECRET = "SECRET-VALUE-9f8e7d";

/** A wrong value for every setting the monitor reads, with why it is wrong. */
const WRONG: Record<string, [value: string, why: string]> = {
  CMK_SUBSCRIPTION_IDS: ["not-a-guid", "subscription ids are GUIDs"],
  CMK_POLL_SCHEDULE: ["*/5 * * * *", "NCRONTAB has six fields, this is five-field cron"],
  CMK_POLL_INTERVAL_MINUTES: ["0", "the interval is 1-60 minutes"],
  CMK_REMINDER_INTERVAL_MINUTES: ["soon", "a number of minutes"],
  CMK_OWNER_TAG: ["cmk/owner<>", "Azure tag names cannot contain < > % & \\ ? /, so no account could carry it"],
  CMK_DEFAULT_RECIPIENTS: ["owner@contoso.com\r\nBcc: mallory@evil.example", "header injection"],
  CMK_ESCALATION_RECIPIENTS: ["support team", "not addresses"],
  CMK_ALLOWED_RECIPIENT_DOMAINS: ["-contoso-.com", "not a domain"],
  CMK_MAX_OWNER_RECIPIENTS: ["51", "ACS takes at most 50 recipients per message"],
  CMK_MAX_NEW_RECIPIENTS_PER_DAY: ["0", "at least one new address a day, or nobody new could ever be told"],
  CMK_EMAIL_SENDER: ["DoNotReply", "not an address"],
  ACS_ENDPOINT: ["http://acs.example", "email credentials must travel over TLS"],
  ACS_CONNECTION_STRING: [`accesskey=${SECRET}`, "no endpoint"],
  CMK_ACS_RESOURCE_ID: ["/subscriptions/x/resourceGroups/rg/providers/Microsoft.Communication/emailServices/e", "not an ACS resource id"],
  CMK_STATE_CONNECTION: [`AccountKey=${SECRET}`, "not a storage connection string"],
  AzureWebJobsStorage: [`garbage;key=${SECRET}`, "not a storage connection string"],
  AzureWebJobsStorage__tableServiceUri: ["http://st.table.core.windows.net", "state must travel over TLS"],
  AzureWebJobsStorage__accountName: ["Not A Storage Account!", "storage account names are 3-24 lower-case letters and digits"],
  CMK_STATE_TABLE: ["1bad", "table names start with a letter"],
  CMK_ARM_ENDPOINT: ["ftp://management.azure.com", "ARM is https"],
  CMK_KEY_EXPIRY_WARNING_DAYS: ["-7", "a number of days ahead, 1-365"],
  CMK_PROBES: ["sometimes", "only on or off"],
  CMK_PUBLIC_BASE_URL: ["http://monitor.contoso.com", "links must be https"],
  CMK_LINK_SIGNING_KEY: ["short", "a signing key needs at least 32 characters"],
  CMK_DASHBOARD_AUTH: ["admin", "only function or anonymous"],
  CMK_DASHBOARD_ALLOWED_PRINCIPALS: ["oncall-team", "object ids, not names"],
  CMK_MANAGEMENT_GROUPS: ["mg/prod", "management group ids have no slashes"],
  CMK_DISCOVERY: ["graph", "only auto, arm or resource-graph"],
  CMK_ARM_CONCURRENCY: ["0", "at least one subscription listed at a time, at most 64"],
  CMK_STATUS_SOURCE: ["resource graph", "arm or resource-graph, hyphenated"],
  CMK_DISCOVERY_INTERVAL_MINUTES: ["0", "at least a minute between Resource Graph reads"],
  CMK_CHANGES_INTERVAL_MINUTES: ["0", "at least a minute between resourcechanges queries"],
  CMK_DELIVERY_REPORTS: ["sometimes", "neither on nor off"],
  CMK_RISK_CHECK_INTERVAL_MINUTES: ["2", "at least five minutes between key re-reads of every vault"],
  CMK_FANOUT: ["parallel", "only auto, queue or inline"],
  CMK_FANOUT_THRESHOLD: ["many", "a number of accounts"],
  CMK_RETENTION_DAYS: ["3", "shorter than a link's 7-day lifetime: a used link's row could go while the link still works"],
  CMK_WORK_QUEUE: ["Work_Queue", "queue names are lower-case letters, digits and hyphens"],
  AzureWebJobsStorage__queueServiceUri: ["http://st.queue.core.windows.net", "work items must travel over TLS"],
  CMK_DIGEST_THRESHOLD: ["1", "a digest of one message is not a digest"],
  CMK_WEEKLY_REPORT: ["weekly", "on or off"],
  CMK_EMAIL_RATE_PER_MINUTE: ["-1", "a positive number of emails"],
  CMK_EMAIL_RATE_PER_HOUR: ["fast", "a number of emails"],
  CMK_SUPPORT_TICKETS: ["yes", "off, draft or create"],
  CMK_SUPPORT_SEVERITY: ["high", "minimal, moderate, critical or highestcriticalimpact"],
  CMK_SUPPORT_CONTACT_NAME: ["Ada $(id)", "a first and a last name, no shell syntax"],
  CMK_SUPPORT_CONTACT_EMAIL: ["ada at contoso", "an email address"],
  CMK_SUPPORT_CONTACT_COUNTRY: ["us", "ISO 3166-1 alpha-3"],
  CMK_SUPPORT_CONTACT_LANGUAGE: ["english", "a language tag such as en-us"],
  CMK_SUPPORT_CONTACT_TIMEZONE: ["UTC'; rm", "a Microsoft time zone name"],
  CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: ["cmk", "a problem classification resource id"],
  CMK_EMAIL_DOMAIN_KIND: ["managed", "only azure-managed or custom"],
  CMK_EMAIL_STATUS_RATE_PER_MINUTE: ["0", "at least one status read"],
  CMK_EMAIL_STATUS_RATE_PER_HOUR: ["1.5", "a whole number of status reads"],
  AZURE_CLIENT_ID: ["not-a-guid", "client ids are GUIDs"],
};

/** Settings whose values are secrets and must never appear in an error. */
const SECRET_SETTINGS = ["ACS_CONNECTION_STRING", "CMK_STATE_CONNECTION", "AzureWebJobsStorage", "CMK_LINK_SIGNING_KEY"];

const EVERYTHING_WRONG: Environment = Object.fromEntries(Object.entries(WRONG).map(([name, [value]]) => [name, value]));

function problemsOf(env: Environment): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe("every setting wrong at once", () => {
  it("the table above has a wrong value for every setting the monitor reads", () => {
    // A new setting without a case here would escape this test.
    expect(Object.keys(WRONG).sort()).toEqual([...SETTING_NAMES].sort());
  });

  it("one ConfigurationError names every setting", () => {
    // Operators fix everything in one round trip instead of one deploy per mistake.
    const problems = problemsOf(EVERYTHING_WRONG);
    const named = new Set(problems.map((problem) => problem.slice(0, problem.indexOf(":"))));
    for (const name of SETTING_NAMES) expect(named).toContain(name);
  });

  it.each(Object.entries(WRONG))("%s alone is reported (%j)", (name, [value]) => {
    // Each rule stands on its own, not only as part of the crowd.
    const valid: Environment = {
      CMK_SUBSCRIPTION_IDS: "00000000-0000-0000-0000-000000000001",
      CMK_EMAIL_SENDER: "cmk-monitor@contoso.com",
      CMK_ESCALATION_RECIPIENTS: "support@contoso.com",
      CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
      ACS_ENDPOINT: "https://acs-contoso.communication.azure.com",
      AzureWebJobsStorage__accountName: "stcmkmonitor",
    };
    expect(problemsOf(valid)).toEqual([]);
    expect(problemsOf({ ...valid, [name]: value }).some((problem) => problem.startsWith(`${name}:`))).toBe(true);
  });

  it.each([
    // A storage connection string pasted where a URL or a list belongs: the error must not quote its key.
    ["ACS_ENDPOINT", `DefaultEndpointsProtocol=https;AccountName=st;AccountKey=${SECRET};EndpointSuffix=core.windows.net`],
    ["AzureWebJobsStorage__tableServiceUri", `DefaultEndpointsProtocol=https;AccountName=st;AccountKey=${SECRET}`],
    ["AzureWebJobsStorage__queueServiceUri", `https://st.queue.core.windows.net/?sv=2022-11-02&sig=${SECRET}`],
    ["CMK_ARM_ENDPOINT", `endpoint=https://acs.communication.azure.com/;accesskey=${SECRET}`],
    ["CMK_PUBLIC_BASE_URL", `http://user:${SECRET}@monitor.contoso.com`],
    // An ACS connection string in the sender or a list setting.
    ["CMK_EMAIL_SENDER", `endpoint=https://acs.communication.azure.com/;accesskey=${SECRET}`],
    ["CMK_SUBSCRIPTION_IDS", `TableEndpoint=https://st.table.core.windows.net;SharedAccessSignature=sv=2022&sig=${SECRET}`],
    ["CMK_DEFAULT_RECIPIENTS", `AccountName=st;AccountKey=${SECRET}`],
  ])("never echoes a connection string or SAS pasted into %s", (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems.some((problem) => problem.startsWith(`${name}:`))).toBe(true);
    for (const problem of problems) expect(problem).not.toContain(SECRET);
  });

  it("never echoes a secret setting's value", () => {
    // The error goes to the Functions log and the terminal; a connection string there is a leak.
    for (const problem of problemsOf(EVERYTHING_WRONG)) expect(problem).not.toContain(SECRET);
    for (const name of SECRET_SETTINGS) {
      for (const problem of problemsOf({ [name]: `${WRONG[name]![0]}` })) expect(problem).not.toContain(SECRET);
    }
  });

  it("fails before any work: `run` exits 1 with the whole list and builds no client", async () => {
    // A half-configured monitor must not poll Azure or touch state.
    const io = createBufferedIo();
    let built = 0;
    const code = await runRun(["--once"], io, EVERYTHING_WRONG, (env) => {
      loadConfig(env);
      built += 1;
      throw new Error("unreachable: clients would be built here");
    });
    expect(code).toBe(1);
    expect(built).toBe(0);
    for (const name of SETTING_NAMES) expect(io.err).toContain(name);
    expect(io.err).not.toContain(SECRET);
    expect(io.out).toBe("");
  });

  it("the Functions entry point throws the same ConfigurationError before building clients", () => {
    // pollTimer calls getMonitorDeps; a ConfigurationError there fails the invocation loudly.
    expect(() => getMonitorDeps(EVERYTHING_WRONG)).toThrow(ConfigurationError);
  });
});

describe("loadConfig on any values", () => {
  it("either accepts the settings or throws a ConfigurationError of one-line problems", () => {
    // Nothing else may escape: a TypeError at start-up would hide which setting is wrong.
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...SETTING_NAMES), fc.oneof(hostileText(), fc.constant(""), fc.string({ unit: "binary" }))), (env) => {
        for (const problem of problemsOf(env)) {
          // A value with a line break must not forge extra lines in the list.
          expect(problem).not.toMatch(/[\r\n\u2028\u2029]/);
          expect(problem.length).toBeLessThan(400);
        }
      }),
      propertyParameters(300),
    );
  });
});
