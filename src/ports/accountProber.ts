/** Port: the Key Vault, identity, DNS and permission probes, as the pipeline and the CLI use them. */
import type { CmkAccount } from "../domain/account";
import type { ProbeFacts } from "../domain/probeFacts";

/** Limits remote calls in flight: every call a session makes takes one slot for as long as it runs. */
export interface CallLimiter {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** Port: probing accounts. */
export interface AccountProber {
  /** A fresh cache for one cycle (or one scan); `subscriptionIds` replaces where vaults are looked for. */
  session(options?: { subscriptionIds?: readonly string[]; callSlots?: CallLimiter }): ProbeSession;
}

export interface ProbeSession {
  probe(account: CmkAccount): Promise<ProbeFacts>;
}
