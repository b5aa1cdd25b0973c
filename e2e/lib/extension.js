// The Chrome extension under test: Debian's Chromium started by
// playwright-core with a persistent profile and static/extension loaded
// unpacked (--load-extension works in headless mode), with helpers to
// reach its service worker, read its badge and notifications, and stop
// the worker as Chrome does when it suspends one.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './browser.js';
import { repoRoot } from './server.js';
import { eventually } from './wait.js';

/** EXTENSION_DIR is the unpacked extension, as an agent would load it. */
export const EXTENSION_DIR = path.join(repoRoot, 'static', 'extension');

/**
 * launchExtension starts Chromium with the extension in a fresh profile
 * and returns {context, extensionId, close}.
 */
export async function launchExtension() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-ext-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    // Headless through the flag: playwright's own headless switch would
    // use a mode without extensions.
    headless: false,
    viewport: { width: 900, height: 700 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run',
      `--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker');
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    extensionId,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * serviceWorker returns the extension's running worker, waking it (by
 * opening and closing one of its pages) when Chrome has stopped it.
 */
export async function serviceWorker(context, extensionId) {
  const live = context.serviceWorkers().filter((w) => w.url().startsWith(`chrome-extension://${extensionId}/`));
  for (const w of live.reverse()) {
    try {
      await w.evaluate(() => 1);
      return w;
    } catch {
      // stopped: try the next, or wake it
    }
  }
  const woken = context.waitForEvent('serviceworker');
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/options.html`);
  const w = await woken;
  await page.close();
  return w;
}

/** badge reads the toolbar badge: {text, colour: "#rrggbb", title}. */
export async function badge(worker) {
  return worker.evaluate(async () => {
    const [text, rgba, title] = await Promise.all([
      chrome.action.getBadgeText({}),
      chrome.action.getBadgeBackgroundColor({}),
      chrome.action.getTitle({}),
    ]);
    const colour = `#${rgba.slice(0, 3).map((n) => n.toString(16).padStart(2, '0')).join('')}`;
    return { text, colour, title };
  });
}

/** notificationIds lists the extension's notifications shown now. */
export async function notificationIds(worker) {
  return worker.evaluate(async () => Object.keys(await chrome.notifications.getAll()));
}

/** stored reads keys of the extension's chrome.storage.local. */
export async function stored(worker, keys) {
  return worker.evaluate((k) => chrome.storage.local.get(k), keys);
}

/**
 * stopWorkers stops the extension's service worker through the DevTools
 * protocol, as Chrome does to an idle one, and waits until DevTools
 * reports it stopped. Its alarms are cleared first: Chrome would fire a
 * due alarm, which starts the worker again at once, and the test wants
 * it to stay down until something else wakes it.
 */
export async function stopWorkers(context, worker) {
  const extensionId = new URL(worker.url()).host;
  await worker.evaluate(() => chrome.alarms.clearAll());
  // The DevTools ServiceWorker domain of a page sees the workers of the
  // page's origin: open one of the extension's own files.
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${extensionId}/manifest.json`);
    const cdp = await context.newCDPSession(page);
    let stopped = false;
    cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
      for (const v of e.versions) {
        if (v.scriptURL.startsWith(`chrome-extension://${extensionId}/`)) stopped = v.runningStatus === 'stopped';
      }
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await eventually(() => stopped, { what: 'DevTools to report the service worker stopped' });
    await cdp.detach();
  } finally {
    await page.close();
  }
}
