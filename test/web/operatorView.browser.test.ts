/**
 * The operator's view in a real browser (Debian's chromium, driven by playwright-core), served by
 * the local web server from the built-in fire drill's state, as `npm start -- drill --serve` shows
 * it: incidents open, escalated and resolved, warnings on healthy accounts, emails sent. At a
 * desktop and a phone viewport: the fleet overview, a trend chart, an account page and the
 * search form; axe-core finds no serious or critical violation on any page; the core tables are
 * there with JavaScript off; the phone layout never scrolls sideways. Screenshots:
 * test-results/screenshots/.
 *
 * Skipped, loudly, only when no chromium is installed at all; under CI it must run.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { describeWithBrowser, launchChromium } from "../support/browser";
import { runScenario, type DrillResult } from "../../src/drill/runScenario";
import { defaultScenarioPath, loadScenario } from "../../src/drill/scenario";
import { startLocalWebServer, type LocalWebServer } from "../../src/web/localServer";

const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "screenshots");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const VIEWPORTS = [
  ["desktop", { width: 1280, height: 800 }],
  ["phone", { width: 390, height: 844 }],
] as const;

/** What axe reports per violation (the page's globals are not typed here: no DOM library). */
type AxeViolation = { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> };
type AxeGlobals = { document: unknown; axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } };
type LayoutElement = {
  tagName: string;
  id: string;
  closest(selector: string): LayoutElement | null;
  children: ArrayLike<LayoutElement>;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { right: number };
  scrollWidth: number;
  clientWidth: number;
  textContent: string | null;
};
type LayoutGlobals = {
  document: { documentElement: { scrollWidth: number }; querySelectorAll(selector: string): ArrayLike<LayoutElement> };
  innerWidth: number;
};

let drill: DrillResult;
let web: LocalWebServer;
let browser: Browser;

/** Serious and critical violations on the page, as "rule: help (targets)". */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => {
    const g = globalThis as unknown as AxeGlobals;
    return g.axe.run(g.document, { resultTypes: ["violations"] });
  });
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => JSON.stringify(node.target)).join(", ")})`);
}

/**
 * What sticks out past the viewport's right edge (a phone would scroll sideways): the innermost
 * such elements, as "tag#id.class", so a failure names the culprit; [] when nothing does.
 */
async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as LayoutGlobals;
    if (g.document.documentElement.scrollWidth <= g.innerWidth + 1) return [];
    // A box past the edge, or a box whose own content spills out of it (a long unbroken line in a <pre>).
    const out = (el: LayoutElement) => el.getBoundingClientRect().right > g.innerWidth + 1 || el.scrollWidth > el.clientWidth + 1;
    const culprits = Array.from(g.document.querySelectorAll("body *"))
      .filter((el) => out(el) && !Array.from(el.children).some(out))
      .slice(0, 10)
      .map((el) => `${el.tagName.toLowerCase()}${el.getAttribute("class") ? `.${el.getAttribute("class")}` : ""} in #${el.closest("[id]")?.id ?? "?"}`);
    return culprits.length > 0 ? culprits : [`the page: ${g.document.documentElement.scrollWidth} px wide in a ${g.innerWidth} px viewport`];
  });
}

/** Table cells whose content spills out of them (into the next column or off the table), as "#section: text". */
async function spillingCells(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as LayoutGlobals;
    return Array.from(g.document.querySelectorAll("td, th"))
      .filter((cell) => cell.scrollWidth > cell.clientWidth + 1)
      .map((cell) => `#${cell.closest("[id]")?.id ?? "?"}: ${(cell.textContent ?? "").trim().slice(0, 60)}`);
  });
}

describeWithBrowser("the operator's view of the fire drill in a real browser", () => {
  beforeAll(async () => {
    const scenario = await loadScenario(defaultScenarioPath(), "scenarios/fire-drill.json");
    drill = await runScenario(scenario, { keepRunning: true });
    web = await startLocalWebServer(drill.live!.deps);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await drill?.live?.stop();
  });

  describe.each(VIEWPORTS)("at the %s viewport", (name, viewport) => {
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      // bypassCSP only so the test can inject axe; the pages' own script runs under their CSP elsewhere (dashboard.browser.test.ts).
      context = await browser.newContext({ viewport, bypassCSP: true });
      page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(error.message));
    });
    afterAll(async () => context?.close());

    it("the overview counts the fleet by state and shows open, escalated and resolved incidents", async () => {
      await page.goto(`${web.url}/api/dashboard`);
      await expect(page.locator("#fleet-title").textContent()).resolves.toBe("Fleet: 16 CMK accounts");
      const count = async (state: string) => Number(await page.locator(`#fleet-by-state tr[data-state="${state}"] .count`).textContent());
      // The drill ends with one account escalated and healthy accounts carrying warnings.
      expect(await count("escalated")).toBeGreaterThanOrEqual(1);
      expect(await count("at-risk")).toBeGreaterThanOrEqual(1);
      expect(await page.locator("#state-escalated tr.incident").count()).toBeGreaterThanOrEqual(1);
      // Resolved incidents are in the history.
      await expect(page.locator("#history").textContent()).resolves.toMatch(/resolved/i);
      await page.screenshot({ path: join(SCREENSHOTS, `overview-${name}.png`), fullPage: true });
      await expect(sidewaysOverflow(page)).resolves.toEqual([]);
      await expect(spillingCells(page)).resolves.toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it("draws the incidents-per-day chart as a labelled SVG with bars", async () => {
      const chart = page.locator("#history svg.chart").first();
      await expect(chart.getAttribute("role")).resolves.toBe("img");
      // Its accessible name is its title, which says what it counts.
      const titleId = await chart.getAttribute("aria-labelledby");
      await expect(page.locator(`[id="${titleId}"]`).textContent()).resolves.toMatch(/Incidents detected per day .*: \d+ detected/);
      expect(await chart.locator("rect").count()).toBeGreaterThan(0);
      // The drill's night has incidents: at least one day's bar is not empty.
      const detected = await chart
        .locator("g.day")
        .evaluateAll((days) => days.map((day) => Number((day as unknown as { dataset: { detected: string } }).dataset.detected)));
      expect(Math.max(...detected)).toBeGreaterThan(0);
      await chart.screenshot({ path: join(SCREENSHOTS, `chart-${name}.png`) });
    });

    it("has no serious or critical accessibility violation on the overview", async () => {
      await expect(seriousViolations(page)).resolves.toEqual([]);
    });

    it("the search form narrows the account list", async () => {
      await page.goto(`${web.url}/api/dashboard`);
      await page.fill('#accounts input[name="q"]', "orders-db");
      await page.click('#accounts button[type="submit"]');
      await page.waitForURL(/q=orders-db/);
      await expect(page.locator("#account-list tr.account .account-name").allTextContents()).resolves.toEqual(["orders-db"]);
      // The state filter alone: every listed row is in that state.
      await page.goto(`${web.url}/api/dashboard?state=at-risk#accounts`);
      const states = await page
        .locator("#account-list tr.account")
        .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { state: string } }).dataset.state));
      expect(states.length).toBeGreaterThan(0);
      expect(new Set(states)).toEqual(new Set(["at-risk"]));
      await page.screenshot({ path: join(SCREENSHOTS, `search-${name}.png`), fullPage: true });
      await expect(sidewaysOverflow(page)).resolves.toEqual([]);
    });

    it("an account page tells the escalated account's story: incidents with timelines and the emails sent", async () => {
      await page.goto(`${web.url}/api/dashboard?state=escalated#accounts`);
      await page.locator("#account-list tr.account .account-name").first().click();
      await page.waitForURL(/\/api\/dashboard\/accounts\//);
      await expect(page.locator("#incidents-title").textContent()).resolves.toMatch(/^Incidents \([1-9]\d*\)$/);
      expect(await page.locator("article.incident ol.timeline li").count()).toBeGreaterThan(1);
      expect(await page.locator("#email-list tbody tr").count()).toBeGreaterThan(1);
      await page.screenshot({ path: join(SCREENSHOTS, `account-${name}.png`), fullPage: true });
      await expect(sidewaysOverflow(page)).resolves.toEqual([]);
      await expect(spillingCells(page)).resolves.toEqual([]);
      await expect(seriousViolations(page)).resolves.toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  });

  it("the core tables are all there with JavaScript off", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${web.url}/api/dashboard`);
      expect(await page.locator("#fleet-by-state tr").count()).toBe(6);
      expect(await page.locator("#state-escalated tr.incident").count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator("#account-list tr.account").count()).toBeGreaterThan(1);
      // The filter is a plain GET form: it works without script.
      await page.fill('#accounts input[name="q"]', "orders-db");
      await page.click('#accounts button[type="submit"]');
      await page.waitForURL(/q=orders-db/);
      await expect(page.locator("#account-list tr.account .account-name").allTextContents()).resolves.toEqual(["orders-db"]);
      await page.locator("#account-list .account-name").click();
      await page.waitForURL(/\/api\/dashboard\/accounts\//);
      expect(await page.locator("#email-list tbody tr").count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(SCREENSHOTS, "account-no-javascript.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
