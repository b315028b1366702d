import { apiVersionRejection, locationDisplayName, locationName, pagedList } from "../../src/sandbox/armConventions";
import type { SandboxRequest } from "../../src/sandbox/server";

function request(query: string): SandboxRequest {
  return { method: "GET", url: new URL(`https://127.0.0.1:1/subscriptions${query}`), headers: {}, body: Buffer.alloc(0) };
}

describe("apiVersionRejection", () => {
  it.each([
    // The version the SDK sends is served.
    { case: "served", query: "?api-version=2025-10-15", type: "databaseAccounts" as const, code: undefined },
    // No version at all.
    { case: "missing", query: "", type: "databaseAccounts" as const, code: "MissingApiVersionParameter" },
    // Well formed, not served by the resource provider.
    { case: "unserved", query: "?api-version=2099-01-01", type: "databaseAccounts" as const, code: "NoRegisteredProviderFound" },
    // Not a date at all.
    { case: "malformed", query: "?api-version=1999", type: "vaults" as const, code: "InvalidApiVersionParameter" },
    // ARM's own API (subscriptions) calls any unknown version invalid.
    { case: "unserved by ARM itself", query: "?api-version=2099-01-01", type: "subscriptions" as const, code: "InvalidApiVersionParameter" },
  ])("$case", ({ query, type, code }) => {
    const rejected = apiVersionRejection(request(query), type);

    expect((rejected?.json as { error: { code: string } } | undefined)?.error.code).toBe(code);
    if (rejected) expect(rejected.status).toBe(400);
  });
});

describe("pagedList", () => {
  const items = ["a", "b", "c"];
  it.each([
    // No $top and no page size: one page, no nextLink.
    { case: "one page", query: "?api-version=x", pageSize: undefined, value: ["a", "b", "c"], next: undefined },
    // $top sets the page; the nextLink keeps the query and adds the skip token.
    { case: "first page of $top=2", query: "?api-version=x&$top=2", pageSize: undefined, value: ["a", "b"], next: "$top=2&$skiptoken=2" },
    // Following the nextLink.
    { case: "last page", query: "?api-version=x&$top=2&$skiptoken=2", pageSize: undefined, value: ["c"], next: undefined },
    // The sandbox's page size when the caller sends no $top.
    { case: "default page size", query: "?api-version=x", pageSize: 1, value: ["a"], next: "$skiptoken=1" },
  ])("$case", ({ query, pageSize, value, next }) => {
    const page = pagedList(request(query), items, pageSize).json as { value: string[]; nextLink?: string };

    expect(page.value).toEqual(value);
    expect(page.nextLink === undefined ? undefined : decodeURIComponent(new URL(page.nextLink).search).replace(/^\?api-version=x&/, "")).toEqual(next);
  });

  it.each(["0", "1001", "ten"])("refuses $top=%s", (top) => {
    // ARM lists take 1..1000.
    expect(pagedList(request(`?api-version=x&$top=${top}`), items, undefined).status).toBe(400);
  });
});

describe("locations", () => {
  it.each([
    // Cosmos DB reports display names.
    ["westeurope", "West Europe"],
    ["eastus2", "East US 2"],
    // Already a display name: kept.
    ["West Europe", "West Europe"],
    // Unknown to the table: kept as given.
    ["marsnorth", "marsnorth"],
  ])("%s → %s, and back", (name, display) => {
    expect(locationDisplayName(name)).toBe(display);
    expect(locationName(display)).toBe(locationName(name));
  });
});
