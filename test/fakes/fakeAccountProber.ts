/** Probes that return the facts a test gave per account (or throw its error), counting the calls. */
import { normalizeResourceId, type CmkAccount } from "../../src/domain/account";
import type { AccountProber, CallLimiter, ProbeSession } from "../../src/ports/accountProber";
import type { ProbeFacts } from "../../src/domain/probeFacts";

export class FakeAccountProber implements AccountProber {
  private readonly answers = new Map<string, ProbeFacts | Error>();
  /** Account ids probed, in order, over every session. */
  readonly probed: string[] = [];
  sessions = 0;

  /** What probing `accountId` returns (or throws) from now on. */
  answer(accountId: string, facts: ProbeFacts | Error): void {
    this.answers.set(normalizeResourceId(accountId), facts);
  }

  session(options: { subscriptionIds?: readonly string[]; callSlots?: CallLimiter } = {}): ProbeSession {
    this.sessions += 1;
    const slots = options.callSlots;
    const probeOne = async (account: CmkAccount): Promise<ProbeFacts> => {
      this.probed.push(account.id);
      const answer = this.answers.get(normalizeResourceId(account.id));
      if (answer === undefined) throw new Error(`No probe facts were given for ${account.id}`);
      if (answer instanceof Error) throw answer;
      return structuredClone(answer);
    };
    return { probe: (account) => (slots ? slots.run(() => probeOne(account)) : probeOne(account)) };
  }
}
