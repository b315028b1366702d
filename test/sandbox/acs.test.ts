import { randomUUID } from "node:crypto";
import https from "node:https";
import { EmailClient, type EmailMessage } from "@azure/communication-email";
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

function connectionStringClient(connectionString = sandbox.acsConnectionString, maxRetries = 0): EmailClient {
  return new EmailClient(connectionString, { tlsOptions: { ca: sandbox.ca }, retryOptions: { maxRetries } });
}

async function send(client: EmailClient, email: EmailMessage = message, operationId: string = randomUUID()) {
  // updateIntervalInMs 0: the sandbox answers retry-after 0 anyway, this guards the default 2 s.
  const poller = await client.beginSend(email, { operationId, updateIntervalInMs: 0 });
  return poller.pollUntilDone();
}

async function caught(promise: Promise<unknown>): Promise<{ name?: string; statusCode?: number; code?: string; message?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name?: string; statusCode?: number; code?: string; message?: string };
  }
  throw new Error("expected the call to fail");
}

describe("ACS Email through the real EmailClient", () => {
  it("accepts an HMAC-signed send, completes the operation and records the email", async () => {
    const operationId = randomUUID();

    const result = await send(connectionStringClient(), message, operationId);

    expect(result).toMatchObject({ id: operationId, status: "Succeeded" });
    expect(sandbox.sentEmails()).toEqual([
      {
        operationId,
        receivedAt: expect.any(Date),
        senderAddress: "DoNotReply@cmk-monitor.example.com",
        to: ["orders-team@contoso.com"],
        cc: ["platform@contoso.com"],
        bcc: ["audit@contoso.com"],
        subject: "Cosmos DB account orders-db is revoked",
        plainText: "text body",
        html: "<p>html body</p>",
        headers: { "x-cmk-incident": "orders-db/4002" },
      },
    ]);
    // One send and one poll: the poller follows operation-location and stops at Succeeded.
    expect(sandbox.requests().map((r) => [r.method, r.route, r.status])).toEqual([
      ["POST", "acs-send", 202],
      ["GET", "acs-poll", 200],
    ]);
  });

  it("accepts a bearer token (the managed-identity path)", async () => {
    const client = new EmailClient(sandbox.acsEndpoint, sandbox.credential, { tlsOptions: { ca: sandbox.ca } });

    expect(await send(client)).toMatchObject({ status: "Succeeded" });
    expect(sandbox.sentEmails()).toHaveLength(1);
  });

  it("rejects a signature made with the wrong access key with 401 and delivers nothing", async () => {
    const wrongKey = Buffer.alloc(64, 7).toString("base64");
    const client = connectionStringClient(`endpoint=${sandbox.acsEndpoint};accesskey=${wrongKey}`);

    const error = await caught(send(client));

    expect(error).toMatchObject({ name: "RestError", statusCode: 401 });
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

  it("delivers once when the same Operation-Id is sent twice, and records the repeat", async () => {
    const operationId = randomUUID();
    const client = connectionStringClient();

    const first = await send(client, message, operationId);
    const second = await send(client, message, operationId);

    expect(first).toMatchObject({ id: operationId, status: "Succeeded" });
    expect(second).toMatchObject({ id: operationId, status: "Succeeded" });
    expect(sandbox.sentEmails()).toHaveLength(1);
    expect(sandbox.emailRepeats()).toEqual([expect.objectContaining({ operationId, subject: message.content.subject })]);
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
  ])("answers 400 for $case", async ({ change, target }) => {
    const bad = { ...message, ...change } as EmailMessage;

    const error = await caught(send(connectionStringClient(), bad));

    expect(error).toMatchObject({ statusCode: 400, code: "BadRequest" });
    expect(error.message).toContain(target.split(".")[0]);
    expect(sandbox.sentEmails()).toEqual([]);
  });

  describe("injected faults", () => {
    it.each([
      // Service outage on send: nothing accepted, the caller must try again later.
      { status: 503, code: "ServiceUnavailable" },
      // Throttled on send.
      { status: 429, code: "TooManyRequests" },
    ])("acs-send $status surfaces as RestError and delivers nothing", async ({ status, code }) => {
      sandbox.injectFault({ route: "acs-send", status });

      const error = await caught(send(connectionStringClient()));

      expect(error).toMatchObject({ name: "RestError", statusCode: status, code });
      expect(sandbox.sentEmails()).toEqual([]);
    });

    it("acs-poll Failed makes the send fail and delivers nothing", async () => {
      sandbox.injectFault({ route: "acs-poll", status: 200, operationStatus: "Failed" });

      const error = await caught(send(connectionStringClient()));

      // core-lro turns a Failed operation into an error; the status is not returned as a value.
      expect(error.message).toMatch(/long-running operation has failed/i);
      expect(sandbox.sentEmails()).toEqual([]);
      expect(sandbox.requests().map((r) => [r.route, r.status])).toEqual([
        ["acs-send", 202],
        ["acs-poll", 200],
      ]);
    });

    it("a repeat of a Failed operation stays Failed and still delivers nothing", async () => {
      // Why it matters: reusing a deterministic Operation-Id after a failure never resends.
      const operationId = randomUUID();
      sandbox.injectFault({ route: "acs-poll", status: 200, operationStatus: "Failed" });
      await caught(send(connectionStringClient(), message, operationId));

      const error = await caught(send(connectionStringClient(), message, operationId));

      expect(error.message).toMatch(/failed/i);
      expect(sandbox.sentEmails()).toEqual([]);
      expect(sandbox.emailRepeats()).toHaveLength(1);
    });
  });

  it("adds the configured latency to every response", async () => {
    const slow = await LocalSandbox.start({ latencyInMs: 150 });
    try {
      const client = new EmailClient(slow.acsConnectionString, { tlsOptions: { ca: slow.ca } });
      const startedAt = Date.now();
      await send(client);
      // Two round trips (send + poll), each delayed; a little slack for timer rounding.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    } finally {
      await slow.stop();
    }
  });
});
