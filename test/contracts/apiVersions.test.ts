import { readFileSync } from "node:fs";
import path from "node:path";
import { LocalSandbox, type RecordedExchange } from "../../src/sandbox";
import { ContractChecker, readManifest, SPECS_DIR } from "./contractChecker";
import { driveAllOperations, UNSERVED_API_VERSION } from "./driveSandbox";

// The api-versions are read from what the installed SDKs actually send, not from their docs.
let exchanges: RecordedExchange[];
let checker: ContractChecker;

beforeAll(async () => {
  checker = await ContractChecker.load();
  const sandbox = await LocalSandbox.start({ recordExchanges: true });
  try {
    expect(await driveAllOperations(sandbox)).toEqual([]);
  } finally {
    await sandbox.stop();
  }
  exchanges = sandbox.exchanges();
  // Polls of a long-running operation's status URL belong to that operation (its api-version too).
  checker.learnStatusUrls(exchanges);
});

const manifest = readManifest().filter((entry) => entry.sdkPackage !== null);

function installedVersion(sdkPackage: string): string {
  const file = path.join(SPECS_DIR, "..", "..", "..", "node_modules", ...sdkPackage.split("/"), "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

describe("vendored specs follow the installed SDKs", () => {
  it.each(manifest.map((entry) => [entry.file, entry] as const))("%s: every operation it lists is sent at its api-version", (_file, entry) => {
    for (const operation of entry.operations) {
      const sent = new Set(
        exchanges
          .filter((e) => checker.operationFor(e)?.id === operation)
          .map((e) => new URL(e.url, "https://x.invalid").searchParams.get("api-version"))
          .filter((version) => version !== UNSERVED_API_VERSION),
      );
      // An SDK upgrade that moves to another api-version fails here until a spec for it is added.
      expect({ operation, sent: [...sent] }).toEqual({ operation, sent: [entry.apiVersion] });
    }
  });

  it.each(manifest.map((entry) => [entry.sdkPackage!, entry] as const))("%s is the release the spec was checked against", (sdkPackage, entry) => {
    // A new SDK release may send a new api-version or call new operations: look at the spec again, then update sdkVersion.
    expect(installedVersion(sdkPackage)).toBe(entry.sdkVersion);
  });

  it("every exchange the monitor's clients make reaches an operation some spec describes", () => {
    const unmatched = exchanges.filter((e) => checker.operationFor(e) === undefined).map((e) => `${e.method} ${e.url}`);
    expect(unmatched).toEqual([]);
  });
});
