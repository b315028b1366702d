/**
 * `cmk-monitor scan`: one read-only pass over subscriptions with the caller's own Azure
 * credential. Changes nothing, sends nothing. Exit 0 all healthy, 2 any revoked, 1 on error.
 */
import { parseArgs } from "node:util";
import { createScanDeps, type ScanDeps } from "../composition";
import type { CmkAccount } from "../domain/account";
import { getCause } from "../domain/causes";
import { classifyStatus, type Classification } from "../domain/classifier";
import { evidenceLines, PROBE_LABELS, type EvidenceLine } from "../domain/probeFindings";
import { remediationSteps } from "../domain/remediation";
import { warningFindings, type WarningFinding } from "../domain/warnings";
import type { CliIo } from "./io";
import { explainError, terminalText } from "./userFacingErrors";
import { mapWithConcurrency } from "../pipeline/concurrency";

const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const SCAN_USAGE = "usage: cmk-monitor scan [--subscription ID ...] [--json] [--verbose] [--no-probe]";

export interface ScannedAccount {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  health: Classification["health"];
  cause: Classification["cause"];
  code: number | null;
  status: string | null;
  firstStep: string | null;
  /** What the probes found, one line per probe (absent with --no-probe). */
  checks?: EvidenceLine[];
  /** For healthy accounts: what could revoke them (absent with --no-probe). */
  warnings?: Array<Pick<WarningFinding, "kind" | "severity" | "title" | "detail">>;
}

export interface ScanResult {
  subscriptions: string[];
  accounts: ScannedAccount[];
  failures: { subscriptionId: string; error: string }[];
  summary: { accounts: number; healthy: number; revoked: number; unknown: number };
}

export async function runScan(args: string[], io: CliIo, deps: () => ScanDeps = () => createScanDeps()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        subscription: { type: "string", multiple: true },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
        // On by default: Key Vault, key, permission, DNS and firewall checks; --no-probe reads ARM only.
        probe: { type: "boolean", default: true },
      },
      allowNegative: true,
    });
  } catch (error) {
    io.stderr(`cmk-monitor scan: ${(error as Error).message}\n${SCAN_USAGE}`);
    return 1;
  }
  // A subscription id becomes a path segment of every ARM call: anything but a GUID is refused here.
  const notGuid = (parsed.values.subscription ?? []).find((id) => !SUBSCRIPTION_ID.test(id));
  if (notGuid !== undefined) {
    io.stderr(`cmk-monitor scan: --subscription needs a subscription id (a GUID), got "${terminalText(notGuid, 80)}".\n${SCAN_USAGE}`);
    return 1;
  }
  const verbose = parsed.values.verbose ?? false;
  try {
    const result = await scan(deps(), parsed.values.subscription ?? [], io, { probe: parsed.values.probe !== false });
    if (parsed.values.json) io.stdout(JSON.stringify(result, null, 2));
    else io.stdout(renderTable(result));
    if (result.summary.revoked > 0) return 2;
    return result.failures.length > 0 ? 1 : 0;
  } catch (error) {
    io.stderr(`cmk-monitor scan: ${explainError(error, "listing subscriptions")}`);
    if (verbose && error instanceof Error && error.stack) io.stderr(error.stack);
    return 1;
  }
}

export async function scan(deps: ScanDeps, requested: string[], io: CliIo, options: { probe?: boolean } = {}): Promise<ScanResult> {
  let subscriptionIds = requested;
  if (subscriptionIds.length === 0) {
    subscriptionIds = [];
    for await (const subscription of deps.subscriptions.listSubscriptions()) {
      // Disabled or deleted subscriptions cannot be listed; skip rather than fail.
      if (subscription.state === "Enabled") subscriptionIds.push(subscription.subscriptionId);
    }
    if (subscriptionIds.length === 0)
      throw new Error("The credential sees no enabled subscription: pass --subscription ID, or sign in with an identity that has Reader on one.");
  }
  const failures: ScanResult["failures"] = [];
  let done = 0;
  const perSubscription = await mapWithConcurrency(subscriptionIds, 4, async (subscriptionId) => {
    const found: CmkAccount[] = [];
    try {
      for await (const account of deps.accounts.listAccounts(subscriptionId)) found.push(account);
    } catch (error) {
      failures.push({ subscriptionId, error: explainError(error, `listing Cosmos DB accounts in ${subscriptionId}`) });
    }
    done += 1;
    if (subscriptionIds.length > 1) io.stderr(`scanned ${done}/${subscriptionIds.length} subscriptions`);
    return found;
  });
  const found = perSubscription.flat();
  const accounts = found.map(toScanned);
  if (options.probe !== false && deps.probes) await attachProbeResults(deps, found, accounts, subscriptionIds);
  accounts.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  return {
    subscriptions: subscriptionIds,
    accounts,
    failures,
    summary: {
      accounts: accounts.length,
      healthy: accounts.filter((a) => a.health === "healthy").length,
      revoked: accounts.filter((a) => a.health === "revoked").length,
      unknown: accounts.filter((a) => a.health === "unknown").length,
    },
  };
}

function toScanned(account: CmkAccount): ScannedAccount {
  const classification = classifyStatus(account.customerManagedKeyStatus);
  const steps = classification.health === "revoked" ? remediationSteps(classification.cause, account) : [];
  const first = steps[0];
  return {
    id: account.id,
    name: account.name,
    subscriptionId: account.subscriptionId,
    resourceGroup: account.resourceGroup,
    health: classification.health,
    cause: classification.cause,
    code: classification.code,
    status: account.customerManagedKeyStatus ?? null,
    firstStep: first ? [first.text, ...first.commands.map((c) => c.command)].join(" ") : null,
  };
}

/** Probes every account (read-only, one cache for the whole scan) and adds the findings. */
async function attachProbeResults(deps: ScanDeps, found: CmkAccount[], scanned: ScannedAccount[], subscriptionIds: string[]): Promise<void> {
  const session = deps.probes!.session({ subscriptionIds });
  const now = new Date();
  const options = { keyExpiryWarningDays: deps.keyExpiryWarningDays ?? 30 };
  await mapWithConcurrency(found, 4, async (account) => {
    const target = scanned.find((s) => s.id === account.id);
    if (!target) return;
    let facts;
    try {
      facts = await session.probe(account);
    } catch {
      return; // the session reports expected failures as "could not check"; anything else skips this account's checks
    }
    target.checks = evidenceLines(account, facts, now);
    if (target.health === "healthy") {
      target.warnings = warningFindings(account, facts, now, options).findings.map(({ kind, severity, title, detail }) => ({ kind, severity, title, detail }));
    }
  });
}

const OUTCOME_LABEL: Record<EvidenceLine["outcome"], string> = { ok: "ok", problem: "PROBLEM", "could-not-check": "could not check" };

function renderChecks(result: ScanResult): string[] {
  const probed = result.accounts.filter((a) => a.checks);
  if (probed.length === 0) return [];
  const lines = ["", "What we checked (use --no-probe to skip):"];
  for (const account of probed) {
    const notOk = account.checks!.filter((line) => line.outcome !== "ok");
    const warnings = account.warnings ?? [];
    if (notOk.length === 0 && warnings.length === 0) {
      lines.push(`  ${terminalText(account.name, 40)}: all ${account.checks!.length} checks passed`);
      continue;
    }
    lines.push(`  ${terminalText(account.name, 40)}:`);
    for (const line of notOk) {
      lines.push(`    ${OUTCOME_LABEL[line.outcome]} (${PROBE_LABELS[line.probe]}): ${terminalText(line.text, 2000)}`);
      for (const command of line.commands ?? []) lines.push(`      ${terminalText(command.command, 2000)}`);
    }
    for (const warning of warnings) lines.push(`    warning, ${warning.severity}: ${terminalText(warning.title, 200)}`);
  }
  return lines;
}

function rank(account: ScannedAccount): number {
  return account.health === "revoked" ? 0 : account.health === "unknown" ? 1 : 2;
}

function renderTable(result: ScanResult): string {
  const lines: string[] = [];
  const rows = result.accounts.map((a) => [
    terminalText(a.name, 40),
    terminalText(a.resourceGroup, 30),
    a.subscriptionId,
    a.health.toUpperCase(),
    a.code === null ? "-" : String(a.code),
    a.health === "healthy" ? "-" : a.cause,
  ]);
  const header = ["ACCOUNT", "RESOURCE GROUP", "SUBSCRIPTION", "HEALTH", "CODE", "CAUSE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  if (rows.length > 0) {
    lines.push(line(header));
    for (const row of rows) lines.push(line(row));
  } else {
    lines.push("No Cosmos DB accounts with customer-managed keys found.");
  }
  const revoked = result.accounts.filter((a) => a.health === "revoked");
  if (revoked.length > 0) {
    lines.push("", "First step for each revoked account:");
    for (const account of revoked) {
      lines.push(`  ${terminalText(account.name, 40)} (${getCause(account.cause).title}):`, `    ${terminalText(account.firstStep ?? "", 2000)}`);
    }
    lines.push("", 'Run `cmk-monitor explain --json "<status>"` for all steps.');
  }
  lines.push(...renderChecks(result));
  for (const failure of result.failures) lines.push(`! ${failure.subscriptionId}: ${failure.error}`);
  const s = result.summary;
  lines.push(
    "",
    `${s.accounts} CMK account(s) in ${result.subscriptions.length} subscription(s): ${s.healthy} healthy, ${s.revoked} revoked, ${s.unknown} unknown.`,
  );
  return lines.join("\n");
}
