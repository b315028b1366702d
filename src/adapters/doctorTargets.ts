/** The doctor's live reads, over the same SDK clients the monitor uses. */
import type { SupportTickets } from "../ports/supportTickets";
import { randomUUID } from "node:crypto";
import type { EmailClient } from "@azure/communication-email";
import type { TokenCredential } from "@azure/core-auth";
import type { TableClient } from "@azure/data-tables";
import type { QueueClient } from "@azure/storage-queue";
import type { CmkAccount } from "../domain/account";
import type { AccountProber } from "../ports/accountProber";
import type { AccountSource } from "../ports/accountSource";
import type { DoctorScope, DoctorTargets } from "../ports/doctor";
import type { ResourceGraphDiscovery } from "./resourceGraphAccounts";

export interface SdkDoctorTargetsOptions {
  credential: TokenCredential;
  credentialName: string;
  /** ARM's endpoint; the token audience is derived from it (sovereign clouds included). */
  armEndpoint: string;
  accounts: AccountSource;
  resourceGraph: ResourceGraphDiscovery;
  probes?: AccountProber;
  stateTable: TableClient;
  queue?: QueueClient;
  email: EmailClient;
  emailSender: string;
  supportTickets?: SupportTickets;
}

/** Scratch rows live in their own partition, so they can never be read as monitor state. */
const DOCTOR_PARTITION = "doctor";

export class SdkDoctorTargets implements DoctorTargets {
  readonly credentialName: string;
  readonly probes?: AccountProber;
  readonly supportTickets?: SupportTickets;
  readonly queueRoundTrip?: () => Promise<void>;

  constructor(private readonly options: SdkDoctorTargetsOptions) {
    this.credentialName = options.credentialName;
    if (options.probes) this.probes = options.probes;
    if (options.supportTickets) this.supportTickets = options.supportTickets;
    if (options.queue) this.queueRoundTrip = () => this.queueTrip(options.queue!);
  }

  async token(audience: "arm" | "communication"): Promise<void> {
    const scope = audience === "arm" ? `${new URL(this.options.armEndpoint).origin}/.default` : "https://communication.azure.com//.default";
    const token = await this.options.credential.getToken(scope);
    if (!token) throw new Error(`the credential returned no token for ${scope}`);
  }

  async listAccounts(subscriptionId: string): Promise<CmkAccount[]> {
    const found: CmkAccount[] = [];
    for await (const account of this.options.accounts.listAccounts(subscriptionId)) found.push(account);
    return found;
  }

  getAccount(resourceId: string): Promise<CmkAccount | undefined> {
    return this.options.accounts.getAccount(resourceId);
  }

  async resourceGraphSubscriptions(scope: DoctorScope): Promise<Set<string>> {
    return (await this.options.resourceGraph.visibleSubscriptions(scope)).subscriptionIds;
  }

  async resourceGraphAccounts(scope: DoctorScope): Promise<CmkAccount[]> {
    return (await this.options.resourceGraph.discover(scope)).accounts;
  }

  async stateRoundTrip(): Promise<void> {
    const table = this.options.stateTable;
    await table.createTable();
    const rowKey = randomUUID();
    await table.createEntity({ partitionKey: DOCTOR_PARTITION, rowKey, checkedAt: new Date().toISOString() });
    try {
      const read = await table.getEntity(DOCTOR_PARTITION, rowKey);
      if (read.rowKey !== rowKey) throw new Error("the entity read back is not the one written");
    } finally {
      await table.deleteEntity(DOCTOR_PARTITION, rowKey);
    }
  }

  private async queueTrip(queue: QueueClient): Promise<void> {
    await queue.createIfNotExists();
    const marker = `cmk-monitor doctor ${randomUUID()}`;
    const sent = await queue.sendMessage(Buffer.from(JSON.stringify({ doctor: marker })).toString("base64"), { visibilityTimeout: 60 });
    // Hidden for a minute so the queue trigger never sees it; deleted by the receipt from the send.
    await queue.deleteMessage(sent.messageId, sent.popReceipt);
  }

  async sendTestEmail(to: string): Promise<string> {
    const poller = await this.options.email.beginSend({
      senderAddress: this.options.emailSender,
      recipients: { to: [{ address: to }] },
      content: {
        subject: "cmk-monitor doctor: test email",
        plainText: "This is a test email from cmk-monitor doctor. The monitor can send email with its deployed settings.",
      },
    });
    // Accepted is what the doctor proves; delivery is reported to the mailbox, not awaited here.
    return poller.getOperationState().result?.id ?? "accepted";
  }
}
