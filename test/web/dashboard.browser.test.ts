/**
 * A real browser (Debian's chromium, driven by playwright-core) against the dashboard and the
 * link pages, served over HTTPS by the local web server from real monitor state (sandbox ARM +
 * ACS, Azurite). It follows the "I have fixed it" link from a sandbox email through the
 * confirmation page and sees the incident move to "recovering". Screenshots: test-results/.
 *
 * Skipped, loudly, only when no chromium is installed at all; under CI it must run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { describeWithBrowser, launchChromium } from "../support/browser";
import { createMonitorDeps } from "../../src/composition";
import { loadConfig } from "../../src/config";
import { createSandboxCertificate } from "../../src/sandbox";
import { sandboxEnvironment, sandboxOverrides } from "../../src/sandbox/environment";
import { startLocalWebServer, type LocalWebServer } from "../../src/web/localServer";
import { startLocalAzure, type LocalAzure } from "../support/localAzure";
import type { Logger } from "../../src/ports/logger";
import { runCycle } from "../../src/app/runCycle";
import type { MonitorDeps } from "../../src/pipeline/monitorDeps";

const RESULTS = join(__dirname, "..", "..", "test-results");
const SUB = "00000000-0000-0000-0000-0000000000cc";
const status = (code: number, extra = "") => `Access to your account is currently revoked${extra} (${code}).`;
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

let azure: LocalAzure;
let web: LocalWebServer;
let deps: MonitorDeps;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let now = new Date();
const requested: string[] = [];
const pageErrors: string[] = [];

/** The page's globals, for functions that run in the browser (serialised: no outside names). */
type PageGlobals = { getComputedStyle(el: unknown): { backgroundColor: string }; __pwned?: number };

/** Records requests and errors on our own pages (the email itself is not ours to judge). */
function watch(target: Page): void {
  const ours = () => target.url().startsWith(web.url);
  target.on("request", (request) => requested.push(request.url()));
  target.on("pageerror", (error) => pageErrors.push(error.message));
  target.on("console", (message) => {
    // A CSP violation is reported on the console: our own script and style must never cause one.
    if (ours() && /Content Security Policy/i.test(message.text())) pageErrors.push(`${target.url()}: ${message.text()}`);
  });
}

describeWithBrowser("the dashboard in a real browser", () => {
  beforeAll(async () => {
    azure = await startLocalAzure();
    const accounts = [
      // Owner-fixable: the owners get a revoked email with the one-click links.
      ["orders-db", status(4002), { "cmk-owner": "alice@contoso.com" }],
      // Untrusted text from Azure and tags: must show as text, never run.
      [
        "billing-db",
        status(4002, ` <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`),
        { "cmk-owner": "bob@contoso.com", team: "<b>x</b>" },
      ],
      // An outage: the recovery clock runs from detection, so escalation is counting down.
      ["search-db", status(4008), { "cmk-owner": "sam@contoso.com" }],
    ] as const;
    for (const [name, accountStatus, tags] of accounts) {
      azure.sandbox.putAccount({
        name,
        subscriptionId: SUB,
        resourceGroup: `rg-${name}`,
        keyVaultKeyUri: `https://kv-${name}.vault.azure.net/keys/cmk`,
        defaultIdentity: "SystemAssignedIdentity",
        identity: { type: "SystemAssigned", principalId: "9f3c2b1a-1111-2222-3333-444455556666" },
        tags: { ...tags },
        status: accountStatus,
      });
    }
    // HTTPS, so the links in the emails' HTML are live (the templates only link https URLs).
    const tls = await createSandboxCertificate();
    web = await startLocalWebServer(
      (url) => {
        // No CMK_LINK_SIGNING_KEY: the app creates its key and keeps it in its meta table.
        const env = sandboxEnvironment(azure.sandbox, azure.azurite, { CMK_SUBSCRIPTION_IDS: SUB, CMK_PUBLIC_BASE_URL: url });
        deps = createMonitorDeps(loadConfig(env), sandboxOverrides(azure.sandbox, { clock: { now: () => now }, log: quiet, maxRetries: 0 }));
        return deps;
      },
      { tls },
    );
    await runCycle(deps);

    browser = await launchChromium();
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    watch(page);
    mkdirSync(RESULTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await azure?.stop();
  });

  it("shows every open incident in its state's table, with text and colour for the state", async () => {
    await page.goto(`${web.url}/api/dashboard`);
    await expect(page.title()).resolves.toBe("CMK health: 3 open incidents");
    const revoked = page.locator("#state-revoked tr.incident");
    await expect(revoked.locator(".account-name").allTextContents()).resolves.toEqual(["billing-db", "orders-db", "search-db"]);
    // Readable without colour: the state is spelled out in every row.
    await expect(revoked.locator(".badge").allTextContents()).resolves.toEqual(["Revoked", "Revoked", "Revoked"]);
    // (The project compiles without the DOM library, hence PageGlobals.)
    const colour = await revoked
      .first()
      .locator(".badge")
      .evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor);
    expect(colour).toBe("rgb(176, 0, 32)");
    expect(await page.locator("#state-recovering tr.incident").count()).toBe(0);
    await expect(page.locator("#last-poll").textContent()).resolves.toMatch(/Last completed poll: \d+ s ago/);
  });

  it("counts down to each incident's next deadline, ticking in the page", async () => {
    const reminder = page.locator('tr[data-incident-id^="orders-db"] .deadline');
    await expect(reminder.locator(".deadline-kind").textContent()).resolves.toBe("Next reminder");
    const outage = page.locator('tr[data-incident-id^="search-db"] .deadline');
    await expect(outage.locator(".deadline-kind").textContent()).resolves.toBe("Expected recovery");
    await expect(outage.textContent()).resolves.toContain("Escalation");
    const first = await reminder.locator(".countdown").textContent();
    expect(first).toMatch(/^in (1 h 0 min|59 min \d\d s)$/);
    // The inline script runs under the CSP and updates the countdown every second.
    // Polled from here: the page's CSP rightly refuses the eval a waitForFunction would need.
    const deadline = Date.now() + 5_000;
    while ((await reminder.locator(".countdown").textContent()) === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await expect(reminder.locator(".countdown").textContent()).resolves.toMatch(/^in 59 min \d\d s$/);
  });

  it("shows untrusted text as text: nothing from Azure or tags runs", async () => {
    const row = page.locator('tr[data-incident-id^="billing-db"]');
    await expect(row.textContent()).resolves.toContain('<img src=x onerror="window.__pwned=1">');
    await expect(page.evaluate(() => typeof (globalThis as unknown as PageGlobals).__pwned)).resolves.toBe("undefined");
    expect(await page.locator("img").count()).toBe(0);
    // Self-contained: the browser asked for nothing but the page itself.
    expect(requested.every((url) => url.startsWith(web.url))).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.locator('tr[data-incident-id^="orders-db"] + tr details summary').click();
    await expect(page.locator('tr[data-incident-id^="orders-db"] + tr ol.timeline li').first().textContent()).resolves.toContain("Revocation detected");
    await page.screenshot({ path: join(RESULTS, "dashboard.png"), fullPage: true });
  });

  it("follows the ack link from the owner's email through the confirmation page to 'recovering'", async () => {
    const email = azure.sandbox.sentEmails().find((e) => e.subject.includes("orders-db"))!;
    expect(email.to).toEqual(["alice@contoso.com"]);
    // Open the email as the owner would (in a mail tab of its own), and click the link in it.
    page = await context.newPage();
    watch(page);
    await page.setContent(email.html!);
    await page.getByRole("link", { name: "I have fixed it" }).click();
    await page.waitForURL(/\/api\/incidents\/orders-db-[^/]+\/ack\?token=/);
    await expect(page.locator("h1").textContent()).resolves.toBe("Confirm: the cause is fixed");
    const ackUrl = page.url();
    // The GET only asked: the incident is still revoked.
    const beforeConfirm = await context.request.get(`${web.url}/api/status`);
    const revokedNow = (await beforeConfirm.json()) as { incidents: Array<{ accountName: string; state: string }> };
    expect(revokedNow.incidents.find((i) => i.accountName === "orders-db")?.state).toBe("revoked");
    await page.screenshot({ path: join(RESULTS, "ack-confirmation.png"), fullPage: true });

    await page.fill("#name", "alice@contoso.com");
    await page.click("#confirm");
    await expect(page.locator("#result-state").textContent()).resolves.toBe("recovering");

    // Back on the dashboard the incident has moved tables.
    await page.goto(`${web.url}/api/dashboard`);
    const recovering = page.locator('#state-recovering tr[data-incident-id^="orders-db"]');
    await expect(recovering.locator(".badge").textContent()).resolves.toBe("Recovering");
    await expect(recovering.textContent()).resolves.toContain("Acknowledged by alice@contoso.com (email link sent to ");
    await expect(recovering.locator(".deadline-kind").textContent()).resolves.toBe("Expected recovery");
    await expect(page.locator("#state-revoked tr.incident .account-name").allTextContents()).resolves.toEqual(["billing-db", "search-db"]);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: join(RESULTS, "dashboard-after-ack.png"), fullPage: true });

    // The same link again: a clear page, nothing changes.
    await page.goto(ackUrl);
    await expect(page.locator("[data-problem]").getAttribute("data-problem")).resolves.toBe("reused");
  });
});
