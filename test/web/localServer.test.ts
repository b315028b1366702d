/** The local --serve server: its own host names only, and bodies read no further than the limit. */
import http from "node:http";
import { startLocalWebServer, type LocalWebServer } from "../../src/web/localServer";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

let server: LocalWebServer;

beforeAll(async () => {
  server = await startLocalWebServer(fakeMonitorDeps().deps);
});
afterAll(async () => {
  await server.stop();
});

function get(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path: "/api/status", headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("local web server", () => {
  it.each<[string, number, (port: number) => string]>([
    // Its own names on its own port.
    ["127.0.0.1", 200, (port) => `127.0.0.1:${port}`],
    ["localhost", 200, (port) => `localhost:${port}`],
    ["[::1]", 200, (port) => `[::1]:${port}`],
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    ["another name", 421, (port) => `evil.example:${port}`],
    ["another name without port", 421, () => "evil.example"],
    // Our name on another port is another origin.
    ["another port", 421, (port) => `127.0.0.1:${port + 1}`],
  ])("Host %s → %i", async (_name, status, host) => {
    await expect(get(host(server.port))).resolves.toBe(status);
  });

  it("answers 413 to an oversized body before the client has finished sending it", async () => {
    // The old server read the whole body first: a client that never stops would be read for ever.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: server.port,
          path: "/api/incidents/x/ack",
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", () => {}); // the server drops the connection after answering
      req.write("a".repeat(200 * 1024));
      // Never ended: only a server that stops at the limit answers.
      setTimeout(() => reject(new Error("no answer before the body ended")), 3000).unref();
    });
    expect(status).toBe(413);
  });

  it("answers 413 at once to a declared length over the limit", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: server.port, path: "/api/incidents/x/ack", method: "POST", headers: { "content-length": String(10 * 1024 * 1024) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", () => {});
      req.write("a");
      setTimeout(() => reject(new Error("no answer")), 3000).unref();
    });
    expect(status).toBe(413);
  });
});
