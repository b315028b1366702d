/**
 * Every response the web endpoints send goes through here, so every one carries the same
 * protective headers: no caching (pages show live state and carry tokens), no sniffing, no
 * framing, no referrer (a link's token must not leak onwards), and a CSP that allows only our
 * own inline style and script, identified by a per-response nonce.
 */
import { randomBytes } from "node:crypto";
import type { HttpResponseInit } from "@azure/functions";
import type { SafeHtml } from "../email/html";

export function newCspNonce(): string {
  return randomBytes(16).toString("base64");
}

const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
} as const;

export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function htmlResponse(status: number, page: SafeHtml, nonce: string): HttpResponseInit {
  return {
    status,
    headers: { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": pageCsp(nonce) },
    body: page.html,
  };
}

export function jsonResponse(status: number, value: unknown): HttpResponseInit {
  return {
    status,
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    },
    body: JSON.stringify(value, null, 2),
  };
}

/** A download (the incidents' CSV): the same headers as JSON, and a file name. */
export function csvResponse(body: string, fileName: string): HttpResponseInit {
  return {
    status: 200,
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${fileName.replace(/[^\w.-]/g, "_")}"`,
      "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    },
    body,
  };
}
