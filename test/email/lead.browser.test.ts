/**
 * Every incident email's HTML in a real browser (Debian's chromium, driven by playwright-core) at
 * a phone viewport: what happened, the next deadline and the first command must be on the first
 * screen, before any scrolling. Screenshots: test-results/screenshots/email-<kind>-phone.png.
 *
 * Skipped, loudly, only when no chromium is installed at all; under CI it must run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { describeWithBrowser, launchChromium } from "../support/browser";
import type { IncidentMessageKind } from "../../src/domain/incident";
import type { EvidenceLine } from "../../src/domain/probeFindings";
import { renderEmail } from "../../src/email/templates";
import { makeFacts } from "../fixtures/incidents";

const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "screenshots");
const PHONE = { width: 390, height: 844 };
const AS_OF = "2026-11-29T07:20:00.000Z";

/** What the probes typically record for a revoked account: several lines, one problem with its fix. */
const EVIDENCE: EvidenceLine[] = [
  { probe: "key-uri", outcome: "ok", text: "Key URI https://kv-orders-prod.vault.azure.net/keys/orders-cmk is well formed and versionless." },
  { probe: "dns", outcome: "ok", text: "Vault host kv-orders-prod.vault.azure.net resolves." },
  {
    probe: "permission",
    outcome: "problem",
    text: "The default identity (principal 7c1e5a52-3b0d-4f7e-9a61-2d8c4b9e0f13) has no access policy on vault kv-orders-prod granting get, wrapKey and unwrapKey.",
    commands: [
      {
        label: "Grant the key permissions",
        command:
          "az keyvault set-policy --name kv-orders-prod --subscription 3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f --object-id 7c1e5a52-3b0d-4f7e-9a61-2d8c4b9e0f13 --key-permissions get wrapKey unwrapKey",
      },
    ],
  },
];

/** Each kind with what the lead must show: a deadline where one applies, a command where there is something to run. */
const CASES: Array<[kind: IncidentMessageKind, deadline: boolean, command: boolean]> = [
  // First notice: the next reminder, and the permission fix the probes found.
  ["revoked", true, true],
  // A reminder: the same, later.
  ["reminder", true, true],
  // A new cause: its fix.
  ["cause-changed", true, true],
  // The fix was undone: the fix again.
  ["fix-undone", true, true],
  // Acknowledged: expected recovery, and the status check.
  ["fix-acknowledged", true, true],
  // Observed by the probes: the same.
  ["fix-observed", true, true],
  // Escalation: the probes' fix if they still see the problem (no deadline is left to count down).
  ["escalation", false, true],
  // Resolved: one sentence, nothing to run.
  ["resolved", false, false],
];

let browser: Browser;
let page: Page;

describeWithBrowser("incident emails on a phone", () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, javaScriptEnabled: false });
    // An email fetches nothing: any request would be a defect (and must not leave the machine).
    await context.route("**/*", (route) => route.abort());
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it.each(CASES)(
    "%s: what happened, the deadline and the first command are on the first screen",
    async (kind, deadline, command) => {
      const resolvedOrAck = kind === "resolved" || kind === "fix-acknowledged" || kind === "fix-observed";
      const email = renderEmail(makeFacts(kind, resolvedOrAck ? {} : { evidence: EVIDENCE }), { asOf: AS_OF });
      await page.setContent(email.html);
      await page.screenshot({ path: join(SCREENSHOTS, `email-${kind}-phone.png`) });

      const bottomOf = async (selector: string) => {
        const box = await page.locator(selector).first().boundingBox();
        expect(box).not.toBeNull();
        return box!.y + box!.height;
      };
      expect(await bottomOf('[data-lead="what"]')).toBeLessThanOrEqual(PHONE.height);
      if (deadline) expect(await bottomOf('[data-lead="deadline"]')).toBeLessThanOrEqual(PHONE.height);
      else expect(await page.locator('[data-lead="deadline"]').count()).toBe(0);
      if (command) expect(await bottomOf('[data-lead="command"]')).toBeLessThanOrEqual(PHONE.height);
      else expect(await page.locator('[data-lead="command"]').count()).toBe(0);
      // The lead is the first thing: no heading (account table, evidence, steps) starts above it.
      const leadTop = (await page.locator('[data-lead="lead"]').boundingBox())!.y;
      const firstHeading = await page.locator("h2").first().boundingBox();
      if (firstHeading) expect(firstHeading.y).toBeGreaterThan(leadTop);
      // Nothing runs off the side of a phone screen: long commands wrap.
      const scrollWidth = await page.evaluate("document.documentElement.scrollWidth");
      expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
    },
    30_000,
  );
});
