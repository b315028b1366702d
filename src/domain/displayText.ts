/**
 * Untrusted text (a key URI, a default identity, Azure's status text) as emails and the CLI show
 * it: one line, no invisible characters, bounded. Whoever can edit an account writes the first
 * two freely, so a newline or a bidi override there could forge a paragraph or reorder what a
 * reader sees. Pure.
 */

// C0/C1 controls, DEL, and the line and paragraph breaks (NEL, LS, PS): each becomes a space.
const BREAKS_AND_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// Bidi controls and marks, zero-width characters and invisible operators, the BOM: removed.
const INVISIBLE = /[\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;
// Half of a surrogate pair on its own is not Unicode.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Default bound for one value shown in an email: a key URI or identity id is far shorter. */
export const DISPLAY_VALUE_MAX_CHARS = 300;

/** `text` on one line, without invisible characters (see above). Not cut. */
export function neutralizeText(text: string): string {
  return String(text).replace(INVISIBLE, "").replace(BREAKS_AND_CONTROLS, " ").replace(LONE_SURROGATE, "\ufffd");
}

/** neutralizeText, then cut to `maxChars` code points with a note saying how much was left out. */
export function displayValue(text: string, maxChars = DISPLAY_VALUE_MAX_CHARS): string {
  const clean = neutralizeText(text);
  const chars = Array.from(clean);
  if (chars.length <= maxChars) return clean;
  return `${chars.slice(0, maxChars).join("")}… (${chars.length - maxChars} more characters not shown)`;
}
