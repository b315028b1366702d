import { displayValue, neutralizeText } from "../../src/domain/displayText";

describe("neutralizeText", () => {
  it.each<[string, string, string]>([
    // Line breaks of every kind would start a line (or paragraph) of the writer's choosing.
    ["CR LF", "a\r\n\r\nb", "a    b"],
    ["NEL, LS, PS", "a\u0085b\u2028c\u2029d", "a b c d"],
    // Other C0/C1 controls and DEL: a terminal or mail client may act on them.
    ["controls", "a\u0000b\u001b[31mc\u007fd\u009be", "a b [31mc d e"],
    // Bidi controls and marks reorder what the reader sees; they are removed, not replaced.
    ["bidi", "kv\u202egnp.exe\u202c\u2066x\u2069\u200e\u200f\u061c", "kvgnp.exex"],
    // Zero-width characters and the BOM hide inside names.
    ["zero-width", "Sys\u200btem\u200c\u200d\u2060\ufeffAssigned", "SystemAssigned"],
    // A lone surrogate is not Unicode; a pair is kept.
    ["surrogates", "a\ud800b🚀", "a\ufffdb🚀"],
    // Ordinary text is untouched.
    ["plain", "https://kv-orders.vault.azure.net/keys/cmk", "https://kv-orders.vault.azure.net/keys/cmk"],
  ])("%s", (_why, input, expected) => {
    expect(neutralizeText(input)).toBe(expected);
  });
});

describe("displayValue", () => {
  it("caps long text in code points and says how much was left out", () => {
    // A 100,000-character key URI must not fill every email.
    expect(displayValue("a".repeat(305), 300)).toBe(`${"a".repeat(300)}… (5 more characters not shown)`);
  });

  it("never splits a surrogate pair at the cut", () => {
    expect(displayValue("🚀🚀🚀", 2)).toBe("🚀🚀… (1 more characters not shown)");
  });

  it("leaves text within the bound as neutralizeText does", () => {
    expect(displayValue("a\nb", 300)).toBe("a b");
  });
});
