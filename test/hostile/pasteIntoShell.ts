/**
 * What happens when an owner pastes the monitor's commands into a shell: the commands run in a
 * real bash or dash with `az`, `nslookup` and `npx` replaced by functions that only record
 * their arguments. Anything else that runs (an injected `touch`, a stray word) shows up as a
 * canary file, a "not found" on stderr, or arguments that differ from the value we meant.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Shell = "bash" | "sh";

export interface RecordedCall {
  program: string;
  args: string[];
}

export interface PasteResult {
  calls: RecordedCall[];
  status: number | null;
  stderr: string;
  /** True when the canary file exists: an injected command ran. */
  canaryTouched: boolean;
  /** Files that appeared in the working directory (e.g. from an injected redirection). */
  strayFiles: string[];
}

/** What the stub `az` prints, so `"$(az keyvault show … --query id)"` has a recognisable value. */
export const VAULT_ID_STUB = "VAULTID";

/** A placeholder the reader must fill in (`<principal-id>`) becomes this word before running. */
export const PLACEHOLDER_PREFIX = "PLACEHOLDER-";

/**
 * Our own `<name>` placeholders would be redirections in a shell; turn the ones outside quotes
 * into plain words (a reader replaces them before running). Text inside single quotes is a
 * quoted value and is left exactly as it is.
 */
export function fillPlaceholders(command: string): string {
  let out = "";
  let inSingle = false;
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    if (inSingle) {
      out += char;
      if (char === "'") inSingle = false;
      continue;
    }
    if (char === "\\") {
      out += char + (command[i + 1] ?? "");
      i += 1;
      continue;
    }
    if (char === "'") {
      inSingle = true;
      out += char;
      continue;
    }
    if (char === "<") {
      const match = /^<([a-z][a-z0-9-]*)>/.exec(command.slice(i));
      if (match) {
        out += `${PLACEHOLDER_PREFIX}${match[1]}`;
        i += match[0].length - 1;
        continue;
      }
    }
    out += char;
  }
  return out;
}

/** A scratch directory with a canary path; call `dispose` in afterAll. */
export function createPasteSandbox(): { dir: string; canary: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "cmk-paste-"));
  return { dir, canary: join(dir, "pwned"), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `commands` (one per element, as copied from an email) in `shell` inside `dir`. */
export function pasteIntoShell(shell: Shell, commands: readonly string[], dir: string, canary: string): PasteResult {
  const work = mkdtempSync(join(dir, "run-"));
  const log = join(work, ".calls");
  const separator = `__CALL_${randomUUID()}__`;
  const prelude = [
    `record() { printf '%s\\0' "$CMK_SEP" "$@" >> "$CMK_LOG"; }`,
    `az() { record az "$@"; printf '%s\\n' ${VAULT_ID_STUB}; }`,
    `nslookup() { record nslookup "$@"; }`,
    `npx() { record npx "$@"; }`,
  ].join("\n");
  const script = `${prelude}\n${commands.map(fillPlaceholders).join("\n")}\n`;
  const result = spawnSync(shell, ["-c", script], {
    cwd: work,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, CMK_LOG: log, CMK_SEP: separator },
    timeout: 10_000,
  });
  if (result.error) throw result.error;
  const calls: RecordedCall[] = [];
  if (existsSync(log)) {
    const tokens = readFileSync(log, "utf8").split("\0");
    tokens.pop(); // the text after the last NUL is empty
    for (const token of tokens) {
      if (token === separator) calls.push({ program: "", args: [] });
      else if (calls.at(-1)!.program === "") calls.at(-1)!.program = token;
      else calls.at(-1)!.args.push(token);
    }
  }
  const strayFiles = readdirSync(work).filter((name) => name !== ".calls");
  const canaryTouched = existsSync(canary);
  rmSync(work, { recursive: true, force: true });
  return { calls, status: result.status, stderr: result.stderr, canaryTouched, strayFiles };
}

/** The value after `flag` in a call's arguments; undefined when the flag is absent. */
export function flagValue(call: RecordedCall, flag: string): string | undefined {
  const at = call.args.indexOf(flag);
  return at === -1 ? undefined : call.args[at + 1];
}
