/**
 * The only ways text reaches an email's HTML: `escapeHtml`, or the `html` tagged template,
 * which escapes every substitution unless it is already SafeHtml (built by `html` or `raw`).
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  // Backticks delimit attribute values in some old HTML parsers.
  "`": "&#96;",
};

export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"'`]/g, (char) => ESCAPES[char]!);
}

/** Markup that is already safe; only `html` and `raw` create it. */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Marks trusted markup written in our own code. Never pass it a value from Azure or a tag. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export type HtmlValue = string | number | SafeHtml | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined) return "";
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** Tagged template: html`<td>${untrusted}</td>` escapes `untrusted`; arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value);
    out += strings[index + 1] ?? "";
  });
  return new SafeHtml(out);
}

/** An href we are willing to emit: https only, anything else becomes inert. */
export function safeHref(url: string): string {
  return /^https:\/\//i.test(url.trim()) ? url.trim() : "#";
}
