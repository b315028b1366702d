/** POST bodies are read up to their limit and no further. */
import { HttpRequest } from "@azure/functions";
import { readLimitedText } from "../../src/web/requestBody";
import { handleAck } from "../../src/web/handlers";
import { fakeMonitorDeps } from "../fakes/fakeMonitorDeps";

/** A body that never ends, counting how many bytes anyone pulled from it. */
function endlessBody(chunkBytes = 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunkBytes;
      controller.enqueue(new Uint8Array(chunkBytes).fill(0x61));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

function post(body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}): HttpRequest {
  const request = new HttpRequest({ method: "POST", url: "https://cmk.example.test/api/incidents/x/ack", headers, params: { id: "x" }, body: { string: "" } });
  // The host hands the handler a stream; here one that never ends.
  Object.defineProperty(request, "body", { value: typeof body === "string" ? new Blob([body]).stream() : body });
  return request;
}

describe("readLimitedText", () => {
  it("stops pulling an endless body just past the limit, and cancels it", async () => {
    // request.text() would read until memory runs out.
    const body = endlessBody();
    await expect(readLimitedText(post(body.stream), 16 * 1024)).resolves.toBeUndefined();
    // The stream may read ahead a chunk or so beyond what the reader asked for.
    expect(body.pulled()).toBeLessThanOrEqual(16 * 1024 + 4 * 1024);
    expect(body.cancelled()).toBe(true);
  });

  it.each<[string, string, Record<string, string>, string | undefined]>([
    // Within the limit: the text as sent, multi-byte characters intact.
    ["small form", "token=abc&name=Zoë", {}, "token=abc&name=Zoë"],
    // Exactly at the limit is allowed.
    ["exactly the limit", "a".repeat(32), {}, "a".repeat(32)],
    // One byte over is not.
    ["one byte over", "a".repeat(33), {}, undefined],
    // A declared length over the limit is refused before reading.
    ["declared too long", "short", { "content-length": "1000000" }, undefined],
  ])("%s", async (_name, text, headers, expected) => {
    await expect(readLimitedText(post(text, headers), 32)).resolves.toBe(expected);
  });
});

describe("the link endpoint's POST", () => {
  it("refuses an endless form without reading it all", async () => {
    const body = endlessBody();
    const response = await handleAck(post(body.stream), fakeMonitorDeps().deps);
    expect(response.status).toBe(400);
    expect(body.pulled()).toBeLessThan(64 * 1024);
  });
});
