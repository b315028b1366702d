/** .eml output: a message any mail client opens, and no header a hostile value can forge. */
import { encodeQuotedPrintable, encodeSubject, formatRfc5322Date, toEml, type EmlMessage } from "../../src/drill/eml";

const CRLF = "\r\n";

function message(overrides: Partial<EmlMessage> = {}): EmlMessage {
  return {
    date: new Date("2026-03-02T08:10:00Z"),
    from: "cmk-monitor@sandbox.contoso.com",
    to: ["alice@contoso.com", "bob@contoso.com"],
    cc: [],
    subject: "[CMK revoked] orders-db: Default identity has no permission on the key (4002)",
    text: "Line one\nLine two with = sign and trailing space \nÜnïcödé ✓",
    html: "<!DOCTYPE html><p>Hello <b>Alice</b></p>",
    messageId: "0b6c3f7e-1d2a-5b4c-8d9e-0f1a2b3c4d5e",
    ...overrides,
  };
}

/** An independent reader: header block split on CRLF, continuation lines unfolded. */
function headersOf(eml: string): Array<[string, string]> {
  const block = eml.slice(0, eml.indexOf(`${CRLF}${CRLF}`));
  const headers: Array<[string, string]> = [];
  for (const line of block.split(CRLF)) {
    if (/^[ \t]/.test(line)) headers[headers.length - 1]![1] += line;
    else headers.push([line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]);
  }
  return headers;
}

function header(eml: string, name: string): string | undefined {
  return headersOf(eml).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

function decodeWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, "?==?").replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_m, data: string) => Buffer.from(data, "base64").toString("utf8"));
}

function decodeQuotedPrintable(encoded: string): string {
  const bytes: number[] = [];
  const joined = encoded.replace(/=\r\n/g, "");
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === "=") {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8").replace(/\r\n/g, "\n");
}

/** The parts of a multipart body, each as [headers, body]. */
function partsOf(eml: string): Array<{ headers: string; body: string }> {
  const boundary = /boundary="([^"]+)"/.exec(header(eml, "Content-Type") ?? "")![1]!;
  const body = eml.slice(eml.indexOf(`${CRLF}${CRLF}`) + 4);
  const [, ...rest] = body.split(`${CRLF}--${boundary}`);
  expect(rest.at(-1)).toBe(`--${CRLF}`);
  return rest.slice(0, -1).map((part) => {
    const split = part.indexOf(`${CRLF}${CRLF}`);
    return { headers: part.slice(0, split), body: part.slice(split + 4) };
  });
}

describe("toEml", () => {
  const eml = toEml(message({ cc: ["support@contoso.com"] }));

  it("writes the RFC 5322 headers a mail client needs", () => {
    expect(header(eml, "Date")).toBe("Mon, 02 Mar 2026 08:10:00 +0000");
    expect(header(eml, "From")).toBe("cmk-monitor@sandbox.contoso.com");
    expect(header(eml, "To")).toBe("alice@contoso.com, bob@contoso.com");
    expect(header(eml, "Cc")).toBe("support@contoso.com");
    expect(header(eml, "Subject")).toBe("[CMK revoked] orders-db: Default identity has no permission on the key (4002)");
    expect(header(eml, "Message-ID")).toBe("<0b6c3f7e-1d2a-5b4c-8d9e-0f1a2b3c4d5e@cmk-monitor.drill.invalid>");
    expect(header(eml, "MIME-Version")).toBe("1.0");
    expect(header(eml, "Content-Type")).toMatch(/^multipart\/alternative; boundary="=_cmk_[0-9a-f]+"$/);
  });

  it("has a text/plain then a text/html part, quoted-printable, that decode to the bodies", () => {
    const parts = partsOf(eml);
    expect(parts.map((part) => /Content-Type: ([^;]+)/.exec(part.headers)![1])).toEqual(["text/plain", "text/html"]);
    expect(parts.every((part) => part.headers.includes("charset=utf-8") && part.headers.includes("Content-Transfer-Encoding: quoted-printable"))).toBe(true);
    expect(decodeQuotedPrintable(parts[0]!.body)).toBe(message().text);
    expect(decodeQuotedPrintable(parts[1]!.body)).toBe(message().html);
  });

  it("uses CRLF line ends only and keeps every line within 78 characters", () => {
    // Bare LF or long lines are what strict MTAs and some clients reject or mangle.
    expect(eml.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(Math.max(...eml.split(CRLF).map((line) => line.length))).toBeLessThanOrEqual(78);
  });

  it("never lets the boundary occur inside a part", () => {
    // Quoted-printable encodes "=" as "=3D", so a body quoting the boundary cannot end its part.
    const boundary = /boundary="([^"]+)"/.exec(header(eml, "Content-Type")!)![1]!;
    const hostile = toEml(message({ text: `--${boundary}\nContent-Type: text/html\n\n<script>`, html: `--${boundary}--` }));
    const hostileBoundary = /boundary="([^"]+)"/.exec(header(hostile, "Content-Type")!)![1]!;
    expect(partsOf(hostile)).toHaveLength(2);
    expect(hostile.split(`--${hostileBoundary}`)).toHaveLength(4);
  });

  it("omits Cc when there is nobody to copy", () => {
    expect(header(toEml(message()), "Cc")).toBeUndefined();
  });
});

describe("header injection", () => {
  it.each<[string, Partial<EmlMessage>]>([
    // A subject built from Azure text or tags must not add a Bcc.
    ["CR/LF in the subject", { subject: "Revoked\r\nBcc: mallory@evil.example" }],
    ["bare LF in the subject", { subject: "Revoked\nBcc: mallory@evil.example" }],
    // Unicode line separators are line breaks to some parsers.
    ["U+2028 in the subject", { subject: "Revoked\u2028Bcc: mallory@evil.example" }],
    // An address that smuggles a header is dropped, not written.
    ["CR/LF in a To address", { to: ["alice@contoso.com\r\nBcc: mallory@evil.example"] }],
    ["CR/LF in a Cc address", { cc: ["carol@contoso.com\nBcc: mallory@evil.example"] }],
    ["a display-name trick in From", { from: "x@contoso.com>\r\nBcc: <mallory@evil.example" }],
    ["CR/LF in the message id", { messageId: "abc\r\nBcc: mallory@evil.example" }],
    ["CR/LF in an extra header", { extraHeaders: { "X-CMK-Monitor-Key": "k\r\nBcc: mallory@evil.example" } }],
  ])("%s cannot add a header", (_name, overrides) => {
    const eml = toEml(message(overrides));
    const names = headersOf(eml).map(([name]) => name.toLowerCase());
    expect(names).not.toContain("bcc");
    expect(names.filter((name) => name === "to" || name === "subject")).toHaveLength(2);
    // Every header line is "Name: value" or a folded continuation.
    for (const line of eml.slice(0, eml.indexOf(`${CRLF}${CRLF}`)).split(CRLF)) expect(line).toMatch(/^([A-Za-z-]+: |[ \t])/);
  });

  it("writes no recipient it could not check, and says the list is empty instead", () => {
    const eml = toEml(message({ to: ["not an address", "a@b.com\r\nX: y"] }));
    expect(header(eml, "To")).toBe("undisclosed-recipients:;");
  });
});

describe("encodeSubject", () => {
  it.each<[string, string]>([
    // Plain ASCII stays readable in the raw file.
    ["[CMK revoked] orders-db: Key not found (4003)", "[CMK revoked] orders-db: Key not found (4003)"],
    // Non-ASCII account names and titles survive the round trip.
    ["[CMK revoked] commandes-bd: clé introuvable ✓", "[CMK revoked] commandes-bd: clé introuvable ✓"],
    // Text that looks like an encoded-word is encoded so a client does not decode it.
    ["=?UTF-8?B?SGk=?=", "=?UTF-8?B?SGk=?="],
    // Control characters become spaces.
    ["a\tb\u0007c", "a b c"],
  ])("%j", (subject, expected) => {
    const encoded = encodeSubject(subject);
    // Only folding (CRLF + space) may break the line.
    expect(encoded.replace(/\r\n /g, "")).not.toMatch(/[\r\n]/);
    expect(decodeWords(encoded.replace(/\r\n /g, " "))).toBe(expected);
  });

  it("splits long non-ASCII subjects into encoded-words of at most 75 characters", () => {
    const encoded = encodeSubject("é".repeat(200));
    const words = encoded.split(`${CRLF} `);
    expect(words.length).toBeGreaterThan(1);
    expect(Math.max(...words.map((word) => word.length))).toBeLessThanOrEqual(75);
    expect(decodeWords(encoded)).toBe("é".repeat(200));
  });
});

describe("quoted-printable and dates", () => {
  it.each<[string]>([
    // Lines longer than 76 characters get soft breaks.
    ["x".repeat(300)],
    // "=" and trailing whitespace are encoded.
    ["a=b \nc\t"],
    // Multi-byte characters across a soft break.
    ["€".repeat(60)],
  ])("round-trips %j", (text) => {
    const encoded = encodeQuotedPrintable(text);
    expect(Math.max(...encoded.split(CRLF).map((line) => line.length))).toBeLessThanOrEqual(76);
    expect(decodeQuotedPrintable(encoded)).toBe(text);
  });

  it("formats dates with a numeric zone", () => {
    expect(formatRfc5322Date(new Date("2026-12-31T23:59:59Z"))).toBe("Thu, 31 Dec 2026 23:59:59 +0000");
  });
});
