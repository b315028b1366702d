/**
 * The command line with bad flags, bad values and bad files: every command answers exit 1 with
 * a one-sentence error naming the problem, no stack trace, and does no work (no Azure client,
 * no store) first.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScanDeps } from "../../src/composition";
import type { Environment } from "../../src/config";
import { runAck } from "../../src/cli/ack";
import { runDrill } from "../../src/cli/drill";
import { runExplain } from "../../src/cli/explain";
import { createBufferedIo, type BufferedIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import { runRun } from "../../src/cli/run";
import { runScan } from "../../src/cli/scan";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const dir = mkdtempSync(join(tmpdir(), "cmk-cli-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SUB = "00000000-0000-0000-0000-0000000000c1";
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/orders-db`;

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Exit 1, nothing on stdout, and a first stderr line that names the command and the problem. */
function expectUsageError(code: number, io: BufferedIo, command: string, problem: RegExp): void {
  expect(code).toBe(1);
  expect(io.out).toBe("");
  const [first] = io.err.split("\n");
  expect(first).toMatch(new RegExp(`^cmk-monitor ${command}: `));
  expect(io.err).toMatch(problem);
  expect(io.err).not.toMatch(/\n\s+at /);
}

/** A dependency factory that fails the test if a command reaches for it. */
function untouchable<T>(what: string): { factory: () => T; calls: () => number } {
  let calls = 0;
  return {
    factory: () => {
      calls += 1;
      throw new Error(`${what} must not be built for bad input`);
    },
    calls: () => calls,
  };
}

describe("explain", () => {
  it.each<[string[], RegExp]>([
    // A flag that does not exist.
    [["--nope"], /unknown option --nope/],
    // A flag's value is missing or is not a number.
    [["--substatus"], /--substatus needs a whole number/],
    [["--substatus", "abc"], /--substatus needs a whole number/],
    [["--substatus=4002x"], /--substatus needs a whole number/],
    [["--substatus", "-1"], /--substatus needs a whole number/],
    [["--substatus", "1e3"], /--substatus needs a whole number/],
    [["--substatus", "99999999999"], /--substatus needs a whole number/],
    // Given twice: which one did they mean?
    [["--substatus", "4002", "--substatus", "4003"], /given twice/],
    // --status without --substatus means nothing.
    [["--status", "403", "text"], /--status only applies with --substatus/],
    // Nothing to explain at all.
    [[], /nothing to explain/],
    [["   "], /nothing to explain/],
    // Markup and control characters in a flag name are reported, not interpreted.
    [["--<script>"], /unknown option --<script>/],
  ])("%j → exit 1", async (args, problem) => {
    const io = createBufferedIo();
    expectUsageError(await runExplain(args, io), io, "explain", problem);
  });

  it.each<[string, string]>([
    // A megabyte of text is classified, not echoed.
    ["1 MB", `Access to your account is currently revoked ${"x".repeat(1_000_000)} (4002).`],
    // Binary junk.
    ["binary", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256)).toString("latin1")],
    // Markup and terminal escapes.
    ["markup", "<script>alert('x')</script><x-evil-cli> (4003)"],
    ["terminal escape", "\u001b]0;pwned\u0007\u001b[2J revoked (4017)"],
  ])("TEXT of %s is explained without being echoed back", async (_why, text) => {
    // The explanation is ours; a pasted error must not repaint the user's terminal.
    for (const args of [[text], ["--json", text]]) {
      const io = createBufferedIo();
      expect(await runExplain(args, io)).toBe(0);
      expect(io.out).not.toContain("x-evil");
      expect(io.out).not.toContain("\u001b");
      expect(io.out.length).toBeLessThan(50_000);
    }
  });
});

describe("ack", () => {
  it.each<[string[], RegExp]>([
    // No arguments, no id, no --fixed.
    [[], /give one account resource id and --fixed/],
    [["--fixed"], /give one account resource id and --fixed/],
    [[ACCOUNT_ID], /give one account resource id and --fixed/],
    // Two ids: which one is fixed?
    [[ACCOUNT_ID, ACCOUNT_ID, "--fixed"], /give one account resource id and --fixed/],
    // Unknown flags and a flag without its value.
    [[ACCOUNT_ID, "--fixed", "--force"], /Unknown option '--force'/],
    [[ACCOUNT_ID, "--fixed", "--by"], /argument missing/],
    // A boolean flag given a value.
    [[ACCOUNT_ID, "--fixed=yes"], /does not take an argument/],
    // Not a Cosmos DB account id: a storage account, a name, an injection attempt, a path trick.
    [["/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st", "--fixed"], /not a Cosmos DB account resource id/],
    [["orders-db", "--fixed"], /not a Cosmos DB account resource id/],
    [[`${ACCOUNT_ID}/../../other`, "--fixed"], /not a Cosmos DB account resource id/],
    [[`${ACCOUNT_ID}\nBcc: x@evil.example`, "--fixed"], /not a Cosmos DB account resource id/],
    [["$(touch /tmp/x)", "--fixed"], /not a Cosmos DB account resource id/],
  ])("%j → exit 1 before touching state", async (args, problem) => {
    const deps = untouchable<MonitorDeps>("the monitor");
    const io = createBufferedIo();
    expectUsageError(await runAck(args, io, deps.factory), io, "ack", problem);
    expect(deps.calls()).toBe(0);
  });
});

describe("scan", () => {
  it.each<[string[], RegExp]>([
    // Unknown flags, positional words and a flag without its value.
    [["--nope"], /Unknown option '--nope'/],
    [["everything"], /Unexpected argument 'everything'/],
    [["--subscription"], /argument missing/],
    // A subscription that is not a GUID would be sent to ARM as a path segment.
    [["--subscription", "not-a-guid"], /--subscription .*GUID/],
    [["--subscription", `${SUB}/../../providers`], /--subscription .*GUID/],
    [["--subscription", "$(touch /tmp/x)"], /--subscription .*GUID/],
    [["--subscription", SUB, "--subscription", "\u001b[2Jnope"], /--subscription .*GUID/],
  ])("%j → exit 1 before any Azure call", async (args, problem) => {
    const deps = untouchable<ScanDeps>("the ARM clients");
    const io = createBufferedIo();
    expectUsageError(await runScan(args, io, deps.factory), io, "scan", problem);
    expect(deps.calls()).toBe(0);
    // The bad value is shown without its terminal escapes.
    expect(io.err).not.toContain("\u001b");
  });
});

describe("run", () => {
  const GOOD_VALUES = { Values: { CMK_SUBSCRIPTION_IDS: SUB } };
  it.each<[string, string[] | (() => string[]), RegExp]>([
    // Flags.
    ["unknown flag", ["--nope"], /Unknown option '--nope'/],
    ["positional word", ["now"], /Unexpected argument 'now'/],
    ["--settings without a file", ["--settings"], /argument missing/],
    // The settings file: missing, unreadable as JSON, or the wrong shape.
    ["missing settings file", () => ["--once", "--settings", join(dir, "absent.json")], /cannot read settings file/],
    ["a directory", () => ["--once", "--settings", dir], /cannot read settings file/],
    ["bad JSON", () => ["--once", "--settings", file("bad.json", "{ Values: ")], /cannot read settings file .*JSON/],
    ["binary", () => ["--once", "--settings", file("binary.json", Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b]))], /cannot read settings file/],
    ["JSON null", () => ["--once", "--settings", file("null.json", "null")], /settings file .*must be a JSON object/],
    ["JSON array", () => ["--once", "--settings", file("array.json", "[]")], /settings file .*must be a JSON object/],
    ["Values is a string", () => ["--once", "--settings", file("values-string.json", '{"Values": "CMK_SUBSCRIPTION_IDS=x"}')], /Values must be an object/],
    ["Values is an array", () => ["--once", "--settings", file("values-array.json", '{"Values": []}')], /Values must be an object/],
    // A number where the host expects a string is silently dropped today; it must be an error.
    [
      "a number value",
      () => ["--once", "--settings", file("number.json", JSON.stringify({ Values: { ...GOOD_VALUES.Values, CMK_POLL_INTERVAL_MINUTES: 5 } }))],
      /CMK_POLL_INTERVAL_MINUTES must be a string/,
    ],
    [
      "a boolean value",
      () => ["--once", "--settings", file("bool.json", JSON.stringify({ Values: { CMK_SUBSCRIPTION_IDS: true } }))],
      /CMK_SUBSCRIPTION_IDS must be a string/,
    ],
    [
      "a null value",
      () => ["--once", "--settings", file("nullvalue.json", JSON.stringify({ Values: { CMK_EMAIL_SENDER: null } }))],
      /CMK_EMAIL_SENDER must be a string/,
    ],
    // Encrypted files need `func settings decrypt` first; their values are ciphertext.
    ["encrypted", () => ["--once", "--settings", file("encrypted.json", JSON.stringify({ IsEncrypted: true, Values: GOOD_VALUES.Values }))], /encrypted/],
  ])("%s → exit 1 before building the monitor", async (_why, args, problem) => {
    let built = 0;
    const io = createBufferedIo();
    const argv = typeof args === "function" ? args() : args;
    const code = await runRun(argv, io, {} as Environment, () => {
      built += 1;
      throw new Error("must not build the monitor");
    });
    expectUsageError(code, io, "run", problem);
    expect(built).toBe(0);
  });

  it("a settings file with only the documented extra fields is accepted", async () => {
    // local.settings.json also carries IsEncrypted, Host and ConnectionStrings; those are not errors.
    const path = file(
      "documented.json",
      JSON.stringify({ IsEncrypted: false, Host: { LocalHttpPort: 7071 }, ConnectionStrings: {}, Values: GOOD_VALUES.Values }),
    );
    let seen: Environment | undefined;
    const io = createBufferedIo();
    const code = await runRun(["--once", "--settings", path], io, {} as Environment, (env) => {
      seen = env;
      throw Object.assign(new Error("stop here"), { name: "ConfigurationError" });
    });
    expect(seen).toMatchObject({ CMK_SUBSCRIPTION_IDS: SUB });
    expect(code).toBe(1);
  });
});

describe("drill scenario files", () => {
  it.each<[string, string | Buffer, RegExp]>([
    // Not JSON: the error says where.
    ["bad JSON", '{"start": "2026-03-02T08:00:00Z",', /not valid JSON/],
    ["binary", Buffer.from([0x00, 0xff, 0x10, 0x80]), /not valid JSON/],
    ["empty", "", /not valid JSON/],
    // The wrong shape at the top.
    ["null", "null", /must be a JSON object/],
    ["array", "[]", /must be a JSON object/],
    // Wrong types for fields.
    ["string duration", JSON.stringify({ start: "2026-03-02T08:00:00Z", durationMinutes: "60", pollIntervalMinutes: 5, accounts: [] }), /durationMinutes/],
    ["accounts not a list", JSON.stringify({ start: "2026-03-02T08:00:00Z", durationMinutes: 60, pollIntervalMinutes: 5, accounts: {} }), /accounts/],
    // Unknown fields, including one whose name is markup with a line break in it.
    [
      "unknown field",
      JSON.stringify({ start: "2026-03-02T08:00:00Z", durationMinutes: 60, pollIntervalMinutes: 5, accounts: [], surprise: 1 }),
      /surprise: unknown field/,
    ],
    [
      "hostile field name",
      JSON.stringify({ start: "2026-03-02T08:00:00Z", durationMinutes: 60, pollIntervalMinutes: 5, accounts: [], "<x>\r\nInjected: yes": 1 }),
      /unknown field/,
    ],
  ])("%s → exit 1 with the file and field named, nothing run", async (why, content, problem) => {
    const name = `scenario-${why.replace(/\W+/g, "-")}.json`;
    file(name, content);
    const io = createBufferedIo();
    const code = await runDrill(["--scenario", name, "--outbox", join(dir, "outbox")], io, { cwd: dir });
    expect(code).toBe(1);
    expect(io.out).toBe("");
    expect(io.err).toMatch(/^cmk-monitor drill: the scenario is not valid:/);
    expect(io.err).toContain(name);
    expect(io.err).toMatch(problem);
    expect(io.err).not.toMatch(/\n\s+at /);
    // A field name cannot forge a line of its own in the error list.
    expect(io.err).not.toMatch(/^Injected: yes/m);
  });

  it("a missing scenario file → exit 1, no such file", async () => {
    const io = createBufferedIo();
    expect(await runDrill(["--scenario", "absent.json"], io, { cwd: dir })).toBe(1);
    expect(io.err).toMatch(/absent\.json: cannot read the scenario file \(no such file\)/);
  });
});

describe("main", () => {
  it.each<[string[], RegExp]>([
    // No command.
    [[], /no command given/],
    // Unknown commands, including names that exist on every object.
    [["nope"], /unknown command nope/],
    [["__proto__"], /unknown command __proto__/],
    [["constructor"], /unknown command constructor/],
    [["toString"], /unknown command toString/],
  ])("%j → exit 1 with the command list", async (argv, problem) => {
    const io = createBufferedIo();
    expect(await main(argv, io)).toBe(1);
    expect(io.out).toBe("");
    expect(io.err).toMatch(problem);
    expect(io.err).toContain("Commands:");
  });
});
