/**
 * Probes revoked accounts before the decision, so what they find can start the recovery clock
 * (fix observed) and goes into the emails as evidence. Only accounts that need it are probed:
 * those observed revoked this cycle (new or with an open incident). A probe failure never
 * stops the cycle; the account is decided on its ARM status alone.
 */
import type { CmkAccount } from "../domain/account";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import { describeFailure } from "../ports/failures";
import { mapWithConcurrency } from "./concurrency";
import { deferForDeadline } from "./cycleContext";
import type { Stage } from "./stage";
import type { WorkItem } from "./workItem";

/** Remote calls in flight at once per instance (the deps' `callSlots`): probes and confirmation GETs. */
export const PROBE_CONCURRENCY = 8;

/**
 * Accounts being probed at once. More than the call slots: most accounts wait on a vault another
 * account is already reading (cached per cycle), and waiting takes no slot; the slots keep the
 * calls in flight to PROBE_CONCURRENCY.
 */
export const ACCOUNTS_IN_PROGRESS = 8 * PROBE_CONCURRENCY;

export const probeStage: Stage<WorkItem, WorkItem> = {
  name: "probe",
  async run(ctx, items) {
    const session = ctx.probeSession;
    if (!session) return [...items];
    const probed = [...items];
    const revoked = items.flatMap((item, index) =>
      item.input.kind === "observed" && item.input.classification.health === "revoked" ? [{ index, account: item.input.account }] : [],
    );
    await mapWithConcurrency(
      byVaultInTurn(revoked, (entry) => entry.account),
      ACCOUNTS_IN_PROGRESS,
      async ({ index, account }) => {
        const item = items[index]!;
        // Near the deadline the account is decided on its ARM status alone; its next cycle probes it.
        if (deferForDeadline(ctx)) return;
        try {
          const probe = await session.probe(account);
          ctx.stats.accountsProbed += 1;
          probed[index] = { ...item, probe };
        } catch (error) {
          // The session maps every expected failure to "could not check"; this is a bug or worse.
          ctx.deps.log.warn(`cmk-monitor: probes failed for ${item.accountId}: ${describeFailure(error).message}`);
        }
      },
    );
    return probed;
  },
};

/**
 * Orders probe work so that neighbours use different vaults. The session reads each vault once and
 * every account of that vault waits for the same read: probed vault by vault, the accounts in
 * progress would all wait on one vault's calls; taken in turn, they keep many vaults' calls queued
 * for the slots.
 */
export function byVaultInTurn<T>(items: readonly T[], accountOf: (item: T) => CmkAccount): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const account = accountOf(item);
    const vault = parseKeyVaultKeyUri(account.keyVaultKeyUri)?.vaultHost.toLowerCase() ?? `(${account.id})`;
    const group = groups.get(vault);
    if (group) group.push(item);
    else groups.set(vault, [item]);
  }
  const lists = [...groups.values()];
  const ordered: T[] = [];
  for (let round = 0; ordered.length < items.length; round++) {
    for (const list of lists) if (round < list.length) ordered.push(list[round]!);
  }
  return ordered;
}
