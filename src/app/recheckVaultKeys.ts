/**
 * Key-level facts no ARM change shows (a key disabled, deleted or expired: data-plane changes, not in
 * `resourcechanges`) re-read every CMK_RISK_CHECK_INTERVAL_MINUTES, per vault rather than per account:
 * one account of each indexed vault is re-checked (its probes read the vault and the key), and only a
 * vault whose re-check shows a key-level finding has its other accounts re-checked, through the same
 * coalesced re-check as a change event. One probe per vault per interval, on the process's call slots.
 *
 * When it ran last is kept beside the catch-up's watermark, ETag-guarded, so instances do not repeat it.
 */
import type { WarningKind } from "../domain/warnings";
import { withCallDeadline } from "../ports/callDeadline";
import { describeFailure } from "../ports/failures";
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

/** Timers fire a little early or late. */
const DUE_SLACK_IN_MS = 30_000;

export interface VaultKeyOutcome {
  outcome: "off" | "not-due" | "done";
  vaults: number;
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
  const idle = { vaults: 0, vaultsAtRisk: 0, recheck: NO_RECHECK };
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
  const first = await recheckChanged(
    deps,
    vaults.map((vault) => ({ targets: [{ kind: "account", accountId: vault.accountIds[0]! }], changedAt: at })),
    "catch-up",
  );
  const atRisk: string[] = [];
  for (const vault of vaults) {
    if (vault.accountIds.length < 2) continue;
    try {
      const stored = await deps.warnings.getAccountCheck(vault.accountIds[0]!);
      if (stored?.check.findings.some((finding) => KEY_LEVEL_FINDINGS.has(finding.kind))) atRisk.push(...vault.accountIds.slice(1));
    } catch (error) {
      // The daily checks still read every account of the vault.
      deps.log.warn(`cmk-monitor: key re-read of vault ${vault.vaultName}: ${describeFailure(error).message}`);
    }
  }
  const rest =
    atRisk.length > 0
      ? await recheckChanged(
          deps,
          atRisk.map((accountId) => ({ targets: [{ kind: "account", accountId }], changedAt: at })),
          "catch-up",
        )
      : NO_RECHECK;
  const vaultsAtRisk = vaults.filter((vault) => vault.accountIds.slice(1).some((id) => atRisk.includes(id))).length;
  const recheck = add(first, rest);
  deps.log.info(
    `cmk-monitor: key re-read: ${vaults.length} vault(s), ${first.rechecked} re-checked, ${vaultsAtRisk} with a key-level finding (${rest.rechecked} more account(s) re-checked), ${recheck.atRiskEmails} at-risk email(s)`,
  );
  return { outcome: "done", vaults: vaults.length, vaultsAtRisk, recheck };
}
