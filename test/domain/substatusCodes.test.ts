import { isCauseId } from "../../src/domain/causes";
import { CMK_CODE_MAX, CMK_CODE_MIN, SUBSTATUS_CODES, findSubstatusCode, findSubstatusName, isCmkCode } from "../../src/domain/substatusCodes";

describe("SUBSTATUS_CODES", () => {
  // The SDKs' list is contiguous 4000-4019; a gap would leave a real code unexplained.
  it("has exactly one entry per code 4000-4019, in order", () => {
    expect(SUBSTATUS_CODES.map((entry) => entry.code)).toEqual(Array.from({ length: 20 }, (_, i) => 4000 + i));
  });

  // Names are looked up case-insensitively, so two names differing only in case would collide.
  it("has unique names", () => {
    const names = SUBSTATUS_CODES.map((entry) => entry.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });

  // Every code means the account is revoked, so "healthy" would silence a real incident.
  it.each(SUBSTATUS_CODES.map((entry) => [entry.code, entry.cause] as const))("%i maps to a revoked cause (%s)", (_code, cause) => {
    expect(isCauseId(cause)).toBe(true);
    expect(cause).not.toBe("healthy");
  });

  // The table is shared contract (CLI JSON, emails); a caller mutating it would change every classification.
  it("is frozen", () => {
    expect(Object.isFrozen(SUBSTATUS_CODES)).toBe(true);
    expect(Object.isFrozen(SUBSTATUS_CODES[0])).toBe(true);
  });
});

describe("lookups", () => {
  // Users paste names in whatever case their logger printed.
  it.each([
    ["KeyVaultKeyNotFound", 4003],
    ["keyvaultkeynotfound", 4003],
    ["KEYVAULTNOTFOUND", 4017],
    ["InvalidKeyVaultKeyAndCertURI", 4011],
  ])("findSubstatusName(%s) → %i", (name, code) => {
    expect(findSubstatusName(name)?.code).toBe(code);
  });

  // Unknown names and codes must come back undefined, not throw, so callers can fall back.
  it("returns undefined for unknown names and codes", () => {
    expect(findSubstatusName("KeyVaultSomethingNew")).toBeUndefined();
    expect(findSubstatusCode(4099)).toBeUndefined();
    expect(findSubstatusCode(403)).toBeUndefined();
  });

  // The CMK block bounds decide "unknown CMK code" (alarm) versus "not about the key" (no alarm).
  it.each([
    [CMK_CODE_MIN, true],
    [CMK_CODE_MAX, true],
    [4019, true],
    [3999, false],
    [4100, false],
    [403, false],
    [4002.5, false],
    [Number.NaN, false],
  ])("isCmkCode(%d) → %s", (code, expected) => {
    expect(isCmkCode(code)).toBe(expected);
  });
});
