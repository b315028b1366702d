/**
 * The browser tests' one way to get Chromium: Debian's package driven by playwright-core. A test
 * file is skipped, loudly, only when no chromium is installed at all; under CI it must run.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

// Headless, no sandbox (containers), and nothing the browser would fetch for itself. Playwright
// gives every launch a fresh temporary profile (its own --user-data-dir).
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium); the browser test must run in CI.`);
  console.warn(`\n*** BROWSER TEST SKIPPED: ${CHROMIUM} not found. Install it with: sudo apt-get install -y chromium ***\n`);
}

/** `describe` when Chromium is installed, `describe.skip` (after the warning above) when not. */
export const describeWithBrowser = haveChromium ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
