/**
 * The CMK sub-status codes (data-plane `x-ms-substatus` on HTTP 403, and the "(40xx)" suffix of
 * the ARM `customerManagedKeyStatus`) and the cause each one maps to, gathered from the cause
 * modules. The two sources share one numbering, so this one table serves both the status and the
 * sub-status classifiers.
 */
import { REVOKED_CAUSE_DEFINITIONS, type CauseCode, type RevokedCauseId } from "./causes";

export interface SubstatusCode extends CauseCode {
  cause: RevokedCauseId;
}

/** Every code 4000-4019 from the SDKs' list, in code order; frozen because it is shared contract. */
export const SUBSTATUS_CODES: readonly Readonly<SubstatusCode>[] = Object.freeze(
  REVOKED_CAUSE_DEFINITIONS.flatMap((definition) => definition.codes.map(({ code, name }) => Object.freeze({ code, name, cause: definition.id }))).sort(
    (a, b) => a.code - b.code,
  ),
);

/**
 * The block Azure reserves for CMK failures. New codes are expected to continue it, so a code in
 * this range that is not in the table still means "revoked, cause unknown" rather than "not CMK".
 */
export const CMK_CODE_MIN = 4000;
export const CMK_CODE_MAX = 4099;

const BY_CODE = new Map(SUBSTATUS_CODES.map((entry) => [entry.code, entry]));
const BY_NAME = new Map(SUBSTATUS_CODES.map((entry) => [entry.name.toLowerCase(), entry]));

export function isCmkCode(code: number): boolean {
  return Number.isInteger(code) && code >= CMK_CODE_MIN && code <= CMK_CODE_MAX;
}

/** The table entry for a code; undefined for codes outside the table (including unknown 40xx). */
export function findSubstatusCode(code: number): Readonly<SubstatusCode> | undefined {
  return BY_CODE.get(code);
}

/** Looks a sub-status up by its SDK name, case-insensitively. */
export function findSubstatusName(name: string): Readonly<SubstatusCode> | undefined {
  return BY_NAME.get(name.toLowerCase());
}
