/**
 * Email sender over Azure Communication Services: the send through `@azure/communication-email`'s
 * EmailClient, the status read through a core-client ServiceClient signed by
 * `@azure/communication-common` (EmailClient has no call that reads an operation by id).
 *
 * Whatever options the caller passes, SDK retries are off for both (a retried POST may be a second
 * delivery, a retried GET spends quota) and the send's status polls are refused, so `beginSend` is
 * exactly one POST and never `pollUntilDone`.
 */
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { createCommunicationAuthPolicy, parseClientArguments } from "@azure/communication-common";
import { ServiceClient, type CommonClientOptions, type FullOperationResponse } from "@azure/core-client";
import { createPipelineRequest, RestError, type PipelinePolicy } from "@azure/core-rest-pipeline";
import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import type { EmailOperationStatus, EmailSender, OutgoingEmail, SendResult } from "../ports/emailSender";
import { EmailNotAcceptedError } from "../ports/errors";

/** The API version `@azure/communication-email` 1.1.0 speaks; the status read uses the same. */
export const ACS_EMAIL_API_VERSION = "2025-09-01";

const STATUSES: ReadonlySet<string> = new Set(["NotStarted", "Running", "Succeeded", "Failed", "Canceled"]);

/** Failures before any byte reached ACS: the only sends that provably cost nothing. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/** Thrown by the poll-refusing policy; beginSend surfaces it after its POST answered. */
class StatusPollRefusedError extends Error {
  override readonly name = "StatusPollRefusedError";
}

/** Refuses the status polls `beginSend` makes after its POST: the monitor reads status itself, on a budget. */
export function refuseStatusPollsPolicy(): PipelinePolicy {
  return {
    name: "cmkRefuseEmailStatusPolls",
    async sendRequest(request, next) {
      if (request.method === "GET" && /\/emails\/operations\//i.test(new URL(request.url).pathname)) {
        throw new StatusPollRefusedError("status polls are read on the monitor's budget, not by the send");
      }
      return next(request);
    },
  };
}

/** Client options for the status reads: no SDK retries (a retried read spends quota; the next drain reads again). */
export function acsStatusClientOptions<T extends CommonClientOptions>(options: T): T {
  return { ...options, retryOptions: { ...options.retryOptions, maxRetries: 0 } };
}

/** Client options for the send: no SDK retries (a retried POST may be a second delivery), no status polls. */
export function acsSendClientOptions<T extends CommonClientOptions>(options: T): T {
  const noRetries = acsStatusClientOptions(options);
  return { ...noRetries, additionalPolicies: [...(options.additionalPolicies ?? []), { policy: refuseStatusPollsPolicy(), position: "perCall" }] };
}

/** True when ACS provably did not accept the POST: it answered 4xx (not 408), or the request never left. */
function sendWasRefused(error: unknown): { refused: boolean; neverSent: boolean } {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  const neverSent = typeof code === "string" && NEVER_SENT.has(code);
  const answered4xx = typeof statusCode === "number" && statusCode >= 400 && statusCode < 500 && statusCode !== 408;
  return { refused: neverSent || answered4xx, neverSent };
}

export class AcsEmailSender implements EmailSender {
  private readonly client: EmailClient;
  private readonly statusClient: ServiceClient;
  private readonly endpoint: string;

  /**
   * @param connectionStringOrEndpoint as EmailClient takes it (a connection string, or an endpoint with `credential`)
   * @param clientOptions transport options shared by both clients; retries and polls are overridden
   */
  constructor(connectionStringOrEndpoint: string, credential: TokenCredential | undefined, clientOptions: CommonClientOptions = {}) {
    const options = acsSendClientOptions(clientOptions);
    const { url, credential: parsed } = parseClientArguments(connectionStringOrEndpoint, credential ?? options);
    this.endpoint = url.replace(/\/+$/, "");
    this.client = credential ? new EmailClient(connectionStringOrEndpoint, credential, options) : new EmailClient(connectionStringOrEndpoint, options);
    this.statusClient = new ServiceClient({ ...acsStatusClientOptions(clientOptions), endpoint: this.endpoint });
    this.statusClient.pipeline.addPolicy(createCommunicationAuthPolicy(parsed as KeyCredential | TokenCredential));
  }

  async send(email: OutgoingEmail): Promise<SendResult> {
    const message: EmailMessage = {
      senderAddress: email.from,
      content: { subject: email.subject, plainText: email.text, html: email.html },
      recipients: {
        to: email.to.map((address) => ({ address })),
        ...(email.cc.length > 0 ? { cc: email.cc.map((address) => ({ address })) } : {}),
      },
      headers: { "X-CMK-Monitor-Key": email.idempotencyKey },
      disableUserEngagementTracking: true,
      ...(email.attachments && email.attachments.length > 0 ? { attachments: email.attachments.map((attachment) => ({ ...attachment })) } : {}),
    };
    let accepted: string | undefined;
    const onResponse = (raw: FullOperationResponse): void => {
      // Only the POST's own answer is the commit point; the refused poll never gets a response.
      if (raw.request.method === "POST" && raw.status === 202) accepted = (raw.parsedBody as { id?: string } | undefined)?.id || email.operationId;
    };
    try {
      await this.client.beginSend(message, { operationId: email.operationId, onResponse });
    } catch (error) {
      if (accepted !== undefined) return { operationId: accepted };
      const { refused, neverSent } = sendWasRefused(error);
      throw refused ? new EmailNotAcceptedError(error, { neverSent }) : error;
    }
    // beginSend returned without polling: only if ACS answered the POST with a terminal body.
    if (accepted !== undefined) return { operationId: accepted };
    throw new Error(`ACS answered the send of operation ${email.operationId} without a 202`);
  }

  async readOperationStatus(operationId: string): Promise<EmailOperationStatus | undefined> {
    const url = `${this.endpoint}/emails/operations/${encodeURIComponent(operationId)}?api-version=${ACS_EMAIL_API_VERSION}`;
    const response = await this.statusClient.sendRequest(createPipelineRequest({ url, method: "GET" }));
    if (response.status === 404) return undefined;
    if (response.status !== 200) {
      throw new RestError(`ACS status read of operation ${operationId} answered ${response.status}`, {
        statusCode: response.status,
        request: response.request,
        response,
      });
    }
    const status = (JSON.parse(response.bodyAsText ?? "{}") as { status?: unknown }).status;
    if (typeof status !== "string" || !STATUSES.has(status)) throw new Error(`ACS reported an unknown status for operation ${operationId}: ${String(status)}`);
    return status as EmailOperationStatus;
  }
}
