/** Tags our incident-email templates write; anything else in the HTML came from data and was escaped badly. */
export const OUR_TAGS = new Set([
  "!doctype",
  "html",
  "head",
  "meta",
  "title",
  "body",
  "h2",
  "p",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "ol",
  "li",
  "pre",
  "a",
  "div",
  "strong",
]);

/** The tag names in a piece of markup, lower-cased, opening and closing alike. */
export const tagsIn = (markup: string): string[] => [...markup.matchAll(/<\/?([!a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase());
