/**
 * What the probe facts mean for the key, the vault, its DNS name and its firewall, and the
 * names and phrases for them, shared by the probe verdicts of the causes, the evidence lines and
 * the warnings. Pure.
 */
import { displayValue } from "./displayText";
import type { ActiveKeyFacts, ActiveVaultFacts, ProbeFacts } from "./probeFacts";

export type KeyCondition =
  | { state: "usable"; key: ActiveKeyFacts }
  | { state: "disabled" | "expired" | "not-yet-valid"; key: ActiveKeyFacts }
  | { state: "deleted" | "missing" }
  | { state: "unknown"; reason: string };

export function keyCondition(facts: ProbeFacts, now: Date): KeyCondition {
  if (!facts.key.checked) return { state: "unknown", reason: facts.key.reason };
  const key = facts.key.value;
  if (key.state === "deleted") return { state: "deleted" };
  if (key.state === "not-found") return { state: "missing" };
  if (!key.enabled) return { state: "disabled", key };
  if (key.expiresOn && Date.parse(key.expiresOn) <= now.getTime()) return { state: "expired", key };
  if (key.notBefore && Date.parse(key.notBefore) > now.getTime()) return { state: "not-yet-valid", key };
  return { state: "usable", key };
}

/** "active", "deleted", a definite "missing" (not listed anywhere and its host does not resolve), or "unknown". */
export function vaultCondition(facts: ProbeFacts): "active" | "deleted" | "missing" | "unknown" {
  if (!facts.vault.checked) return "unknown";
  const vault = facts.vault.value;
  if (vault.state === "active") return "active";
  if (vault.state === "deleted") return "deleted";
  return dnsCondition(facts) === "fails" ? "missing" : "unknown";
}

export function dnsCondition(facts: ProbeFacts): "resolves" | "fails" | "unknown" {
  if (!facts.dns.checked) return "unknown";
  return facts.dns.value.resolves ? "resolves" : "fails";
}

export function firewallBlocksTrustedServices(vault: ActiveVaultFacts): boolean {
  const denies = /^deny$/i.test(vault.firewallDefaultAction) || /^disabled$/i.test(vault.publicNetworkAccess);
  return denies && !vault.trustedServicesBypass;
}

export function networkCondition(facts: ProbeFacts): "allows" | "blocks" | "unknown" {
  if (!facts.vault.checked || facts.vault.value.state !== "active") return "unknown";
  return firewallBlocksTrustedServices(facts.vault.value) ? "blocks" : "allows";
}

export function activeVault(facts: ProbeFacts): ActiveVaultFacts | undefined {
  return facts.vault.checked && facts.vault.value.state === "active" ? facts.vault.value : undefined;
}

export interface Names {
  vault: string;
  key: string;
  host: string;
}

export function targetNames(facts: ProbeFacts): Names {
  const ref = facts.keyUri.reference;
  // For sentences only (commands take names from commandTarget.ts): one line, bounded.
  const shown = (text: string | undefined, unknown: string) => (text === undefined ? unknown : displayValue(text, 130));
  return { vault: shown(ref?.vaultName, "(unknown vault)"), key: shown(ref?.keyName, "(unknown key)"), host: shown(ref?.vaultHost, "(unknown host)") };
}

/** "2026-11-29 07:15 UTC", as the email templates write times. */
export function utcText(iso: string | undefined): string {
  if (!iso) return "an unknown time";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function keyProblemText(state: "disabled" | "expired" | "not-yet-valid", key: ActiveKeyFacts, names: Names): string {
  switch (state) {
    case "disabled":
      return `key ${names.key} in vault ${names.vault} is disabled`;
    case "expired":
      return `key ${names.key} in vault ${names.vault} expired on ${utcText(key.expiresOn)}`;
    case "not-yet-valid":
      return `key ${names.key} in vault ${names.vault} is not valid before ${utcText(key.notBefore)}`;
  }
}
