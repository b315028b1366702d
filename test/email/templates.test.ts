import type { AtRiskFacts } from "../../src/domain/atRisk";
import type { IncidentMessageKind } from "../../src/domain/incident";
import { remediationSteps } from "../../src/domain/remediation";
import { escapeHtml, html, raw, safeHref } from "../../src/email/html";
import { formatDuration, formatUtc, renderEmail } from "../../src/email/templates";
import { supportTicketView } from "../../src/pipeline/supportTicketView";
import {
  ACCOUNT_ID,
  ACCOUNT_NAME,
  KEY_URI,
  makeAccount,
  makeEvent,
  makeFacts,
  makeIncident,
  makeTimeline,
  RESOURCE_GROUP,
  SUBSCRIPTION_ID,
} from "../fixtures/incidents";
import { OUR_TAGS, tagsIn } from "../support/emailMarkup";

const KINDS: IncidentMessageKind[] = ["revoked", "reminder", "cause-changed", "fix-acknowledged", "escalation", "resolved"];

describe("renderEmail: every kind", () => {
  it.each<[IncidentMessageKind, RegExp]>([
    // First notice: state and cause with the code, as in the README example.
    ["revoked", /^\[CMK revoked\] orders-db: Default identity has no permission on the key \(4002\)$/],
    // Reminders say they are reminders and which one.
    ["reminder", /^\[CMK still revoked, reminder 2\] orders-db: Default identity has no permission on the key \(4002\)$/],
    // A cause change names the new cause.
    ["cause-changed", /^\[CMK revoked, cause changed\] orders-db: Key is disabled or expired \(4018\)$/],
    // After the fix the state is "recovering".
    ["fix-acknowledged", /^\[CMK recovering\] orders-db: Default identity has no permission on the key \(4002\)$/],
    // Support sees how long it has been going on.
    ["escalation", /^\[CMK escalation\] orders-db: revoked since 2026-11-29 07:15 UTC: Default identity has no permission on the key \(4002\)$/],
    // Recovery says how long it lasted.
    ["resolved", /^\[CMK recovered\] orders-db: access restored after 2 hours 10 minutes \(was: Default identity has no permission on the key\)$/],
  ])("%s renders subject, text and html", (kind, subject) => {
    const email = renderEmail(makeFacts(kind), {});
    expect(email.subject).toMatch(subject);
    expect(email.text).toContain(ACCOUNT_NAME);
    expect(email.html).toMatch(/^<!DOCTYPE html>/);
    expect(email.html).toContain(ACCOUNT_NAME);
    // Self-contained: no external images, stylesheets or scripts.
    expect(email.html).not.toMatch(/<img|<link|<script|<style|src=/i);
    for (const tag of tagsIn(email.html)) expect(OUR_TAGS).toContain(tag);
  });

  it.each(KINDS)("%s is pure: the same facts give the same email whatever the clock says", (kind) => {
    // Templates must not read the current time; resends must be identical.
    const first = renderEmail(makeFacts(kind), {});
    jest.useFakeTimers({ now: new Date("2031-01-01T00:00:00Z") });
    try {
      expect(renderEmail(makeFacts(kind), {})).toEqual(first);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each(KINDS)("%s carries the same facts in text and html", (kind) => {
    // Plain-text readers must not miss anything the HTML says.
    const facts = makeFacts(kind);
    const email = renderEmail(facts, {});
    const incident = facts.incident;
    const expected = [ACCOUNT_NAME, ACCOUNT_ID, formatUtc(incident.detectedAt), incident.id];
    if (incident.fixObservedAt) expected.push(formatUtc(incident.fixObservedAt));
    if (kind === "fix-acknowledged" || kind === "escalation") expected.push(formatUtc(incident.escalateAt), formatUtc(incident.expectedRecoveryBy));
    if (kind === "resolved") expected.push(formatUtc(incident.resolvedAt), "2 hours 10 minutes");
    for (const value of expected) {
      expect(email.text).toContain(value);
      expect(email.html).toContain(escapeHtml(value));
    }
  });

  it("uses the monitor name in the footer, escaped", () => {
    const email = renderEmail(makeFacts("revoked"), { monitorName: "Contoso <CMK> watch" });
    expect(email.text).toContain("Sent by Contoso <CMK> watch");
    expect(email.html).toContain("Sent by Contoso &lt;CMK&gt; watch");
  });
});

describe("renderEmail: remediation content", () => {
  it.each<IncidentMessageKind>(["revoked", "reminder", "cause-changed"])("%s contains every az command in text and html", (kind) => {
    // The commands are the point of the email; both bodies must carry them exactly.
    const facts = makeFacts(kind);
    const email = renderEmail(facts, {});
    const commands = remediationSteps(facts.incident.cause, facts.incident.account).flatMap((s) => s.commands.map((c) => c.command));
    expect(commands.length).toBeGreaterThan(2);
    for (const command of commands) {
      expect(email.text).toContain(command);
      expect(email.html).toContain(`>${escapeHtml(command)}</pre>`);
    }
  });

  it.each<IncidentMessageKind>(["revoked", "reminder", "cause-changed"])("%s tells the owner how to acknowledge the fix", (kind) => {
    const email = renderEmail(makeFacts(kind), {});
    expect(email.text).toContain(`npx --no-install cmk-monitor ack ${ACCOUNT_ID} --fixed`);
    expect(email.html).toContain(`npx --no-install cmk-monitor ack ${ACCOUNT_ID} --fixed`);
  });

  it("revoked carries the status text, code, cause, owner guidance and docs link", () => {
    const facts = makeFacts("revoked");
    const email = renderEmail(facts, {});
    for (const value of [
      facts.incident.statusText,
      "4002",
      "default-identity-unauthorized",
      "Who can fix it",
      "#default-identity-is-unauthorized-to-access-the-azure-key-vault-key",
      "two hours",
    ]) {
      expect(email.text).toContain(value);
    }
    expect(email.html).toContain(
      'href="https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key"',
    );
  });

  it("reminder says which reminder and since when", () => {
    const email = renderEmail(makeFacts("reminder"), {});
    expect(email.text).toContain("Reminder 2");
    expect(email.text).toContain("since 2026-11-29 07:15 UTC");
  });

  it("cause-changed names the previous and the new cause", () => {
    const email = renderEmail(makeFacts("cause-changed"), {});
    expect(email.text).toContain('it was "Default identity has no permission on the key"');
    expect(email.text).toContain('now "Key is disabled or expired"');
    expect(email.text).toContain("az keyvault key set-attributes");
  });

  it.each<[string, Partial<Parameters<typeof makeIncident>[0]>, string | undefined]>([
    // After an observed fix: the one fix-undone email says a re-fix is not mailed and keeps the first fix's deadline.
    [
      "observed fix",
      { firstFixObservedAt: "2026-11-29T08:00:00.000Z" },
      "If the checks see the fix again, they record it without another email (and further flaps likewise), and the escalation deadline is not restarted: if the account is still revoked at 2026-11-29 10:00 UTC, two hours after the first fix seen at 2026-11-29 08:00 UTC, the monitor sends the case to support.",
    ],
    // DNS: four hours after the first fix.
    [
      "DNS",
      { cause: "key-vault-dns-unresolved", code: 4009, firstFixObservedAt: "2026-11-29T08:00:00.000Z" },
      "still revoked at 2026-11-29 12:00 UTC, four hours after",
    ],
    // Only an acknowledged fix was undone: the next observed fix is the first, mailed with its full window.
    ["acknowledged fix only", {}, undefined],
  ])("fix-undone after an %s says what a fix seen again does", (_name, incident, sentence) => {
    const email = renderEmail(makeFacts("fix-undone", { incident: makeIncident({ reminderCount: 1, ...incident }) }), {});
    if (sentence === undefined) expect(email.text).not.toContain("If the checks see the fix again");
    else expect(email.text.replace(/\s+/g, " ")).toContain(sentence);
  });

  it("fix-acknowledged gives the clock, the expected recovery and the escalation time", () => {
    const email = renderEmail(makeFacts("fix-acknowledged"), {});
    expect(email.text).toContain("alice@contoso.com acknowledged the fix at 2026-11-29 08:40 UTC");
    expect(email.text).toMatch(/Recovery clock started:\s+2026-11-29 08:40 UTC/);
    expect(email.text).toMatch(/Expected recovery by:\s+2026-11-29 09:40 UTC/);
    expect(email.text).toMatch(/Escalation to support at:\s+2026-11-29 10:40 UTC/);
  });

  it.each([
    // Recovered: how long the outage lasted.
    ["recovered", /can use its customer-managed key again/, /^\[CMK recovered\]/],
    // Removed: the account was deleted or dropped CMK.
    ["account-removed", /no longer monitored/, /^\[CMK resolved\] orders-db: account removed after 2 hours 10 minutes$/],
  ] as const)("resolved (%s)", (resolution, body, subject) => {
    const facts = makeFacts("resolved");
    facts.incident.resolution = resolution;
    const email = renderEmail(facts, {});
    expect(email.text).toMatch(body);
    expect(email.subject).toMatch(subject);
    expect(email.text).toContain("2 hours 10 minutes");
  });
});

describe("renderEmail: escalation case summary", () => {
  const facts = makeFacts("escalation");
  const email = renderEmail(facts, {});

  it.each([
    ["Resource id", ACCOUNT_ID],
    ["Subscription", SUBSCRIPTION_ID],
    ["Resource group", RESOURCE_GROUP],
    ["Account name", ACCOUNT_NAME],
    ["Key URI", KEY_URI],
    ["Default identity", "SystemAssignedIdentity"],
    ["Status from Azure", facts.incident.statusText],
    ["Code", "4002"],
    ["Cause", "Default identity has no permission on the key (default-identity-unauthorized)"],
    ["Detected at", "2026-11-29 07:15 UTC"],
    ["Fix at", "2026-11-29 08:40 UTC"],
    ["Escalate at", "2026-11-29 10:40 UTC"],
  ])("has %s", (label, value) => {
    // Support needs each of these to open a case without asking back.
    expect(email.text).toMatch(new RegExp(`${label}:\\s+${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(email.html).toContain(`${label}</th><td style=`);
    expect(email.html).toContain(escapeHtml(value));
  });

  it("has every timeline row, in order, in text and as html table rows", () => {
    const timeline = makeTimeline();
    for (const event of timeline) {
      expect(email.text).toContain(`${formatUtc(event.at)} | `);
      expect(email.text).toContain(event.detail);
      expect(email.html).toContain(`>${escapeHtml(event.detail)}</td></tr>`);
    }
    const tbody = /<tbody>(.*)<\/tbody>/s.exec(email.html)![1]!;
    expect(tbody.match(/<tr>/g)).toHaveLength(timeline.length);
    const positions = timeline.map((event) => email.text.indexOf(event.detail));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it("says what the owner has done", () => {
    expect(email.text).toContain("What the owner has done");
    expect(email.text).toContain("alice@contoso.com acknowledged the fix at 2026-11-29 08:40 UTC");
    expect(email.text).toContain("1 reminder");
  });

  it("says plainly when no fix was recorded", () => {
    const noFix = makeFacts("escalation", {
      incident: makeIncident({ state: "escalated", escalateAt: "2026-11-29 09:15Z", cause: "service-side-outage", code: 4004 }),
    });
    const text = renderEmail(noFix, {}).text;
    expect(text).toMatch(/Fix at:\s+no fix recorded/);
    expect(text).toContain("No fix has been recorded.");
  });
});

describe("renderEmail: hostile data", () => {
  const XSS = "<script>alert(1)</script>";
  const hostileFacts = () =>
    makeFacts("escalation", {
      incident: makeIncident({
        state: "escalated",
        statusText: `Access revoked ${XSS} (4002)`,
        fixObservedAt: "2026-11-29T08:40:00.000Z",
        fixSource: "acknowledged",
        fixAcknowledgedBy: `<img src=x onerror=alert(1)>`,
        notified: [`"><svg onload=alert(1)>@contoso.com`],
        account: makeAccount({
          name: `orders\r\nBcc: mallory@evil.example <b>x</b>`,
          defaultIdentity: `UserAssignedIdentity=${XSS}`,
          keyVaultKeyUri: `https://kv.vault.azure.net/keys/${XSS}`,
          location: "'onmouseover='alert(1)",
          tags: { "cmk-owner": XSS, note: XSS },
        }),
      }),
      timeline: [makeEvent({ detail: `Not emailed: "${XSS}" (invalid)` })],
    });

  it.each(KINDS)("%s: subject has no CR/LF even when the name and status do", (kind) => {
    const facts = hostileFacts();
    const email = renderEmail({ ...facts, kind }, {});
    expect(email.subject).not.toMatch(/[\r\n\u0000-\u001f]/);
    expect(email.subject).toContain("orders Bcc: mallory@evil.example");
    expect(Array.from(email.subject).length).toBeLessThanOrEqual(200);
  });

  it.each(KINDS)("%s: no untrusted markup reaches the html unescaped", (kind) => {
    const facts = hostileFacts();
    const email = renderEmail({ ...facts, kind }, { monitorName: XSS });
    expect(email.html).not.toContain("<script");
    expect(email.html).not.toContain("<img");
    expect(email.html).not.toContain("<svg");
    expect(email.html).not.toContain("<b>");
    expect(email.html).not.toContain("'onmouseover='");
    for (const tag of tagsIn(email.html)) expect(OUR_TAGS).toContain(tag);
    expect(email.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("a very long account name cannot push the cause out of the subject", () => {
    const facts = makeFacts("revoked");
    facts.incident.account = makeAccount({ name: "x".repeat(500) });
    const subject = renderEmail(facts, {}).subject;
    expect(subject).toContain("Default identity has no permission on the key (4002)");
    expect(Array.from(subject).length).toBeLessThanOrEqual(200);
  });
});

describe("formatting helpers", () => {
  it.each([
    // The format every email uses.
    ["2026-11-29T07:15:42.123Z", "2026-11-29 07:15 UTC"],
    // Offsets are converted to UTC.
    ["2026-11-29T09:15:00+02:00", "2026-11-29 07:15 UTC"],
    // Missing and unparseable values never throw.
    [undefined, "not set"],
    ["soon", "soon"],
  ])("formatUtc(%j) → %j", (input, expected) => {
    expect(formatUtc(input)).toBe(expected);
  });

  it.each([
    ["2026-11-29T07:15:00Z", "2026-11-29T07:16:00Z", "1 minute"],
    ["2026-11-29T07:15:00Z", "2026-11-29T08:00:00Z", "45 minutes"],
    ["2026-11-29T07:15:00Z", "2026-11-29T09:15:00Z", "2 hours"],
    ["2026-11-29T07:15:00Z", "2026-11-29T09:25:00Z", "2 hours 10 minutes"],
    ["2026-11-29T07:15:00Z", "2026-12-02T11:15:00Z", "3 days 4 hours"],
    // Missing or reversed times give no duration rather than a wrong one.
    [undefined, "2026-11-29T09:25:00Z", undefined],
    ["2026-11-29T09:25:00Z", "2026-11-29T07:15:00Z", undefined],
  ])("formatDuration(%j, %j) → %j", (from, to, expected) => {
    expect(formatDuration(from, to)).toBe(expected);
  });
});

describe("html helpers", () => {
  it.each([
    ["&", "&amp;"],
    ["<script>", "&lt;script&gt;"],
    ['"double"', "&quot;double&quot;"],
    ["'single'", "&#39;single&#39;"],
    ["`tick`", "&#96;tick&#96;"],
    ["plain text", "plain text"],
  ])("escapeHtml(%j) → %j", (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it("html`` escapes substitutions, keeps raw() and nested html, and joins arrays", () => {
    const out = html`<p title="${'"x"'}">${"<b>"}${raw("<br>")}${html`<i>${"&"}</i>`}${["<", ">"]}${undefined}${null}${42}</p>`;
    expect(out.html).toBe('<p title="&quot;x&quot;">&lt;b&gt;<br><i>&amp;</i>&lt;&gt;42</p>');
  });

  it.each([
    ["https://learn.microsoft.com/x", "https://learn.microsoft.com/x"],
    ["javascript:alert(1)", "#"],
    ["http://example.com", "#"],
  ])("safeHref(%j) → %j", (url, expected) => {
    expect(safeHref(url)).toBe(expected);
  });
});

describe("renderEmail: the support ticket in an escalation", () => {
  it.each<[string, Parameters<typeof supportTicketView>[2], RegExp, RegExp | undefined]>([
    // Draft: the ticket, the description and the command to file it.
    ["draft", { kind: "draft" }, /az support in-subscription tickets create --subscription/, /would file/],
    // Filed: number and portal link; no command to file it twice.
    [
      "filed",
      { kind: "filed", ticketNumber: "2612030010001234", portalUrl: "https://portal.azure.com/#resource/x" },
      /support ticket 2612030010001234/,
      undefined,
    ],
    // Refused: the reason, with the draft to file by hand.
    [
      "not filed",
      { kind: "not-filed", reason: "the subscription has no support plan" },
      /could not file the support ticket: the subscription has no support plan/,
      /tickets create/,
    ],
  ])("%s", (_case, outcome, first, second) => {
    const facts = makeFacts("escalation");
    const email = renderEmail(facts, { supportTicket: supportTicketView(facts, { mode: "draft", severity: "moderate" }, outcome) });
    expect(email.text).toMatch(first);
    expect(email.html).toMatch(first);
    if (second) expect(email.text).toMatch(second);
    else expect(email.text).not.toContain("tickets create");
    for (const tag of tagsIn(email.html)) expect(OUR_TAGS).toContain(tag);
  });
});

describe("renderEmail: the resolved email names the support ticket", () => {
  it.each<[string, boolean]>([
    // A ticket was filed: the people who got the escalation learn it may be closed.
    ["filed", true],
    // None filed: nothing said about tickets.
    ["none", false],
  ])("%s", (_case, filed) => {
    const facts = makeFacts("resolved");
    if (filed)
      facts.incident.supportTicket = {
        state: "filed",
        name: "cmk-0123",
        ticketNumber: "2612030010001234",
        filedAt: "2026-11-29T09:20:00.000Z",
        subscriptionId: SUBSCRIPTION_ID,
      };
    const email = renderEmail(facts, {});
    expect(email.text.includes("support ticket 2612030010001234")).toBe(filed);
  });
});

describe("renderEmail: at-risk warnings", () => {
  const finding = {
    kind: "identity-lacks-permission" as const,
    severity: "critical" as const,
    title: "Default identity lacks permission on the key",
    detail: "The vault uses access policies and has no access policy for principal 1111.",
    commands: [{ label: "Grant it", command: "az keyvault set-policy --name kv-orders --object-id 1111 --key-permissions get wrapKey unwrapKey" }],
    fingerprint: "identity-lacks-permission|critical|get",
  };
  const account = { id: ACCOUNT_ID, name: ACCOUNT_NAME, subscriptionId: SUBSCRIPTION_ID, resourceGroup: RESOURCE_GROUP };
  const found: AtRiskFacts = { kind: "at-risk", change: "found", account, finding, firstSeenAt: "2026-11-29T09:12:00.000Z", trigger: "event" };

  it.each<[string, AtRiskFacts, RegExp, string[]]>([
    // The warning: the finding as its subject, its evidence and the exact fix in the body.
    [
      "found",
      found,
      /^\[CMK at risk\] orders-db: Default identity lacks permission on the key$/,
      ["will get it revoked", finding.detail, finding.commands[0]!.command, "First seen at:", "2026-11-29 09:12 UTC"],
    ],
    // Gone by itself: reported once, says there is nothing more to do.
    [
      "resolved",
      { ...found, change: "resolved", resolvedAt: "2026-11-29T10:00:00.000Z" },
      /^\[CMK at risk, resolved\] orders-db: Default identity lacks permission on the key$/,
      ["is gone", "Gone at:", "2026-11-29 10:00 UTC"],
    ],
  ])("%s", (_name, facts, subject, inBody) => {
    const email = renderEmail(facts);
    expect(email.subject).toMatch(subject);
    for (const text of inBody) expect(email.text).toContain(text);
    for (const tag of tagsIn(email.html)) expect(OUR_TAGS.has(tag)).toBe(true);
  });

  it("a revocation that followed a warning names it", () => {
    // "We warned at" links the incident to the warning the owners already had.
    const email = renderEmail(makeFacts("revoked", { incident: makeIncident({ priorWarning: { at: "2026-11-29T09:12:00.000Z", title: finding.title } }) }));
    expect(email.text).toContain(`We warned at:      2026-11-29 09:12 UTC: ${finding.title}`);
    expect(renderEmail(makeFacts("revoked")).text).not.toContain("We warned at");
  });
});
