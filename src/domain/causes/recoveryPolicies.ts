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
}

export const AFTER_FIX: RecoveryPolicy = { clockStartsAt: "fix", expectedRecoveryInMinutes: 60, escalateAfterInMinutes: 120 };
export const AT_DETECTION: RecoveryPolicy = { clockStartsAt: "detection", expectedRecoveryInMinutes: 60, escalateAfterInMinutes: 120 };
