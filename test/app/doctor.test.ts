/** The doctor's rows with fake targets: each row's ok / warn / fail / skipped outcome and the exit code. */
import { FakeSupportTickets } from "../fakes/fakeSupportTickets";
import { LIVE_CHECKS, runDoctor, type DoctorReport } from "../../src/app/doctor";
import type { Environment } from "../../src/config";
import type { CmkAccount } from "../../src/domain/account";
import type { CheckResult, DoctorTargets } from "../../src/ports/doctor";
import type { AccountProber } from "../../src/ports/accountProber";
import { healthyFacts } from "../fixtures/probes";
import { checked, couldNotCheck } from "../../src/domain/probeFacts";

const SUB_A = "00000000-0000-0000-0000-0000000000a1";
const SUB_B = "00000000-0000-0000-0000-0000000000a2";
const HEALTHY = "Access to the configured customer managed key confirmed.";

const ENV: Environment = {
  CMK_SUBSCRIPTION_IDS: `${SUB_A},${SUB_B}`,
  CMK_EMAIL_SENDER: "cmk-monitor@contoso.com",
  CMK_ESCALATION_RECIPIENTS: "oncall@contoso.com",
  CMK_ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
  ACS_ENDPOINT: "https://acs-contoso.communication.azure.com",
  AzureWebJobsStorage__accountName: "stcontoso",
};

function account(n: number, subscriptionId: string, status: string | null = HEALTHY): CmkAccount {
  return {
    id: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/db-${n}`,
    name: `db-${n}`,
    subscriptionId,
    resourceGroup: "rg",
    keyVaultKeyUri: `https://kv-${n}.vault.azure.net/keys/cmk`,
    userAssignedIdentities: {},
    tags: {},
    ...(status !== null ? { customerManagedKeyStatus: status } : {}),
  };
}

const SUPPORT_ENV: Environment = { CMK_SUPPORT_TICKETS: "create", CMK_SUPPORT_CONTACT_NAME: "Ada Lovelace" };

const MANAGED = "DoNotReply@0b1c2d3e-aaaa-bbbb-cccc-1234567890ab.azurecomm.net";
const forbidden = () => Object.assign(new Error("The client does not have authorization"), { statusCode: 403 });

/** A deployment where everything works; each case breaks one thing. */
function targets(overrides: Partial<DoctorTargets> = {}): DoctorTargets {
  const fleet = [account(1, SUB_A), account(2, SUB_B)];
  const prober: AccountProber = { session: () => ({ probe: async (a) => healthyFacts(a) }) };
  return {
    credentialName: "a test credential",
    token: async () => undefined,
    listAccounts: async (sub) => fleet.filter((a) => a.subscriptionId === sub),
    getAccount: async (id) => fleet.find((a) => a.id === id),
    resourceGraphSubscriptions: async () => new Set([SUB_A, SUB_B]),
    // Resource Graph's rows carry no status: the documented default the monitor must live with.
    resourceGraphAccounts: async () => fleet.map((a) => ({ ...a, customerManagedKeyStatus: undefined }) as CmkAccount),
    probes: prober,
    stateRoundTrip: async () => undefined,
    queueRoundTrip: async () => undefined,
    sendTestEmail: async () => "op-1",
    ...overrides,
  };
}

async function doctor(env: Environment = {}, overrides: Partial<DoctorTargets> = {}, sendTestTo?: string): Promise<DoctorReport> {
  return runDoctor({ ...ENV, ...env }, () => targets(overrides), sendTestTo ? { sendTestTo } : {});
}

function row(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no row ${id}`);
  return found;
}

describe("doctor", () => {
  it("a working deployment: every row ok or skipped, in a fixed order, exit 0", async () => {
    // Skipped rows (no test send, no links) do not make the exit code non-zero.
    const report = await doctor();
    expect(report.checks.map((c) => c.id)).toEqual(["settings", ...LIVE_CHECKS]);
    expect(report.checks.filter((c) => c.status !== "ok" && c.status !== "skipped")).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  it("invalid settings: one failing row listing every problem, the rest skipped, exit 1", async () => {
    // Nothing live is tried with settings the app itself would refuse.
    let built = false;
    const report = await runDoctor({ CMK_SUBSCRIPTION_IDS: "not-a-guid" }, () => ((built = true), targets()));
    expect(row(report, "settings")).toMatchObject({ status: "fail", detail: expect.stringMatching(/CMK_SUBSCRIPTION_IDS.*CMK_ESCALATION_RECIPIENTS/) });
    expect(report.checks.slice(1).every((c) => c.status === "skipped")).toBe(true);
    expect(built).toBe(false);
    expect(report.exitCode).toBe(1);
  });

  it.each<[string, Environment, Partial<DoctorTargets>, string, CheckResult["status"], RegExp]>([
    // No token: everything after the identity row is skipped, not failed a dozen times.
    [
      "no ARM token",
      {},
      { token: async () => Promise.reject(Object.assign(new Error("CredentialUnavailableError"), { name: "CredentialUnavailableError" })) },
      "identity",
      "fail",
      /could not obtain a token/,
    ],
    // One subscription answers 403.
    [
      "unreadable subscription",
      {},
      { listAccounts: async (sub) => (sub === SUB_B ? Promise.reject(forbidden()) : [account(1, SUB_A)]) },
      "subscriptions",
      "fail",
      new RegExp(`1 of 2 .*${SUB_B} \\(HTTP 403\\)`),
    ],
    // Resource Graph silently leaves a subscription out: a failure, not an empty subscription.
    [
      "subscription invisible to Resource Graph",
      {},
      { resourceGraphSubscriptions: async () => new Set([SUB_A]) },
      "resource-graph-coverage",
      "fail",
      new RegExp(`does not see 1 .*${SUB_B}`),
    ],
    // ARM discovery (one subscription): Resource Graph is not used at all.
    ["ARM discovery", { CMK_SUBSCRIPTION_IDS: SUB_A }, {}, "resource-graph-coverage", "skipped", /lists each subscription with ARM/],
    // Status source ARM with Resource Graph lacking the status: as designed, ok.
    ["status from ARM, Resource Graph without status", {}, {}, "status-source", "ok", /status from ARM; of 2 sampled .* no status for 2/],
    // The user chose Resource Graph, but it carries no status: warn and name the fix.
    ["status source resource-graph without status", { CMK_STATUS_SOURCE: "resource-graph" }, {}, "status-source", "warn", /falls back to ARM/],
    // Resource Graph carries a stale status.
    [
      "status source resource-graph with a stale status",
      { CMK_STATUS_SOURCE: "resource-graph" },
      { resourceGraphAccounts: async () => [account(1, SUB_A, "stale"), account(2, SUB_B)] },
      "status-source",
      "warn",
      /different from ARM's for 1/,
    ],
    // Resource Graph carries ARM's status: the opt-in is supported by the measurement.
    [
      "status source resource-graph proved",
      { CMK_STATUS_SOURCE: "resource-graph" },
      { resourceGraphAccounts: async () => [account(1, SUB_A), account(2, SUB_B)] },
      "status-source",
      "ok",
      /status from Resource Graph/,
    ],
    // ARM lists without the status are reported (the monitor GETs those).
    [
      "ARM list omits the status",
      {},
      { listAccounts: async (sub) => [account(sub === SUB_A ? 1 : 2, sub, null)] },
      "status-source",
      "ok",
      /ARM lists omit the status for 2 of 2/,
    ],
    // A firewalled vault: a warning with the VNet fix, not a failure (ARM still reports revocations).
    [
      "firewalled vault",
      {},
      {
        probes: {
          session: () => ({
            probe: async (a) => healthyFacts(a, { key: couldNotCheck("the vault's firewall blocks the monitor (HTTP 403 ForbiddenByFirewall)") }),
          }),
        },
      },
      "key-vault-reach",
      "warn",
      /2 of 2 .*ForbiddenByFirewall/,
    ],
    // A vault host that does not resolve.
    [
      "vault host does not resolve",
      {},
      { probes: { session: () => ({ probe: async (a) => healthyFacts(a, { dns: checked({ host: "kv", resolves: false }) }) }) } },
      "key-vault-reach",
      "warn",
      /does not resolve/,
    ],
    // Probes off: nothing to check.
    ["probes off", { CMK_PROBES: "off" }, {}, "key-vault-reach", "skipped", /CMK_PROBES=off/],
    // Storage refuses the identity.
    ["state storage forbidden", {}, { stateRoundTrip: async () => Promise.reject(forbidden()) }, "state-storage", "fail", /round trip failed/],
    // The work queue refuses the identity.
    ["queue forbidden", {}, { queueRoundTrip: async () => Promise.reject(forbidden()) }, "work-queue", "fail", /round trip failed/],
    // Inline cycles need no queue.
    ["fan-out inline", { CMK_FANOUT: "inline" }, {}, "work-queue", "skipped", /inline/],
    // No token for ACS with managed identity.
    [
      "no ACS token",
      {},
      { token: async (audience) => (audience === "communication" ? Promise.reject(forbidden()) : undefined) },
      "email-identity",
      "fail",
      /no token for Azure Communication Services/,
    ],
    // The default: an Azure-managed domain, pacing that follows its limits.
    [
      "Azure-managed domain, default pacing",
      { CMK_EMAIL_SENDER: MANAGED },
      {},
      "email-limits",
      "ok",
      /sends 5\/min, 10\/h; status reads 10\/min, 20\/h\); pacing sends 5\/min/,
    ],
    // Custom-domain pacing forced onto the Azure-managed kind: ACS would throttle.
    [
      "send pacing above the kind's limits",
      { CMK_EMAIL_RATE_PER_MINUTE: "30" },
      {},
      "email-limits",
      "warn",
      /send pacing 30\/min, 10\/h is above the azure-managed limits/,
    ],
    // Status reads have their own quota.
    [
      "status-read pacing above the limits",
      { CMK_EMAIL_STATUS_RATE_PER_HOUR: "200" },
      {},
      "email-limits",
      "warn",
      /status-read pacing 10\/min, 200\/h is above/,
    ],
    // Support tickets off: nothing to check.
    ["support tickets off", {}, {}, "support-tickets", "skipped", /CMK_SUPPORT_TICKETS=off/],
    // create mode, the identity may use Microsoft.Support and a CMK classification exists.
    ["support tickets ok", SUPPORT_ENV, { supportTickets: new FakeSupportTickets() }, "support-tickets", "ok", /tickets go to .*problemClassifications/],
    // create mode without Support Request Contributor: named with the role id.
    [
      "support tickets, missing role",
      SUPPORT_ENV,
      { supportTickets: Object.assign(new FakeSupportTickets(), { isNameAvailable: async () => Promise.reject(forbidden()) }) },
      "support-tickets",
      "fail",
      /refused the identity on .*HTTP 403/,
    ],
    // The kind says custom but the sender is on an Azure-managed domain.
    [
      "kind custom, sender Azure-managed",
      { CMK_EMAIL_SENDER: MANAGED, CMK_EMAIL_DOMAIN_KIND: "custom" },
      {},
      "email-limits",
      "warn",
      /Azure-managed domain but CMK_EMAIL_DOMAIN_KIND=custom/,
    ],
    // A verified custom domain with its own limits.
    ["custom domain", { CMK_EMAIL_DOMAIN_KIND: "custom" }, {}, "email-limits", "ok", /pacing sends 30\/min, 100\/h, status reads 60\/min, 200\/h/],
    // The weekly report is off unless asked for.
    ["weekly report off", {}, {}, "weekly-report", "skipped", /CMK_WEEKLY_REPORT is off/],
    // On: who gets it and when.
    ["weekly report on", { CMK_WEEKLY_REPORT: "on" }, {}, "weekly-report", "ok", /goes to 1 escalation address\(es\) after Monday 00:00 UTC/],
    // Links configured properly.
    ["links ok", { CMK_PUBLIC_BASE_URL: "https://cmk.contoso.com" }, {}, "links", "ok", /signed with a key the monitor keeps/],
    // Anonymous dashboard behind App Service Authentication, with its allow-list.
    [
      "anonymous dashboard, auth on",
      { CMK_DASHBOARD_AUTH: "anonymous", WEBSITE_AUTH_ENABLED: "True", CMK_DASHBOARD_ALLOWED_PRINCIPALS: "5c0ffee0-0000-4000-8000-000000000001" },
      {},
      "dashboard",
      "ok",
      /behind App Service Authentication .* 1 allowed principal/,
    ],
  ])("%s", async (_name, env, overrides, id, status, detail) => {
    const report = await doctor(env, overrides);
    expect(row(report, id)).toMatchObject({ status, detail: expect.stringMatching(detail) });
    if (status === "fail" || status === "warn") expect(row(report, id).fix).toEqual(expect.any(String));
    expect(report.exitCode).toBe(report.checks.some((c) => c.status === "fail") ? 1 : report.checks.some((c) => c.status === "warn") ? 2 : 0);
  });

  it.each([
    // The loader refuses these, so the doctor says so in the settings row.
    ["links over http", { CMK_PUBLIC_BASE_URL: "http://cmk.contoso.com" }, /CMK_PUBLIC_BASE_URL: must be an https/],
    ["short signing key", { CMK_PUBLIC_BASE_URL: "https://cmk.contoso.com", CMK_LINK_SIGNING_KEY: "too-short" }, /CMK_LINK_SIGNING_KEY: must be at least 32/],
    [
      "anonymous dashboard without App Service Authentication",
      { CMK_DASHBOARD_AUTH: "anonymous" },
      /CMK_DASHBOARD_AUTH: anonymous needs App Service Authentication/,
    ],
  ])("%s fails the settings row", async (_name, env, detail) => {
    expect(row(await doctor(env), "settings")).toMatchObject({ status: "fail", detail: expect.stringMatching(detail) });
  });

  it("--send-test: sends one email and reports ACS's answer", async () => {
    // Accepted is proved; a refusal is a failure with the fix.
    expect(row(await doctor({}, {}, "me@contoso.com"), "email-test-send")).toMatchObject({ status: "ok", detail: expect.stringContaining("operation op-1") });
    const refused = await doctor(
      {},
      { sendTestEmail: async () => Promise.reject(Object.assign(new Error("DomainNotLinked"), { statusCode: 400 })) },
      "me@contoso.com",
    );
    expect(row(refused, "email-test-send")).toMatchObject({ status: "fail", detail: expect.stringContaining("DomainNotLinked") });
  });

  it("warnings without failures exit 2", async () => {
    // The exit code a CI gate can tell apart from a broken deployment.
    expect((await doctor({ CMK_STATUS_SOURCE: "resource-graph" })).exitCode).toBe(2);
  });
});

describe("the function app at start-up", () => {
  it("logs each offline doctor problem once per process", async () => {
    // Pacing above the sender domain's limits shows in the logs before ACS starts refusing mail.
    const { getMonitorDeps, setCompositionOverrides } = await import("../../src/composition");
    const warnings: string[] = [];
    setCompositionOverrides({ log: { info: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined } });
    try {
      const env = { ...ENV, CMK_EMAIL_RATE_PER_MINUTE: "30" };
      getMonitorDeps(env);
      getMonitorDeps(env);
      expect(warnings).toEqual([expect.stringMatching(/^cmk-monitor doctor: email-limits: send pacing 30\/min.*\(fix: /)]);
    } finally {
      setCompositionOverrides({});
    }
  });
});
