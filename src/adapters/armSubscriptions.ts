/** Subscriptions the credential can see, via `@azure/arm-resources-subscriptions`. */
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type { SubscriptionInfo, SubscriptionLister } from "../ports/subscriptionLister";

export class ArmSubscriptionLister implements SubscriptionLister {
  private readonly client: SubscriptionClient;

  constructor(options: { credential: TokenCredential; endpoint: string; clientOptions?: CommonClientOptions }) {
    this.client = new SubscriptionClient(options.credential, { ...options.clientOptions, endpoint: options.endpoint });
  }

  async *listSubscriptions(): AsyncIterable<SubscriptionInfo> {
    for await (const subscription of this.client.subscriptions.list()) {
      if (!subscription.subscriptionId) continue;
      yield {
        subscriptionId: subscription.subscriptionId,
        displayName: subscription.displayName ?? subscription.subscriptionId,
        state: subscription.state ?? "Unknown",
      };
    }
  }
}
