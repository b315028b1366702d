/** Who may open the dashboard and status in anonymous mode: App Service Authentication's word, and only when it is on. */
import { HttpRequest } from "@azure/functions";
import { dashboardAccess, type DashboardAccess } from "../../src/web/access";

const USER = "00000000-0000-0000-0000-00000000beef";
const GROUP = "00000000-0000-0000-0000-0000000a11ce";
const OTHER = "00000000-0000-0000-0000-00000000bad0";
const principal = (claims: unknown) => Buffer.from(JSON.stringify({ auth_typ: "aad", claims })).toString("base64");
const get = (headers: Record<string, string>) => new HttpRequest({ method: "GET", url: "https://cmk.example.test/api/status", headers });
const ANONYMOUS = { dashboardAuth: "anonymous" as const, dashboardAllowedPrincipals: [USER, GROUP.toUpperCase()], appServiceAuthEnabled: true };

describe("dashboardAccess", () => {
  it.each<[string, Partial<typeof ANONYMOUS> | { dashboardAuth: "function" }, Record<string, string>, DashboardAccess]>([
    // Function-key mode: the host already checked the key.
    ["function mode", { dashboardAuth: "function" }, {}, "allowed"],
    // A forged header while the platform module is off: not believed.
    ["forged header, module off", { appServiceAuthEnabled: false }, { "x-ms-client-principal-id": USER }, "sign-in-required"],
    // No principal at all.
    ["no principal", {}, {}, "sign-in-required"],
    ["blank principal", {}, { "x-ms-client-principal-id": "  " }, "sign-in-required"],
    // On the list, in any case.
    ["allowed user", {}, { "x-ms-client-principal-id": USER.toUpperCase() }, "allowed"],
    // Through a group claim, in either spelling App Service uses.
    ["allowed group (groups)", {}, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal([{ typ: "groups", val: GROUP }]) }, "allowed"],
    [
      "allowed group (long claim name)",
      {},
      {
        "x-ms-client-principal-id": OTHER,
        "x-ms-client-principal": principal([{ typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", val: GROUP }]),
      },
      "allowed",
    ],
    // Another claim that happens to carry an allowed id is not a group or object id.
    ["allowed id in another claim", {}, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal([{ typ: "name", val: USER }]) }, "not-allowed"],
    // Signed in, nowhere on the list.
    ["other principal", {}, { "x-ms-client-principal-id": OTHER }, "not-allowed"],
    // A principal header that is not base64 JSON, or has odd claims: no groups, no crash.
    ["garbage principal header", {}, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": "%%%not base64" }, "not-allowed"],
    ["claims not a list", {}, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal({ typ: "groups", val: GROUP }) }, "not-allowed"],
    ["null claim", {}, { "x-ms-client-principal-id": OTHER, "x-ms-client-principal": principal([null, 7, { typ: "groups" }]) }, "not-allowed"],
  ])("%s → %s", (_name, settings, headers, expected) => {
    expect(dashboardAccess(get(headers), { ...ANONYMOUS, ...settings })).toBe(expected);
  });
});
