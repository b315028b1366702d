import { isAllowedDomain, loadConfig, SETTING_NAMES, type Environment } from "../src/config";
import { configProblems, VALID_SETTINGS } from "./fixtures/settings";

// Two subscriptions, to check list parsing of the one required list setting.
const VALID: Environment = {
  ...VALID_SETTINGS,
  CMK_SUBSCRIPTION_IDS: "00000000-0000-0000-0000-000000000001, 00000000-0000-0000-0000-000000000002",
};

function problemsOf(env: Environment): string[] {
  return configProblems(env);
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    // Defaults are part of the contract with local.settings.sample.json and the Bicep settings.
    const config = loadConfig(VALID);
    expect(config).toMatchObject({
      subscriptionIds: ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"],
      pollSchedule: "0 */5 * * * *",
      reminderIntervalInMinutes: 60,
      ownerTag: "cmk-owner",
      stateTable: "cmkmonitor",
      armEndpoint: "https://management.azure.com",
      email: { kind: "identity", endpoint: "https://acs-contoso.communication.azure.com" },
      state: { kind: "identity", tableEndpoint: "https://stcmkmonitor.table.core.windows.net" },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each<[string, Environment, Record<string, unknown>]>([
    // A connection string wins over identity settings: local development with Azurite.
    [
      "state connection string",
      { CMK_STATE_CONNECTION: "UseDevelopmentStorage=true" },
      { state: { kind: "connection-string", connectionString: "UseDevelopmentStorage=true" } },
    ],
    // Delivery reports are off unless said (Bicep sets CMK_DELIVERY_REPORTS with its deliveryReports parameter).
    ["delivery reports by default", {}, { deliveryReports: false }],
    [
      "delivery reports on",
      {
        CMK_DELIVERY_REPORTS: "on",
        CMK_ACS_RESOURCE_ID:
          "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs",
      },
      { deliveryReports: true },
    ],
    // The azd spelling (true) means the same.
    [
      "delivery reports true",
      {
        CMK_DELIVERY_REPORTS: "true",
        CMK_ACS_RESOURCE_ID:
          "/subscriptions/5a5a5a5a-0000-4000-8000-0000000ac500/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs",
      },
      { deliveryReports: true },
    ],
    // The Functions host's own storage setting is reused when nothing more specific is set.
    [
      "AzureWebJobsStorage",
      { AzureWebJobsStorage: "UseDevelopmentStorage=true", AzureWebJobsStorage__accountName: undefined },
      { state: { kind: "connection-string" } },
    ],
    // Identity-based table endpoint, as deployed by the Bicep.
    [
      "table service uri",
      { AzureWebJobsStorage__tableServiceUri: "https://st.table.core.windows.net" },
      { state: { kind: "identity", tableEndpoint: "https://st.table.core.windows.net" } },
    ],
    // ACS by connection string for local runs.
    [
      "ACS connection string",
      { ACS_ENDPOINT: undefined, ACS_CONNECTION_STRING: "endpoint=https://acs.communication.azure.com/;accesskey=abc=" },
      { email: { kind: "connection-string" } },
    ],
    // Separators users actually type: commas, semicolons, spaces.
    [
      "recipient lists",
      { CMK_DEFAULT_RECIPIENTS: "a@contoso.com; b@contoso.com c@contoso.com" },
      { defaultRecipients: ["a@contoso.com", "b@contoso.com", "c@contoso.com"] },
    ],
    // Reminder interval is configurable.
    ["reminder interval", { CMK_REMINDER_INTERVAL_MINUTES: "30" }, { reminderIntervalInMinutes: 30 }],
    // Catch-up cadences default to 15 minutes (changes) and 60 (per-vault key re-reads).
    ["catch-up defaults", {}, { changesIntervalInMinutes: 15, riskCheckIntervalInMinutes: 60 }],
    // Both cadences are configurable.
    [
      "catch-up intervals",
      { CMK_CHANGES_INTERVAL_MINUTES: "5", CMK_RISK_CHECK_INTERVAL_MINUTES: "30" },
      { changesIntervalInMinutes: 5, riskCheckIntervalInMinutes: 30 },
    ],
  ])("%s", (_name, overrides, expected) => {
    expect(loadConfig({ ...VALID, ...overrides })).toMatchObject(expected);
  });

  it.each([
    // Zero would query Resource Graph on every cycle tick; a day is the daily check's own cadence.
    ["CMK_CHANGES_INTERVAL_MINUTES", "0"],
    ["CMK_CHANGES_INTERVAL_MINUTES", "1441"],
    // Per-vault key reads cost Key Vault calls; under 5 minutes would crowd the vault's rate limit.
    ["CMK_RISK_CHECK_INTERVAL_MINUTES", "4"],
    ["CMK_RISK_CHECK_INTERVAL_MINUTES", "hourly"],
  ])("refuses %s=%s", (name, value) => {
    expect(problemsOf({ ...VALID, [name]: value }).map((p) => p.split(":")[0])).toContain(name);
  });

  it("lists every bad setting at once, before any work", () => {
    // Operators fix configuration in one round trip, not one error per deploy.
    const problems = problemsOf({
      CMK_SUBSCRIPTION_IDS: "not-a-guid",
      CMK_EMAIL_SENDER: "not an address",
      CMK_REMINDER_INTERVAL_MINUTES: "soon",
      CMK_POLL_SCHEDULE: "*/5 * * * *",
      CMK_DEFAULT_RECIPIENTS: "owner@contoso.com\r\nBcc: evil@attacker.example",
      ACS_ENDPOINT: "http://insecure.example",
      CMK_STATE_TABLE: "1bad",
    });
    const settings = problems.map((p) => p.split(":")[0]);
    expect(settings).toEqual(
      expect.arrayContaining([
        "CMK_SUBSCRIPTION_IDS",
        "CMK_EMAIL_SENDER",
        "CMK_REMINDER_INTERVAL_MINUTES",
        "CMK_POLL_SCHEDULE",
        "CMK_DEFAULT_RECIPIENTS",
        "ACS_ENDPOINT",
        "CMK_STATE_TABLE",
        "CMK_ESCALATION_RECIPIENTS",
        "AzureWebJobsStorage",
      ]),
    );
  });

  it.each<[string, Environment, string]>([
    // Nothing to watch is a configuration mistake, not a quiet no-op.
    ["no subscriptions", { CMK_SUBSCRIPTION_IDS: "" }, "CMK_SUBSCRIPTION_IDS"],
    // Without a way to send, alerts would be lost.
    ["no ACS", { ACS_ENDPOINT: undefined }, "ACS_ENDPOINT"],
    // Without state, every cycle would re-send everything.
    ["no storage", { AzureWebJobsStorage__accountName: undefined }, "AzureWebJobsStorage"],
    // A configured recipient outside the allow-list would be silently dropped later.
    ["escalation outside allowed domains", { CMK_ALLOWED_RECIPIENT_DOMAINS: "fabrikam.com" }, "CMK_ESCALATION_RECIPIENTS"],
    // No allow-list: tag writers could send the account's key setup anywhere; "*" must be said out loud.
    ["no recipient domains", { CMK_ALLOWED_RECIPIENT_DOMAINS: undefined }, "CMK_ALLOWED_RECIPIENT_DOMAINS"],
    ["blank recipient domains", { CMK_ALLOWED_RECIPIENT_DOMAINS: " , " }, "CMK_ALLOWED_RECIPIENT_DOMAINS"],
    // "*" next to domains is ambiguous (did they mean only those?).
    ["* with other domains", { CMK_ALLOWED_RECIPIENT_DOMAINS: "*,contoso.com" }, "CMK_ALLOWED_RECIPIENT_DOMAINS"],
    // Reports wired but no resource to trust their topic: every report would be ignored while the status reads wait for them.
    ["delivery reports without the ACS resource id", { CMK_DELIVERY_REPORTS: "on", CMK_ACS_RESOURCE_ID: undefined }, "CMK_DELIVERY_REPORTS"],
    ["delivery reports not on or off", { CMK_DELIVERY_REPORTS: "yes" }, "CMK_DELIVERY_REPORTS"],
    // A malformed ACS connection string fails at start-up, not at the first alert.
    ["bad ACS connection string", { ACS_CONNECTION_STRING: "accesskey=abc" }, "ACS_CONNECTION_STRING"],
    // A delivery-report topic that is not an ACS resource id would never match: every report ignored.
    [
      "ACS resource id of another type",
      { CMK_ACS_RESOURCE_ID: "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x" },
      "CMK_ACS_RESOURCE_ID",
    ],
  ])("rejects %s", (_name, overrides, setting) => {
    expect(problemsOf({ ...VALID, ...overrides }).some((p) => p.startsWith(`${setting}:`))).toBe(true);
  });

  it("accepts an explicit * as the allow-list, which then allows any domain", () => {
    // The one way to run without an allow-list is to ask for it.
    const config = loadConfig({ ...VALID, CMK_ALLOWED_RECIPIENT_DOMAINS: "*", CMK_ESCALATION_RECIPIENTS: "support@fabrikam.com" });
    expect(config.allowedRecipientDomains).toEqual(["*"]);
    expect(isAllowedDomain("anyone@example.org", config.allowedRecipientDomains)).toBe(true);
  });

  it("names every setting in its error message so the fix is obvious", () => {
    // The message is what an operator sees in the Functions log.
    expect(() => loadConfig({})).toThrow(/CMK_SUBSCRIPTION_IDS[\s\S]*CMK_EMAIL_SENDER/);
  });

  it("exposes the setting names for the infrastructure checks", () => {
    // infra tests compare these with the Function App's app settings.
    expect(SETTING_NAMES).toEqual(expect.arrayContaining(["CMK_POLL_SCHEDULE", "CMK_OWNER_TAG", "ACS_ENDPOINT"]));
  });
});

describe("isAllowedDomain", () => {
  it.each<[string, string[], boolean]>([
    // No allow-list: everything allowed.
    ["a@contoso.com", [], true],
    // Exact match, case-insensitive.
    ["a@Contoso.com", ["contoso.com"], true],
    // A look-alike suffix is not the domain.
    ["a@evilcontoso.com", ["contoso.com"], false],
    // A subdomain needs an explicit wildcard entry.
    ["a@eu.contoso.com", ["contoso.com"], false],
    ["a@eu.contoso.com", ["*.contoso.com"], true],
    // The wildcard does not match the bare domain's look-alike.
    ["a@xcontoso.com", ["*.contoso.com"], false],
  ])("%s with %j → %s", (address, domains, expected) => {
    expect(isAllowedDomain(address, domains)).toBe(expected);
  });
});
