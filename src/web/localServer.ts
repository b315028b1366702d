/**
 * Serves the web endpoints for a given MonitorDeps outside the Functions host (drills, tests,
 * a developer's machine). Same routes as the host, same handlers; only on loopback, and with
 * no function-key check, so it is for local use only.
 *
 *   const web = await startLocalWebServer(deps, { port: 7071 });
 *   web.url            // "http://127.0.0.1:7071"; the dashboard is at `${web.url}/api/dashboard`
 *   await web.stop();
 *
 * When the links in emails should point at this server, pass a factory instead of deps: it is
 * called once with the server's URL (before the first request), e.g. to set
 * CMK_PUBLIC_BASE_URL: `startLocalWebServer((url) => createMonitorDeps(loadConfig({ ...env, CMK_PUBLIC_BASE_URL: url })))`.
 *
 * Pass `tls` (e.g. createSandboxCertificate()) to serve https, so links in emails built from
 * CMK_PUBLIC_BASE_URL=https://127.0.0.1:<port> stay clickable in the HTML part.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { HttpRequest, type HttpResponseInit } from "@azure/functions";
import { API_PREFIX } from "../domain/linkTokens";
import { handleAck, handleDashboard, handleSnooze, handleStatus } from "./handlers";
import { handleAccount, handleAccountPage, handleIncidents } from "./operatorHandlers";
import type { MonitorDeps } from "../pipeline/monitorDeps";

export interface LocalWebServerOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default 127.0.0.1; only loopback addresses are accepted. */
  host?: "127.0.0.1" | "localhost" | "::1";
  /** PEM key and certificate: serve https instead of http. */
  tls?: { key: string; cert: string };
}

export interface LocalWebServer {
  /** e.g. "http://127.0.0.1:7071", no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Closes the server and its open connections; safe to call twice. */
  stop(): Promise<void>;
}

type Handler = (request: HttpRequest, deps: MonitorDeps) => Promise<HttpResponseInit>;

interface Route {
  methods: readonly string[];
  pattern: RegExp;
  handler: Handler;
}

const ROUTES: readonly Route[] = [
  { methods: ["GET"], pattern: /^\/status$/, handler: handleStatus },
  { methods: ["GET"], pattern: /^\/dashboard$/, handler: handleDashboard },
  { methods: ["GET"], pattern: /^\/incidents$/, handler: handleIncidents },
  { methods: ["GET"], pattern: /^\/accounts\/(?<subscriptionId>[^/]+)\/(?<resourceGroup>[^/]+)\/(?<name>[^/]+)$/, handler: handleAccount },
  { methods: ["GET"], pattern: /^\/dashboard\/accounts\/(?<subscriptionId>[^/]+)\/(?<resourceGroup>[^/]+)\/(?<name>[^/]+)$/, handler: handleAccountPage },
  { methods: ["GET", "POST"], pattern: /^\/incidents\/(?<id>[^/]+)\/ack$/, handler: handleAck },
  { methods: ["GET", "POST"], pattern: /^\/incidents\/(?<id>[^/]+)\/snooze$/, handler: handleSnooze },
];

// Hop-by-hop headers are the server's business; the Fetch Request the handlers see refuses some.
const DROPPED_HEADERS = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "expect"]);
const MAX_BODY_BYTES = 64 * 1024;

export async function startLocalWebServer(
  depsOrFactory: MonitorDeps | ((serverUrl: string) => MonitorDeps),
  options: LocalWebServerOptions = {},
): Promise<LocalWebServer> {
  const host = options.host ?? "127.0.0.1";
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }) : http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${options.tls ? "https" : "http"}://${host === "::1" ? "[::1]" : host}:${port}`;
  let deps: MonitorDeps;
  try {
    deps = typeof depsOrFactory === "function" ? depsOrFactory(origin) : depsOrFactory;
  } catch (error) {
    server.close();
    throw error;
  }
  // Only this server's own names: a page elsewhere that rebinds its DNS name to 127.0.0.1 must not reach the dashboard.
  const allowedHosts = new Set(["127.0.0.1", "localhost", "[::1]"].map((name) => `${name}:${port}`));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.has((req.headers.host ?? "").toLowerCase())) {
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", connection: "close" });
      res.end("Misdirected request: this server answers only to 127.0.0.1, localhost and [::1] on its own port");
      return;
    }
    serve(req, res, origin, deps).catch((error: unknown) => {
      deps.log.error(`cmk-monitor: local web server: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end("Internal error");
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    url: origin,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, origin: string, deps: MonitorDeps): Promise<void> {
  const url = new URL(req.url ?? "/", origin);
  const method = (req.method ?? "GET").toUpperCase();
  const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : undefined;
  const route = path === undefined ? undefined : ROUTES.find((r) => r.pattern.test(path));
  if (!route || path === undefined) return write(res, { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" }, body: "Not found" });
  if (!route.methods.includes(method)) {
    return write(res, { status: 405, headers: { Allow: route.methods.join(", "), "Content-Type": "text/plain; charset=utf-8" }, body: "Method not allowed" });
  }
  const body = await readBody(req);
  if (body === undefined) {
    // The rest of an oversized body is never read: answer, then drop the connection.
    write(res, { status: 413, headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" }, body: "Too large" });
    res.on("finish", () => req.destroy());
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const params: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(route.pattern.exec(path)?.groups ?? {})) params[name] = decodeURIComponent(value);
  } catch {
    return write(res, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" }, body: "Bad path" });
  }
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers,
    params,
    ...(method === "GET" || method === "HEAD" ? {} : { body: { bytes: body } }),
  });
  write(res, await route.handler(request, deps));
}

/** The body, or undefined as soon as it is (or says it is) over MAX_BODY_BYTES; reading stops there. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off("data", onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function write(res: ServerResponse, response: HttpResponseInit): void {
  const headers: Record<string, string> = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };
  for (const [name, value] of Object.entries((response.headers ?? {}) as Record<string, string>)) headers[name] = value;
  const body = response.jsonBody !== undefined ? JSON.stringify(response.jsonBody) : typeof response.body === "string" ? response.body : "";
  res.writeHead(response.status ?? 200, headers);
  res.end(body);
}
