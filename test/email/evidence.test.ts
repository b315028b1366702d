/** "What we checked" in incident emails, and the daily warning digest: rendered, and escaped. */
import type { IncidentMessageKind } from "../../src/domain/incident";
import type { EvidenceLine } from "../../src/domain/probeFindings";
import type { WarningDigestFacts } from "../../src/domain/warnings";
import { renderEmail } from "../../src/email/templates";
import { makeFacts } from "../fixtures/incidents";

const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

const EVIDENCE: EvidenceLine[] = [
  { probe: "key-uri", outcome: "ok", text: "Key URI https://kv-orders.vault.azure.net/keys/cmk is well formed and versionless (vault kv-orders, key cmk)." },
  {
    probe: "key",
    outcome: "problem",
    text: "Key cmk in vault kv-orders was deleted on 2026-11-29 07:00 UTC and can be recovered until 2027-02-27 07:00 UTC.",
    commands: [{ label: "Recover the key", command: "az keyvault key recover --vault-name kv-orders --name cmk" }],
  },
  { probe: "permission", outcome: "could-not-check", text: `Could not check the default identity's permissions on the key: ${XSS}.` },
];

describe("evidence in incident emails", () => {
  it.each<IncidentMessageKind>(["revoked", "reminder", "cause-changed", "fix-undone", "fix-observed", "escalation"])(
    "%s shows every probe line in text and html",
    (kind) => {
      // Owners and support see the same facts the monitor decided on.
      const email = renderEmail(makeFacts(kind, { evidence: EVIDENCE }));
      for (const body of [email.text, email.html]) {
        expect(body).toContain("What we checked");
        expect(body).toContain("Key cmk in vault kv-orders was deleted on 2026-11-29 07:00 UTC and can be recovered until 2027-02-27 07:00 UTC.");
        expect(body).toContain("PROBLEM");
        expect(body).toContain("COULD NOT CHECK");
      }
    },
  );

  it.each<IncidentMessageKind>(["revoked", "reminder", "cause-changed", "fix-undone"])("%s puts the exact fix first", (kind) => {
    // The narrowed fix (this key, this vault) leads the email, and leads the step list again below the account details.
    const email = renderEmail(makeFacts(kind, { evidence: EVIDENCE }));
    const command = "az keyvault key recover --vault-name kv-orders --name cmk";
    const lead = email.text.indexOf(`Do this first: Recover the key. What we checked: Key cmk in vault kv-orders was deleted`);
    const account = email.text.indexOf("Resource id:");
    const start = email.text.indexOf("1. Start here (from what we checked): Key cmk in vault kv-orders was deleted");
    expect(lead).toBeGreaterThan(0);
    expect(email.text.indexOf(command)).toBeGreaterThan(lead);
    expect(email.text.indexOf(command)).toBeLessThan(account);
    expect(start).toBeGreaterThan(account);
    expect(email.text.indexOf(command, start)).toBeGreaterThan(start);
  });

  it("escapes evidence text in html", () => {
    // Probe text quotes values from Azure (names, URIs, error messages).
    const email = renderEmail(makeFacts("revoked", { evidence: EVIDENCE }));
    expect(email.html).not.toContain("<script");
    expect(email.html).not.toContain("<img");
    expect(email.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("without probes there is no section", () => {
    // CMK_PROBES=off (or an old outbox row) renders as before.
    for (const kind of ["revoked", "fix-observed", "escalation"] as const) {
      expect(renderEmail(makeFacts(kind)).text).not.toContain("What we checked");
    }
  });
});

function digest(overrides: Partial<WarningDigestFacts> = {}): WarningDigestFacts {
  return {
    kind: "warning-digest",
    recipient: "owner@contoso.com",
    date: "2026-12-01",
    accounts: [
      {
        accountId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/pay",
        accountName: "pay",
        subscriptionId: "s",
        resourceGroup: "rg",
        findings: [
          {
            kind: "key-expires-soon",
            severity: "high",
            title: "Key expires in 5 days",
            detail: "Key cmk in vault kv-pay expires on 2026-12-06 06:00 UTC; when it does, Cosmos DB loses access and the account is revoked.",
            commands: [{ command: "az keyvault key set-attributes --vault-name kv-pay --name cmk --expires <new-expiry-utc>" }],
            fingerprint: "x",
            isNew: true,
          },
          {
            kind: "purge-protection-off",
            severity: "medium",
            title: "Purge protection is off",
            detail: "Vault kv-pay has purge protection off.",
            commands: [],
            fingerprint: "y",
            isNew: false,
          },
        ],
      },
    ],
    resolved: [{ accountId: "a", accountName: "inv", kind: "key-disabled", title: "Key is disabled" }],
    ...overrides,
  };
}

describe("warning digest", () => {
  it("lists every finding per account, marks the new ones, and the resolved ones once", () => {
    const email = renderEmail(digest());
    expect(email.subject).toBe("[CMK warnings] 2026-12-01: 2 warnings on 1 account (1 new)");
    for (const body of [email.text, email.html]) {
      expect(body).toContain("Key expires in 5 days (new)");
      expect(body).toContain("Purge protection is off");
      expect(body).not.toContain("Purge protection is off (new)");
      expect(body).toContain("Resolved since the last digest");
      expect(body).toContain("Key is disabled");
    }
    // The fix command, exact in text and escaped in html.
    expect(email.text).toContain("az keyvault key set-attributes --vault-name kv-pay --name cmk --expires <new-expiry-utc>");
    expect(email.html).toContain("az keyvault key set-attributes --vault-name kv-pay --name cmk --expires &lt;new-expiry-utc&gt;");
  });

  it("escapes hostile account names and keeps the subject on one line", () => {
    // Account names and tags are editable by anyone with write access to the account.
    const email = renderEmail(digest({ accounts: [{ ...digest().accounts[0]!, accountName: `pay\r\nBcc: x@evil.example ${XSS}` }], resolved: [] }));
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.html).not.toContain("<script");
    expect(email.html).not.toContain("<img");
    expect(email.html).toContain("&lt;script&gt;");
  });

  it("a digest of only resolved findings says so", () => {
    // The last word on a warning is that it is gone.
    expect(renderEmail(digest({ accounts: [] })).subject).toBe("[CMK warnings] 2026-12-01: 1 warning resolved");
  });
});
