/**
 * The weekly report's HTML in a real browser (Debian's chromium, playwright-core) with images and
 * scripts off, as a cautious mail client shows it: the bar charts (table cells) are drawn, and
 * the report fits a phone screen's width. Screenshots: test-results/screenshots/weekly-report-*.png.
 *
 * Skipped, loudly, only when no chromium is installed at all; under CI it must run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser } from "playwright-core";
import { describeWithBrowser, launchChromium } from "../support/browser";
import type { Incident } from "../../src/domain/incident";
import { buildWeeklyReport, reportWeekAt } from "../../src/domain/weeklyReport";
import { renderEmail } from "../../src/email/templates";
import { makeAccount, makeIncident } from "../fixtures/incidents";

const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "screenshots");

const ID = (n: string) =>
  `/subscriptions/3f2b6c1e-9d4a-4c2e-8f7b-1a2b3c4d5e6f/resourceGroups/rg-orders-prod/providers/Microsoft.DocumentDB/databaseAccounts/${n}`;
const incident = (name: string, overrides: Partial<Incident>) =>
  makeIncident({ id: `inc-${name}`, accountId: ID(name), account: makeAccount({ id: ID(name), name }), ...overrides });

/** A busy week: incidents on several days, one escalated and still open, recoveries of different lengths. */
const REPORT = buildWeeklyReport(
  reportWeekAt(new Date("2026-11-30T00:05:00Z")),
  [
    incident("orders-db", { detectedAt: "2026-11-23T07:15:00.000Z", resolvedAt: "2026-11-23T09:25:00.000Z", state: "resolved" }),
    incident("billing-db", { detectedAt: "2026-11-24T03:00:00.000Z", resolvedAt: "2026-11-25T11:00:00.000Z", state: "resolved" }),
    incident("search-db", { detectedAt: "2026-11-26T10:00:00.000Z", escalatedAt: "2026-11-26T13:00:00.000Z", state: "escalated" }),
    incident("inventory-db", { detectedAt: "2026-11-26T10:05:00.000Z", resolvedAt: "2026-11-26T10:50:00.000Z", state: "resolved" }),
    incident("catalog-db", { detectedAt: "2026-11-12T10:00:00.000Z", resolvedAt: "2026-11-12T12:00:00.000Z", state: "resolved" }),
  ],
  [
    {
      accountId: ID("payments-db"),
      accountName: "payments-db",
      subscriptionId: "s",
      resourceGroup: "rg",
      checkedOn: "2026-11-29",
      checkedAt: "2026-11-29T06:00:00Z",
      findings: [{ kind: "key-expired", severity: "high", title: "Key expires in 12 days", detail: "d", commands: [], fingerprint: "f" }],
    },
  ],
);

let browser: Browser;

describeWithBrowser("the weekly report in a browser", () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it.each<[string, { width: number; height: number }]>([
    // A phone: nothing may run off the side.
    ["phone", { width: 390, height: 844 }],
    // A desktop mail client.
    ["desktop", { width: 1280, height: 900 }],
  ])(
    "%s: the charts are drawn without images and the report fits the width",
    async (name, viewport) => {
      const context = await browser.newContext({ viewport, isMobile: name === "phone", javaScriptEnabled: false });
      // Images and every other fetch are refused, as a cautious mail client does: the charts must not need them.
      await context.route("**/*", (route) => route.abort());
      const page = await context.newPage();
      const rendered = renderEmail(REPORT);
      // Mail clients resolve cid: to the attachment; the browser gets the same bytes as data: URLs.
      const withImages = (rendered.attachments ?? []).reduce(
        (markup, image) => markup.split(`cid:${image.contentId}`).join(`data:${image.contentType};base64,${image.contentInBase64}`),
        rendered.html,
      );
      await page.setContent(withImages);
      // Both chart PNGs decode in Chromium: a broken image has naturalWidth 0.
      const naturalWidths = await page
        .locator('img[src^="data:image/png"]')
        .evaluateAll((images) => images.map((image) => (image as unknown as { naturalWidth: number }).naturalWidth));
      expect(naturalWidths).toEqual([480, 480]);
      await page.screenshot({ path: join(SCREENSHOTS, `weekly-report-${name}.png`), fullPage: true });

      // Four days with incidents or recoveries have bars; every drawn bar has a width.
      const bars = page.locator('td[style*="background:#"]');
      expect(await bars.count()).toBeGreaterThan(4);
      for (const box of await Promise.all((await bars.all()).map((bar) => bar.boundingBox()))) expect(box!.width).toBeGreaterThan(0);
      expect(await page.getByText("Incidents per day").count()).toBe(1);
      const scrollWidth = await page.evaluate("document.documentElement.scrollWidth");
      expect(scrollWidth).toBeLessThanOrEqual(viewport.width);
      await context.close();
    },
    30_000,
  );
});
