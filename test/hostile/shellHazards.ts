/**
 * What a printed command must never hold, whichever shell the reader pastes it into: a character
 * that POSIX shells, PowerShell or cmd.exe treat as special outside its quoting (cmd.exe does not
 * honour '…' at all), a "." or ".." path segment, a value starting with "@" (the Azure CLI reads
 * "@file" as the file's contents) or "-" (an option), or a host that is not a Key Vault host.
 * Written independently of src/, as the reader's view of the command.
 */

/** The flags our commands use; any other word starting with "-" is a value read as an option. */
const OUR_FLAGS = new Set([
  "--name",
  "--resource-group",
  "--subscription",
  "--query",
  "--output",
  "--vault-name",
  "--identities",
  "--default-identity",
  "--key-uri",
  "--object-id",
  "--key-permissions",
  "--role",
  "--assignee-object-id",
  "--assignee-principal-type",
  "--scope",
  "--ids",
  "--enabled",
  "--expires",
  "--not-before",
  "--version",
  "--file",
  "--bypass",
  "--enable-purge-protection",
  "--no-install",
  "--fixed",
]);

const VAULT_SUFFIXES = [
  "vault.azure.net",
  "vault.azure.cn",
  "vault.usgovcloudapi.net",
  "vault.microsoftazure.de",
  "managedhsm.azure.net",
  "managedhsm.azure.cn",
  "managedhsm.usgovcloudapi.net",
];
const VAULT_LABEL = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;
/** Our placeholders; the reader replaces them before running the command. */
const PLACEHOLDER = /<[a-z][a-z0-9-]*>/g;

/** True for `<vault>.<vault DNS suffix>`, or a host the reader fills in from placeholders. */
export function isVaultHost(host: string): boolean {
  if (/^<[a-z-]+>$/.test(host)) return true;
  const suffix = VAULT_SUFFIXES.find((s) => host.endsWith(`.${s}`));
  if (!suffix) return false;
  const label = host.slice(0, -suffix.length - 1);
  return VAULT_LABEL.test(label) || /^<[a-z-]+>$/.test(label);
}

/** Every hazard in one printed command; empty when it is safe to paste anywhere. */
export function shellHazards(command: string): string[] {
  const problems: string[] = [];
  // Printable ASCII only: no newline, control, bidi, zero-width or look-alike character can hide in a command.
  if (!/^[\x20-\x7e]+$/.test(command)) problems.push(`non-printable or non-ASCII character in ${JSON.stringify(command)}`);

  // Our one POSIX construct: "$(az keyvault show … --query id --output tsv)"; its inner command is checked like the rest.
  let rest = command.replace(/"\$\((az keyvault show [^()"']*--query id --output tsv)\)"/g, " $1 ");
  // Our own double-quoted literals (JMESPath queries, the role name, "[system]"): nothing expands in them.
  rest = rest.replace(/"([^"]*)"/g, (_m, inner: string) => {
    if (!/^[A-Za-z0-9 {}:,.[\]_-]*$/.test(inner)) problems.push(`double-quoted text that expands or ends early: ${JSON.stringify(inner)}`);
    return " LITERAL ";
  });
  // Single quotes are read by POSIX shells and PowerShell, not by cmd.exe: only inert text may be in them.
  rest = rest.replace(/'([^']*)'/g, (_m, inner: string) => {
    if (!/^[A-Za-z0-9_.()/:=-]+$/.test(inner)) problems.push(`single-quoted text with a special character: ${JSON.stringify(inner)}`);
    return inner.replace(/[()]/g, "P");
  });
  const words = rest
    .replace(PLACEHOLDER, "PH")
    .split(" ")
    .filter((word) => word !== "");
  for (const word of words) {
    // Outside any quoting only these mean the same in every shell.
    if (!/^[A-Za-z0-9_./:=-]+$/.test(word)) problems.push(`special character outside quoting in ${JSON.stringify(word)}`);
    if (word.startsWith("@") || word.includes("=@")) problems.push(`@file value ${JSON.stringify(word)}`);
    if (word.startsWith("-") && !OUR_FLAGS.has(word)) problems.push(`value read as an option: ${JSON.stringify(word)}`);
    if (word.split(/[/=]/).some((segment) => segment === ".." || segment === ".")) problems.push(`dot segment in ${JSON.stringify(word)}`);
  }
  for (const [, host] of command.matchAll(/https?:\/\/([^/\s"']*)/g)) {
    if (!isVaultHost(host!)) problems.push(`URL to a host that is not a Key Vault host: ${JSON.stringify(host)}`);
  }
  const lookup = /^nslookup (\S+)$/.exec(command);
  if (command.startsWith("nslookup") && (!lookup || !isVaultHost(lookup[1]!))) problems.push(`nslookup of a host that is not a Key Vault host: ${command}`);
  return problems;
}
