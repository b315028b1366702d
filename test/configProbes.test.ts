import { ConfigurationError, loadConfig } from "../src/config";

const BASE = {
  CMK_SUBSCRIPTION_IDS: "00000000-0000-0000-0000-000000000001",
  CMK_EMAIL_SENDER: "cmk@contoso.com",
  CMK_ESCALATION_RECIPIENTS: "support@contoso.com",
  CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
  ACS_ENDPOINT: "https://acs.communication.azure.com",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
};

describe("probe settings", () => {
  it.each<[Record<string, string>, { keyExpiryWarningDays: number; probes: "on" | "off" }]>([
    // Defaults: probes on, warn 30 days ahead.
    [{}, { keyExpiryWarningDays: 30, probes: "on" }],
    // Case and spaces do not matter for the switch.
    [{ CMK_PROBES: " OFF " }, { keyExpiryWarningDays: 30, probes: "off" }],
    // A longer rotation window.
    [{ CMK_KEY_EXPIRY_WARNING_DAYS: "60" }, { keyExpiryWarningDays: 60, probes: "on" }],
  ])("%j", (settings, expected) => {
    expect(loadConfig({ ...BASE, ...settings })).toMatchObject(expected);
  });

  it.each([
    // Zero days would warn only after the key expired.
    [{ CMK_KEY_EXPIRY_WARNING_DAYS: "0" }, /CMK_KEY_EXPIRY_WARNING_DAYS: must be a whole number from 1 to 365/],
    [{ CMK_KEY_EXPIRY_WARNING_DAYS: "two weeks" }, /CMK_KEY_EXPIRY_WARNING_DAYS/],
    // A typo must not silently turn the probes off (or on).
    [{ CMK_PROBES: "yes" }, /CMK_PROBES: must be on or off/],
  ])("rejects %j", (settings, message) => {
    expect(() => loadConfig({ ...BASE, ...settings })).toThrow(ConfigurationError);
    expect(() => loadConfig({ ...BASE, ...settings })).toThrow(message);
  });
});
