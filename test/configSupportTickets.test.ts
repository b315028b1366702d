import { loadConfig, type Environment } from "../src/config";
import { configProblems, VALID_SETTINGS } from "./fixtures/settings";

describe("support ticket settings", () => {
  it("defaults to off, moderate, no contact", () => {
    // Nothing is filed or drafted unless asked for.
    expect(loadConfig(VALID_SETTINGS).supportTickets).toEqual({ mode: "off", severity: "moderate" });
  });

  it.each<[string, Environment, Record<string, unknown>]>([
    // Draft without a contact: the command carries placeholders.
    ["draft", { CMK_SUPPORT_TICKETS: "Draft" }, { mode: "draft" }],
    // The contact's email defaults to the first escalation recipient; the last word is the last name.
    [
      "create with a contact",
      { CMK_SUPPORT_TICKETS: "create", CMK_SUPPORT_CONTACT_NAME: "Mary Ann O'Neil", CMK_SUPPORT_SEVERITY: "critical" },
      {
        mode: "create",
        severity: "critical",
        contact: { firstName: "Mary Ann", lastName: "O'Neil", email: "support@contoso.com", country: "usa", language: "en-us", timezone: "UTC" },
      },
    ],
    // Every contact detail from settings.
    [
      "explicit contact",
      {
        CMK_SUPPORT_TICKETS: "draft",
        CMK_SUPPORT_CONTACT_NAME: "Jürgen Weiß",
        CMK_SUPPORT_CONTACT_EMAIL: "ops@contoso.com",
        CMK_SUPPORT_CONTACT_COUNTRY: "DEU",
        CMK_SUPPORT_CONTACT_LANGUAGE: "de-de",
        CMK_SUPPORT_CONTACT_TIMEZONE: "W. Europe Standard Time",
      },
      { contact: { firstName: "Jürgen", lastName: "Weiß", email: "ops@contoso.com", country: "deu", language: "de-de", timezone: "W. Europe Standard Time" } },
    ],
  ])("%s", (_case, env, expected) => {
    expect(loadConfig({ ...VALID_SETTINGS, ...env }).supportTickets).toMatchObject(expected);
  });

  it.each<[string, Environment, string]>([
    // A typo must not silently mean "off".
    ["unknown mode", { CMK_SUPPORT_TICKETS: "yes" }, "CMK_SUPPORT_TICKETS: must be off, draft or create"],
    ["unknown severity", { CMK_SUPPORT_SEVERITY: "high" }, "CMK_SUPPORT_SEVERITY: must be minimal, moderate, critical or highestcriticalimpact"],
    // create cannot file a ticket without a contact.
    ["create without contact", { CMK_SUPPORT_TICKETS: "create" }, "CMK_SUPPORT_CONTACT_NAME: is required with CMK_SUPPORT_TICKETS=create"],
    // The name reaches a shell command (quoted) and support: no shell syntax, two words.
    ["name with shell syntax", { CMK_SUPPORT_CONTACT_NAME: "Ada $(id)" }, "CMK_SUPPORT_CONTACT_NAME: must be a first and a last name"],
    ["one word", { CMK_SUPPORT_CONTACT_NAME: "Ada" }, "CMK_SUPPORT_CONTACT_NAME: must be a first and a last name"],
    ["country not alpha-3", { CMK_SUPPORT_CONTACT_COUNTRY: "us" }, "CMK_SUPPORT_CONTACT_COUNTRY: must be an ISO 3166-1 alpha-3"],
    ["classification id", { CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: "cmk" }, "CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: must be a problem classification id"],
    ["time zone with a quote", { CMK_SUPPORT_CONTACT_TIMEZONE: "UTC'" }, "CMK_SUPPORT_CONTACT_TIMEZONE: must be a Microsoft time zone name"],
  ])("rejects %s", (_case, env, problem) => {
    expect(configProblems({ ...VALID_SETTINGS, ...env }).some((p) => p.startsWith(problem))).toBe(true);
  });
});
