import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TokenCredential } from "@azure/identity";
import { AcsRoutes, type EmailRepeat, type SentEmail } from "./acsRoutes";
import { ArmRoutes, type SandboxAccount, type SandboxAccountSpec } from "./armRoutes";
import { cmkTargetOf, provisionKeyVaultFor, type CmkTarget } from "./keyVaultProvisioning";
import { KeyVaultRoutes } from "./keyVaultRoutes";
import { ResourceGraphRoutes } from "./resourceGraphRoutes";
import { SupportRoutes } from "./supportRoutes";
import { SandboxChangeFeed } from "./changeFeed";
import { SandboxKeyVault } from "./keyVaultState";
import { createVaultAgent } from "./vaultAgent";
import { createSandboxCertificate } from "./tls";

/** The endpoints a fault can be aimed at. */
export type SandboxRouteId =
  | "arm-subscriptions"
  | "arm-list"
  | "arm-get"
  | "acs-send"
  | "acs-poll"
  // Key Vault: ARM vaults (list/get), deleted vaults, the data plane's keys and deleted keys, authorization.
  | "kv-vaults"
  | "kv-deleted-vaults"
  | "kv-key"
  | "kv-deleted-key"
  | "role-assignments"
  | "deny-assignments"
  | "role-definitions"
  | "resource-graph"
  // Microsoft.Support: services, problem classifications, name checks, ticket create/get and the create's status.
  | "support-services"
  | "support-classifications"
  | "support-check-name"
  | "support-ticket-get"
  | "support-ticket-create"
  | "support-operation"
  | "support-communication";

/**
 * The next `times` requests to `route` get this answer instead of the normal one.
 * Faults are answered before authentication, like a gateway in front of the service.
 */
export interface SandboxFault {
  route: SandboxRouteId;
  status: number;
  /** Default 1. */
  times?: number;
  /**
   * Sent as `Retry-After`; the SDKs only retry a 429 that carries it. Azure sends it on every 429,
   * so an injected 429 (ARM, Key Vault, Resource Graph) gets 1 second unless a test says otherwise.
   */
  retryAfterInSeconds?: number;
  /** Raw response body; default is the service's own error shape. */
  body?: string;
  /** acs-send: the send is accepted and the operation ends "Failed", not delivered (the HTTP call itself succeeds). */
  operationStatus?: "Failed";
}

export interface SandboxRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as the JSON body. */
  json?: unknown;
  /** A raw body, used when a fault supplies its own. */
  text?: string;
}

/** A request a route module recognised; `handle` gets the fault aimed at it, if any. */
export interface MatchedRoute {
  id: SandboxRouteId;
  handle(fault: SandboxFault | undefined): SandboxResponse;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  at: Date;
  status: number;
  /** Which sandbox endpoint answered; undefined when no route matched. */
  route?: SandboxRouteId;
}

/**
 * One request and the answer the sandbox gave it, whole: what the contract suite
 * (test/contracts) checks against Azure's REST specs.
 */
export interface RecordedExchange {
  method: string;
  /** The Host header: the vault name for Key Vault calls (they all arrive on the same port). */
  host: string;
  /** Path and query string as sent. */
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
  route?: SandboxRouteId;
}

export interface LocalSandboxOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /**
   * Keep every exchange whole (`exchanges()`), for the contract suite. Default: on when the
   * environment sets CMK_SANDBOX_RECORD_EXCHANGES=1, so any test run can be recorded.
   */
  recordExchanges?: boolean;
  /** Delay added before every response, to exercise timeouts and concurrency. */
  latencyInMs?: number;
  /** ARM's per-subscription read throttling; off by default. */
  armThrottle?: ArmThrottle;
}

/**
 * ARM's token bucket for reads, per subscription: `capacity` requests, refilled at `refillPerSecond`
 * (Azure: 250 and 25/s). An empty bucket answers 429 with Retry-After, as ARM does.
 */
export interface ArmThrottle {
  capacity: number;
  refillPerSecond: number;
}

/** Routes that are ARM reads, and so spend the subscription's read tokens. */
const ARM_READ_ROUTES: ReadonlySet<SandboxRouteId> = new Set([
  "arm-list",
  "arm-get",
  "kv-vaults",
  "kv-deleted-vaults",
  "role-assignments",
  "deny-assignments",
  "role-definitions",
]);

const SANDBOX_TOKEN = "sandbox-access-token";
const DEFAULT_THROTTLE_RETRY_AFTER_IN_SECONDS = 1;

/**
 * A local HTTPS stand-in for the Azure endpoints the monitor calls (ARM Cosmos DB accounts
 * and ACS Email). Unmodified SDK clients talk to it; only endpoint, credential and the
 * trusted CA differ from production.
 */
export class LocalSandbox {
  /** e.g. `https://127.0.0.1:PORT` (no trailing slash); the ARM client's `endpoint`. */
  readonly url: string;
  /** PEM certificate to pass as `tlsOptions: { ca }`. */
  readonly ca: string;
  /** ACS resource endpoint, with the trailing slash ACS connection strings carry. */
  readonly acsEndpoint: string;
  readonly acsConnectionString: string;
  /** Any token it returns is accepted by ARM and by ACS's bearer path. */
  readonly credential: TokenCredential = {
    getToken: async () => ({ token: SANDBOX_TOKEN, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 }),
  };

  private readonly arm = new ArmRoutes();
  /** ACS email: its behaviour switches (configure) and call counts. */
  readonly acs: AcsRoutes;
  /**
   * The Key Vault world behind the probes: vaults, keys, permissions, firewalls, DNS. Its
   * methods are the state API tests and the drill use (see keyVaultState.ts for the mapping).
   */
  readonly keyVault = new SandboxKeyVault();
  /** ARM-side changes as Event Grid events and a change history (changeFeed.ts); the Key Vault state announces its own. */
  readonly changeFeed = new SandboxChangeFeed();
  private readonly keyVaultRoutes = new KeyVaultRoutes(this.keyVault);
  /** Resource Graph over the same accounts ARM serves. */
  readonly resourceGraph = new ResourceGraphRoutes(
    () => this.arm.resourceGraphRows(),
    () => this.arm.subscriptionIds(),
    Date.now,
    () => this.changeFeed.history(),
    (at) => this.keyVault.roleAssignmentsAsOf(at),
  );
  /** Microsoft.Support: tickets the monitor opens, a subscription without a support plan, a missing role. */
  readonly support = new SupportRoutes(() => this.url);
  /** For Key Vault SDK clients: resolves vault names through `keyVault` and connects here (vaultAgent.ts). */
  readonly keyVaultAgent: https.Agent;
  /** The sandbox's DNS for vault host names, in the shape of the DNS probe's resolver. */
  readonly resolver = {
    lookup: async (hostname: string): Promise<string[]> => {
      if (this.keyVault.resolves(hostname)) return ["127.0.0.1"];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname });
    },
  };
  private faults: Array<SandboxFault & { remaining: number }> = [];
  private armThrottle: ArmThrottle | undefined;
  private readonly armBuckets = new Map<string, { tokens: number; at: number }>();
  private throttled = 0;
  private now: () => number = Date.now;
  private recorded: RecordedRequest[] = [];
  private exchangeLog: RecordedExchange[] | undefined;
  private readonly pendingReplies = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: https.Server,
    ca: string,
    port: number,
    private readonly latencyInMs: number,
  ) {
    this.ca = ca;
    this.url = `https://127.0.0.1:${port}`;
    this.acsEndpoint = `${this.url}/`;
    const accessKey = randomBytes(64).toString("base64");
    this.acsConnectionString = `endpoint=${this.acsEndpoint};accesskey=${accessKey}`;
    this.acs = new AcsRoutes(accessKey);
    this.keyVaultAgent = createVaultAgent({ ca, port, resolves: (host) => this.keyVault.resolves(host) });
    this.keyVault.setChangeFeed(this.changeFeed);
  }

  static async start(options: LocalSandboxOptions = {}): Promise<LocalSandbox> {
    const tls = await createSandboxCertificate();
    const server = https.createServer({ key: tls.key, cert: tls.cert });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const sandbox = new LocalSandbox(server, tls.cert, port, options.latencyInMs ?? 0);
    if (options.armThrottle) sandbox.setArmThrottle(options.armThrottle);
    if (options.recordExchanges ?? process.env["CMK_SANDBOX_RECORD_EXCHANGES"] === "1") sandbox.exchangeLog = [];
    server.on("request", (req: IncomingMessage, res: ServerResponse) => sandbox.onRequest(req, res));
    return sandbox;
  }

  /** Closes the server and every open connection; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.pendingReplies) clearTimeout(timer);
      this.pendingReplies.clear();
      this.server.close((error) => (error ? reject(error) : resolve()));
      // Keep-alive sockets from SDK agents would otherwise hold the server (and jest) open.
      this.server.closeAllConnections();
      this.keyVaultAgent.destroy();
    });
    return this.stopping;
  }

  // --- ARM state -------------------------------------------------------------------------

  /** Creates or replaces an account; returns its ARM resource id. */
  /**
   * Creates or replaces an account; returns its ARM resource id. The vault and key its URI names
   * are provisioned too (`spec.keyVault`, keyVaultProvisioning.ts).
   */
  putAccount(spec: SandboxAccountSpec): string {
    const id = this.arm.putAccount(spec);
    if (spec.keyVault !== "none") provisionKeyVaultFor(this.keyVault, this.arm.getAccount(id)!, spec.keyVault ?? "healthy");
    return id;
  }

  /** Changes `properties.defaultIdentity` (not the status: Azure's status lags such changes). */
  setDefaultIdentity(nameOrId: string, defaultIdentity: string): void {
    this.arm.updateAccount(nameOrId, { defaultIdentity });
    this.accountWritten(nameOrId, ["properties.defaultIdentity"]);
  }

  /** Changes `properties.keyVaultKeyUri` (not the status). */
  setKeyVaultKeyUri(nameOrId: string, keyVaultKeyUri: string): void {
    this.arm.updateAccount(nameOrId, { keyVaultKeyUri });
    this.accountWritten(nameOrId, ["properties.keyVaultKeyUri"]);
  }

  /** A PUT/PATCH of the account, announced as Azure's subscription system topic would. */
  private accountWritten(nameOrId: string, changedPaths: string[]): void {
    const account = this.arm.getAccount(nameOrId);
    if (account) this.changeFeed.armOperation("Microsoft.DocumentDB/databaseAccounts/write", account.id, changedPaths);
  }

  /** The vault, key, host and principal an account's key setup points at; undefined for an unparseable URI. */
  cmkTargetOf(nameOrId: string): CmkTarget | undefined {
    const account = this.arm.getAccount(nameOrId);
    if (!account) throw new Error(`Sandbox has no account "${nameOrId}"`);
    return cmkTargetOf(account);
  }

  /** The clock for deletion and purge dates in the Key Vault world, Resource Graph's quota and ARM's throttle (the drill's simulated clock). */
  setClock(now: () => Date): void {
    this.keyVault.setClock(now);
    this.changeFeed.setClock(now);
    this.now = () => now().getTime();
    this.resourceGraph.setClock(this.now);
    this.support.setClock(this.now);
    this.armBuckets.clear();
  }

  /** Turns ARM's per-subscription read throttling on (or off with undefined); buckets start full. */
  setArmThrottle(throttle: ArmThrottle | undefined): void {
    this.armThrottle = throttle;
    this.armBuckets.clear();
  }

  /** ARM reads answered 429 by the throttle so far. */
  armThrottledCount(): number {
    return this.throttled;
  }

  /** Sets `customerManagedKeyStatus`; undefined removes the property. Throws for unknown accounts. */
  setStatus(nameOrId: string, status: string | undefined): void {
    this.arm.setStatus(nameOrId, status);
  }

  removeAccount(nameOrId: string): void {
    this.arm.removeAccount(nameOrId);
  }

  getAccount(nameOrId: string): SandboxAccount | undefined {
    return this.arm.getAccount(nameOrId);
  }

  /** Every ARM read in this subscription answers 403 AuthorizationFailed from now on. */
  /** Makes a subscription visible to `GET /subscriptions` even without accounts. */
  addSubscription(subscriptionId: string, options?: { displayName?: string; state?: string }): void {
    this.arm.addSubscription(subscriptionId, options);
  }

  /** The caller may not read this subscription: ARM answers 403, and Resource Graph silently leaves it out. */
  forbidSubscription(subscriptionId: string): void {
    this.arm.forbidSubscription(subscriptionId);
    this.resourceGraph.hideSubscription(subscriptionId);
  }

  /**
   * Pageable ARM lists (subscriptions, vaults, deleted vaults, role assignments) answer this many
   * items a page with a `nextLink`, as ARM may; undefined (the default) answers in one page.
   * Cosmos DB's account list is not pageable in its spec and never pages.
   */
  setListPageSize(size: number | undefined): void {
    this.arm.setListPageSize(size);
    this.keyVaultRoutes.setListPageSize(size);
  }

  /** ARM list responses without `customerManagedKeyStatus` (GETs keep it); see ArmRoutes.setListOmitsStatus. */
  setListOmitsStatus(omit: boolean): void {
    this.arm.setListOmitsStatus(omit);
  }

  // --- ACS state -------------------------------------------------------------------------

  sentEmails(): SentEmail[] {
    return this.acs.sentEmails();
  }

  emailRepeats(): EmailRepeat[] {
    return this.acs.emailRepeats();
  }

  clearEmails(): void {
    this.acs.clearEmails();
  }

  // --- Observation and faults ------------------------------------------------------------

  requests(): RecordedRequest[] {
    return this.recorded.map((r) => ({ ...r, at: new Date(r.at) }));
  }

  clearRequests(): void {
    this.recorded = [];
  }

  /** Every exchange so far, whole; empty unless recording was asked for (LocalSandboxOptions.recordExchanges). */
  exchanges(): RecordedExchange[] {
    return [...(this.exchangeLog ?? [])];
  }

  injectFault(fault: SandboxFault): void {
    const remaining = fault.times ?? 1;
    if (!(remaining > 0)) throw new Error(`Fault times must be positive, got ${remaining}`);
    this.faults.push({ ...fault, remaining });
  }

  /** Faults still waiting to fire, with how many requests each will still answer. */
  pendingFaults(): { route: SandboxRouteId; remaining: number }[] {
    return this.faults.map((f) => ({ route: f.route, remaining: f.remaining }));
  }

  /** Clears every pending fault, or only those aimed at `route`. */
  clearFaults(route?: SandboxRouteId): void {
    this.faults = route ? this.faults.filter((f) => f.route !== route) : [];
  }

  private takeFault(route: SandboxRouteId): SandboxFault | undefined {
    const fault = this.faults.find((f) => f.route === route);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    // ACS faults keep the shape acsRoutes.ts gives them (its throttling is played there).
    if (fault.status === 429 && fault.retryAfterInSeconds === undefined && !route.startsWith("acs-")) {
      return { ...fault, retryAfterInSeconds: DEFAULT_THROTTLE_RETRY_AFTER_IN_SECONDS };
    }
    return fault;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: SandboxRequest = {
        method: (req.method ?? "GET").toUpperCase(),
        url: new URL(req.url ?? "/", this.url),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const { response, route } = this.answer(request);
      this.recorded.push({
        method: request.method,
        path: request.url.pathname,
        at: new Date(),
        status: response.status,
        ...(route ? { route } : {}),
      });
      this.reply(res, response, route && this.exchangeLog ? { request, route } : undefined);
    });
  }

  private answer(request: SandboxRequest): { response: SandboxResponse; route?: SandboxRouteId } {
    const matched =
      this.arm.route(request) ??
      this.acs.route(request) ??
      this.keyVaultRoutes.route(request) ??
      this.resourceGraph.route(request) ??
      this.support.route(request);
    if (!matched) {
      const message = `The sandbox has no route for ${request.method} ${request.url.pathname}.`;
      return { response: { status: 404, json: { error: { code: "NotFound", message } } } };
    }
    const throttled = this.throttleArm(matched.id, request);
    if (throttled) return { response: throttled, route: matched.id };
    try {
      return { response: matched.handle(this.takeFault(matched.id)), route: matched.id };
    } catch (error) {
      // A sandbox bug should fail the test loudly, not hang it.
      const message = error instanceof Error ? error.message : String(error);
      return { response: { status: 500, json: { error: { code: "SandboxError", message } } }, route: matched.id };
    }
  }

  /** Spends one read token of the request's subscription; a 429 when there is none. */
  private throttleArm(route: SandboxRouteId, request: SandboxRequest): SandboxResponse | undefined {
    const throttle = this.armThrottle;
    if (!throttle || !ARM_READ_ROUTES.has(route)) return undefined;
    const subscription = (/^\/subscriptions\/([^/]+)/i.exec(request.url.pathname)?.[1] ?? "(tenant)").toLowerCase();
    const now = this.now();
    const bucket = this.armBuckets.get(subscription) ?? { tokens: throttle.capacity, at: now };
    bucket.tokens = Math.min(throttle.capacity, bucket.tokens + ((now - bucket.at) / 1000) * throttle.refillPerSecond);
    bucket.at = now;
    this.armBuckets.set(subscription, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    this.throttled += 1;
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / throttle.refillPerSecond));
    return {
      status: 429,
      headers: { "retry-after": String(retryAfter), "x-ms-ratelimit-remaining-subscription-reads": "0" },
      json: {
        error: {
          code: "SubscriptionRequestsThrottled",
          message: `Number of read requests for subscription '${subscription}' exceeded the limit. Please try again after '${retryAfter}' seconds.`,
        },
      },
    };
  }

  private reply(res: ServerResponse, response: SandboxResponse, record?: { request: SandboxRequest; route: SandboxRouteId }): void {
    const write = (): void => {
      if (res.destroyed) return;
      const body = response.text ?? (response.json === undefined ? "" : JSON.stringify(response.json));
      const headers = {
        "content-type": "application/json; charset=utf-8",
        "x-ms-request-id": randomUUID(),
        ...response.headers,
      };
      res.writeHead(response.status, headers);
      res.end(body);
      if (record) this.exchangeLog?.push(toExchange(record.request, record.route, response.status, headers, body));
    };
    if (this.latencyInMs <= 0) return write();
    const timer = setTimeout(() => {
      this.pendingReplies.delete(timer);
      write();
    }, this.latencyInMs);
    this.pendingReplies.add(timer);
  }
}

function toExchange(request: SandboxRequest, route: SandboxRouteId, status: number, headers: Record<string, string>, body: string): RecordedExchange {
  const requestHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) requestHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
  return {
    method: request.method,
    host: requestHeaders["host"] ?? "",
    url: `${request.url.pathname}${request.url.search}`,
    requestHeaders,
    requestBody: request.body.toString("utf8"),
    status,
    responseHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    responseBody: body,
    route,
  };
}
