/** ARM's view of the accounts: what a listing and a GET return now. Tests change it between cycles. */
import { normalizeResourceId, type CmkAccount } from "../../src/domain/account";
import type { AccountSource } from "../../src/ports/accountSource";
import { FaultPlan } from "./faultPlan";

export class FakeAccountSource implements AccountSource {
  private readonly accounts = new Map<string, CmkAccount>();
  readonly faults = new FaultPlan<keyof AccountSource>();
  /** Resource ids of every getAccount call, in order. */
  readonly gets: string[] = [];

  constructor(accounts: readonly CmkAccount[] = []) {
    for (const account of accounts) this.put(account);
  }

  /** Adds or replaces an account (same id, any casing). */
  put(account: CmkAccount): void {
    this.accounts.set(normalizeResourceId(account.id), structuredClone(account));
  }

  /** Changes an account's key status, as ARM would report it from now on. */
  setStatus(id: string, customerManagedKeyStatus: string): void {
    const account = this.accounts.get(normalizeResourceId(id));
    if (!account) throw new Error(`No account ${id}`);
    this.put({ ...account, customerManagedKeyStatus });
  }

  remove(id: string): void {
    this.accounts.delete(normalizeResourceId(id));
  }

  all(): CmkAccount[] {
    return [...this.accounts.values()].map((account) => structuredClone(account));
  }

  async *listAccounts(subscriptionId: string): AsyncIterable<CmkAccount> {
    this.faults.throwIfPlanned("listAccounts");
    for (const account of this.all()) if (account.subscriptionId.toLowerCase() === subscriptionId.toLowerCase()) yield account;
  }

  async getAccount(resourceId: string): Promise<CmkAccount | undefined> {
    this.gets.push(resourceId);
    this.faults.throwIfPlanned("getAccount");
    const account = this.accounts.get(normalizeResourceId(resourceId));
    return account ? structuredClone(account) : undefined;
  }
}
