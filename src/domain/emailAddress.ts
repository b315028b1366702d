/** Email addresses and address lists as the settings and the owner tags write them. */

// Deliberately strict: addresses end up in email headers, so no spaces, quotes, brackets or CR/LF.
export const EMAIL_ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * What an owner tag may name: the local part only in letters, digits and `. _ + -`. Relay forms
 * (`%`, `!`), quotes and the other specials RFC 5322 allows are legal but never needed for a real
 * mailbox, and each is a way to reach somewhere other than the domain that was allowed.
 */
export const OWNER_LOCAL_PART = /^[A-Za-z0-9._+-]{1,64}$/;

/** Splits "a, b; c" lists; empty entries are ignored. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  // Splitting on whitespace leaves none to trim; separators at the ends leave empty items, dropped here.
  return value.split(/[,;\s]+/).filter((item) => item.length > 0);
}

/** Allows every domain: the configuration's explicit way to say so. */
export const ANY_DOMAIN = "*";

/**
 * True when the address's domain is listed, or is a subdomain of a "*.example.com" entry, or the
 * list is "*". An empty list (settings built in code; the configuration requires the setting) allows any.
 */
export function isAllowedDomain(address: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.length === 0 || allowedDomains.includes(ANY_DOMAIN)) return true;
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  return allowedDomains.some((entry) => {
    const allowed = entry.toLowerCase();
    if (allowed.startsWith("*.")) return domain.endsWith(allowed.slice(1));
    return domain === allowed;
  });
}
