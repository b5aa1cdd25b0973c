// The inbox's second round in a real Chromium. An admin connects an
// API-channel inbox through Settings → Inboxes (a short token is refused
// with the server's message, a generated one accepted), sees its webhook
// URL, and a customer message posted there with the inbound token appears
// live for another agent; after a rotation only the new token works. A
// Messenger inbox connected the same way shows a customer's image and
// file, downloaded by the server and served from /api/v1/media/{id}. A
// WhatsApp conversation outside the 24-hour window shows the banner and a
// template form that sends a template, and opens again when the customer
// writes. Opting a contact out in the contact panel turns the reply box
// off on both agents' screens (contact.updated) while notes still work,
// and opting back in turns it on. AI drafts follow the AI settings and
// stream to every agent viewing. axe-core finds no serious or critical
// violation; screenshots go to e2e/artifacts/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { appsConfig } from '../lib/apps.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { eventually } from '../lib/wait.js';
import { testPNG } from '../lib/images.js';
import { axeScan, CHROMIUM, devSignIn, haveChromium, launchBrowser, missing, newAgentPage, screenshot } from '../lib/browser.js';

const SECRET_KEY = crypto.randomBytes(32).toString('base64');
const APP_SECRET = 'meta-app-secret-for-ui-settings-tests';
const PHONE_NUMBER_ID = '106540352242923';
const ALICE = { email: 'alice@settings.e2e.test', name: 'Alice Admin' };
const BOB = { email: 'bob@settings.e2e.test', name: 'Bob Agent' };
const LIVE_MS = 15_000; // a UI step on shared cores: generous, never a pass/fail timing
const SQLITE3 = ['/usr/bin/sqlite3', '/usr/local/bin/sqlite3'].find((p) => fs.existsSync(p));

let server;
let workspace;
let inbox;
let browser;
const skip = haveChromium() ? false : missing(`Chromium is not installed at ${CHROMIUM}`);

function base() {
  return `http://${HOST}:${server.port}`;
}

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args, { SWITCHBOARD_SECRET_KEY: SECRET_KEY });
}

async function api(p, { method = 'GET', body } = {}) {
  const res = await fetch(`${base()}/api/v1/${p}`, {
    method,
    headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** customerWrites posts a WhatsApp Cloud API webhook, signed as Meta signs it. */
async function customerWrites({ from, name, text }) {
  const payload = {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340399',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783882', phone_number_id: PHONE_NUMBER_ID },
          contacts: [{ profile: { name }, wa_id: from }],
          messages: [{ from, id: `wamid.${crypto.randomBytes(12).toString('hex')}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
        },
      }],
    }],
  };
  const body = JSON.stringify(payload);
  const sig = crypto.createHmac('sha256', APP_SECRET).update(body).digest('hex');
  const res = await fetch(`${base()}/channels/whatsapp/${inbox.inbox_id}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` },
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

/** conversationOf finds the conversation a contact named name writes in. */
async function conversationOf(name) {
  const { conversations } = await api('conversations?assignee=any&limit=100');
  for (const c of conversations) {
    const contact = await api(`contacts/${c.contact_id}`);
    if (contact.name === name) return c;
  }
  throw new Error(`no conversation of ${name}`);
}

before(async () => {
  if (skip) return;
  server = new SwitchboardServer(appsConfig(), {
    name: 'ui-settings',
    env: { SWITCHBOARD_DEV_LOGIN: '1', SWITCHBOARD_SECRET_KEY: SECRET_KEY },
  });
  workspace = cli(['workspace', 'create', '--name', 'Globex Help', '--owner-email', ALICE.email]);
  inbox = cli(['inbox', 'create-whatsapp', '--workspace', String(workspace.workspace_id), '--name', 'WhatsApp line',
    '--phone-number-id', PHONE_NUMBER_ID, '--app-secret', APP_SECRET]);
  await server.start();
  await api('invitations', { method: 'POST', body: { email: BOB.email, role: 'agent' } });
  browser = await launchBrowser();
}, { timeout: 600_000 });

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('inbox settings, reply rules and consent in the browser', { skip }, () => {
  let alice;
  let bob;

  it('connects an API inbox in settings; a message posted to its webhook URL appears live', async () => {
    alice = await newAgentPage(browser, base());
    bob = await newAgentPage(browser, base());
    await devSignIn(alice.page, ALICE.email, ALICE.name);
    await devSignIn(bob.page, BOB.email, BOB.name);
    await bob.page.getByRole('button', { name: 'All' }).click();

    const a = alice.page;
    await a.goto('/#/settings');
    const sec = a.locator('#inboxes');
    await sec.locator('.inbox-item', { hasText: 'WhatsApp line' }).waitFor();
    assert.match(await sec.locator('.inbox-item', { hasText: 'WhatsApp line' }).locator('.hook-url').textContent(),
      new RegExp(`^${base()}/channels/whatsapp/${inbox.inbox_id}/webhook$`));

    // A token shorter than 32 characters: the server's 400 is shown in the form.
    await a.getByLabel('Channel', { exact: true }).selectOption('api');
    await a.getByLabel('Inbox name').fill('Website chat');
    await a.getByLabel('Inbound token').fill('too-short');
    await a.getByRole('button', { name: 'Connect', exact: true }).click();
    await sec.locator('.form-error', { hasText: /Check the values: .*32/ }).waitFor({ timeout: LIVE_MS });
    assert.equal(await sec.locator('.inbox-item', { hasText: 'Website chat' }).count(), 0);
    // That refusal is the browser's only console error, by design.
    assert.equal(alice.problems.length, 1, alice.problems.join('\n'));
    assert.match(alice.problems[0], /status of 400 .*\/api\/v1\/inboxes$/);
    alice.problems.length = 0;

    // A generated one is accepted, shown once to copy, with the webhook URL.
    await sec.locator('#connect-form .field', { hasText: 'Inbound token' }).getByRole('button', { name: 'Generate' }).click();
    const token = await a.getByLabel('Inbound token').inputValue();
    assert.ok(token.length >= 32, token);
    await a.getByRole('button', { name: 'Connect', exact: true }).click();
    const item = sec.locator('.inbox-item', { hasText: 'Website chat' });
    await item.waitFor({ timeout: LIVE_MS });
    await sec.locator('.notice code', { hasText: token }).waitFor();
    assert.equal(await item.locator('.pill').textContent(), 'Configured');
    const url = await item.locator('.hook-url').textContent();
    assert.match(url, new RegExp(`^${base()}/channels/api/\\d+/messages$`));
    await screenshot(a, 'settings-inboxes');
    assert.deepEqual(await axeScan(a), []);

    // Rename it.
    await item.getByRole('button', { name: 'Rename' }).click();
    await item.getByLabel('New name').fill('Website');
    await item.getByRole('button', { name: 'Save' }).click();
    await sec.locator('.inbox-item .inbox-name', { hasText: /^Website$/ }).waitFor({ timeout: LIVE_MS });

    // Rotate its inbound token: the old one stops working.
    const website = sec.locator('.inbox-item', { hasText: 'Website' }).filter({ hasText: 'API' });
    await website.getByRole('button', { name: 'Rotate secrets' }).click();
    await website.locator('.field', { hasText: 'Inbound token' }).getByRole('button', { name: 'Generate' }).click();
    const rotated = await website.getByLabel('Inbound token').inputValue();
    await website.getByRole('button', { name: 'Save configuration' }).click();
    await sec.locator('.notice code', { hasText: rotated }).waitFor({ timeout: LIVE_MS });
    const post = (bearer, id) => fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ contact: { id: 'u1', name: 'Web User' }, message: { id, text: 'hello from the site' } }),
    });
    assert.equal((await post(token, 'm0')).status, 401, 'the old token is refused');

    // Dead letters are listed for admins (none yet) and not for agents.
    await a.locator('#dead-letters', { hasText: 'None: every payload was filed.' }).waitFor();

    // The customer writes through the new inbox: Bob sees it live.
    const res = await post(rotated, 'm1');
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
    const row = bob.page.locator('.conv-item', { hasText: 'Web User' });
    await row.locator('.conv-preview', { hasText: 'hello from the site' }).waitFor({ timeout: LIVE_MS });
    await row.locator('.muted', { hasText: 'Website' }).waitFor({ timeout: LIVE_MS }); // the new inbox is named
    await row.click();
    await bob.page.locator('.msg-in', { hasText: 'hello from the site' }).waitFor();
    // The API channel has no messaging window: the reply box is open.
    assert.equal(await bob.page.locator('#composer-input').isEnabled(), true);
    assert.equal(await bob.page.locator('#reply-policy').isVisible(), false);

    await bob.page.goto('/#/settings');
    await bob.page.locator('#inboxes .inbox-item', { hasText: 'Website' }).first().waitFor();
    assert.equal(await bob.page.locator('#dead-letters').count(), 0);
    assert.equal(await bob.page.locator('#connect-form').count(), 0);
    await bob.page.goto('/#/');
  });

  it('notifies in the background with a desktop notification and a sound, once the agent turns them on', async () => {
    const bob2 = await newAgentPage(browser, base());
    // The browser's Notification and the chime's oscillators, recorded.
    await bob2.context.addInitScript(() => {
      window.__notes = [];
      window.__tones = 0;
      window.Notification = class {
        static permission = 'default';
        static requestPermission() { this.permission = 'granted'; return Promise.resolve('granted'); }
        constructor(title, opts) { window.__notes.push({ title, body: opts?.body, tag: opts?.tag }); }
        close() {}
      };
      const Audio = window.AudioContext;
      window.AudioContext = class extends Audio {
        createOscillator() { window.__tones++; return super.createOscillator(); }
      };
    });
    const b = bob2.page;
    await devSignIn(b, BOB.email, BOB.name);
    await b.goto('/#/settings');
    const sec = b.locator('#notify-section');
    await sec.getByLabel('Desktop notifications').check();
    await sec.getByLabel('Play a sound').check();
    await screenshot(b, 'settings-notifications');
    await b.goto('/#/');
    await b.locator('.conn-live').waitFor();
    const tonesBefore = await b.evaluate(() => window.__tones);
    await customerWrites({ from: '15550008888', name: 'Nora Notify', text: 'Ping from the background' });
    await eventually(async () => {
      const notes = await b.evaluate(() => window.__notes);
      assert.ok(notes.some((n) => n.title === 'Nora Notify wrote' && n.body === 'Ping from the background'), JSON.stringify(notes));
      return true;
    }, { timeout: LIVE_MS });
    assert.ok(await b.evaluate(() => window.__tones) > tonesBefore, 'no chime played');
    // The choice is kept in this browser.
    await b.goto('/#/settings');
    assert.equal(await b.locator('#notify-section').getByLabel('Desktop notifications').isChecked(), true);
    assert.deepEqual(bob2.problems, []);
    await bob2.context.close();
  });

  it('connects Messenger in settings and shows a customer\'s image and file from it', async () => {
    // The customer's attachments, hosted where Meta's CDN would be.
    const png = testPNG(96, 64);
    const cdn = http.createServer((req, res) => {
      if (req.url === '/photo.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
      else if (req.url === '/invoice.pdf') res.writeHead(200, { 'Content-Type': 'application/pdf' }).end('%PDF-1.4\n%%EOF\n');
      else res.writeHead(404).end();
    });
    await new Promise((resolve) => cdn.listen(0, HOST, resolve));
    const cdnURL = `http://${HOST}:${cdn.address().port}`;
    try {
      const a = alice.page;
      const appSecret = 'messenger-app-secret-for-ui-tests';
      await a.goto('/#/settings');
      const sec = a.locator('#inboxes');
      await a.getByLabel('Channel', { exact: true }).selectOption('messenger');
      await a.getByLabel('Inbox name').fill('Messenger page');
      await sec.getByLabel('Page ID').fill('1477823465785462');
      await sec.getByLabel('App ID').fill('2093847561029384');
      await sec.getByLabel('App secret').fill(appSecret);
      await sec.locator('#connect-form .field', { hasText: 'Verify token' }).getByRole('button', { name: 'Generate' }).click();
      await sec.getByLabel('Page access token').fill('EAAG-page-access-token-for-ui-tests');
      await a.getByRole('button', { name: 'Connect', exact: true }).click();
      const item = sec.locator('.inbox-item', { hasText: 'Messenger page' });
      const url = await item.locator('.hook-url').textContent({ timeout: LIVE_MS });
      assert.match(url, new RegExp(`^${base()}/channels/messenger/\\d+/webhook$`));

      const body = JSON.stringify({
        object: 'page',
        entry: [{
          id: '1477823465785462',
          time: Date.now(),
          messaging: [{
            sender: { id: '6783961241632418' },
            recipient: { id: '1477823465785462' },
            timestamp: Date.now(),
            message: {
              mid: 'm_ui_attachments',
              text: 'Here are the photo and the invoice',
              attachments: [
                { type: 'image', payload: { url: `${cdnURL}/photo.png` } },
                { type: 'file', title: 'invoice.pdf', payload: { url: `${cdnURL}/invoice.pdf` } },
              ],
            },
          }],
        }],
      });
      const sig = crypto.createHmac('sha256', appSecret).update(body).digest('hex');
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` }, body });
      assert.equal(res.status, 200, await res.text());

      const b = bob.page;
      await b.locator('.conv-item', { hasText: 'Messenger page' }).click({ timeout: LIVE_MS });
      const msg = b.locator('.msg-in', { hasText: 'Here are the photo and the invoice' });
      await msg.waitFor({ timeout: LIVE_MS });
      // Downloaded by the server, then shown from /api/v1/media/{id}.
      const img = msg.locator('.media-thumb img');
      await img.waitFor({ timeout: LIVE_MS });
      await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth === 96), { timeout: LIVE_MS, what: 'the image loaded' });
      assert.match(await msg.locator('.media-thumb').getAttribute('href'), /^\/api\/v1\/media\/\d+$/);
      const file = msg.locator('a.media-file', { hasText: 'invoice.pdf' });
      await file.waitFor({ timeout: LIVE_MS });
      const fileRes = await b.evaluate(async (href) => {
        const r = await fetch(href);
        return [r.status, r.headers.get('content-type'), await r.text()];
      }, await file.getAttribute('href'));
      assert.equal(fileRes[0], 200);
      assert.match(fileRes[2], /^%PDF-1\.4/);
      assert.equal(await msg.locator('.body').textContent(), 'Here are the photo and the invoice');
      await screenshot(b, 'conversation-media');
      assert.deepEqual(await axeScan(b), []);
    } finally {
      cdn.close();
    }
  });

  it('outside the WhatsApp window shows the banner and a template form, until the customer writes', { skip: SQLITE3 ? false : missing('no sqlite3 shell to age the conversation') }, async () => {
    await customerWrites({ from: '15550001111', name: 'Cara Customer', text: 'Is my parcel lost?' });
    const conv = await conversationOf('Cara Customer');
    // As if Cara had never written here: the server refuses free-form
    // replies from now on, and the page says so before anyone tries.
    execFileSync(SQLITE3, ['-cmd', '.timeout 5000', path.join(server.dir, 'switchboard.db'),
      `UPDATE conversations SET last_inbound_at = NULL WHERE id = ${Number(conv.id)}`]);
    const refused = await fetch(`${base()}/api/v1/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: 'hi', type: 'text' }),
    });
    assert.equal(refused.status, 422);
    assert.equal((await refused.json()).error.code, 'outside_messaging_window');

    const a = alice.page;
    await a.goto(`/#/c/${conv.id}`);
    const banner = a.locator('#reply-policy');
    await banner.filter({ hasText: "Outside WhatsApp's 24-hour window: Cara Customer has not written" }).waitFor({ timeout: LIVE_MS });
    assert.equal(await a.locator('#composer-input').isDisabled(), true);
    const form = a.getByRole('form', { name: 'Send a WhatsApp template' });
    await form.waitFor();
    await screenshot(a, 'whatsapp-window-banner');
    assert.deepEqual(await axeScan(a), []);

    await a.getByLabel('Template name').fill('order_update');
    await a.getByLabel('Language').fill('en_US');
    await a.getByLabel('Parameters, one per line').fill('Cara\n#4521');
    await form.getByRole('button', { name: 'Send template' }).click();
    await a.locator('.msg-out', { hasText: '[template order_update] Cara · #4521' }).waitFor({ timeout: LIVE_MS });
    await a.locator('.msg-out .media-tag', { hasText: 'Template' }).waitFor();

    // Notes are never refused.
    await a.getByRole('radio', { name: 'Private note' }).click();
    assert.equal(await a.locator('#composer-input').isEnabled(), true);
    assert.equal(await form.isVisible(), false);
    await a.getByRole('radio', { name: 'Reply' }).click();

    // Cara writes: the window opens live.
    await customerWrites({ from: '15550001111', name: 'Cara Customer', text: 'Thanks, got the template.' });
    await a.locator('.msg-in', { hasText: 'got the template' }).waitFor({ timeout: LIVE_MS });
    await banner.waitFor({ state: 'hidden', timeout: LIVE_MS });
    assert.equal(await a.locator('#composer-input').isEnabled(), true);
    assert.equal(await form.isVisible(), false);

    // A conversation in a dark 700 px window, window closed again.
    execFileSync(SQLITE3, ['-cmd', '.timeout 5000', path.join(server.dir, 'switchboard.db'),
      `UPDATE conversations SET last_inbound_at = NULL WHERE id = ${Number(conv.id)}`]);
    const dark = await newAgentPage(browser, base(), { colorScheme: 'dark', viewport: { width: 700, height: 800 } });
    await devSignIn(dark.page, ALICE.email, ALICE.name);
    await dark.page.goto(`/#/c/${conv.id}`);
    await dark.page.locator('#reply-policy', { hasText: 'Outside WhatsApp' }).waitFor({ timeout: LIVE_MS });
    await screenshot(dark.page, 'whatsapp-window-banner-dark-700px');
    assert.deepEqual(await axeScan(dark.page), []);
    await dark.page.goto('/#/settings');
    await dark.page.locator('#inboxes .hook-url').first().waitFor();
    await dark.page.locator('#inboxes').scrollIntoViewIfNeeded();
    await screenshot(dark.page, 'settings-inboxes-dark-700px');
    assert.deepEqual(await axeScan(dark.page), []);
    assert.deepEqual(dark.problems, []);
    await dark.context.close();
  });

  it('opting a contact out turns the reply box off for both agents; notes still work', async () => {
    await customerWrites({ from: '15550002222', name: 'Dan Dealer', text: 'Please stop the promo texts.' });
    const conv = await conversationOf('Dan Dealer');
    for (const { page } of [alice, bob]) {
      await page.goto(`/#/c/${conv.id}`);
      await page.locator('.msg-in', { hasText: 'promo texts' }).waitFor({ timeout: LIVE_MS });
      await page.locator('.consent button', { hasText: 'Opt out' }).waitFor({ timeout: LIVE_MS });
      assert.equal(await page.locator('#composer-input').isEnabled(), true);
    }

    await alice.page.locator('.consent').getByRole('button', { name: 'Opt out' }).click();
    for (const { page } of [alice, bob]) {
      await page.locator('#reply-policy', { hasText: /Dan Dealer opted out of messages on .* \(recorded by Alice Admin/ }).waitFor({ timeout: LIVE_MS });
      await eventually(async () => page.locator('#composer-input').isDisabled(), { timeout: LIVE_MS, what: 'the reply box is off' });
      await page.locator('#opted-out-badge').waitFor({ timeout: LIVE_MS });
      await page.locator('.consent-history li', { hasText: 'Opted out' }).waitFor({ timeout: LIVE_MS });
    }
    await screenshot(bob.page, 'contact-opted-out');
    assert.deepEqual(await axeScan(bob.page), []);

    // Bob writes a note to the team: allowed.
    const b = bob.page;
    await b.getByRole('radio', { name: 'Private note' }).click();
    await b.locator('#composer-input').fill('Customer asked to stop; do not opt back in without asking.');
    await b.locator('#composer-input').press('Enter');
    await alice.page.locator('.msg-note', { hasText: 'do not opt back in' }).waitFor({ timeout: LIVE_MS });
    await b.getByRole('radio', { name: 'Reply' }).click();
    assert.equal(await b.locator('#composer-input').isDisabled(), true);

    await b.locator('.consent').getByRole('button', { name: 'Opt back in' }).click();
    for (const { page } of [alice, bob]) {
      await page.locator('#reply-policy').waitFor({ state: 'hidden', timeout: LIVE_MS });
      await eventually(async () => page.locator('#composer-input').isEnabled(), { timeout: LIVE_MS, what: 'the reply box is on' });
      await page.locator('.consent-history li', { hasText: 'Opted in' }).waitFor({ timeout: LIVE_MS });
      assert.equal(await page.locator('#opted-out-badge').count(), 0);
    }
  });

  it('offers AI drafts where the server has them, as the AI settings say', async () => {
    const { paths } = await (await fetch(`${base()}/api/v1/openapi.json`)).json();
    const a = alice.page;
    const suggest = a.getByRole('button', { name: 'Suggest reply' });
    const here = a.url(); // Dan's conversation
    await a.locator('#composer-input:enabled').waitFor();
    if (!paths['/conversations/{id}/draft'] || !paths['/ai/settings']) {
      assert.equal(await suggest.isVisible(), false, 'no drafts on this server');
    } else {
      await suggest.waitFor(); // on by default, offline
      const sec = a.locator('#ai-section');
      const saveAI = async (on) => {
        await a.goto('/#/settings');
        await sec.getByLabel('Offer "Suggest reply" to agents').setChecked(on);
        await sec.getByRole('button', { name: 'Save AI settings' }).click();
        await a.locator('.toast', { hasText: 'AI settings saved.' }).last().waitFor({ timeout: LIVE_MS });
        await a.goto(here);
        await a.locator('#composer-input:enabled').waitFor();
      };
      await saveAI(false);
      assert.equal(await suggest.isVisible(), false, 'turned off');

      // An article to answer from, then drafts on again.
      await a.goto('/#/settings');
      await sec.getByLabel('Article title').fill('Stopping promo texts');
      await sec.getByLabel('Article text').fill('To stop promo texts, reply STOP. To get promo texts again, reply START.');
      await sec.getByRole('button', { name: 'Add article' }).click();
      await sec.locator('li', { hasText: 'Stopping promo texts' }).waitFor({ timeout: LIVE_MS });
      assert.deepEqual(await axeScan(a), []);
      await saveAI(true);
      await suggest.waitFor();

      await suggest.click();
      const draft = a.locator('.draft');
      await draft.waitFor({ timeout: LIVE_MS });
      await a.locator('.draft[aria-busy="false"]').waitFor({ timeout: LIVE_MS });
      await screenshot(a, 'draft-panel');
      assert.deepEqual(await axeScan(a), []);
      const accept = draft.getByRole('button', { name: 'Accept' });
      if (await accept.isVisible()) {
        // A draft, grounded on the article: into the composer, sent as AI-assisted.
        await draft.locator('.draft-sources', { hasText: 'Stopping promo texts' }).waitFor();
        const text = await draft.locator('.draft-text').textContent();
        assert.ok(text.length > 0);
        // Bob, viewing the same conversation, saw the same draft form.
        await bob.page.locator('.draft .draft-text', { hasText: text }).waitFor({ timeout: LIVE_MS });
        await accept.click();
        await draft.waitFor({ state: 'hidden' });
        assert.equal(await a.locator('#composer-input').inputValue(), text);
        await a.locator('#composer-input').press('Enter');
        await a.locator('.msg-out', { hasText: text.slice(0, 20) }).locator('.msg-meta', { hasText: 'AI-assisted' }).waitFor({ timeout: LIVE_MS });
      } else if (await draft.locator('.draft-failed', { hasText: 'not available on this server' }).isVisible()) {
        // The route without a drafts service: the button goes away.
        await suggest.waitFor({ state: 'hidden' });
        const kept = alice.problems.filter((p) => !/status of 503 .*\/draft$/.test(p));
        alice.problems.splice(0, alice.problems.length, ...kept);
      } else {
        // draft.failed (no article fits well enough): said briefly, and
        // the button stays.
        await draft.locator('.draft-failed', { hasText: 'No suggestion' }).waitFor();
        assert.equal(await suggest.isVisible(), true);
      }
    }
    for (const agent of [alice, bob]) assert.deepEqual(agent.problems, []);
    await alice.context.close();
    await bob.context.close();
  });
});
