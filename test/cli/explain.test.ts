import { EXPLAIN_USAGE, runExplain } from "../../src/cli/explain";
import { createBufferedIo } from "../../src/cli/io";
import { COMMANDS, main } from "../../src/cli/main";
import { GUIDE_URL, getCause } from "../../src/domain/causes";
import { remediationSteps } from "../../src/domain/remediation";

const KEY_NOT_FOUND_STATUS =
  "Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; " +
  `for more details about this error and how to restore access to your account please visit ${GUIDE_URL}#azure-key-vault-resource-not-found (4003).`;

async function explain(...args: string[]) {
  const io = createBufferedIo();
  const exitCode = await runExplain(args, io);
  return { exitCode, out: io.out, err: io.err };
}

describe("explain: human output", () => {
  // The everyday use: paste a data-plane error and get the cause, who fixes it and the steps.
  it("explains a sub-status pasted as text", async () => {
    const { exitCode, out, err } = await explain("403", "substatus", "4002");
    const cause = getCause("default-identity-unauthorized");
    expect(exitCode).toBe(0);
    expect(err).toBe("");
    expect(out).toContain(`${cause.id}: ${cause.title}`);
    expect(out).toContain("4002 (KeyVaultAuthenticationFailure)");
    expect(out).toContain(`Why: ${cause.explanation}`);
    expect(out).toContain("Who can fix it: the account owner");
    expect(out).toMatch(/Recovery: the clock starts when the fix is made: .*60 minutes.*120 minutes/);
    expect(out).toContain(`Docs: ${cause.docsUrl}`);
    // Every step and command from the remediation module, not a private copy of them.
    for (const step of remediationSteps(cause.id)) {
      expect(out).toContain(step.text);
      for (const command of step.commands) expect(out).toContain(command.command);
    }
  });

  // TEXT arrives as many argv words when the user does not quote it; they are joined back up.
  it("joins a multi-word status back together", async () => {
    const { exitCode, out } = await explain(...KEY_NOT_FOUND_STATUS.split(" "));
    expect(exitCode).toBe(0);
    expect(out).toContain("key-not-found: ");
    expect(out).toContain("4003 (KeyVaultKeyNotFound)");
  });

  // Causes nobody on the account fixes must say so, and start the clock at detection.
  it("says when Microsoft has to fix it", async () => {
    const { out } = await explain("--substatus", "4019");
    expect(out).toContain("service-side-outage: ");
    expect(out).toContain("Who can fix it: Microsoft");
    expect(out).toContain("the clock starts when the revocation is first detected");
  });

  // The healthy text is a valid question with a reassuring answer, not an error.
  it("explains the healthy status", async () => {
    const { exitCode, out } = await explain("Access to the configured customer managed key confirmed.");
    expect(exitCode).toBe(0);
    expect(out).toContain("healthy: ");
    expect(out).toContain("Recovery: nothing to recover.");
    expect(out).toContain("What to do: nothing.");
  });

  // Input we cannot place still exits 0 (it was classified) but must not claim a revocation.
  it("explains unrecognised text without claiming a revocation", async () => {
    const { exitCode, out } = await explain("hello", "world");
    expect(exitCode).toBe(0);
    expect(out).toContain("unrecognized: ");
    expect(out).toContain("Health:     unknown");
    expect(out).toContain("Nothing here says the account is revoked");
  });
});

describe("explain --json", () => {
  it.each([
    // Text in, JSON out: the scripting use.
    { name: "pasted sub-status", args: ["--json", "x-ms-substatus:", "4016"], cause: "key-vault-network-blocked", code: 4016, health: "revoked" },
    // --json after the text works too: flag position must not matter.
    { name: "flag after text", args: ["KeyVaultKeyNotFound", "--json"], cause: "key-not-found", code: 4003, health: "revoked" },
    // --substatus alone, no text.
    { name: "--substatus alone", args: ["--json", "--substatus", "4018"], cause: "key-disabled-or-expired", code: 4018, health: "revoked" },
    // The --flag=value form.
    { name: "--substatus=N", args: ["--json", "--substatus=4009"], cause: "key-vault-dns-unresolved", code: 4009, health: "revoked" },
    // An explicit 403 is the default, spelled out.
    { name: "--status 403", args: ["--json", "--substatus", "4003", "--status", "403"], cause: "key-not-found", code: 4003, health: "revoked" },
    // CMK sub-statuses only mean revocation on a 403.
    { name: "--status 404", args: ["--json", "--status", "404", "--substatus", "4003"], cause: "unrecognized", code: null, health: "unknown" },
    // An unknown sub-status lets accompanying text decide.
    {
      name: "unknown --substatus with text",
      args: ["--json", "--substatus", "4099", "the", "key", "vault", "was", "not", "found"],
      cause: "key-not-found",
      code: null,
      health: "revoked",
    },
    // An unknown sub-status alone: revoked, cause unknown, code kept.
    { name: "unknown --substatus alone", args: ["--json", "--substatus", "4099"], cause: "unrecognized", code: 4099, health: "revoked" },
    // The full ARM status value.
    { name: "ARM status", args: ["--json", KEY_NOT_FOUND_STATUS], cause: "key-not-found", code: 4003, health: "revoked" },
    // "--" makes a dash-led word text, so it is classified rather than rejected.
    { name: "text after --", args: ["--json", "--", "--not-a-flag"], cause: "unrecognized", code: null, health: "unknown" },
  ])("$name", async ({ args, cause, code, health }) => {
    const { exitCode, out, err } = await explain(...args);
    expect(exitCode).toBe(0);
    expect(err).toBe("");
    // Exactly one JSON object: JSON.parse fails on trailing text.
    const parsed = JSON.parse(out);
    expect(parsed).toMatchObject({ cause, code, health });
    const info = getCause(cause as Parameters<typeof getCause>[0]);
    expect(parsed).toMatchObject({
      title: info.title,
      explanation: info.explanation,
      fixableBy: info.fixableBy,
      policy: info.policy,
      docsUrl: info.docsUrl,
    });
    expect(parsed.steps).toEqual(remediationSteps(info.id));
  });
});

describe("explain: usage errors", () => {
  it.each([
    // Nothing to explain.
    ["no arguments", []],
    // Flags but still nothing to explain.
    ["only --json", ["--json"]],
    // Blank text is no text.
    ["blank text", ["  "]],
    // A typo in a flag must not be classified as text.
    ["unknown flag", ["--jsn", "4002"]],
    // Missing value at the end of the line.
    ["--substatus without value", ["--substatus"]],
    // Non-numeric value.
    ["--substatus not a number", ["--substatus", "abc"]],
    // Negative numbers are not sub-statuses.
    ["--substatus negative", ["--substatus=-1"]],
    // --status only qualifies --substatus.
    ["--status without --substatus", ["--status", "403", "some text"]],
    // Ambiguous: which one did the user mean?
    ["--substatus twice", ["--substatus", "4002", "--substatus", "4003"]],
  ])("%s → exit 1 with a one-line usage error", async (_name, args) => {
    const { exitCode, out, err } = await explain(...args);
    expect(exitCode).toBe(1);
    expect(out).toBe("");
    expect(err.trimEnd().split("\n")).toHaveLength(1);
    expect(err).toContain(EXPLAIN_USAGE);
  });

  // --help is a request, not an error.
  it("--help prints usage and exits 0", async () => {
    const { exitCode, out, err } = await explain("--help");
    expect(exitCode).toBe(0);
    expect(err).toBe("");
    expect(out).toContain(EXPLAIN_USAGE);
  });
});

describe("main", () => {
  async function run(...argv: string[]) {
    const io = createBufferedIo();
    const exitCode = await main(argv, io);
    return { exitCode, out: io.out, err: io.err };
  }

  // The table routes to explain with the remaining arguments.
  it("runs explain", async () => {
    const { exitCode, out } = await run("explain", "--json", "4005");
    expect(exitCode).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ cause: "unwrap-failure", code: 4005 });
  });

  // help lists every row of the table, so added commands show up without extra wiring.
  it("help lists every command", async () => {
    const { exitCode, out } = await run("help");
    expect(exitCode).toBe(0);
    const lines = out.split("\n").map((line) => line.trim());
    for (const [name, command] of Object.entries(COMMANDS)) {
      // Column padding depends on the longest name, so match the name and summary, not the spacing.
      expect(lines.some((line) => line.startsWith(`${name} `) && line.endsWith(command.summary))).toBe(true);
    }
  });

  // help COMMAND shows that command's usage line.
  it("help explain shows the explain usage", async () => {
    const { exitCode, out } = await run("help", "explain");
    expect(exitCode).toBe(0);
    expect(out).toContain(EXPLAIN_USAGE);
  });

  it.each([
    // A typo must not silently do nothing.
    ["unknown command", ["explian", "4002"]],
    // No command at all.
    ["no command", []],
    // Object prototype keys are not commands.
    ["prototype key", ["constructor"]],
    // help for a command that does not exist.
    ["help for unknown command", ["help", "nope"]],
  ])("%s → usage on stderr, exit 1", async (_name, argv) => {
    const { exitCode, out, err } = await run(...argv);
    expect(exitCode).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(/unknown command|no command/);
  });

  // An unexpected throw in a command becomes one stderr line and exit 1, not an unhandled rejection.
  it("turns a throwing command into exit 1", async () => {
    COMMANDS["boom"] = { summary: "test only", run: async () => Promise.reject(new Error("kaboom")) };
    try {
      const { exitCode, err } = await run("boom");
      expect(exitCode).toBe(1);
      expect(err).toBe("cmk-monitor boom: kaboom\n");
    } finally {
      delete COMMANDS["boom"];
    }
  });
});
