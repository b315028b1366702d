/**
 * The azd postdeploy hook that wires delivery reports after the first deployment, run with a
 * stand-in `azd` on PATH that answers `env get-value` as told and records every call.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const HOOK = join(ROOT, "scripts", "hooks", "wire-delivery-reports.sh");

/** Runs the hook with a fake azd whose `env get-value` prints `value` (or fails when undefined). */
function runHook(value: string | undefined): string[] {
  const dir = mkdtempSync(join(tmpdir(), "azd-hook-"));
  try {
    const log = join(dir, "calls.log");
    const answer =
      value === undefined ? `echo "ERROR: key 'CMK_DELIVERY_REPORTS' not found in the environment values" >&2; exit 1` : `printf '%s\\n' '${value}'`;
    writeFileSync(join(dir, "azd"), `#!/bin/sh\necho "$*" >> "${log}"\nif [ "$1 $2" = "env get-value" ]; then ${answer}; fi\nexit 0\n`);
    chmodSync(join(dir, "azd"), 0o755);
    execFileSync("sh", [HOOK], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, stdio: "pipe" });
    return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("postdeploy hook: wire delivery reports", () => {
  it.each<[string, string | undefined, string[]]>([
    // Never set (azd says the key is missing): the first `azd up` ends by wiring them.
    ["unset", undefined, ["env get-value CMK_DELIVERY_REPORTS", "env set CMK_DELIVERY_REPORTS true", "provision --no-prompt"]],
    // Set but empty: the same.
    ["empty", "", ["env get-value CMK_DELIVERY_REPORTS", "env set CMK_DELIVERY_REPORTS true", "provision --no-prompt"]],
    // Already wired: later deployments do not provision again.
    ["true", "true", ["env get-value CMK_DELIVERY_REPORTS"]],
    // The operator turned them off: left alone.
    ["false", "false", ["env get-value CMK_DELIVERY_REPORTS"]],
  ])("%s", (_name, value, calls) => {
    expect(runHook(value)).toEqual(calls);
  });

  it("is the project's postdeploy hook on both shells", () => {
    const yaml = readFileSync(join(ROOT, "azure.yaml"), "utf8");
    expect(yaml).toMatch(
      /^hooks:\n  postdeploy:\n    posix:\n      shell: sh\n      run: \.\/scripts\/hooks\/wire-delivery-reports\.sh\n    windows:\n      shell: pwsh\n      run: \.\/scripts\/hooks\/wire-delivery-reports\.ps1$/m,
    );
    expect(existsSync(join(ROOT, "scripts", "hooks", "wire-delivery-reports.ps1"))).toBe(true);
  });
});
