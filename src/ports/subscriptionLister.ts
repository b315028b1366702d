export interface SubscriptionInfo {
  subscriptionId: string;
  displayName: string;
  state: string;
}

/** Port: which subscriptions exist for the caller. */
export interface SubscriptionLister {
  listSubscriptions(): AsyncIterable<SubscriptionInfo>;
}
