/**
 * Probes revoked accounts before the decision, so what they find can start the recovery clock
 * (fix observed) and goes into the emails as evidence. Only accounts that need it are probed:
 * those observed revoked this cycle (new or with an open incident). A probe failure never
 * stops the cycle; the account is decided on its ARM status alone.
 */
import { describeFailure } from "../adapters/azureErrors";
import type { CmkAccount } from "../domain/account";
import { parseKeyVaultKeyUri } from "../domain/keyVaultUri";
import type { ProbeSession } from "../probes/accountProber";
import type { WorkItem } from "./observeStages";
import { mapWithConcurrency, type CycleContext, type Stage } from "./stage";

/** Accounts probed at once; each probe makes a handful of calls, most cached per cycle. */
export const PROBE_CONCURRENCY = 8;

/** The cycle's probe session (created on first use), shared by every stage that probes. */
export function probeSessionFor(ctx: CycleContext): ProbeSession | undefined {
  if (!ctx.deps.probes) return undefined;
  if (!ctx.probeSession) {
    const session = ctx.deps.probes.session();
    const slots = ctx.workSlots;
    ctx.probeSession = slots ? { probe: (account) => slots.run(() => session.probe(account)) } : session;
  }
  return ctx.probeSession;
}

export const probeStage: Stage<WorkItem, WorkItem> = {
  name: "probe",
  async run(ctx, items) {
    const session = probeSessionFor(ctx);
    if (!session) return [...items];
    const probed = [...items];
    const revoked = items.flatMap((item, index) =>
      item.input.kind === "observed" && item.input.classification.health === "revoked" ? [{ index, account: item.input.account }] : [],
    );
    await mapWithConcurrency(byVaultInTurn(revoked, (entry) => entry.account), PROBE_CONCURRENCY, async ({ index, account }) => {
      const item = items[index]!;
      try {
        const probe = await session.probe(account);
        ctx.stats.accountsProbed += 1;
        probed[index] = { ...item, probe };
      } catch (error) {
        // The session maps every expected failure to "could not check"; this is a bug or worse.
        ctx.deps.log.warn(`cmk-monitor: probes failed for ${item.accountId}: ${describeFailure(error).message}`);
      }
    });
    return probed;
  },
};

/**
 * Orders probe work so that neighbours use different vaults. The session reads each vault once and
 * every account of that vault waits for the same read: probed vault by vault, all the concurrent
 * slots would wait on one vault's calls; taken in turn, they work on as many vaults as there are slots.
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
