/**
 * Turning untrusted values (names, ids and URIs read from Azure) into shell words for the
 * `az` commands we put in emails. A reader pastes these into a terminal, so a hostile account
 * name or tag must never become code.
 */

// Tokens made only of these characters mean the same thing quoted or not in POSIX shells,
// bash and zsh, so they stay readable. A leading "=" is excluded: zsh expands "=cmd" to a path.
const SAFE_TOKEN = /^[A-Za-z0-9._/:@-][A-Za-z0-9._/:=@-]*$/;

/**
 * Makes `value` exactly one POSIX-shell word that expands to `value` and runs nothing.
 * Safe tokens stay bare; everything else is single-quoted, with each embedded single quote
 * written as '\'' (close quote, escaped quote, reopen). Inside single quotes the shell treats
 * $( ), backticks, ;, newlines and every other byte literally.
 * NUL characters are dropped: no shell word (or process argument) can carry one.
 */
export function shellQuote(value: string): string {
  const text = value.replace(/\0/g, "");
  if (SAFE_TOKEN.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A piece of shell text we wrote ourselves (or built with `sh`), inserted as it is. */
export class ShellText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A `<name>` the reader must replace before running the command; never quoted. */
export class Placeholder extends ShellText {
  constructor(readonly name: string) {
    super(`<${name}>`);
  }
}

export function placeholder(name: string): Placeholder {
  return new Placeholder(name);
}

export type ShellValue = string | ShellText;

/**
 * The characters a value in a command may hold. Letters, digits and `_ . / : = -` mean the same
 * unquoted in POSIX shells, PowerShell and cmd.exe (which does not honour '…', so quoting cannot
 * be relied on there); parentheses, which resource group names may hold, are quoted by
 * shellQuote for POSIX shells and PowerShell and are plain text to cmd.exe outside a block.
 * Not first: "-" (an option), "@" (the Azure CLI reads "@file" as the file's contents), "="
 * (zsh expands "=cmd"), "." (a "." or ".." path segment).
 */
const INERT_WORD = /^[A-Za-z0-9_(/][A-Za-z0-9_.()/:=-]*$/;

/** True when `text` may appear in a command: inert in every shell we name, and no "." or ".." path segment. */
export function isInertWord(text: string): boolean {
  return INERT_WORD.test(text) && !text.split(/[/=]/).some((segment) => segment === "." || segment === "..");
}

/** What `sh` prints for a value that is not an inert word: nothing of the value itself. */
const REFUSED = new Placeholder("value");

/**
 * Tagged template for commands: every substitution is shell-quoted unless it is ShellText
 * (a placeholder or a fragment built by `sh` itself), so a value cannot be interpolated raw
 * by accident. A value that is not an inert word becomes a placeholder: callers check each
 * value against its Azure shape first (commandTarget.ts), and this is the backstop.
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellText {
  // A tagged template always has one more string than values, so the `?? ""` fallbacks never apply; they are for the type checker.
  // Stryker disable next-line StringLiteral: equivalent, see above
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += value instanceof ShellText ? value.text : isInertWord(value) ? shellQuote(value) : REFUSED.text;
    // Stryker disable next-line StringLiteral: equivalent, see above
    out += strings[index + 1] ?? "";
  });
  return new ShellText(out);
}

/** Our own multi-word text (a role name), double-quoted: the one quoting all three shells share. Never a value from Azure. */
export function literal(text: string): ShellText {
  return new ShellText(`"${text}"`);
}
