/**
 * `cmk-monitor doctor` against the local sandbox and Azurite with the real SDK clients: a fresh
 * fleet passes every row; Resource Graph without status, an unreadable subscription and a
 * firewalled vault give the warn and fail rows a real tenant would.
 */
import { runDoctor } from "../../src/app/doctor";
import { DOCTOR_SANDBOX_SUBSCRIPTIONS, runDoctorCommand, withDoctorSandbox } from "../../src/cli/doctor";
import { createBufferedIo } from "../../src/cli/io";
import type { CheckResult } from "../../src/ports/doctor";

jest.setTimeout(60_000);

describe("cmk-monitor doctor --sandbox", () => {
  it("passes every row on a fresh sandbox: --json prints {checks}, exit 0", async () => {
    // What a new user sees after npm ci: nothing to fix.
    const io = createBufferedIo();
    const code = await runDoctorCommand(["--sandbox", "--json"], io);
    const { checks } = JSON.parse(io.out) as { checks: CheckResult[] };
    expect(checks.filter((c) => c.status === "fail" || c.status === "warn")).toEqual([]);
    expect(checks.find((c) => c.id === "key-vault-reach")).toMatchObject({ status: "ok" });
    expect(checks.find((c) => c.id === "resource-graph-coverage")).toMatchObject({ status: "ok" });
    expect(code).toBe(0);
  });

  it.each<[string, Parameters<typeof withDoctorSandbox>[1], string, CheckResult["status"], RegExp]>([
    // Resource Graph rows carry no status (the sandbox's default); the user opted into it anyway.
    [
      "Resource Graph without status",
      (_s, env) => ({ ...env, CMK_STATUS_SOURCE: "resource-graph" }),
      "status-source",
      "warn",
      /no status for 2 .*falls back to ARM/,
    ],
    // ARM answers 403 and Resource Graph silently drops the subscription.
    [
      "an unreadable subscription",
      (sandbox) => sandbox.forbidSubscription(DOCTOR_SANDBOX_SUBSCRIPTIONS[1]),
      "subscriptions",
      "fail",
      new RegExp(`1 of 2 .*${DOCTOR_SANDBOX_SUBSCRIPTIONS[1]} \\(HTTP 403\\)`),
    ],
    [
      "... which Resource Graph does not see either",
      (sandbox) => sandbox.forbidSubscription(DOCTOR_SANDBOX_SUBSCRIPTIONS[1]),
      "resource-graph-coverage",
      "fail",
      /does not see 1/,
    ],
    // A vault whose firewall keeps the monitor out.
    [
      "a firewalled vault",
      (sandbox) => sandbox.keyVault.setFirewall("kv-doctor-1", { defaultAction: "Deny" }),
      "key-vault-reach",
      "warn",
      /kv-doctor-1.*firewall/,
    ],
  ])("%s", async (_name, arrange, id, status, detail) => {
    const report = await withDoctorSandbox((env, targetsFor) => runDoctor(env, targetsFor), arrange);
    expect(report.checks.find((c) => c.id === id)).toMatchObject({ status, detail: expect.stringMatching(detail), fix: expect.any(String) });
    expect(report.exitCode).toBe(status === "fail" ? 1 : 2);
  });
});

describe("GET /api/doctor in the function app", () => {
  it("runs the same rows with the app's settings and answers JSON", async () => {
    // Inside Azure this is the only way to check with the app's own managed identity.
    const { HttpRequest, InvocationContext } = await import("@azure/functions");
    const { setCompositionOverrides } = await import("../../src/composition");
    const { httpDoctor } = await import("../../src/functions/httpDoctor");
    const saved = { ...process.env };
    const response = await withDoctorSandbox(async (env, _targets, overrides) => {
      Object.assign(process.env, env);
      setCompositionOverrides(overrides);
      try {
        return await httpDoctor(
          new HttpRequest({ url: "https://cmk.example.test/api/doctor", method: "GET" }),
          new InvocationContext({ functionName: "cmkDoctor", logHandler: () => undefined }),
        );
      } finally {
        setCompositionOverrides({});
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    });
    expect(response.status).toBe(200);
    const body = response.jsonBody as { checks: CheckResult[]; exitCode: number };
    expect(body.exitCode).toBe(0);
    expect(body.checks.map((c) => c.id)).toContain("state-storage");
  });
});
