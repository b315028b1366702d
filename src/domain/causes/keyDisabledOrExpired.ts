/** The key exists but is disabled or outside its validity dates (4018). */
import type { CommandTarget } from "../commandTarget";
import { keyCondition, keyProblemText, targetNames } from "../probeConditions";
import type { ProbeFacts } from "../probeFacts";
import { cmd, setKeyAttributes, showKey, type RemediationStep } from "../remediationCommands";
import { placeholder, sh } from "../shellQuoting";
import type { CauseDefinition, CauseVerdict } from "./causeDefinition";
import { AFTER_FIX } from "./recoveryPolicies";
import { unknownVerdict } from "./sharedVerdicts";

export const keyDisabledOrExpired: CauseDefinition<"key-disabled-or-expired"> = {
  id: "key-disabled-or-expired",
  title: "Key is disabled or expired",
  explanation: "The Key Vault key exists but is disabled, expired, or not yet valid, so it cannot be used.",
  fixableBy: "owner",
  policy: AFTER_FIX,
  // The guide has no section of its own for this cause.
  guideAnchors: [],
  codes: [{ code: 4018, name: "KeyDisabledOrExpired" }],
  wordings: ["disabled or expired", "key is disabled", "key was disabled", "key has expired", "key is expired"],
  remediation,
  recoveryWording: "from-policy",
  verdict,
};

function remediation(t: CommandTarget): RemediationStep[] {
  return [
    {
      text: "Look at the key's enabled flag and its expiry and not-before dates.",
      commands: [cmd(showKey(t))],
    },
    {
      text: "If the key is disabled, enable it.",
      commands: [cmd(setKeyAttributes(t, sh`--enabled true`))],
    },
    {
      text: "If the key has expired (or its not-before date is in the future), move the date. Use a UTC time such as 2030-01-01T00:00:00Z; --not-before works the same way.",
      commands: [cmd(setKeyAttributes(t, sh`--expires ${placeholder("new-expiry-utc")}`))],
    },
  ];
}

function verdict(facts: ProbeFacts, now: Date): CauseVerdict {
  const names = targetNames(facts);
  const key = keyCondition(facts, now);
  if (key.state === "disabled" || key.state === "expired" || key.state === "not-yet-valid") {
    return { verdict: "present", detail: keyProblemText(key.state, key.key, names) };
  }
  if (key.state === "usable") return { verdict: "gone", detail: `key usable: key ${names.key} is enabled and within its validity dates` };
  return unknownVerdict(key.state === "unknown" ? key.reason : `key ${names.key} is ${key.state}`);
}
