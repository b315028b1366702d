/**
 * Writes an email as an RFC 5322 message (.eml) any mail client opens: MIME
 * multipart/alternative with a plain-text and an HTML part. Every header value is either
 * built from checked parts or encoded, so no CR/LF from a subject or address reaches the
 * header block.
 */
import { createHash } from "node:crypto";
import { EMAIL_ADDRESS } from "../domain/emailAddress";

export interface EmlMessage {
  date: Date;
  from: string;
  to: readonly string[];
  cc?: readonly string[];
  subject: string;
  text?: string;
  html?: string;
  /** Becomes `<id@domain>`; anything outside [A-Za-z0-9.-] is dropped. */
  messageId: string;
  /** Extra `X-` headers, e.g. the monitor's idempotency key. */
  extraHeaders?: Record<string, string>;
}

const CRLF = "\r\n";
const MAX_LINE = 76;
const MESSAGE_ID_DOMAIN = "cmk-monitor.drill.invalid";

export function toEml(message: EmlMessage): string {
  const bodies = { text: message.text ?? "", html: message.html ?? "" };
  const boundary = `=_cmk_${createHash("sha256").update(`${message.messageId}\n${bodies.text}\n${bodies.html}`).digest("hex").slice(0, 32)}`;
  const headers: string[] = [
    `Date: ${formatRfc5322Date(message.date)}`,
    addressHeader("From", [message.from]),
    addressHeader("To", message.to),
    ...(message.cc && message.cc.length > 0 ? [addressHeader("Cc", message.cc)] : []),
    `Subject: ${encodeSubject(message.subject)}`,
    `Message-ID: <${safeToken(message.messageId) || "message"}@${MESSAGE_ID_DOMAIN}>`,
    "MIME-Version: 1.0",
    ...Object.entries(message.extraHeaders ?? {}).flatMap(([name, value]) => extraHeader(name, value)),
    `Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`,
  ];
  const parts = [part("text/plain", bodies.text), part("text/html", bodies.html)];
  // The preamble is for the rare client that cannot read MIME.
  return [...headers, "", "This is a multi-part message in MIME format.", ...parts.flatMap((body) => [`--${boundary}`, ...body]), `--${boundary}--`, ""].join(
    CRLF,
  );
}

function part(contentType: string, body: string): string[] {
  return [
    `Content-Type: ${contentType}; charset=utf-8`,
    "Content-Transfer-Encoding: quoted-printable",
    "",
    // Quoted-printable never contains "=_", so the boundary cannot occur inside a part.
    encodeQuotedPrintable(body),
  ];
}

/** "Mon, 02 Mar 2026 08:10:00 +0000" (RFC 5322 section 3.3). */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

/** Only addresses that pass the monitor's strict address check are written; others are dropped. */
function addressHeader(name: string, addresses: readonly string[]): string {
  const safe = addresses.filter((address) => EMAIL_ADDRESS.test(address));
  return foldList(`${name}: `, safe.length > 0 ? safe : ["undisclosed-recipients:;"]);
}

function foldList(prefix: string, items: readonly string[]): string {
  const lines: string[] = [];
  let line = prefix;
  items.forEach((item, index) => {
    const piece = `${item}${index < items.length - 1 ? "," : ""}`;
    if (line.length > prefix.length && line.length + 1 + piece.length > MAX_LINE) {
      lines.push(line);
      line = ` ${piece}`;
    } else {
      line += line.length > prefix.length ? ` ${piece}` : piece;
    }
  });
  lines.push(line);
  return lines.join(CRLF);
}

function extraHeader(name: string, value: string): string[] {
  if (!/^X-[A-Za-z0-9-]{1,60}$/.test(name)) return [];
  return [`${name}: ${encodeSubject(value)}`];
}

/**
 * A subject as a header value: control characters become spaces; plain ASCII is folded at
 * spaces; anything else is written as RFC 2047 UTF-8 encoded-words.
 */
export function encodeSubject(subject: string): string {
  const cleaned = subject
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  // "=?" in plain text could be mistaken for an encoded-word, so such subjects are encoded too.
  if (/^[\x20-\x7e]*$/.test(cleaned) && !cleaned.includes("=?")) return foldWords(cleaned);
  return encodedWords(cleaned);
}

function foldWords(value: string): string {
  const lines: string[] = [];
  let line = "";
  // "Subject: " takes the first 9 characters of the first line.
  let room = MAX_LINE - "Subject: ".length;
  for (const word of value.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = MAX_LINE - 1;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`${CRLF} `);
}

/** Base64 encoded-words of at most 75 characters, never splitting a UTF-8 character. */
function encodedWords(value: string): string {
  const words: string[] = [];
  let chunk = "";
  for (const char of value) {
    // 45 bytes of UTF-8 become 60 base64 characters: with "=?UTF-8?B?" and "?=" that is 72.
    if (Buffer.byteLength(chunk + char, "utf8") > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk !== "" || words.length === 0) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, "utf8").toString("base64")}?=`).join(`${CRLF} `);
}

function safeToken(value: string): string {
  return value.replace(/[^A-Za-z0-9.-]/g, "").slice(0, 100);
}

/**
 * RFC 2045 quoted-printable over UTF-8, with CRLF line breaks and soft breaks at 76 characters.
 * Readable in a text editor, unlike base64, and safe for any content.
 */
export function encodeQuotedPrintable(body: string): string {
  const lines = body.replace(/\r\n?/g, "\n").split("\n");
  return lines.map((line) => encodeQpLine(line)).join(CRLF);
}

function encodeQpLine(line: string): string {
  const bytes = Buffer.from(line, "utf8");
  const out: string[] = [];
  let current = "";
  bytes.forEach((byte, index) => {
    const isLast = index === bytes.length - 1;
    const literal =
      (byte >= 33 && byte <= 126 && byte !== 61) ||
      // Trailing spaces would be stripped by some transports, so only inner ones stay literal.
      ((byte === 32 || byte === 9) && !isLast);
    const token = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    // Leave room for the "=" of a soft line break.
    if (current.length + token.length > MAX_LINE - 1) {
      out.push(`${current}=`);
      current = "";
    }
    current += token;
  });
  out.push(current);
  return out.join(CRLF);
}
