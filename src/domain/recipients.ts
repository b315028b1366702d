/**
 * Who gets an account's emails: owners named in a tag plus the configured defaults. Tags are
 * writable by anyone who can edit the account, so every address is validated strictly before
 * it can reach an email header.
 */
import { EMAIL_ADDRESS, isAllowedDomain, OWNER_LOCAL_PART, splitList } from "./emailAddress";

export type RecipientRejectionReason = "invalid" | "domain-not-allowed" | "too-many";

export interface RejectedRecipient {
  /** The rejected text made safe to log or show: control characters removed, truncated. */
  address: string;
  reason: RecipientRejectionReason;
}

export interface RecipientResolution {
  recipients: string[];
  rejected: RejectedRecipient[];
}

export interface ResolveOwnerRecipientsOptions {
  ownerTag: string;
  defaultRecipients: readonly string[];
  allowedRecipientDomains: readonly string[];
  /** Owner-tag addresses kept at most (CMK_MAX_OWNER_RECIPIENTS); the rest are dropped as too-many. Default MAX_RECIPIENTS. */
  maxOwnerRecipients?: number;
}

/** More than this is a mistake or abuse; ACS also limits the recipients of one message. */
export const MAX_RECIPIENTS = 50;

const MAX_ADDRESS_LENGTH = 254;

/** EMAIL_ADDRESS plus the rules it leaves out: dots in the local part, total length, numeric TLDs. */
export function isValidEmailAddress(address: string): boolean {
  if (address.length > MAX_ADDRESS_LENGTH || !EMAIL_ADDRESS.test(address)) return false;
  const local = address.slice(0, address.lastIndexOf("@"));
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) return false;
  // EMAIL_ADDRESS puts at least one dot in the domain, so the last dot of the address is the domain's.
  const tld = address.slice(address.lastIndexOf(".") + 1);
  return !/^[0-9]+$/.test(tld);
}

/** An address an owner tag may name: valid, and a local part of OWNER_LOCAL_PART only. */
export function isValidOwnerAddress(address: string): boolean {
  return isValidEmailAddress(address) && OWNER_LOCAL_PART.test(address.slice(0, address.lastIndexOf("@")));
}

/**
 * Owners from the tag (name matched case-insensitively, values split on , ; and whitespace),
 * then the defaults; de-duplicated case-insensitively keeping the first spelling, capped at
 * MAX_RECIPIENTS. Defaults always keep their place: a long tag cannot crowd them out.
 */
export function resolveOwnerRecipients(tags: Record<string, string>, options: ResolveOwnerRecipientsOptions): RecipientResolution {
  const wantedTag = options.ownerTag.trim().toLowerCase();
  const ownerTokens = Object.entries(tags ?? {})
    .filter(([name, value]) => name.trim().toLowerCase() === wantedTag && typeof value === "string")
    .flatMap(([, value]) => splitList(value));

  const rejected: RejectedRecipient[] = [];
  const valid = (tokens: readonly string[], isValid: (address: string) => boolean): string[] =>
    tokens.filter((token) => {
      if (!isValid(token)) {
        rejected.push({ address: sanitizeHeaderText(token, MAX_ADDRESS_LENGTH), reason: "invalid" });
        return false;
      }
      if (!isAllowedDomain(token, options.allowedRecipientDomains)) {
        rejected.push({ address: token, reason: "domain-not-allowed" });
        return false;
      }
      return true;
    });

  const owners = valid(ownerTokens, isValidOwnerAddress);
  const defaults = dedupeCaseInsensitive(
    valid(
      options.defaultRecipients.flatMap((entry) => splitList(entry)),
      isValidEmailAddress,
    ),
  ).slice(0, MAX_RECIPIENTS);
  const isDefault = new Set(defaults.map((address) => address.toLowerCase()));
  // A tag of many addresses must not spend the email budget (or crowd out the defaults).
  let ownerRoom = Math.min(options.maxOwnerRecipients ?? MAX_RECIPIENTS, MAX_RECIPIENTS - defaults.length);
  const recipients: string[] = [];
  for (const address of dedupeCaseInsensitive([...owners, ...defaults])) {
    if (isDefault.has(address.toLowerCase())) {
      recipients.push(address);
    } else if (ownerRoom > 0) {
      recipients.push(address);
      ownerRoom -= 1;
    } else {
      rejected.push({ address, reason: "too-many" });
    }
  }
  return { recipients, rejected };
}

function dedupeCaseInsensitive(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    // Stryker disable next-line MethodExpression: equivalent, upper- or lower-casing both fold case (addresses are ASCII once validated)
    const key = address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// C0/C1 controls, DEL, line/paragraph separators and bidi controls (which can make a subject
// read differently from what it says).
const UNSAFE_HEADER_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Half of a surrogate pair on its own is not Unicode: a header holding one cannot be encoded.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text safe for a one-line header such as a subject: control characters become spaces,
 * whitespace runs collapse, a lone surrogate becomes U+FFFD, and anything longer than
 * maxLength characters ends with "…".
 */
export function sanitizeHeaderText(text: string, maxLength = 200): string {
  const cleaned = String(text).replace(UNSAFE_HEADER_CHARS, " ").replace(LONE_SURROGATE, "\ufffd").replace(/\s+/g, " ").trim();
  const chars = Array.from(cleaned); // code points, so a surrogate pair is never split
  if (chars.length <= maxLength) return cleaned;
  if (maxLength <= 1) return "…".slice(0, Math.max(0, maxLength));
  return `${chars
    .slice(0, maxLength - 1)
    .join("")
    .trimEnd()}…`;
}
