import type { CmkAccount } from "../domain/account";

/** Port: where accounts come from. */
export interface AccountSource {
  /** Accounts with a customer-managed key in one subscription. Throws if the listing fails. */
  listAccounts(subscriptionId: string): AsyncIterable<CmkAccount>;
  /** One account by resource id; undefined when it does not exist. */
  getAccount(resourceId: string): Promise<CmkAccount | undefined>;
}
