import { loadConfig, type Environment } from "../src/config";
import { configProblems, VALID_SETTINGS as VALID } from "./fixtures/settings";
import { dashboardAuthLevel } from "../src/config";

function problemsOf(env: Environment): string[] {
  return configProblems({ ...VALID, ...env });
}

describe("web settings", () => {
  it("defaults: no links, dashboard behind a function key, no configured key", () => {
    // Links are opt-in; the dashboard is never anonymous by accident.
    const config = loadConfig(VALID);
    expect(config.dashboardAuth).toBe("function");
    expect(config).not.toHaveProperty("publicBaseUrl");
    expect(config).not.toHaveProperty("linkSigningKey");
  });

  it.each<[string, Environment, Record<string, unknown>]>([
    // The deployed app's own host name; a trailing slash is dropped so links never get "//api".
    ["public base url", { CMK_PUBLIC_BASE_URL: "https://func-cmk-abc.azurewebsites.net/" }, { publicBaseUrl: "https://func-cmk-abc.azurewebsites.net" }],
    // The local sandbox serves plain http on loopback.
    ["loopback http", { CMK_PUBLIC_BASE_URL: "http://127.0.0.1:7071" }, { publicBaseUrl: "http://127.0.0.1:7071" }],
    // Case does not matter for the auth mode; anonymous needs the platform's authentication and an allow-list.
    [
      "anonymous dashboard",
      { CMK_DASHBOARD_AUTH: "Anonymous", WEBSITE_AUTH_ENABLED: "True", CMK_DASHBOARD_ALLOWED_PRINCIPALS: "00000000-0000-0000-0000-00000000BEEF" },
      { dashboardAuth: "anonymous", appServiceAuthEnabled: true, dashboardAllowedPrincipals: ["00000000-0000-0000-0000-00000000beef"] },
    ],
    // A configured key is used as given.
    ["signing key", { CMK_LINK_SIGNING_KEY: "x".repeat(32) }, { linkSigningKey: "x".repeat(32) }],
  ])("%s", (_name, env, expected) => {
    expect(loadConfig({ ...VALID, ...env })).toMatchObject(expected);
  });

  it.each<[string, Environment, RegExp]>([
    // Links carry tokens: never over plain http to a real host.
    ["http to a real host", { CMK_PUBLIC_BASE_URL: "http://func-cmk.azurewebsites.net" }, /^CMK_PUBLIC_BASE_URL: must be an https:\/\/ URL/],
    // The app appends /api/...; a query or fragment would end up in the middle of every link.
    ["a query string", { CMK_PUBLIC_BASE_URL: "https://func-cmk.azurewebsites.net/?x=1" }, /^CMK_PUBLIC_BASE_URL: must not have a query/],
    // The value is not quoted back: a URL setting may have been given a connection string.
    ["not a URL", { CMK_PUBLIC_BASE_URL: "func-cmk" }, /^CMK_PUBLIC_BASE_URL: is not a URL/],
    // A short key is guessable.
    ["a short key", { CMK_LINK_SIGNING_KEY: "hunter2" }, /^CMK_LINK_SIGNING_KEY: must be at least 32 characters/],
    // Only the two documented modes.
    ["an unknown auth mode", { CMK_DASHBOARD_AUTH: "none" }, /^CMK_DASHBOARD_AUTH: must be function .* or anonymous/],
    // Anonymous with the platform's authentication off: the sign-in headers would be anyone's.
    [
      "anonymous without App Service Authentication",
      { CMK_DASHBOARD_AUTH: "anonymous", CMK_DASHBOARD_ALLOWED_PRINCIPALS: "00000000-0000-0000-0000-00000000beef" },
      /^CMK_DASHBOARD_AUTH: anonymous needs App Service Authentication.*WEBSITE_AUTH_ENABLED/,
    ],
    [
      "anonymous with authentication said off",
      { CMK_DASHBOARD_AUTH: "anonymous", WEBSITE_AUTH_ENABLED: "False", CMK_DASHBOARD_ALLOWED_PRINCIPALS: "00000000-0000-0000-0000-00000000beef" },
      /^CMK_DASHBOARD_AUTH: anonymous needs/,
    ],
    // Anonymous with nobody allowed: everyone in the tenant who signs in would otherwise see it.
    [
      "anonymous without an allow-list",
      { CMK_DASHBOARD_AUTH: "anonymous", WEBSITE_AUTH_ENABLED: "True" },
      /^CMK_DASHBOARD_ALLOWED_PRINCIPALS: is required with CMK_DASHBOARD_AUTH=anonymous/,
    ],
    // Allowed principals are object ids, not names.
    [
      "a name on the allow-list",
      { CMK_DASHBOARD_ALLOWED_PRINCIPALS: "oncall-team" },
      /^CMK_DASHBOARD_ALLOWED_PRINCIPALS: "oncall-team" is not a valid object id/,
    ],
  ])("rejects %s", (_name, env, problem) => {
    const problems = problemsOf(env);
    expect(problems).toEqual([expect.stringMatching(problem)]);
    // A secret is never echoed back in an error.
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it.each<[string | undefined, string | undefined, "function" | "anonymous"]>([
    // Registration happens before the configuration is validated: only the exact word, with the platform's authentication on, opens it.
    [undefined, "True", "function"],
    ["anonymous", "True", "anonymous"],
    [" ANONYMOUS ", "true", "anonymous"],
    ["anon", "True", "function"],
    ["", "True", "function"],
    // App Service Authentication off (or not said to be on): the function key stays.
    ["anonymous", undefined, "function"],
    ["anonymous", "False", "function"],
  ])("the functions register with CMK_DASHBOARD_AUTH=%j and WEBSITE_AUTH_ENABLED=%j as authLevel %s", (value, platform, level) => {
    expect(dashboardAuthLevel({ CMK_DASHBOARD_AUTH: value, WEBSITE_AUTH_ENABLED: platform })).toBe(level);
  });
});
