import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, SETTING_NAMES } from "../src/config";

const sample = JSON.parse(readFileSync(join(__dirname, "..", "local.settings.sample.json"), "utf8")) as {
  Values: Record<string, string>;
  _comments: Record<string, string>;
};

describe("local.settings.sample.json", () => {
  it.each(SETTING_NAMES.map((name) => [name]))("documents %s with a value and a comment", (name) => {
    // Every setting the code reads is discoverable from the sample, with why it exists.
    expect(sample.Values).toHaveProperty(name);
    expect(sample._comments[name]?.length ?? 0).toBeGreaterThan(10);
  });

  it("is a configuration the monitor accepts once the placeholders are filled", () => {
    // A sample that fails validation would teach users the wrong thing.
    const values = { ...sample.Values, ACS_ENDPOINT: "https://acs-contoso.communication.azure.com" };
    expect(() => loadConfig(values)).not.toThrow();
  });
});
