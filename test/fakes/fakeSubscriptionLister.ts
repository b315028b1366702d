/** The subscriptions the caller can see. */
import type { SubscriptionInfo, SubscriptionLister } from "../../src/ports/subscriptionLister";

export class FakeSubscriptionLister implements SubscriptionLister {
  constructor(readonly subscriptions: SubscriptionInfo[] = []) {}

  async *listSubscriptions(): AsyncIterable<SubscriptionInfo> {
    for (const subscription of this.subscriptions) yield { ...subscription };
  }
}
