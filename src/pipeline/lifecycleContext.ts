/** The settings as the pure lifecycle reads them: reminder interval, escalation contacts, owners. */
import type { MonitorSettings } from "../config";
import type { LifecycleContext } from "../domain/lifecycle";
import { resolveOwnerRecipients } from "../domain/recipients";

export function lifecycleContext(settings: MonitorSettings): LifecycleContext {
  return {
    reminderIntervalInMinutes: settings.reminderIntervalInMinutes,
    escalationRecipients: settings.escalationRecipients,
    newRecipientsPerDay: settings.maxNewRecipientsPerDay,
    resolveOwners: (account) =>
      resolveOwnerRecipients(account.tags, {
        ownerTag: settings.ownerTag,
        defaultRecipients: settings.defaultRecipients,
        allowedRecipientDomains: settings.allowedRecipientDomains,
        maxOwnerRecipients: settings.maxOwnerRecipients,
      }),
  };
}
