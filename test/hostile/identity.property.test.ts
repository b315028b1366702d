/**
 * `defaultIdentity` and the identity map come from the account, which whoever can edit it
 * controls. resolveDefaultIdentity must read any value without throwing, and an identity
 * resource id, however hostile, must reach `az identity show --ids` and `--identities` as
 * exactly one argument.
 */
import fc from "fast-check";
import type { CmkAccount } from "../../src/domain/account";
import { remediationSteps, resolveDefaultIdentity, type DefaultIdentityKind } from "../../src/domain/remediation";
import { makeAccount } from "../fixtures/incidents";
import { commandIntegrityProblems, SHAPES } from "./hostileAccounts";
import { binaryJunk, hostileText, propertyParameters } from "./hostileText";
import { createPasteSandbox, flagValue, pasteIntoShell } from "./pasteIntoShell";

const paste = createPasteSandbox();
afterAll(() => paste.dispose());

const KINDS = new Set<DefaultIdentityKind>(["system-assigned", "user-assigned", "first-party", "delegated", "missing", "unrecognized"]);
const IDENTITY_ID = "/subscriptions/3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk";

const garbage = fc.oneof(hostileText({ canary: paste.canary }), binaryJunk, fc.string({ unit: "binary" }));

/** Accounts with any defaultIdentity, principal and identity map. */
const anyIdentityAccount: fc.Arbitrary<CmkAccount> = fc
  .record({
    defaultIdentity: fc.option(
      fc.oneof(
        garbage,
        garbage.map((id) => `UserAssignedIdentity=${id}`),
        fc.tuple(garbage, garbage).map(([id, app]) => `UserAssignedIdentity=${id}&FederatedClientId=${app}`),
        garbage.map((tail) => `SystemAssignedIdentity${tail}`),
        garbage.map((tail) => `DelegatedUserAssignedIdentity${tail}`),
      ),
      { nil: undefined },
    ),
    principalId: fc.option(garbage, { nil: undefined }),
    identities: fc.dictionary(garbage, fc.record({ principalId: fc.option(garbage, { nil: undefined }) }), { maxKeys: 3 }),
  })
  .map(({ defaultIdentity, principalId, identities }) =>
    makeAccount({
      defaultIdentity,
      principalId,
      userAssignedIdentities: Object.fromEntries(
        Object.entries(identities).map(([id, info]) => [id, info.principalId === undefined ? {} : { principalId: info.principalId }]),
      ),
    }),
  );

describe("resolveDefaultIdentity on any value", () => {
  it("never throws and always answers with a known kind and a sentence", () => {
    // It feeds every email's advice; a throw would lose the email.
    fc.assert(
      fc.property(anyIdentityAccount, (account) => {
        const resolved = resolveDefaultIdentity(account);
        expect(KINDS).toContain(resolved.kind);
        expect(typeof resolved.description).toBe("string");
        expect(resolved.description.length).toBeGreaterThan(0);
        // Only a user-assigned identity has an id, and only an attached one can have a principal from the map.
        if (resolved.kind !== "user-assigned") expect(resolved.userAssignedIdentityId).toBeUndefined();
        if (resolved.kind === "user-assigned" && !resolved.attached) expect(resolved.principalId).toBeUndefined();
      }),
      propertyParameters(500),
    );
  });

  it("reads UserAssignedIdentity=<id> back exactly, whatever the id holds (bar the & that starts the suffix)", () => {
    // The id lands in commands; it must be the id the account names, not a fragment of it.
    fc.assert(
      fc.property(garbage, (raw) => {
        const id = raw.replace(/&/g, "").trim();
        const resolved = resolveDefaultIdentity(makeAccount({ defaultIdentity: `UserAssignedIdentity=${id}` }));
        expect(resolved).toMatchObject({ kind: "user-assigned", userAssignedIdentityId: id, attached: false });
      }),
      propertyParameters(300),
    );
  });

  it("matches the attached identity case-insensitively and ignores trailing slashes, and only that one", () => {
    // ARM lower-cases "resourcegroups" in the identity map; a look-alike id must not match.
    fc.assert(
      fc.property(fc.constantFrom(IDENTITY_ID, IDENTITY_ID.toUpperCase(), `${IDENTITY_ID}/`, `${IDENTITY_ID}x`), (written) => {
        const account = makeAccount({
          defaultIdentity: `UserAssignedIdentity=${written}`,
          principalId: undefined,
          userAssignedIdentities: { [IDENTITY_ID.replace("/resourceGroups/", "/resourcegroups/")]: { principalId: "p-1" } },
        });
        const resolved = resolveDefaultIdentity(account);
        const shouldMatch = !written.endsWith("x");
        expect(resolved).toMatchObject({ kind: "user-assigned", attached: shouldMatch });
        expect(resolved.principalId).toBe(shouldMatch ? "p-1" : undefined);
      }),
      propertyParameters(20),
    );
  });
});

describe("identity values in rendered commands", () => {
  it.each<[string, string]>([
    // Command substitution inside the resource id.
    ["command substitution", `${IDENTITY_ID}$(touch ${paste.canary})`],
    // Breaking out of single quotes (POSIX shells), or out of PowerShell's, which ends at any quote.
    ["quote break-out", `${IDENTITY_ID}'; touch ${paste.canary}; echo '`],
    ["typographic quote", `${IDENTITY_ID}\u2019; touch ${paste.canary}`],
    // A newline starts a new command.
    ["newline", `${IDENTITY_ID}\ntouch ${paste.canary}`],
    // Backticks, semicolons and pipes.
    ["operators", `${IDENTITY_ID}\`touch ${paste.canary}\`;touch ${paste.canary}|touch ${paste.canary}`],
    // An id that az would read as an option.
    ["option", "--debug"],
    // A NUL before the dash: dropped by the shell, so it must not smuggle an option in.
    ["NUL then option", "\u0000--debug"],
    // Spaces would split the word.
    ["spaces", `${IDENTITY_ID} --subscription other`],
    // Glob and expansion characters.
    ["expansions", "/subscriptions/*/resourceGroups/~/$HOME/${PATH}/!!"],
    // The Azure CLI reads "@path" as the file's contents: the owner's token cache would go up in an ARM PATCH.
    ["@file", "@~/.azure/msal_token_cache.json"],
    // cmd.exe operators, live even inside '…' there (a & would start the FederatedClientId suffix instead).
    ["cmd.exe operators", `${IDENTITY_ID}|more^%PATH%<x>`],
    // Dot segments would move the ARM request to another resource.
    ["dot segments", `${IDENTITY_ID}/../../../vaults/kv`],
    // The well-formed id is printed as it is.
    ["well formed", IDENTITY_ID],
  ])("%s: --ids, --identities and --default-identity get the id as one argument", (_why, id) => {
    const accounts = [
      // Detached: the invalid-default-identity steps attach it again.
      makeAccount({ defaultIdentity: `UserAssignedIdentity=${id}`, principalId: undefined, userAssignedIdentities: {} }),
      // Attached without a principal: the aad-token steps show it and re-assign it.
      makeAccount({ defaultIdentity: `UserAssignedIdentity=${id}`, principalId: undefined, userAssignedIdentities: { [id]: {} } }),
      // Only in the identity map: the invalid-default-identity steps propose it as the default.
      makeAccount({
        defaultIdentity: undefined,
        principalId: undefined,
        identityType: "UserAssigned",
        userAssignedIdentities: { [id]: { principalId: "p-1" } },
      }),
    ];
    for (const account of accounts) {
      const commands = (["aad-token-acquisition", "invalid-default-identity", "default-identity-unauthorized"] as const).flatMap((cause) =>
        remediationSteps(cause, account).flatMap((step) => step.commands.map((c) => c.command)),
      );
      const result = pasteIntoShell("bash", commands, paste.dir, paste.canary);
      expect(result.canaryTouched).toBe(false);
      expect(result.stderr).toBe("");
      expect(commandIntegrityProblems(account, account.id, result.calls)).toEqual([]);
      const idArguments = result.calls
        .flatMap((call) => [
          flagValue(call, "--ids"),
          flagValue(call, "--identities"),
          flagValue(call, "--default-identity")?.replace(/^UserAssignedIdentity=/, ""),
        ])
        .filter((v) => v !== undefined && v !== "[system]" && v !== "SystemAssignedIdentity");
      expect(idArguments.length).toBeGreaterThan(0);
      // Only an id of the user-assigned identity resource-id shape is printed; anything else is a placeholder.
      const expected = SHAPES.identityId.test(id) ? new RegExp(`^${escapeRegExp(id)}$`) : /^PLACEHOLDER-/;
      for (const value of idArguments) expect(value).toMatch(expected);
    }
  });

  it("garbage in defaultIdentity and the identity map never yields a command that runs anything else", () => {
    // The same guarantee as above, over random identities and every identity-related cause.
    fc.assert(
      fc.property(anyIdentityAccount, (account) => {
        const commands = (["aad-token-acquisition", "invalid-default-identity", "default-identity-unauthorized"] as const).flatMap((cause) =>
          remediationSteps(cause, account).flatMap((step) => step.commands.map((c) => c.command)),
        );
        const result = pasteIntoShell("bash", commands, paste.dir, paste.canary);
        expect(result.canaryTouched).toBe(false);
        expect(result.stderr).toBe("");
        expect(commandIntegrityProblems(account, account.id, result.calls)).toEqual([]);
      }),
      propertyParameters(40),
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
