/**
 * A request body read with a size limit that stops reading at the limit: a client sending a
 * gigabyte costs the limit's worth of memory and time, not a gigabyte's.
 */
import type { HttpRequest } from "@azure/functions";

/** The body as text, or undefined when it is (or says it is) larger than `maxBytes`. */
export async function readLimitedText(request: Pick<HttpRequest, "headers" | "body">, maxBytes: number): Promise<string | undefined> {
  // A declared length over the limit is refused before a byte is read.
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) return undefined;
  const body = request.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop reading: the rest is never pulled from the connection.
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString("utf8");
}
