/**
 * The deadline policies on a real SDK client (@azure/arm-cosmosdb through the monitor's adapter)
 * against the sandbox: a long Retry-After fails the call at once inside an invocation instead of
 * sleeping past its end; a short one is still waited out and retried.
 */
import { ArmAccountSource } from "../../src/adapters/armAccounts";
import { deadlinePolicies } from "../../src/adapters/deadlinePolicy";
import { withCallDeadline } from "../../src/ports/callDeadline";
import { describeFailure } from "../../src/ports/failures";
import { LocalSandbox } from "../../src/sandbox";

const SUB = "00000000-0000-4000-8000-0000000000e1";
let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
  sandbox.putAccount({
    name: "deadline-db",
    subscriptionId: SUB,
    resourceGroup: "rg",
    keyVaultKeyUri: "https://kv-deadline.vault.azure.net/keys/k",
    status: "Access to the configured customer managed key confirmed.",
    keyVault: "none",
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

function source(): ArmAccountSource {
  return new ArmAccountSource({
    credential: sandbox.credential,
    endpoint: sandbox.url,
    clientOptions: { tlsOptions: { ca: sandbox.ca }, additionalPolicies: deadlinePolicies() },
  });
}

async function list(): Promise<number> {
  let n = 0;
  for await (const _ of source().listAccounts(SUB)) n++;
  return n;
}

describe("deadline policies", () => {
  it.each<[string, number, "fails fast" | "retried"]>([
    // ARM asks for two minutes: more than the 30-second cap, so the 429 comes back at once.
    ["Retry-After 120 s", 120, "fails fast"],
    // One second is affordable: the SDK waits it out and the retry succeeds.
    ["Retry-After 1 s", 1, "retried"],
  ])("%s inside an invocation: %s", async (_name, retryAfterInSeconds, expected) => {
    sandbox.injectFault({ route: "arm-list", status: 429, retryAfterInSeconds });
    const started = Date.now();
    const outcome = await withCallDeadline(60_000, () =>
      list().then(
        (n) => ({ listed: n }),
        (error: { statusCode?: number }) => ({ statusCode: error.statusCode, retryAfterInSeconds: describeFailure(error).retryAfterInSeconds }),
      ),
    );
    if (expected === "fails fast") {
      // Not slept on, but the caller still learns when ARM wants it back (to defer the subscription that long).
      expect(outcome).toEqual({ statusCode: 429, retryAfterInSeconds: 120 });
      expect(Date.now() - started).toBeLessThan(10_000);
    } else {
      expect(outcome).toEqual({ listed: 1 });
    }
  });

  it("a Retry-After longer than the time left is not slept on either", async () => {
    // Ten seconds is under the cap, but the invocation has only two left.
    sandbox.injectFault({ route: "arm-list", status: 429, retryAfterInSeconds: 10 });
    const started = Date.now();
    const outcome = await withCallDeadline(2_000, () => list().catch((error: { statusCode?: number }) => error.statusCode));
    expect(outcome).toBe(429);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a call made after the deadline passed is refused without going out", async () => {
    // The cycle has no time left: nothing new reaches Azure.
    sandbox.clearRequests();
    const outcome = await withCallDeadline(1, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return list().catch((error: Error) => error.name);
    });
    expect(outcome).toBe("DeadlineExceededError");
    expect(sandbox.requests().filter((r) => r.route === "arm-list")).toHaveLength(0);
  });
});
