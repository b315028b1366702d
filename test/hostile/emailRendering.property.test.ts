/**
 * Property: whatever an account, tag or status says, an email never carries unescaped markup
 * from it, its subject is one clean line, and every command it offers runs exactly the `az`
 * call we meant when pasted into a shell.
 */
import fc from "fast-check";
import { CAUSE_IDS, type CauseId } from "../../src/domain/causes";
import type { CmkAccount } from "../../src/domain/account";
import type { IncidentEvent, MessageFacts, MessageKind } from "../../src/domain/incident";
import { acknowledgeFixCommand, remediationSteps, statusCheckCommand } from "../../src/domain/remediation";
import { renderEmail } from "../../src/email/templates";
import { makeFacts } from "../fixtures/incidents";
import { commandIntegrityProblems, evilMarker, hostileAccount } from "./hostileAccounts";
import { HEADER_UNSAFE, markedHostileText, propertyParameters } from "./hostileText";
import { createPasteSandbox, pasteIntoShell } from "./pasteIntoShell";
import { OUR_TAGS } from "../support/emailMarkup";

const KINDS: MessageKind[] = ["revoked", "reminder", "cause-changed", "fix-acknowledged", "fix-observed", "fix-undone", "escalation", "resolved"];
const EVENT_TYPES: IncidentEvent["type"][] = [
  "detected",
  "reminded",
  "cause-changed",
  "fix-acknowledged",
  "fix-observed",
  "fix-undone",
  "snoozed",
  "escalated",
  "resolved",
  "recipients-dropped",
];

const OUR_ATTRIBUTES = new Set(["style", "href", "lang", "charset", "data-lead", "name", "content"]);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const paste = createPasteSandbox();
afterAll(() => paste.dispose());

const hostile = (field: string) => markedHostileText(evilMarker(field), { canary: paste.canary });

/** Facts for `kind` whose every untrusted field is hostile. */
function hostileFacts(): fc.Arbitrary<{ facts: MessageFacts; monitorName: string }> {
  return fc
    .record({
      kind: fc.constantFrom(...KINDS),
      cause: fc.constantFrom<CauseId>(...CAUSE_IDS),
      previousCause: fc.constantFrom<CauseId>(...CAUSE_IDS),
      code: fc.oneof(fc.constant(null), fc.integer({ min: 4000, max: 4099 })),
      account: hostileAccount(paste.canary),
      statusText: hostile("status-text"),
      notified: fc.array(hostile("notified"), { maxLength: 3 }),
      acknowledgedBy: hostile("acknowledged-by"),
      details: fc.array(fc.tuple(fc.constantFrom(...EVENT_TYPES), hostile("event-detail")), { maxLength: 4 }),
      badTime: hostile("time"),
      monitorName: hostile("monitor-name"),
    })
    .map((r) => {
      const base = makeFacts(r.kind);
      const incident = {
        ...base.incident,
        cause: r.cause,
        code: r.code,
        account: r.account,
        accountId: r.account.id,
        statusText: r.statusText,
        notified: r.notified,
        fixAcknowledgedBy: r.acknowledgedBy,
        // A time that is not a time is shown as it is, so it is untrusted text too.
        detectedAt: r.badTime,
      };
      const timeline = r.details.map(([type, detail], index): IncidentEvent => ({
        incidentId: incident.id,
        seq: index + 1,
        at: r.badTime,
        type,
        cause: r.cause,
        detail,
      }));
      const facts: MessageFacts = { ...base, incident, timeline, previousCause: r.previousCause };
      return { facts, monitorName: r.monitorName };
    });
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#96": "`" })[name]!);
}

/** The commands an email shows, in order; what the reader copies from each <pre>. */
function preBlocks(markup: string): string[] {
  return [...markup.matchAll(/<pre style="[^"]*">([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1]!));
}

/** Every command an email about this incident can contain. */
function emailCommands(cause: CauseId, account: CmkAccount): string[] {
  return [
    ...remediationSteps(cause, account).flatMap((step) => step.commands.map((c) => c.command)),
    statusCheckCommand(account),
    acknowledgeFixCommand(account.id),
  ];
}

describe("renderEmail with hostile accounts, tags and status texts", () => {
  it("never emits markup from the data: only our tags and attributes, no planted marker", () => {
    // The marker "<x-evil-…>" is planted in every untrusted field; raw, it would be live HTML.
    fc.assert(
      fc.property(hostileFacts(), ({ facts, monitorName }) => {
        const email = renderEmail(facts, { monitorName });
        expect(email.html).not.toContain("<x-evil-");
        const strangers: string[] = [];
        for (const [, tag, attributes] of email.html.matchAll(/<\/?([!a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
          if (!OUR_TAGS.has(tag!.toLowerCase())) strangers.push(`<${tag}>`);
          for (const [, name] of attributes!.matchAll(/\s([a-zA-Z-]+)=/g)) if (!OUR_ATTRIBUTES.has(name!.toLowerCase())) strangers.push(`${name}=`);
        }
        // Links only ever point at https documentation (or, when configured, the monitor's own https app).
        for (const [, href] of email.html.matchAll(/href="([^"]*)"/g)) if (!/^https:\/\//.test(href!)) strangers.push(`href=${href}`);
        expect(strangers).toEqual([]);
      }),
      propertyParameters(300),
    );
  });

  it("keeps the subject one clean line of bounded length", () => {
    // CR/LF in a subject is header injection; other controls and bidi marks mislead the reader.
    fc.assert(
      fc.property(hostileFacts(), ({ facts, monitorName }) => {
        const { subject } = renderEmail(facts, { monitorName });
        expect(subject).not.toMatch(HEADER_UNSAFE);
        expect(subject).toBe(subject.trim());
        expect(subject.length).toBeGreaterThan(0);
        expect(Array.from(subject).length).toBeLessThanOrEqual(200);
        // No lone surrogate: a header must be valid Unicode to be encoded at all.
        expect(subject).not.toMatch(LONE_SURROGATE);
      }),
      propertyParameters(300),
    );
  });

  it("shows each command in the HTML exactly as rendered, so what is copied is what was quoted", () => {
    // Escaping must not alter a command: the reader pastes the unescaped text of the <pre>.
    fc.assert(
      fc.property(hostileFacts(), ({ facts, monitorName }) => {
        const email = renderEmail(facts, { monitorName });
        const allowed = new Set(emailCommands(facts.incident.cause, facts.incident.account));
        for (const command of preBlocks(email.html)) {
          expect(allowed).toContain(command);
          // The plain-text body carries the same command byte for byte.
          expect(email.text).toContain(command);
        }
      }),
      propertyParameters(150),
    );
  });

  describe.each(["bash", "sh"] as const)("commands pasted into %s", (shell) => {
    it("run only the recorded az/nslookup/npx calls, each Azure value as one intact, non-option argument", () => {
      // The canary file exists only if injected code ran; stderr catches syntax errors and stray commands.
      fc.assert(
        fc.property(fc.constantFrom<CauseId>(...CAUSE_IDS), hostileAccount(paste.canary), (cause, account) => {
          const commands = emailCommands(cause, account);
          const result = pasteIntoShell(shell, commands, paste.dir, paste.canary);
          expect(result.canaryTouched).toBe(false);
          expect(result.strayFiles).toEqual([]);
          expect(result.stderr).toBe("");
          expect(result.status).toBe(0);
          expect(result.calls).toHaveLength(commands.length + commands.filter((c) => c.includes("$(az ")).length);
          expect(commandIntegrityProblems(account, account.id, result.calls)).toEqual([]);
        }),
        propertyParameters(shell === "bash" ? 60 : 30),
      );
    });
  });
});
