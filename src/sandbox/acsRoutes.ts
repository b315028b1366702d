import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { AcsDeliveryReports } from "./acsDeliveryReports";
import type { MatchedRoute, SandboxFault, SandboxRequest, SandboxResponse } from "./server";

/** One email as the sandbox received it from `POST /emails:send`. */
export interface SentEmail {
  operationId: string;
  receivedAt: Date;
  senderAddress: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  plainText?: string;
  html?: string;
  /** The message's custom email headers (`message.headers`), not the HTTP request headers. */
  headers: Record<string, string>;
  /** Attachments as posted (`message.attachments`), base64 content kept as sent. */
  attachments?: Array<{ name: string; contentType: string; contentInBase64: string; contentId?: string }>;
}

/** A POST that reused an accepted Operation-Id (delivered again unless `dedupeRepeats` is on). */
export type EmailRepeat = SentEmail;

type OperationStatus = "Running" | "Succeeded" | "Failed";

interface EmailOperation {
  email: SentEmail;
  /** Decided at acceptance (or by a poll fault while still running). */
  outcome: "Succeeded" | "Failed";
  /** Sandbox-clock time until which the operation reports Running. */
  runningUntil: number;
  /** Sandbox-clock time it was accepted (for `forgetAfterInMs`). */
  acceptedAt: number;
}

export type EmailDomainKind = "azure-managed" | "custom";

/** ACS's per-subscription email limits (Learn, "Service limits"): [per minute, per hour]. */
export const ACS_EMAIL_LIMITS: Readonly<Record<EmailDomainKind, { send: [number, number]; status: [number, number] }>> = {
  "azure-managed": { send: [5, 10], status: [10, 20] },
  custom: { send: [30, 100], status: [60, 200] },
};

export interface AcsBehaviour {
  /**
   * Undocumented, so played the least convenient way (docs/azure-behaviour.md): a POST that repeats
   * an accepted Operation-Id is delivered again. Off only for the comparison that shows what the
   * old dedupe assumption hid.
   */
  dedupeRepeats: boolean;
  /** Sends and status reads beyond the domain's limits get 429 + Retry-After (every request counts). */
  enforceLimits: boolean;
  domain: EmailDomainKind;
  /** How long (sandbox clock) an accepted operation reports Running: random within [min, max] ms. */
  runningForInMs: [number, number];
  /** The sandbox clock for limits and running times (the fault suite's simulated time). */
  clock: () => number;
  /** Random source for running times (seeded by the fault suite). */
  random: () => number;
  /**
   * How long (sandbox clock) an accepted operation stays readable; after that its status GET
   * answers 404 as if ACS never had it. Undocumented (docs/azure-behaviour.md): undefined plays
   * "readable for good"; a number plays ACS forgetting, the case where a read-back cannot tell.
   */
  forgetAfterInMs?: number;
}

const DEFAULT_BEHAVIOUR: AcsBehaviour = {
  dedupeRepeats: false,
  enforceLimits: false,
  domain: "azure-managed",
  runningForInMs: [0, 0],
  clock: () => Date.now(),
  random: Math.random,
};

const MINUTE_IN_MS = 60_000;

// The SDK signs `x-ms-date`, so a stale or future date is refused like the service does.
const MAX_CLOCK_SKEW_IN_MS = 15 * 60 * 1000;
// The service's per-message limit over to + cc + bcc.
const MAX_RECIPIENTS = 50;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL_ADDRESS_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const SEND_PATH = /^\/emails(?::|%3a)send\/?$/i;
const POLL_PATH = /^\/emails\/operations\/([^/]+)\/?$/i;

/**
 * Azure Communication Services Email, as `@azure/communication-email`'s `EmailClient` speaks it:
 * a send that answers 202 + operation-location, and an operation whose status can be read. An
 * email counts as delivered when its send is accepted with a Succeeded outcome (an acs-send fault
 * with operationStatus "Failed" makes the operation end Failed: not delivered). The operation
 * reports Running for `runningForInMs` first. Played pessimistically (AcsBehaviour): a repeated
 * Operation-Id is delivered again; limits per sender domain with `enforceLimits`.
 */
export class AcsRoutes {
  private readonly operations = new Map<string, EmailOperation>();
  private readonly delivered: SentEmail[] = [];
  private readonly repeats: EmailRepeat[] = [];
  /** Request times (sandbox clock) per limited API, for the per-minute and per-hour windows. */
  private readonly calls: Record<"send" | "status", number[]> = { send: [], status: [] };
  private behaviour: AcsBehaviour = { ...DEFAULT_BEHAVIOUR };
  /** Every POST and status GET that reached the routes (429s included): the suite's call counts. */
  readonly counts = { sendCalls: 0, statusCalls: 0, throttled: 0, accepted: 0 };

  /** Delivery reports posted as Event Grid events for every accepted email (acsDeliveryReports.ts). */
  readonly deliveryReports = new AcsDeliveryReports(() => this.behaviour.clock());

  /** @param accessKey base64 key from the connection string; HMAC signatures are checked with it. */
  constructor(private readonly accessKey: string) {}

  /** Changes how pessimistically the sandbox plays ACS (see AcsBehaviour); unset fields keep their value. */
  configure(behaviour: Partial<AcsBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /** Back to the defaults, with counts and limit windows cleared. */
  resetBehaviour(): void {
    this.behaviour = { ...DEFAULT_BEHAVIOUR };
    this.calls.send.length = 0;
    this.calls.status.length = 0;
    Object.assign(this.counts, { sendCalls: 0, statusCalls: 0, throttled: 0, accepted: 0 });
  }

  sentEmails(): SentEmail[] {
    return this.delivered.map(copyEmail);
  }

  emailRepeats(): EmailRepeat[] {
    return this.repeats.map(copyEmail);
  }

  /** Forgets delivered emails, repeats and operations, so a reused Operation-Id counts as new. */
  clearEmails(): void {
    this.delivered.length = 0;
    this.repeats.length = 0;
    this.operations.clear();
    this.deliveryReports.reset();
    this.calls.send.length = 0;
    this.calls.status.length = 0;
  }

  route(request: SandboxRequest): MatchedRoute | undefined {
    const path = request.url.pathname;
    if (request.method === "POST" && SEND_PATH.test(path)) {
      return { id: "acs-send", handle: (fault) => this.guarded(request, () => this.limited("send", () => this.send(request, fault))) };
    }
    const poll = request.method === "GET" ? POLL_PATH.exec(path) : null;
    if (poll) {
      const operationId = decodeURIComponent(poll[1]!);
      return { id: "acs-poll", handle: (fault) => this.guarded(request, () => this.limited("status", () => this.poll(operationId, fault))) };
    }
    return undefined;
  }

  private guarded(request: SandboxRequest, answer: () => SandboxResponse): SandboxResponse {
    const denied = this.authenticate(request);
    if (denied) return denied;
    if (!request.url.searchParams.get("api-version")) {
      return acsError(400, "MissingApiVersionParameter", "The api-version query parameter is required.");
    }
    return answer();
  }

  /**
   * Counts the call and, with `enforceLimits`, answers 429 + Retry-After beyond the domain's limits.
   * Every request counts, refused ones too ("all requests accrue against your usage limits").
   */
  private limited(api: "send" | "status", answer: () => SandboxResponse): SandboxResponse {
    if (api === "send") this.counts.sendCalls += 1;
    else this.counts.statusCalls += 1;
    const now = this.behaviour.clock();
    const calls = this.calls[api];
    while (calls.length > 0 && calls[0]! <= now - 60 * MINUTE_IN_MS) calls.shift();
    calls.push(now);
    if (this.behaviour.enforceLimits) {
      const [perMinute, perHour] = ACS_EMAIL_LIMITS[this.behaviour.domain][api];
      const lastMinute = calls.filter((at) => at > now - MINUTE_IN_MS);
      const waitInMs =
        calls.length > perHour
          ? calls[calls.length - 1 - perHour]! + 60 * MINUTE_IN_MS - now
          : lastMinute.length > perMinute
            ? lastMinute[0]! + MINUTE_IN_MS - now
            : 0;
      if (waitInMs > 0) {
        this.counts.throttled += 1;
        const response = acsError(429, "TooManyRequests", `Too many ${api === "send" ? "email sends" : "status requests"}; retry later.`);
        return { ...response, headers: { ...response.headers, "retry-after": String(Math.max(1, Math.ceil(waitInMs / 1000))) } };
      }
    }
    return answer();
  }

  /** Checks the connection-string HMAC signature, or accepts a bearer token (managed identity). */
  private authenticate(request: SandboxRequest): SandboxResponse | undefined {
    const authorization = request.headers["authorization"];
    if (typeof authorization !== "string") return unauthorized("The Authorization header is missing.");
    if (/^Bearer\s+\S+/i.test(authorization)) return undefined;
    const hmac = /^HMAC-SHA256\s+SignedHeaders=([^&]+)&Signature=(\S+)$/i.exec(authorization);
    if (!hmac) return unauthorized("The Authorization header is neither HMAC-SHA256 nor Bearer.");

    const contentHash = createHash("sha256").update(request.body).digest("base64");
    if (headerValue(request, "x-ms-content-sha256") !== contentHash) {
      return unauthorized("x-ms-content-sha256 does not match the request body.");
    }
    const date = Date.parse(headerValue(request, "x-ms-date") ?? "");
    if (Number.isNaN(date) || Math.abs(Date.now() - date) > MAX_CLOCK_SKEW_IN_MS) {
      return unauthorized("x-ms-date is missing or outside the allowed clock skew.");
    }
    const signedHeaders = hmac[1]!.split(";").map((name) => name.trim().toLowerCase());
    const required = ["x-ms-date", "host", "x-ms-content-sha256"];
    if (!required.every((name) => signedHeaders.includes(name))) {
      return unauthorized(`SignedHeaders must include ${required.join(";")}.`);
    }
    const signedValues = signedHeaders.map((name) => headerValue(request, name) ?? "");
    // Same canonical form the SDK signs: path, then the query re-serialised by URLSearchParams.
    const query = request.url.searchParams.toString();
    const pathAndQuery = query ? `${request.url.pathname}?${query}` : request.url.pathname;
    const stringToSign = `${request.method.toUpperCase()}\n${pathAndQuery}\n${signedValues.join(";")}`;
    const expected = createHmac("sha256", Buffer.from(this.accessKey, "base64")).update(stringToSign).digest();
    const given = Buffer.from(hmac[2]!, "base64");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return unauthorized("The HMAC-SHA256 signature does not match; check the access key.");
    }
    return undefined;
  }

  private send(request: SandboxRequest, fault: SandboxFault | undefined): SandboxResponse {
    // A fault that only fails the operation still accepts the send; any other fault replaces it.
    if (fault && fault.operationStatus === undefined) return acsFaultResponse(fault);

    const headerId = headerValue(request, "operation-id");
    if (headerId !== undefined && !UUID_PATTERN.test(headerId)) {
      return acsError(400, "InvalidOperationId", "The Operation-Id header must be a GUID.");
    }
    const parsed = parseEmailMessage(request.body);
    if ("problem" in parsed) return acsError(400, "BadRequest", parsed.problem, parsed.target);

    const operationId = headerId ?? randomUUID();
    const email: SentEmail = { operationId, receivedAt: new Date(), ...parsed.message };
    const existing = this.known(operationId);
    if (existing) {
      this.repeats.push(email);
      // The comparison mode only: answer as before and send nothing new.
      if (this.behaviour.dedupeRepeats) return this.accepted(request, operationId, this.statusOf(existing));
    }
    const [min, max] = this.behaviour.runningForInMs;
    const operation: EmailOperation = {
      email,
      acceptedAt: this.behaviour.clock(),
      outcome: fault?.operationStatus ?? "Succeeded",
      runningUntil: this.behaviour.clock() + min + Math.floor(this.behaviour.random() * (max - min + 1)),
    };
    this.operations.set(operationId.toLowerCase(), operation);
    this.counts.accepted += 1;
    // Accepted for delivery: it goes out whether or not anyone reads the status.
    if (operation.outcome === "Succeeded") this.delivered.push(email);
    this.deliveryReports.emailAccepted(email, operation.outcome);
    return this.accepted(request, operationId, "Running");
  }

  /** The operation while ACS still knows it (see `forgetAfterInMs`). */
  private known(operationId: string): EmailOperation | undefined {
    const operation = this.operations.get(operationId.toLowerCase());
    const { forgetAfterInMs, clock } = this.behaviour;
    if (operation && forgetAfterInMs !== undefined && clock() - operation.acceptedAt >= forgetAfterInMs) return undefined;
    return operation;
  }

  private statusOf(operation: EmailOperation): OperationStatus {
    return this.behaviour.clock() < operation.runningUntil ? "Running" : operation.outcome;
  }

  private accepted(request: SandboxRequest, operationId: string, status: OperationStatus): SandboxResponse {
    const apiVersion = request.url.searchParams.get("api-version") ?? "";
    const host = headerValue(request, "host") ?? "127.0.0.1";
    const operationLocation = `https://${host}/emails/operations/${encodeURIComponent(operationId)}` + `?api-version=${encodeURIComponent(apiVersion)}`;
    return {
      status: 202,
      // Like the service: come back in a while (the monitor reads the status later, on its own budget).
      headers: { "operation-location": operationLocation, "retry-after": "5" },
      json: { id: operationId, status },
    };
  }

  private poll(operationId: string, fault: SandboxFault | undefined): SandboxResponse {
    // An operation's outcome is decided at the send (acs-send with operationStatus); a poll fault only fails the read.
    if (fault) return acsFaultResponse(fault);
    const operation = this.known(operationId);
    if (!operation) return acsError(404, "NotFound", `Operation '${operationId}' was not found.`);
    const status = this.statusOf(operation);
    const body: Record<string, unknown> = { id: operation.email.operationId, status };
    if (status === "Failed") {
      body["error"] = { code: "EmailSendFailed", message: "Injected fault: the email could not be delivered." };
    }
    // A running operation tells the client to come back later, as the service does.
    const headers: Record<string, string> = status === "Running" ? { "retry-after": "5" } : {};
    return { status: 200, headers, json: body };
  }
}

type ParsedEmail = { message: Omit<SentEmail, "operationId" | "receivedAt"> } | { problem: string; target: string };

/** Validates the fields the service rejects a message for, and flattens recipients to addresses. */
function parseEmailMessage(body: Buffer): ParsedEmail {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return { problem: "The request body is not valid JSON.", target: "message" };
  }
  if (!isRecord(json)) return { problem: "The request body must be a JSON object.", target: "message" };
  const { senderAddress, recipients, content, headers, attachments } = json;
  if (typeof senderAddress !== "string" || !EMAIL_ADDRESS_PATTERN.test(senderAddress)) {
    return { problem: "senderAddress is required and must be an email address.", target: "senderAddress" };
  }
  if (!isRecord(recipients)) return { problem: "recipients is required.", target: "recipients" };
  const lists: Record<"to" | "cc" | "bcc", string[]> = { to: [], cc: [], bcc: [] };
  for (const kind of ["to", "cc", "bcc"] as const) {
    const list = recipients[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return { problem: `recipients.${kind} must be an array.`, target: `recipients.${kind}` };
    for (const entry of list) {
      const address = isRecord(entry) ? entry["address"] : undefined;
      if (typeof address !== "string" || !EMAIL_ADDRESS_PATTERN.test(address)) {
        return { problem: `recipients.${kind} has an invalid address.`, target: `recipients.${kind}` };
      }
      lists[kind].push(address);
    }
  }
  if (lists.to.length === 0) return { problem: "recipients.to must not be empty.", target: "recipients.to" };
  if (lists.to.length + lists.cc.length + lists.bcc.length > MAX_RECIPIENTS) {
    return { problem: `At most ${MAX_RECIPIENTS} recipients are allowed.`, target: "recipients" };
  }
  if (!isRecord(content) || typeof content["subject"] !== "string" || content["subject"].trim() === "") {
    return { problem: "content.subject is required.", target: "content.subject" };
  }
  const plainText = typeof content["plainText"] === "string" ? content["plainText"] : undefined;
  const html = typeof content["html"] === "string" ? content["html"] : undefined;
  if (plainText === undefined && html === undefined) {
    return { problem: "content needs plainText or html.", target: "content" };
  }
  const message: Omit<SentEmail, "operationId" | "receivedAt"> = {
    senderAddress,
    ...lists,
    subject: content["subject"],
    headers: isRecord(headers) ? stringEntries(headers) : {},
  };
  if (plainText !== undefined) message.plainText = plainText;
  if (html !== undefined) message.html = html;
  if (attachments !== undefined) {
    const parsed = parseAttachments(attachments, html);
    if ("problem" in parsed) return parsed;
    message.attachments = parsed.attachments;
  }
  return { message };
}

/** ACS's documented attachment types this monitor could send; others are refused as ACS refuses unsupported types. */
const ALLOWED_ATTACHMENT_TYPES: ReadonlySet<string> = new Set(["image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain"]);
/** ACS limits a message, attachments included, to 10 MB; counted here on the base64 text as posted, the stricter reading. */
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Linear checks: a single backtracking pattern overflows V8's regex stack on multi-megabyte content. */
function isBase64(value: string): boolean {
  return value.length % 4 === 0 && !/[^A-Za-z0-9+/]/.test(value.replace(/={1,2}$/, ""));
}

function parseAttachments(
  value: unknown,
  html: string | undefined,
): { attachments: NonNullable<SentEmail["attachments"]> } | { problem: string; target: string } {
  if (!Array.isArray(value)) return { problem: "attachments must be an array.", target: "attachments" };
  const attachments: NonNullable<SentEmail["attachments"]> = [];
  let total = 0;
  for (const entry of value) {
    if (!isRecord(entry)) return { problem: "Each attachment must be an object.", target: "attachments" };
    const { name, contentType, contentInBase64, contentId } = entry;
    if (typeof name !== "string" || name.trim() === "") return { problem: "attachments.name is required.", target: "attachments.name" };
    if (typeof contentType !== "string" || !ALLOWED_ATTACHMENT_TYPES.has(contentType)) {
      return { problem: "attachments.contentType is not a supported attachment type.", target: "attachments.contentType" };
    }
    if (typeof contentInBase64 !== "string" || contentInBase64 === "" || !isBase64(contentInBase64)) {
      return { problem: "attachments.contentInBase64 is not valid base64.", target: "attachments.contentInBase64" };
    }
    if (contentId !== undefined && (typeof contentId !== "string" || contentId.trim() === "")) {
      return { problem: "attachments.contentId must be a non-empty string.", target: "attachments.contentId" };
    }
    // An image the HTML shows inline (cid:) must carry the contentId that names it.
    if (typeof contentId !== "string" && html?.includes(`cid:${name}`)) {
      return { problem: "attachments.contentId is required for an inline attachment.", target: "attachments.contentId" };
    }
    total += contentInBase64.length;
    if (total > MAX_ATTACHMENT_BYTES) return { problem: "The attachments exceed the 10 MB message size limit.", target: "attachments" };
    attachments.push({ name, contentType, contentInBase64, ...(typeof contentId === "string" ? { contentId } : {}) });
  }
  return { attachments };
}

/**
 * A defensive copy made with this module's own constructors: `structuredClone` would build
 * the Date in Node's main realm, which jest's `expect.any(Date)` does not recognise.
 */
function copyEmail(email: SentEmail): SentEmail {
  return {
    ...email,
    receivedAt: new Date(email.receivedAt.getTime()),
    to: [...email.to],
    cc: [...email.cc],
    bcc: [...email.bcc],
    headers: { ...email.headers },
    ...(email.attachments ? { attachments: email.attachments.map((attachment) => ({ ...attachment })) } : {}),
  };
}

function acsFaultResponse(fault: SandboxFault): SandboxResponse {
  const headers: Record<string, string> = {};
  if (fault.retryAfterInSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterInSeconds);
  if (fault.body !== undefined) return { status: fault.status, headers, text: fault.body };
  const code = fault.status === 429 ? "TooManyRequests" : fault.status >= 500 ? "ServiceUnavailable" : "BadRequest";
  const response = acsError(fault.status, code, `Injected fault: HTTP ${fault.status}.`);
  return { ...response, headers: { ...response.headers, ...headers } };
}

function acsError(status: number, code: string, message: string, target?: string): SandboxResponse {
  const error: Record<string, string> = { code, message };
  if (target !== undefined) error["target"] = target;
  // The service repeats the code in x-ms-error-code; the SDK maps that header too.
  return { status, headers: { "x-ms-error-code": code }, json: { error } };
}

function unauthorized(message: string): SandboxResponse {
  return acsError(401, "Unauthorized", message);
}

function headerValue(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringEntries(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}
