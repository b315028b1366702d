/**
 * scenarios/hostile-input.json, run the way a reader runs it (`cmk-monitor drill --scenario …
 * --outbox DIR`): every email it writes prints only commands that are safe to paste into any
 * shell, and the hostile names are replaced by placeholders (issue #16, findings 1, 2 and 8).
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runDrill } from "../../src/cli/drill";
import { createBufferedIo } from "../../src/cli/io";
import { shellHazards } from "../hostile/shellHazards";

const SCENARIO = path.resolve(__dirname, "../../scenarios/hostile-input.json");

let outbox: string;
let exitCode: number;
let emails: Map<string, string>;

beforeAll(async () => {
  outbox = await mkdtemp(path.join(os.tmpdir(), "cmk-hostile-outbox-"));
  exitCode = await runDrill(["--scenario", SCENARIO, "--json", "--outbox", outbox], createBufferedIo());
  const files = (await readdir(outbox)).filter((name) => name.endsWith(".html"));
  emails = new Map(await Promise.all(files.map(async (name) => [name, await readFile(path.join(outbox, name), "utf8")] as const)));
}, 180_000);

afterAll(async () => {
  if (outbox) await rm(outbox, { recursive: true, force: true });
});

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#96": "`" })[name]!);
}

function commands(html: string): string[] {
  return [...html.matchAll(/<pre style="[^"]*">([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1]!));
}

describe("the hostile-input drill", () => {
  it("runs and writes every email kind its story has", () => {
    expect(exitCode).toBe(0);
    const kinds = new Set(
      [...emails.keys()].map((name) => name.replace(/^\d{4}-.*?-(revoked|reminder|resolved|fix-acknowledged|at-risk|warning-digest)\.html$/, "$1")),
    );
    // dot-segments-db, healthy again at 30, still lacks the permission: an at-risk email (urgent), not a digest.
    expect([...kinds].sort()).toEqual(["at-risk", "fix-acknowledged", "reminder", "resolved", "revoked"]);
  });

  it("prints no command a shell could misread, in any email", () => {
    const problems = [...emails].flatMap(([name, html]) => commands(html).flatMap((command) => shellHazards(command).map((p) => `${name}: ${p}`)));
    expect(problems).toEqual([]);
    expect([...emails.values()].flatMap(commands).length).toBeGreaterThan(50);
  });

  it.each([
    // Encoded ../../.. is not a key name: the grant's scope ends in <key-name>, never a dot segment.
    ["0000-dot-segments-db-revoked.html", "<key-name>"],
    // The quote and the cmd.exe operators in the key names become placeholders too.
    ["0000-powershell-quote-db-revoked.html", "--name <key-name> --enabled true"],
    ["0000-cmd-operators-db-revoked.html", "az keyvault key recover --vault-name kv-hostile --name <key-name>"],
    // The @file identity is never printed; the reader fills in the identity's resource id.
    ["0000-at-file-identity-db-revoked.html", "<user-assigned-identity-resource-id>"],
    // The corrected key URI names no host from the hostile URI.
    ["0000-not-a-vault-host-db-revoked.html", "--key-uri https://<vault-name>.vault.azure.net/keys/hostile-cmk"],
  ])("%s prints %s", (name, expected) => {
    expect(commands(emails.get(name) ?? "").join("\n")).toContain(expected);
  });

  it("shows the forged text on one line, without bidi or zero-width characters", () => {
    const html = emails.get("0000-forged-text-db-revoked.html")!;
    expect(html).not.toMatch(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(html).not.toMatch(/\nIMPORTANT FROM MICROSOFT/);
  });
});
