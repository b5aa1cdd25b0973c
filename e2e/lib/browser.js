// A real Chromium for the UI tests: Debian's /usr/bin/chromium driven by
// playwright-core (no downloaded browser), headless, with each page's
// console errors and failed requests collected so a test can assert there
// were none. `make e2e-deps` installs the browser.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { e2eDir } from './server.js';

/** CHROMIUM is the browser binary; CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** ARTIFACTS is where screenshots go (gitignored). */
export const ARTIFACTS = path.join(e2eDir, 'artifacts');

/**
 * missing is the skip reason for a test whose tool is not installed, said
 * loudly; under REQUIRE_SERVICES=1 (CI) it throws instead, so a missing
 * tool fails the run rather than hiding tests.
 */
export function missing(what) {
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`${what}, and REQUIRE_SERVICES=1 forbids skipping (make e2e-deps installs it)`);
  }
  console.error(`SKIPPING: ${what}`);
  return what;
}

/** haveChromium reports whether the browser is installed. */
export function haveChromium() {
  return fs.existsSync(CHROMIUM);
}

/** launchBrowser starts a headless Chromium; close() it in after(). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

/**
 * newAgentPage opens a browser context (its own cookie jar: one agent)
 * at baseURL and returns {context, page, problems}: problems collects
 * console errors, uncaught exceptions and CSP violations.
 */
export async function newAgentPage(browser, baseURL, { colorScheme = 'light', viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ baseURL, colorScheme, viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location()?.url || '';
    // GET /api/v1/inboxes is new; the UI tolerates servers without it.
    if (url.endsWith('/api/v1/inboxes') && /404/.test(msg.text())) return;
    problems.push(`console: ${msg.text()} ${url}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return { context, page, problems };
}

/**
 * devSignIn signs a context in through the development sign-in form, as
 * a person would, and waits for the inbox.
 */
export async function devSignIn(page, email, name) {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.conn-live').waitFor();
}

/** screenshot saves the page under e2e/artifacts/<name>.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * axeScan runs axe-core in the page and returns the serious and critical
 * violations, each as "id: help (selectors)".
 */
export async function axeScan(page) {
  const require = createRequire(import.meta.url);
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} [${v.nodes.join(', ')}]`);
}
