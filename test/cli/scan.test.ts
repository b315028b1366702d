/** `scan` against the sandbox with a test credential: table, JSON and exit codes. */
import { createScanDeps } from "../../src/composition";
import { createBufferedIo } from "../../src/cli/io";
import { runScan, type ScanResult } from "../../src/cli/scan";
import { LocalSandbox } from "../../src/sandbox";
import { sandboxOverrides } from "../../src/sandbox/environment";

const GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide";
const HEALTHY = "Access to the configured customer managed key confirmed.";
const REVOKED_4003 = `Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; for more details about this error and how to restore access to your account please visit ${GUIDE}#azure-key-vault-resource-not-found (4003).`;
const SUB_OK = "00000000-0000-0000-0000-00000000f001";
const SUB_BAD = "00000000-0000-0000-0000-00000000f002";
const SUB_HEALTHY = "00000000-0000-0000-0000-00000000f003";

let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  const account = (name: string, subscriptionId: string, status: string) =>
    sandbox.putAccount({
      name,
      subscriptionId,
      resourceGroup: "rg-scan",
      keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
      defaultIdentity: "SystemAssignedIdentity",
      identity: { type: "SystemAssigned", principalId: "12345678-1234-1234-1234-123456789012" },
      status,
      // The 4003 account's key starts soft-deleted, as its status says.
      keyVault: "match-status",
    });
  account("scan-revoked", SUB_OK, REVOKED_4003);
  account("scan-healthy", SUB_OK, HEALTHY);
  // A terminal escape sequence in a name must not reach the user's terminal.
  account("ok-\u001b[31mred", SUB_HEALTHY, HEALTHY);
  sandbox.forbidSubscription(SUB_BAD);
  sandbox.addSubscription(SUB_BAD);
});
afterAll(async () => {
  await sandbox?.stop();
});

// The sandbox composition: same clients, the sandbox's credential, CA and vault-name resolution.
const deps = () => createScanDeps({ CMK_ARM_ENDPOINT: sandbox.url }, sandboxOverrides(sandbox, { maxRetries: 0 }));

describe("cmk-monitor scan", () => {
  it("prints revoked accounts first with the cause and first step, and exits 2", async () => {
    // Exit 2 lets a pipeline fail on any revoked account.
    const io = createBufferedIo();
    expect(await runScan(["--subscription", SUB_OK], io, deps)).toBe(2);
    const lines = io.out.split("\n");
    expect(lines[0]).toMatch(/^ACCOUNT\s+RESOURCE GROUP\s+SUBSCRIPTION\s+HEALTH\s+CODE\s+CAUSE$/);
    expect(lines[1]).toMatch(/^scan-revoked\s+rg-scan\s+\S+\s+REVOKED\s+4003\s+key-not-found$/);
    expect(lines[2]).toMatch(/^scan-healthy\s+.*HEALTHY/);
    expect(io.out).toContain("kv-scan-revoked");
    expect(io.out).toContain("1 revoked");
  });

  it("--json prints one document with every account", async () => {
    // Machines consume --json; the shape is a contract.
    const io = createBufferedIo();
    expect(await runScan(["--subscription", SUB_OK, "--json"], io, deps)).toBe(2);
    const result = JSON.parse(io.out) as ScanResult;
    expect(result.summary).toEqual({ accounts: 2, healthy: 1, revoked: 1, unknown: 0 });
    expect(result.accounts[0]).toMatchObject({ name: "scan-revoked", cause: "key-not-found", code: 4003, health: "revoked" });
    expect(result.accounts[0]!.firstStep).toEqual(expect.any(String));
  });

  it.each<[string, string[], number]>([
    // All healthy: exit 0.
    ["all healthy", ["--subscription", SUB_HEALTHY], 0],
    // No access to a subscription is an error the user must see: exit 1.
    ["forbidden subscription", ["--subscription", SUB_BAD], 1],
    // Revoked wins over an error elsewhere: the revoked account is what needs action.
    ["revoked plus a forbidden subscription", ["--subscription", SUB_OK, "--subscription", SUB_BAD], 2],
    // A flag we do not know is a usage error.
    ["unknown flag", ["--nope"], 1],
  ])("%s (%j) → exit %i", async (_name, args, code) => {
    const io = createBufferedIo();
    expect(await runScan(args, io, deps)).toBe(code);
  });

  it("without --subscription scans every enabled subscription the credential sees", async () => {
    // The default for `az login` users: no ids to look up first. Disabled ones are skipped.
    sandbox.addSubscription("00000000-0000-0000-0000-00000000f0ff", { state: "Disabled" });
    const io = createBufferedIo();
    expect(await runScan(["--json"], io, deps)).toBe(2);
    const result = JSON.parse(io.out) as ScanResult;
    expect(result.subscriptions.sort()).toEqual([SUB_BAD, SUB_OK, SUB_HEALTHY].sort());
    expect(result.failures.map((f) => f.subscriptionId)).toEqual([SUB_BAD]);
    // Progress goes to stderr so stdout stays machine-readable.
    expect(io.err).toContain("scanned 3/3 subscriptions");
  });

  it("says in one sentence what to do when access is denied", async () => {
    // No stack trace, the role to ask for.
    const io = createBufferedIo();
    await runScan(["--subscription", SUB_BAD], io, deps);
    expect(io.out).toMatch(/Reader role/);
    expect(io.out + io.err).not.toMatch(/\n\s+at /);
  });

  it("keeps terminal escape sequences from account names out of the output", async () => {
    // Account names are untrusted; ESC would let them repaint the operator's terminal.
    const io = createBufferedIo();
    await runScan(["--subscription", SUB_HEALTHY], io, deps);
    expect(io.out).not.toContain("\u001b");
    expect(io.out).toContain("ok- [31mred");
  });

  it("explains a missing credential in one sentence", async () => {
    // The most common first-run failure: not signed in.
    const io = createBufferedIo();
    const noCredential = () =>
      createScanDeps(
        { CMK_ARM_ENDPOINT: sandbox.url },
        {
          credential: {
            getToken: async () => {
              throw Object.assign(new Error("no credential"), { name: "CredentialUnavailableError" });
            },
          },
          tlsCa: sandbox.ca,
          maxRetries: 0,
        },
      );
    expect(await runScan(["--subscription", SUB_OK], io, noCredential)).toBe(1);
    expect(io.out).toContain("az login");
  });

  it("shows what the probes found: the deleted key with its exact recover command, and warnings for healthy accounts", async () => {
    // --probe is the default: the owner learns the cause and the fix without opening the portal.
    sandbox.keyVault.setPurgeProtection("kv-scan-healthy", false);
    const io = createBufferedIo();
    expect(await runScan(["--subscription", SUB_OK], io, deps)).toBe(2);
    expect(io.out).toMatch(/What we checked \(use --no-probe to skip\):/);
    expect(io.out).toMatch(/scan-revoked:\n {4}PROBLEM \(Key\): Key cmk in vault kv-scan-revoked was deleted on .* and can be recovered until .*\./);
    expect(io.out).toContain("      az keyvault key recover --vault-name kv-scan-revoked --name cmk");
    expect(io.out).toContain("    warning, medium: Purge protection is off");

    const json = createBufferedIo();
    await runScan(["--subscription", SUB_OK, "--json"], json, deps);
    const result = JSON.parse(json.out) as ScanResult;
    expect(result.accounts[0]!.checks?.find((c) => c.probe === "key")).toMatchObject({ outcome: "problem" });
    expect(result.accounts[1]!.warnings).toEqual([expect.objectContaining({ kind: "purge-protection-off", severity: "medium" })]);
    sandbox.keyVault.setPurgeProtection("kv-scan-healthy", true);
  });

  it("--no-probe reads ARM only", async () => {
    // For identities without Key Vault rights, or a quick look.
    sandbox.clearRequests();
    const io = createBufferedIo();
    expect(await runScan(["--subscription", SUB_OK, "--no-probe"], io, deps)).toBe(2);
    expect(io.out).not.toContain("What we checked");
    expect(sandbox.requests().filter((r) => r.route?.startsWith("kv-"))).toEqual([]);
  });
});
