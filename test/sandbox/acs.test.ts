import { randomUUID } from "node:crypto";
import https from "node:https";
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { AcsEmailSender } from "../../src/adapters/acsEmail";
import type { OutgoingEmail } from "../../src/ports/emailSender";
import { EmailNotAcceptedError } from "../../src/ports/errors";
import { LocalSandbox } from "../../src/sandbox";

let sandbox: LocalSandbox;

beforeAll(async () => {
  sandbox = await LocalSandbox.start();
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  sandbox.clearEmails();
  sandbox.clearFaults();
  sandbox.clearRequests();
  sandbox.acs.resetBehaviour();
});

const message: EmailMessage = {
  senderAddress: "DoNotReply@cmk-monitor.example.com",
  recipients: {
    to: [{ address: "orders-team@contoso.com", displayName: "Orders team" }],
    cc: [{ address: "platform@contoso.com" }],
    bcc: [{ address: "audit@contoso.com" }],
  },
  content: { subject: "Cosmos DB account orders-db is revoked", plainText: "text body", html: "<p>html body</p>" },
  headers: { "x-cmk-incident": "orders-db/4002" },
};

function outgoing(change: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    operationId: randomUUID(),
    from: "DoNotReply@cmk-monitor.example.com",
    to: ["orders-team@contoso.com"],
    cc: [],
    subject: "Cosmos DB account orders-db is revoked",
    text: "text body",
    html: "<p>html body</p>",
    idempotencyKey: "orders-db.1.revoked",
    ...change,
  };
}

/** The monitor's adapter, with the SDK's default retries asked for: the adapter must turn them off. */
function sender(connectionString = sandbox.acsConnectionString): AcsEmailSender {
  return new AcsEmailSender(connectionString, undefined, { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries: 3 } });
}

function connectionStringClient(connectionString = sandbox.acsConnectionString, maxRetries = 0): EmailClient {
  return new EmailClient(connectionString, { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries } });
}

async function caught(promise: Promise<unknown>): Promise<{ name?: string; statusCode?: number; code?: string; message?: string; neverSent?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as { name?: string; statusCode?: number; code?: string; message?: string; neverSent?: boolean };
  }
  throw new Error("expected the call to fail");
}

function routes(): [string, string | undefined, number][] {
  return sandbox.requests().map((r) => [r.method, r.route, r.status]);
}

/** A clock the test moves, for running times and limit windows. */
function manualClock(start = Date.parse("2026-01-05T10:00:00Z")): { now: number; clock: () => number } {
  const state = { now: start, clock: () => state.now };
  return state;
}

describe("ACS Email through the real SDK clients (AcsEmailSender)", () => {
  it("records the email from one POST: the SDK's status poll is refused before it leaves the process", async () => {
    const email = outgoing();

    const result = await sender().send(email);

    expect(result).toEqual({ operationId: email.operationId });
    expect(sandbox.sentEmails()).toEqual([
      {
        operationId: email.operationId,
        receivedAt: expect.any(Date),
        senderAddress: "DoNotReply@cmk-monitor.example.com",
        to: ["orders-team@contoso.com"],
        cc: [],
        bcc: [],
        subject: "Cosmos DB account orders-db is revoked",
        plainText: "text body",
        html: "<p>html body</p>",
        headers: { "X-CMK-Monitor-Key": "orders-db.1.revoked" },
      },
    ]);
    expect(routes()).toEqual([["POST", "acs-send", 202]]);
  });

  it("reads an operation's status with one GET, and a 404 as unknown", async () => {
    const email = outgoing();
    const client = sender();
    await client.send(email);

    // Succeeded: the sandbox's default running time is zero.
    expect(await client.readOperationStatus(email.operationId)).toBe("Succeeded");
    // Never sent: ACS does not know it.
    expect(await client.readOperationStatus(randomUUID())).toBeUndefined();
    expect(routes()).toEqual([
      ["POST", "acs-send", 202],
      ["GET", "acs-poll", 200],
      ["GET", "acs-poll", 404],
    ]);
  });

  it("accepts a bearer token (the managed-identity path) for sends and status reads", async () => {
    const client = new AcsEmailSender(sandbox.acsEndpoint, sandbox.credential, { tlsOptions: { ca: sandbox.ca } });
    const email = outgoing();

    await client.send(email);

    expect(await client.readOperationStatus(email.operationId)).toBe("Succeeded");
    expect(sandbox.sentEmails()).toHaveLength(1);
  });

  it("rejects a signature made with the wrong access key with 401: not accepted, nothing delivered", async () => {
    const wrongKey = Buffer.alloc(64, 7).toString("base64");

    const error = await caught(sender(`endpoint=${sandbox.acsEndpoint};accesskey=${wrongKey}`).send(outgoing()));

    expect(error).toBeInstanceOf(EmailNotAcceptedError);
    expect(error).toMatchObject({ statusCode: 401, neverSent: false });
    expect(sandbox.sentEmails()).toEqual([]);
  });

  it("rejects an unsigned request with 401", async () => {
    // Guards against a sandbox that would accept anything: the SDK always signs, a raw call does not.
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${sandbox.url}/emails:send?api-version=2025-09-01`,
        { method: "POST", ca: sandbox.ca, headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(message));
    });

    expect(status).toBe(401);
  });

  it.each([
    // The default, and ACS's documented promise (none): a repeated Operation-Id is delivered again.
    { dedupeRepeats: false, delivered: 2 },
    // The comparison mode: what the old assumption played.
    { dedupeRepeats: true, delivered: 1 },
  ])(
    "a repeated Operation-Id with dedupeRepeats $dedupeRepeats is delivered $delivered time(s), and the repeat recorded",
    async ({ dedupeRepeats, delivered }) => {
      sandbox.acs.configure({ dedupeRepeats });
      const email = outgoing();
      const client = sender();

      await client.send(email);
      await client.send(email);

      expect(sandbox.sentEmails()).toHaveLength(delivered);
      expect(sandbox.emailRepeats()).toEqual([expect.objectContaining({ operationId: email.operationId })]);
    },
  );

  it("records an inline attachment as posted", async () => {
    const attachment = { name: "chart.png", contentType: "image/png" as const, contentInBase64: "iVBORw0KGgo=", contentId: "chart.png" };
    await sender().send(outgoing({ html: '<img src="cid:chart.png" alt="a">', attachments: [attachment] }));
    expect(sandbox.sentEmails()[0]?.attachments).toEqual([attachment]);
  });

  it.each([
    // An owner-less account must not produce a send with nobody on it.
    { case: "empty recipients.to", change: { recipients: { to: [] } }, target: "recipients.to" },
    // A malformed tag value must be caught, not silently dropped by the service.
    { case: "an invalid address", change: { recipients: { to: [{ address: "not-an-address" }] } }, target: "recipients.to" },
    // The subject is required by the service even though the SDK only checks it is present.
    { case: "an empty subject", change: { content: { subject: " ", plainText: "x" } }, target: "content.subject" },
    // A sender from an unverified or empty setting.
    { case: "an empty senderAddress", change: { senderAddress: "" }, target: "senderAddress" },
    // ACS refuses attachment types it does not support.
    {
      case: "an unsupported attachment type",
      change: { attachments: [{ name: "a.exe", contentType: "application/x-msdownload", contentInBase64: "AAAA" }] },
      target: "attachments.contentType",
    },
    // Content that is not base64 cannot be the file the caller meant.
    {
      case: "attachment content not base64",
      change: { attachments: [{ name: "a.png", contentType: "image/png", contentInBase64: "not base64!" }] },
      target: "attachments.contentInBase64",
    },
    // Over ACS's 10 MB message limit.
    {
      case: "attachments over 10 MB",
      change: { attachments: [{ name: "a.png", contentType: "image/png", contentInBase64: Buffer.alloc(10 * 1024 * 1024 + 3).toString("base64") }] },
      target: "attachments",
    },
    // An image the HTML shows by cid: without the contentId naming it would not render inline.
    {
      case: "an inline image without contentId",
      change: {
        content: { subject: "s", html: '<img src="cid:a.png" alt="a">' },
        attachments: [{ name: "a.png", contentType: "image/png", contentInBase64: "iVBORw0KGgo=" }],
      },
      target: "attachments.contentId",
    },
  ])("answers 400 for $case", async ({ change, target }) => {
    const bad = { ...message, ...change } as EmailMessage;

    // Through the bare EmailClient: the adapter's own types would not let these through.
    const error = await caught(connectionStringClient().beginSend(bad, { operationId: randomUUID() }));

    expect(error).toMatchObject({ statusCode: 400, code: "BadRequest" });
    expect(error.message).toContain(target.split(".")[0]);
    expect(sandbox.sentEmails()).toEqual([]);
  });

  describe("injected faults", () => {
    it("a 503 is one POST (no SDK retry) and leaves the outcome unknown: not EmailNotAcceptedError", async () => {
      sandbox.injectFault({ route: "acs-send", status: 503, times: 2 });

      const error = await caught(sender().send(outgoing()));

      expect(error).not.toBeInstanceOf(EmailNotAcceptedError);
      expect(error).toMatchObject({ name: "RestError", statusCode: 503 });
      expect(routes()).toEqual([["POST", "acs-send", 503]]);
    });

    it("a 429 is not accepted, carries its Retry-After and is not retried by the SDK", async () => {
      sandbox.injectFault({ route: "acs-send", status: 429, times: 2, retryAfterInSeconds: 120 });

      const error = (await caught(sender().send(outgoing()))) as EmailNotAcceptedError;

      expect(error).toBeInstanceOf(EmailNotAcceptedError);
      expect(error.statusCode).toBe(429);
      expect((error.response as { headers: { get(name: string): string | undefined } }).headers.get("retry-after")).toBe("120");
      expect(routes()).toEqual([["POST", "acs-send", 429]]);
      expect(sandbox.sentEmails()).toEqual([]);
    });

    it("a refused connection is not accepted and provably never sent (its budget may go back)", async () => {
      const error = await caught(sender("endpoint=https://127.0.0.1:1/;accesskey=" + Buffer.alloc(32, 1).toString("base64")).send(outgoing()));

      expect(error).toBeInstanceOf(EmailNotAcceptedError);
      expect(error.neverSent).toBe(true);
    });

    it("acs-send with operationStatus Failed accepts the send (202), reports Failed and delivers nothing", async () => {
      sandbox.injectFault({ route: "acs-send", status: 202, operationStatus: "Failed" });
      const email = outgoing();
      const client = sender();

      await client.send(email);

      expect(await client.readOperationStatus(email.operationId)).toBe("Failed");
      expect(sandbox.sentEmails()).toEqual([]);
    });

    it("a status-read fault fails the read only", async () => {
      const email = outgoing();
      const client = sender();
      await client.send(email);
      sandbox.injectFault({ route: "acs-poll", status: 503 });

      expect(await caught(client.readOperationStatus(email.operationId))).toMatchObject({ statusCode: 503 });
      expect(await client.readOperationStatus(email.operationId)).toBe("Succeeded");
    });
  });

  it("an operation reports Running (with a Retry-After) for its running time, then its outcome", async () => {
    const time = manualClock();
    sandbox.acs.configure({ clock: time.clock, runningForInMs: [90_000, 90_000] });
    const email = outgoing();
    const client = sender();
    await client.send(email);

    // Within the running time.
    expect(await client.readOperationStatus(email.operationId)).toBe("Running");
    time.now += 90_000;
    // Past it.
    expect(await client.readOperationStatus(email.operationId)).toBe("Succeeded");
  });

  it.each([
    // The default: an accepted operation stays readable however long ago it was sent.
    { forgetAfterInMs: undefined, after: 24 * 60 * 60_000, status: "Succeeded" },
    // Forgetting switched on, still inside the window: readable.
    { forgetAfterInMs: 10 * 60_000, after: 10 * 60_000 - 1, status: "Succeeded" },
    // Past the window: 404, exactly what an operation ACS never accepted answers (the read-back cannot tell them apart).
    { forgetAfterInMs: 10 * 60_000, after: 10 * 60_000, status: undefined },
  ])("forgetAfterInMs $forgetAfterInMs, read $after ms after the send → $status", async ({ forgetAfterInMs, after, status }) => {
    const time = manualClock();
    sandbox.acs.configure({ clock: time.clock, ...(forgetAfterInMs !== undefined ? { forgetAfterInMs } : {}) });
    const email = outgoing();
    const client = sender();
    await client.send(email);
    time.now += after;

    expect(await client.readOperationStatus(email.operationId)).toBe(status);
    // Forgotten or not, it was delivered once.
    expect(sandbox.sentEmails()).toHaveLength(1);
  });

  describe("limits per sender domain (enforceLimits)", () => {
    it.each([
      // Azure-managed domain: 5 sends a minute; the sixth gets 429 with the wait until the window frees.
      { domain: "azure-managed" as const, api: "send" as const, perMinute: 5 },
      // Custom domain: 30 a minute.
      { domain: "custom" as const, api: "send" as const, perMinute: 30 },
      // Azure-managed status reads: 10 a minute.
      { domain: "azure-managed" as const, api: "status" as const, perMinute: 10 },
    ])("$domain $api: $perMinute a minute, then 429 + Retry-After", async ({ domain, api, perMinute }) => {
      const time = manualClock();
      sandbox.acs.configure({ clock: time.clock, enforceLimits: true, domain });
      const client = sender();
      const call = () => (api === "send" ? client.send(outgoing()) : client.readOperationStatus(randomUUID()));
      for (let i = 0; i < perMinute; i++) await call();

      const error = (await caught(call())) as { statusCode?: number; response?: { headers: { get(name: string): string | undefined } } };

      expect(error.statusCode).toBe(429);
      expect(Number(error.response?.headers.get("retry-after"))).toBeGreaterThan(0);
      time.now += 60_000;
      // A minute later the minute window is free again (a 429 would throw).
      await call();
    });

    it("azure-managed sends: 10 an hour, counted across minutes, and a refused request counts too", async () => {
      const time = manualClock();
      sandbox.acs.configure({ clock: time.clock, enforceLimits: true, domain: "azure-managed" });
      const client = sender();
      for (let i = 0; i < 10; i++) {
        await client.send(outgoing());
        time.now += 2 * 60_000;
      }

      expect(await caught(client.send(outgoing()))).toMatchObject({ statusCode: 429 });
      expect(sandbox.acs.counts).toMatchObject({ sendCalls: 11, throttled: 1 });
      expect(sandbox.sentEmails()).toHaveLength(10);
    });
  });

  it("adds the configured latency to every response", async () => {
    const slow = await LocalSandbox.start({ latencyInMs: 150 });
    try {
      const client = new AcsEmailSender(slow.acsConnectionString, undefined, { tlsOptions: { ca: slow.ca } });
      const startedAt = Date.now();
      await client.send(outgoing());
      // One round trip (the POST only), delayed; a little slack for timer rounding.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.stop();
    }
  });
});

describe("ACS delivery reports as Event Grid plays them where nothing is documented", () => {
  const reports = () => sandbox.acs.deliveryReports;
  let received: Array<{ data: { messageId: string; recipient: string; status: string } }>;

  beforeEach(() => {
    received = [];
    reports().configure({ enabled: true, autoDeliver: false, repeatShare: 0, dropShare: 0, delayInMs: [0, 0], failedOperationReports: true });
    reports().subscribe(async (event) => void received.push(event as (typeof received)[number]));
  });

  afterEach(() => {
    reports().subscribe(undefined);
    reports().configure({ autoDeliver: true, repeatShare: 0.25, dropShare: 0, delayInMs: [0, 0] });
  });

  it.each([
    // The default: a Succeeded operation reports Delivered per recipient.
    { operationStatus: undefined, statuses: ["Delivered"] },
    // An operation that ends Failed still reports, Failed: a report alone does not prove ACS accepted the email.
    { operationStatus: "Failed" as const, statuses: ["Failed"] },
  ])("an operation ending $operationStatus reports $statuses", async ({ operationStatus, statuses }) => {
    if (operationStatus) sandbox.injectFault({ route: "acs-send", status: 202, operationStatus });
    const email = outgoing();
    await sender().send(email);
    await reports().deliverPending();
    expect(received.map((event) => event.data.status)).toEqual(statuses);
    expect(received[0]!.data.messageId).toBe(email.operationId);
  });

  it("a report comes late by its delay on the sandbox clock, and is handed over only once due", async () => {
    const time = manualClock();
    sandbox.acs.configure({ clock: time.clock });
    reports().configure({ delayInMs: [10 * 60_000, 10 * 60_000] });
    await sender().send(outgoing());

    time.now += 10 * 60_000 - 1;
    await reports().deliverPending();
    expect(received).toHaveLength(0);
    expect(reports().pending).toBe(1);
    time.now += 1;
    await reports().deliverPending();
    expect(received).toHaveLength(1);
  });

  it.each([
    // No drops: every recipient's report arrives.
    { dropShare: 0, arrive: 20 },
    // Every report dropped (Event Grid gave up): none arrives, each counted as dropped.
    { dropShare: 1, arrive: 0 },
  ])("dropShare $dropShare → $arrive of 20 reports arrive", async ({ dropShare, arrive }) => {
    reports().configure({ dropShare });
    const client = sender();
    for (let i = 0; i < 20; i++) await client.send(outgoing());
    await reports().deliverPending();
    expect(received).toHaveLength(arrive);
    expect(reports().droppedEvents).toBe(20 - arrive);
  });
});
