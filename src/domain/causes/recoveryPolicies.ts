/**
 * How long an account takes to leave the revoked state once its cause is gone, and when to
 * escalate: the guide's timings, as the recovery policies the causes choose from.
 */

export interface RecoveryPolicy {
  /**
   * When the recovery clock starts: after the owner's fix is observed or acknowledged, or at
   * detection for causes where nothing is expected of the owner (the guide's DNS case, outages).
   */
  clockStartsAt: "fix" | "detection";
  /** The guide: up to one hour after the fix for the account to leave the revoked state. */
  expectedRecoveryInMinutes: number;
  /** The guide: still revoked two hours after the fix → contact support. */
  escalateAfterInMinutes: number;
  /**
   * Once a fix has been undone and observed again (a flapping probe), escalation comes this long
   * after the FIRST observed fix instead of restarting with each one: otherwise a probe that flaps
   * faster than the escalation window would never escalate. Longer where the clock runs from
   * detection (the DNS case), whose two hours may come on top of the owner's fix.
   */
  escalateAfterFirstFixWhenFlappingInMinutes: number;
}

export const AFTER_FIX: RecoveryPolicy = {
  clockStartsAt: "fix",
  expectedRecoveryInMinutes: 60,
  escalateAfterInMinutes: 120,
  escalateAfterFirstFixWhenFlappingInMinutes: 120,
};
export const AT_DETECTION: RecoveryPolicy = {
  clockStartsAt: "detection",
  expectedRecoveryInMinutes: 60,
  escalateAfterInMinutes: 120,
  escalateAfterFirstFixWhenFlappingInMinutes: 240,
};

/** A policy's durations in words, as the emails say them ("one hour"). */
export interface RecoveryWait {
  expected: string;
  escalate: string;
}

/**
 * How a cause's last remediation step words the wait for recovery: "from-policy" says what its
 * policy says (see policyRecoveryText), a function words it for that cause, and
 * "nothing-to-recover" adds no such step.
 */
export type RecoveryWording = "from-policy" | "nothing-to-recover" | ((wait: RecoveryWait) => string);

/** The wait as the policy has it: counted from the owner's fix, or from detection. */
export function policyRecoveryText(policy: RecoveryPolicy, { expected, escalate }: RecoveryWait): string {
  if (policy.clockStartsAt === "detection") {
    return (
      `Allow up to ${escalate} from detection for the account to recover without any change on your side. ` +
      "If it is still revoked after that, contact Microsoft support; this monitor escalates on its own at that point."
    );
  }
  return (
    `Once the fix is in place, the account usually leaves the revoked state within about ${expected}. ` +
    `If it is still revoked ${escalate} after the fix, contact Microsoft support; this monitor escalates on its own at that point.`
  );
}
