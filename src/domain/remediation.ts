/**
 * What an owner should do for each revoked cause, rendered for their account: the cause's own
 * steps (from its module in causes/), each with ready-to-paste `az` commands, then how long to
 * wait for recovery. Pure. Every value read from Azure reaches a command only through the guards
 * of commandTarget.ts and `sh`; unknown or misshapen values become `<placeholders>`.
 */
import type { CmkAccount } from "./account";
import { getCauseDefinition, policyRecoveryText, type CauseDefinition, type CauseId } from "./causes";
import { commandTarget, guardedValue, type CommandTarget } from "./commandTarget";
import { cmd, showStatus, withPlaceholderHelp, type RemediationStep } from "./remediationCommands";
import { sh } from "./shellQuoting";

// Their homes are defaultIdentity.ts and remediationCommands.ts; re-exported for the code that
// imports them from here (email templates, the CLI, tests).
export { resolveDefaultIdentity, type DefaultIdentityKind, type DefaultIdentityResolution } from "./defaultIdentity";
export { KEY_VAULT_CRYPTO_ROLE, withPlaceholderHelp, type RemediationCommand, type RemediationStep } from "./remediationCommands";

/** "one hour", "two hours", "90 minutes": durations as the emails say them. */
export function describeMinutes(minutes: number): string {
  const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
  if (minutes % 60 === 0 && minutes / 60 < words.length) {
    const hours = minutes / 60;
    return `${words[hours]} hour${hours === 1 ? "" : "s"}`;
  }
  return `${minutes} minutes`;
}

/** The last step: how long to wait for recovery, and the command that shows whether it came. */
function recoveryStep(definition: CauseDefinition, t: CommandTarget): RemediationStep[] {
  const { policy, recoveryWording } = definition;
  if (recoveryWording === "nothing-to-recover") return [];
  const wait = {
    expected: describeMinutes(policy.expectedRecoveryInMinutes),
    escalate: describeMinutes(policy.escalateAfterInMinutes),
  };
  return [
    {
      text: recoveryWording === "from-policy" ? policyRecoveryText(policy, wait) : recoveryWording(wait),
      commands: [cmd(showStatus(t), "Check the current status")],
    },
  ];
}

/** Steps for `cause`, with commands rendered for `account` (placeholders without one). */
export function remediationSteps(cause: CauseId, account?: CmkAccount): RemediationStep[] {
  const definition = getCauseDefinition(cause);
  const t = commandTarget(account);
  const steps = [...definition.remediation(t), ...recoveryStep(definition, t)];
  // Without an account every value is a placeholder by design (the CLI's explain); with one, a placeholder needs saying.
  return account ? steps.map(withPlaceholderHelp) : steps;
}

/** The command that prints the account's current CMK status. */
export function statusCheckCommand(account?: CmkAccount): string {
  return showStatus(commandTarget(account)).text;
}

/** How an owner tells the monitor they have fixed the cause (starts the recovery clock). */
export function acknowledgeFixCommand(accountId?: string): string {
  const id = guardedValue(accountId, "accountResourceId", "account-resource-id");
  // --no-install: outside a checkout of this tool, npx must not fetch a same-named package from the registry.
  return sh`npx --no-install cmk-monitor ack ${id} --fixed`.text;
}
