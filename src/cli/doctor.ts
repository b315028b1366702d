/**
 * `cmk-monitor doctor [--json] [--sandbox] [--send-test ADDRESS]`: checks the deployment with its
 * own settings (the environment, as the function app reads them) and identity, one row per
 * assumption. Exit 0 all ok, 2 warnings, 1 failures.
 */
import { parseArgs } from "node:util";
import { runDoctor, type DoctorReport } from "../app/doctor";
import { createDoctorTargets, type CompositionOverrides } from "../composition";
import type { Environment } from "../config";
import type { CheckResult } from "../ports/doctor";
import { LocalSandbox, startAzurite, type AzuriteInstance } from "../sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../sandbox/environment";
import type { CliIo } from "./io";
import { readSettingsFile } from "./run";
import { terminalText } from "./userFacingErrors";

export const DOCTOR_USAGE = "usage: cmk-monitor doctor [--json] [--sandbox] [--settings local.settings.json] [--send-test ADDRESS]";

/** The sandbox's small fleet: two subscriptions, so discovery goes through Resource Graph as in most tenants. */
export const DOCTOR_SANDBOX_SUBSCRIPTIONS = ["00000000-0000-0000-0000-00000000d0c1", "00000000-0000-0000-0000-00000000d0c2"] as const;

export async function runDoctorCommand(args: string[], io: CliIo, env: Environment = process.env): Promise<number> {
  let values: { json?: boolean; sandbox?: boolean; settings?: string; "send-test"?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { json: { type: "boolean" }, sandbox: { type: "boolean" }, settings: { type: "string" }, "send-test": { type: "string" } },
    }));
  } catch (error) {
    io.stderr(`cmk-monitor doctor: ${(error as Error).message}\n${DOCTOR_USAGE}`);
    return 1;
  }
  if (values.settings) {
    const read = readSettingsFile(values.settings, env);
    if ("problem" in read) {
      io.stderr(`cmk-monitor doctor: ${read.problem}`);
      return 1;
    }
    env = read.settings;
  }
  const options = values["send-test"] ? { sendTestTo: values["send-test"] } : {};
  const report = values.sandbox
    ? await withDoctorSandbox((sandboxEnv, targetsFor) => runDoctor(sandboxEnv, targetsFor, options))
    : await runDoctor(env, (config) => createDoctorTargets(config), options);
  io.stdout(values.json ? JSON.stringify({ checks: report.checks }, null, 2) : renderReport(report));
  return report.exitCode;
}

/**
 * Starts the local sandbox and Azurite with a small healthy fleet, runs `work` against them and
 * stops both. `arrange` may change the sandbox first (tests use it for the warn and fail rows).
 */
export async function withDoctorSandbox<T>(
  work: (env: Environment, targetsFor: Parameters<typeof runDoctor>[1], overrides: CompositionOverrides) => Promise<T>,
  arrange: (sandbox: LocalSandbox, env: Environment) => Environment | void = () => undefined,
): Promise<T> {
  let sandbox: LocalSandbox | undefined;
  let azurite: AzuriteInstance | undefined;
  try {
    [sandbox, azurite] = await Promise.all([LocalSandbox.start(), startAzurite()]);
    DOCTOR_SANDBOX_SUBSCRIPTIONS.forEach((subscriptionId, i) =>
      sandbox!.putAccount({
        name: `doctor-db-${i + 1}`,
        subscriptionId,
        resourceGroup: "rg-doctor",
        keyVaultKeyUri: `https://kv-doctor-${i + 1}.vault.azure.net/keys/cmk`,
        defaultIdentity: "SystemAssignedIdentity",
        identity: { type: "SystemAssigned", principalId: `5c0ffee0-0000-4000-8000-00000000d0c${i + 1}` },
        status: "Access to the configured customer managed key confirmed.",
      }),
    );
    const base = sandboxEnvironment(sandbox, azurite, { CMK_SUBSCRIPTION_IDS: DOCTOR_SANDBOX_SUBSCRIPTIONS.join(",") });
    const env = arrange(sandbox, base) ?? base;
    const overrides = sandboxOverrides(sandbox, { maxRetries: 0 });
    return await work(env, (config) => createDoctorTargets(config, overrides), overrides);
  } finally {
    await Promise.allSettled([sandbox?.stop(), azurite?.stop()]);
  }
}

const MARK: Record<CheckResult["status"], string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skipped: "skip" };

export function renderReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = report.checks.map((c) => {
    const row = `${MARK[c.status]}  ${c.id.padEnd(width)}  ${terminalText(c.detail, 2000)}`;
    return c.fix ? `${row}\n      ${" ".repeat(width)}  → ${terminalText(c.fix, 2000)}` : row;
  });
  const counts = (["ok", "warn", "fail", "skipped"] as const).map((s) => `${report.checks.filter((c) => c.status === s).length} ${s}`).join(", ");
  return `${lines.join("\n")}\n\n${counts}`;
}
