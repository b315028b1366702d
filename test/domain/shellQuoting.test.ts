import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isInertWord, literal, placeholder, sh, shellQuote, ShellText } from "../../src/domain/shellQuoting";

const dir = mkdtempSync(join(tmpdir(), "shellquote-"));
const CANARY = join(dir, "pwned");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `f <quoted>` in a real shell; f prints its argument count and first argument. */
function runInShell(shell: string, quoted: string): string {
  const script = `f() { printf '%s:%s' "$#" "$1"; }; f ${quoted}`;
  return execFileSync(shell, ["-c", script], { encoding: "utf8" });
}

const HOSTILE: Array<[string, string]> = [
  // Command substitution is the classic way a name becomes code.
  ["command substitution", `$(touch ${CANARY})`],
  // Backticks are the older spelling of the same thing.
  ["backticks", `\`touch ${CANARY}\``],
  // Closing a single quote early is the attack on naive single-quoting.
  ["single quote break-out", `'; touch ${CANARY}; echo '`],
  // Double-quote break-out, for quoting that uses "…".
  ["double quote break-out", `"; touch ${CANARY}; echo "`],
  // A newline ends a command in the shell.
  ["newline", `orders\ntouch ${CANARY}`],
  // CR/LF pairs from Windows-edited tags.
  ["CRLF", `orders\r\ntouch ${CANARY}\r\n`],
  // Semicolon, pipe and background operators chain commands.
  ["operators", `a; touch ${CANARY} | cat & touch ${CANARY} && touch ${CANARY} || touch ${CANARY}`],
  // Variable expansion would leak the reader's environment into the command.
  ["variables", "$HOME ${PATH} $1 $@"],
  // Globs expand to file names.
  ["glob", "* ? [a-z]"],
  // Tilde expands to a home directory.
  ["tilde", "~root"],
  // History expansion in interactive bash.
  ["history", "!! !-1"],
  // Redirections write files.
  ["redirection", `> ${CANARY} < /etc/passwd 2>&1`],
  // Backslashes must survive unchanged.
  ["backslashes", "a\\b\\\\c\\"],
  // Only quotes, to exercise the '\'' splice.
  ["only quotes", "''''"],
  // Unicode, including a right-to-left override, must come back byte for byte.
  ["unicode", "ünïcødé 名前 🚀 \u202etxt.exe"],
  // Tabs and spaces must not split the word.
  ["whitespace", " a \t b "],
  // The empty string must still be one (empty) word.
  ["empty", ""],
  // zsh expands a leading "=" to a command path.
  ["leading equals", "=ls"],
];

describe("shellQuote", () => {
  describe.each(["bash", "sh"])("in %s", (shell) => {
    it.each(HOSTILE)("%s: prints the value back as one word and runs nothing", (_why, value) => {
      const output = runInShell(shell, shellQuote(value));
      expect(output).toBe(`1:${value}`);
      expect(existsSync(CANARY)).toBe(false);
    });
  });

  it.each([
    // Azure names and ids are the common case and should stay readable.
    ["orders-db"],
    ["rg_orders.prod"],
    ["3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f"],
    ["/subscriptions/x/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a"],
    ["UserAssignedIdentity=/subscriptions/x/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"],
    ["https://kv-orders.vault.azure.net/keys/cmk"],
    ["owner@contoso.com"],
  ])("leaves the safe token %s unquoted", (value) => {
    expect(shellQuote(value)).toBe(value);
  });

  it.each([
    // A space would split the word.
    ["Key Vault Crypto Service Encryption User", "'Key Vault Crypto Service Encryption User'"],
    // Embedded quotes use the close-escape-reopen splice.
    ["it's", "'it'\\''s'"],
    // Brackets are glob characters.
    ["[system]", "'[system]'"],
    // The empty string must not vanish from the command line.
    ["", "''"],
  ])("quotes %j as %s", (value, expected) => {
    expect(shellQuote(value)).toBe(expected);
  });

  it("drops NUL characters, which no shell word or process argument can carry", () => {
    expect(shellQuote("a\0b")).toBe("ab");
  });
});

describe("sh", () => {
  it("quotes every inert substitution and refuses the rest", () => {
    // The point of the tag: a value cannot be interpolated raw by forgetting to check or quote it.
    expect(sh`az cosmosdb show --name ${"a b"} --resource-group ${"rg(1)"} --subscription ${"s-1"}`.text).toBe(
      "az cosmosdb show --name <value> --resource-group 'rg(1)' --subscription s-1",
    );
  });

  it("keeps placeholders and nested fragments as written", () => {
    // Placeholders are for the reader to replace; nested sh fragments are already checked.
    const inner = sh`az keyvault show --name ${"kv-x"} --query id --output tsv`;
    const outer = sh`--scope "$(${inner})"/keys/${placeholder("key-name")}`;
    expect(outer).toBeInstanceOf(ShellText);
    expect(outer.text).toBe(`--scope "$(az keyvault show --name kv-x --query id --output tsv)"/keys/<key-name>`);
  });

  it("reads as its text wherever a string is expected", () => {
    // Templates and log lines interpolate commands directly; "[object Object]" there would be a broken email.
    expect(`$ ${sh`az keyvault show --name ${"kv-x"}`}`).toBe("$ az keyvault show --name kv-x");
    expect(String(placeholder("vault-name"))).toBe("<vault-name>");
  });

  it("double-quotes our own multi-word literals, the quoting POSIX shells, PowerShell and cmd.exe share", () => {
    expect(sh`--role ${literal("Key Vault Crypto Service Encryption User")}`.text).toBe('--role "Key Vault Crypto Service Encryption User"');
  });
});

describe("isInertWord", () => {
  it.each<[string, boolean]>([
    // Azure names and ids, as commands carry them.
    ["orders-db", true],
    ["/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg_a.b(1)/providers/Microsoft.KeyVault/vaults/kv", true],
    ["UserAssignedIdentity=/subscriptions/x/resourceGroups/rg/providers/p/i", true],
    ["https://kv-orders.vault.azure.net/keys/cmk", true],
    // The Azure CLI replaces @file (and name=@file) with the file's contents.
    ["@~/.azure/msal_token_cache.json", false],
    ["UserAssignedIdentity=@x", false],
    // Options.
    ["-x", false],
    ["--debug", false],
    // Dot segments: the CLI's HTTP stack would remove them and widen a scope.
    ["/subscriptions/s/resourceGroups/rg/../..", false],
    ["..", false],
    ["a/./b", false],
    ["a..b", true],
    // Live in cmd.exe, even inside '…'.
    ["a&b", false],
    ["a|b", false],
    ["%PATH%", false],
    ["a^b", false],
    ["a<b>", false],
    ['a"b', false],
    // Live in POSIX shells or PowerShell.
    ["a'b", false],
    ["a\u2019b", false],
    ["a$b", false],
    ["a`b", false],
    ["a;b", false],
    ["a b", false],
    ["a\nb", false],
    ["a,b", false],
    ["*", false],
    ["~", false],
    ["=ls", false],
    // Unicode look-alikes: PowerShell reads en dashes as dashes and curly quotes as quotes.
    ["\u2013x", false],
    ["kv\u200b", false],
    ["", false],
  ])("%j is inert: %s", (value, expected) => {
    expect(isInertWord(value)).toBe(expected);
  });
});
