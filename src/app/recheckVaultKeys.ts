/**
 * Key-level facts no ARM change shows (a key disabled, deleted or expired: data-plane changes, not in
 * `resourcechanges`) re-read every CMK_RISK_CHECK_INTERVAL_MINUTES, per vault rather than per account:
 * the first healthy account of each indexed vault is re-checked (its probes read the vault and the
 * key; a revoked account is skipped, at most three tried), and only a vault whose re-check shows a
 * key-level finding has its other accounts re-checked, through the same coalesced re-check as a
 * change event. One probe per vault per interval, on the process's call slots.
 *
 * When it ran last is kept beside the catch-up's watermark, ETag-guarded, so instances do not repeat it.
 */
import type { WarningKind } from "../domain/warnings";
import { withCallDeadline } from "../ports/callDeadline";
import { describeFailure } from "../ports/failures";
import { mapWithConcurrency } from "../pipeline/concurrency";
import { INVOCATION_BUDGET_IN_MS } from "../pipeline/cycleContext";
import type { MonitorDeps } from "../pipeline/monitorDeps";
import { recheckChanged, type RecheckOutcome } from "./handleChangeEvent";

/** Findings that say the vault or its key (shared by the vault's accounts) is what broke. */
export const KEY_LEVEL_FINDINGS: ReadonlySet<WarningKind> = new Set<WarningKind>([
  "key-expired",
  "key-disabled",
  "key-deleted",
  "key-missing",
  "key-not-yet-valid",
  "vault-deleted",
  "vault-missing",
]);

/** Vaults looked at side by side; each account's calls take the process's call slots. */
const VAULTS_IN_PARALLEL = 4;
/** Accounts tried per vault before it is left to the daily checks (the first ones were revoked or unreadable). */
const MAX_TRIES_PER_VAULT = 3;

/** Timers fire a little early or late. */
const DUE_SLACK_IN_MS = 30_000;

export interface VaultKeyOutcome {
  outcome: "off" | "not-due" | "done";
  vaults: number;
  /** Vaults one of whose accounts was re-checked (the first healthy one of at most three tried). */
  vaultsRead: number;
  /** Vaults whose re-checked account showed a key-level finding, so their other accounts were re-checked. */
  vaultsAtRisk: number;
  recheck: RecheckOutcome;
}

const NO_RECHECK: RecheckOutcome = { accounts: 0, rechecked: 0, coalesced: 0, skipped: 0, failed: 0, atRiskEmails: 0 };

function add(a: RecheckOutcome, b: RecheckOutcome): RecheckOutcome {
  return {
    accounts: a.accounts + b.accounts,
    rechecked: a.rechecked + b.rechecked,
    coalesced: a.coalesced + b.coalesced,
    skipped: a.skipped + b.skipped,
    failed: a.failed + b.failed,
    atRiskEmails: a.atRiskEmails + b.atRiskEmails,
  };
}

export function recheckVaultKeys(deps: MonitorDeps): Promise<VaultKeyOutcome> {
  return withCallDeadline(INVOCATION_BUDGET_IN_MS, () => run(deps));
}

async function run(deps: MonitorDeps): Promise<VaultKeyOutcome> {
  const idle = { vaults: 0, vaultsRead: 0, vaultsAtRisk: 0, recheck: NO_RECHECK };
  if (!deps.changes || !deps.probes) return { outcome: "off", ...idle };
  const now = deps.clock.now();
  const read = await deps.changes.watermark.readKeyRiskCheck();
  const last = read.watermark === undefined ? Number.NaN : Date.parse(read.watermark);
  if (Number.isFinite(last) && last <= now.getTime() && now.getTime() - last < deps.settings.riskCheckIntervalInMinutes * 60_000 - DUE_SLACK_IN_MS) {
    return { outcome: "not-due", ...idle };
  }
  // Recorded first: another instance starting now skips this interval rather than probing every vault again.
  if (!(await deps.changes.watermark.recordKeyRiskCheck(read, now.toISOString()))) return { outcome: "not-due", ...idle };

  const at = now.toISOString();
  const vaults = await deps.fleetIndex.vaults();
  let recheck = NO_RECHECK;
  let vaultsAtRisk = 0;
  let vaultsRead = 0;
  await mapWithConcurrency(vaults, VAULTS_IN_PARALLEL, async (vault) => {
    // The first healthy account of the vault stands for it (a revoked one is the poll's, and is not re-checked).
    let checked: string | undefined;
    for (const [index, accountId] of vault.accountIds.entries()) {
      if (index >= MAX_TRIES_PER_VAULT) break;
      const outcome = await recheckChanged(deps, [{ targets: [{ kind: "account", accountId }], changedAt: at }], "catch-up");
      recheck = add(recheck, outcome);
      if (outcome.rechecked > 0) {
        checked = accountId;
        break;
      }
    }
    if (checked === undefined) return;
    vaultsRead += 1;
    const others = vault.accountIds.filter((id) => id !== checked);
    if (others.length === 0 || !(await hasKeyLevelFinding(deps, checked))) return;
    vaultsAtRisk += 1;
    const rest = await recheckChanged(
      deps,
      others.map((accountId) => ({ targets: [{ kind: "account", accountId }], changedAt: at })),
      "catch-up",
    );
    recheck = add(recheck, rest);
  });
  deps.log.info(
    `cmk-monitor: key re-read: ${vaultsRead} of ${vaults.length} vault(s) read, ${vaultsAtRisk} with a key-level finding, ${recheck.rechecked} account(s) re-checked, ${recheck.atRiskEmails} at-risk email(s)`,
  );
  return { outcome: "done", vaults: vaults.length, vaultsRead, vaultsAtRisk, recheck };
}

/** Whether the account's latest check shows the vault or its key broken; a failed read counts as no (the daily checks still read every account). */
async function hasKeyLevelFinding(deps: MonitorDeps, accountId: string): Promise<boolean> {
  try {
    const stored = await deps.warnings.getAccountCheck(accountId);
    return stored?.check.findings.some((finding) => KEY_LEVEL_FINDINGS.has(finding.kind)) ?? false;
  } catch (error) {
    deps.log.warn(`cmk-monitor: key re-read: could not read the check of ${accountId}: ${describeFailure(error).message}`);
    return false;
  }
}
