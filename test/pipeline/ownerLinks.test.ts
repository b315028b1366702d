/**
 * One-click links in owner emails: which messages carry them, how they render (text and
 * escaped HTML, beside the CLI fallback), and that each link verifies for its own action.
 */
import type { IncidentMessageKind } from "../../src/domain/incident";
import { verifyLinkToken } from "../../src/domain/linkTokens";
import { renderEmail, type OwnerLinks } from "../../src/email/templates";
import { ownerLinksFor } from "../../src/pipeline/ownerLinks";
import { makeFacts, makeIncident } from "../fixtures/incidents";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const KEY = Buffer.from("a-test-key-that-is-long-enough-123456");
const NOW = new Date("2026-11-29T07:20:00.000Z");
const BASE = "https://func-cmk.azurewebsites.net";
const warnings: string[] = [];

function deps(overrides: { publicBaseUrl?: string; key?: () => Promise<Buffer> } = {}): Pick<MonitorDeps, "settings" | "linkKeys" | "log"> {
  return {
    settings: {
      ...(overrides.publicBaseUrl === undefined ? { publicBaseUrl: BASE } : overrides.publicBaseUrl ? { publicBaseUrl: overrides.publicBaseUrl } : {}),
    },
    linkKeys: { linkSigningKey: overrides.key ?? (async () => KEY) },
    log: { info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} },
  } as unknown as MonitorDeps;
}

const LINKS: OwnerLinks = {
  acknowledgeUrl: `${BASE}/api/incidents/inc-1/ack?token=abc.def`,
  snooze: [
    { hours: 4, url: `${BASE}/api/incidents/inc-1/snooze?hours=4&token=ghi.jkl` },
    { hours: 24, url: `${BASE}/api/incidents/inc-1/snooze?hours=24&token=mno.pqr` },
  ],
};

/** Whom the email goes to. */
const TO = ["owner@contoso.com"];

describe("which emails carry links", () => {
  it.each<[IncidentMessageKind, boolean]>([
    // The first notice and every email that repeats the fix steps.
    ["revoked", true],
    ["reminder", true],
    ["cause-changed", true],
    ["fix-undone", true],
    // Nothing left for the owner to confirm.
    ["fix-acknowledged", false],
    ["fix-observed", false],
    // Support and "it is over" emails are not the owner's to act on.
    ["escalation", false],
    ["resolved", false],
  ])("%s → %s", async (kind, expected) => {
    const links = await ownerLinksFor(deps(), makeFacts(kind), NOW, TO);
    expect(links !== undefined).toBe(expected);
  });

  it("none without CMK_PUBLIC_BASE_URL", async () => {
    // Links are opt-in: nobody gets a link to a host that was never configured.
    await expect(ownerLinksFor(deps({ publicBaseUrl: "" }), makeFacts("revoked"), NOW, TO)).resolves.toBeUndefined();
  });

  it("no snooze links when no reminder is scheduled", async () => {
    // Causes nobody has to fix get no reminders, so there is nothing to snooze.
    const facts = { ...makeFacts("revoked"), incident: makeIncident({ nextReminderAt: undefined }) };
    const links = await ownerLinksFor(deps(), facts, NOW, TO);
    expect(links?.snooze).toEqual([]);
  });

  it("an unavailable key sends the email without links, not never", async () => {
    // The CLI line is always there; a storage hiccup must not hold back a revocation notice.
    const links = await ownerLinksFor(deps({ key: () => Promise.reject(new Error("storage down")) }), makeFacts("revoked"), NOW, TO);
    expect(links).toBeUndefined();
    expect(warnings.at(-1)).toMatch(/without one-click links.*storage down/);
  });

  it("each link verifies for its own action and incident, and snooze links carry their hours", async () => {
    const facts = makeFacts("reminder");
    const links = (await ownerLinksFor(deps(), facts, NOW, TO))!;
    const token = (url: string) => new URL(url).searchParams.get("token");
    expect(verifyLinkToken(token(links.acknowledgeUrl), KEY, NOW, { action: "ack", incidentId: facts.incident.id })).toMatchObject({ ok: true });
    expect(links.snooze.map((s) => s.hours)).toEqual([4, 24]);
    for (const { hours, url } of links.snooze) {
      expect(verifyLinkToken(token(url), KEY, NOW, { action: "snooze", incidentId: facts.incident.id })).toMatchObject({ ok: true, claims: { hours } });
    }
  });

  it("every link names, signed, whom its email was sent to", async () => {
    // The timeline then says whose link was used, whatever name is typed on the page.
    const links = (await ownerLinksFor(deps(), makeFacts("reminder"), NOW, ["alice@contoso.com", "bob@contoso.com"]))!;
    const token = (url: string) => new URL(url).searchParams.get("token");
    const all: Array<[string, "ack" | "snooze"]> = [[links.acknowledgeUrl, "ack"], ...links.snooze.map((s): [string, "snooze"] => [s.url, "snooze"])];
    for (const [url, action] of all) {
      expect(verifyLinkToken(token(url), KEY, NOW, { action, incidentId: makeFacts("reminder").incident.id })).toMatchObject({
        ok: true,
        claims: { sentTo: "alice@contoso.com, bob@contoso.com" },
      });
    }
  });
});

describe("rendering the links", () => {
  it("text and HTML both carry the ack and snooze links, and the CLI command stays as the fallback", () => {
    const email = renderEmail(makeFacts("revoked"), { ownerLinks: LINKS });
    expect(email.text).toContain(`I have fixed it: ${LINKS.acknowledgeUrl}`);
    expect(email.text).toContain(`Snooze reminders for 4 hours: ${LINKS.snooze[0]!.url}`);
    expect(email.text).toContain("cmk-monitor ack");
    // The & between query parameters is escaped in the attribute.
    expect(email.html).toContain(`href="${LINKS.snooze[1]!.url.replace(/&/g, "&amp;")}">Snooze reminders for 24 hours</a>`);
    expect(email.html).toContain(`href="${LINKS.acknowledgeUrl}">I have fixed it</a>`);
  });

  it("without links the email is exactly what it was", () => {
    // Deployments that do not set CMK_PUBLIC_BASE_URL see no change at all.
    expect(renderEmail(makeFacts("reminder"), {})).toEqual(renderEmail(makeFacts("reminder")));
    expect(renderEmail(makeFacts("reminder"), {}).text).not.toContain("I have fixed it");
  });

  it("a non-https link never becomes a live href", () => {
    // Loopback http is for local drills: its text is shown, the HTML link is inert.
    const local = { acknowledgeUrl: "http://127.0.0.1:7071/api/incidents/inc-1/ack?token=a.b", snooze: [] };
    const email = renderEmail(makeFacts("revoked"), { ownerLinks: local });
    expect(email.text).toContain(local.acknowledgeUrl);
    expect(email.html).toContain(`href="#">I have fixed it</a>`);
  });
});
