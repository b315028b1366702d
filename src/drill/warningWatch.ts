/**
 * What the monitor's daily warning checks found on healthy accounts, read back from its own
 * store after each poll, as timeline entries: a `warning` when a finding appears (or changes,
 * e.g. its severity), a `warning-resolved` when it goes away. Also tells which accounts a
 * warning digest was about, so digests are attributed rather than "(unknown account)".
 */
import { normalizeResourceId } from "../domain/account";
import type { ReportedWarning, WarningFinding } from "../domain/warnings";
import type { TimelineEntry } from "./timeline";
import type { WarningStore } from "../ports/warningStore";

export type WarningEntry = Omit<TimelineEntry, "atMinute" | "at">;

export class WarningWatch {
  /** Account id → the check last read (its time and findings). */
  private readonly seen = new Map<string, { checkedAt: string; findings: WarningFinding[] }>();
  /** Recipient (lower case) → what their last digest reported. */
  private readonly reported = new Map<string, ReportedWarning[]>();

  constructor(
    private readonly store: WarningStore,
    /** Scenario order, so entries within a poll come out in the order the file lists accounts. */
    private readonly accountOrder: readonly string[],
  ) {}

  /** Entries for checks recorded since the last call. */
  async changes(): Promise<WarningEntry[]> {
    const fresh = (await this.store.listAccountChecks())
      .map((stored) => stored.check)
      .filter((check) => this.seen.get(normalizeResourceId(check.accountId))?.checkedAt !== check.checkedAt)
      .sort((a, b) => this.rank(a.accountName) - this.rank(b.accountName));
    const entries: WarningEntry[] = [];
    for (const check of fresh) {
      const key = normalizeResourceId(check.accountId);
      const before = this.seen.get(key)?.findings ?? [];
      this.seen.set(key, { checkedAt: check.checkedAt, findings: check.findings });
      for (const finding of check.findings) {
        if (before.some((old) => old.kind === finding.kind && old.fingerprint === finding.fingerprint)) continue;
        entries.push({ account: check.accountName, type: "warning", finding: finding.kind, severity: finding.severity, title: finding.title });
      }
      for (const old of before) {
        if (check.findings.some((finding) => finding.kind === old.kind)) continue;
        entries.push({ account: check.accountName, type: "warning-resolved", finding: old.kind, severity: old.severity, title: old.title });
      }
    }
    return entries;
  }

  /**
   * The accounts the digest just sent to `recipient` reports on: every current finding, and
   * earlier ones now gone from accounts that are still healthy (`isHealthy`), which it reports resolved.
   */
  async digestAccounts(recipient: string, isHealthy: (account: string) => boolean): Promise<string[]> {
    const { state } = await this.store.getDigestState(recipient);
    const before = this.reported.get(recipient.toLowerCase()) ?? [];
    this.reported.set(recipient.toLowerCase(), state.reported);
    const still = (r: ReportedWarning) => state.reported.some((now) => now.accountId === r.accountId && now.kind === r.kind);
    const names = [...state.reported.map((r) => r.accountName), ...before.filter((r) => !still(r) && isHealthy(r.accountName)).map((r) => r.accountName)];
    return [...new Set(names)].sort((a, b) => this.rank(a) - this.rank(b));
  }

  private rank(account: string): number {
    const index = this.accountOrder.indexOf(account);
    return index === -1 ? this.accountOrder.length : index;
  }
}
