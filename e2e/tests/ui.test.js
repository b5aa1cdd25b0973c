// The agent inbox in a real Chromium (Debian's, driven by playwright-core):
// two agents of one workspace, each signed in through the development
// sign-in in a browser context of their own, work the same WhatsApp
// conversation. A customer message posted to the signed webhook appears
// in both lists and in the open conversation; typing, presence,
// assignment, status and replies reach the other agent live; after a
// server restart the page shows the connection banner, catches up on
// what was committed while it was away, and shows nothing twice. axe-core
// finds no serious or critical violation on the sign-in page and the
// inbox. Screenshots of each screen go to e2e/artifacts/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { appsConfig } from '../lib/apps.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { eventually } from '../lib/wait.js';
import { axeScan, CHROMIUM, devSignIn, haveChromium, launchBrowser, missing, newAgentPage, screenshot } from '../lib/browser.js';

const SECRET_KEY = crypto.randomBytes(32).toString('base64');
const APP_SECRET = 'meta-app-secret-for-ui-tests';
const PHONE_NUMBER_ID = '106540352242922';
const ALICE = { email: 'alice@ui.e2e.test', name: 'Alice Agent' };
const BOB = { email: 'bob@ui.e2e.test', name: 'Bob Builder' };
const SEEDED = 30;
const LIVE_MS = 15_000; // a UI step on two shared cores: generous, never a pass/fail timing

let server;
let workspace;
let inbox;
let browser;
let port;
const skip = haveChromium() ? false : missing(`Chromium is not installed at ${CHROMIUM}`);

function base() {
  return `http://${HOST}:${server.port}`;
}

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args, { SWITCHBOARD_SECRET_KEY: SECRET_KEY });
}

async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(`${base()}/api/v1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** customerWrites posts a WhatsApp Cloud API webhook, signed as Meta signs it. */
async function customerWrites({ from, name, text }) {
  const id = `wamid.${crypto.randomBytes(12).toString('hex')}`;
  const payload = {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
          contacts: [{ profile: { name }, wa_id: from }],
          messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
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
  return id;
}

before(async () => {
  if (skip) return;
  server = new SwitchboardServer(appsConfig(), {
    name: 'ui',
    env: { SWITCHBOARD_DEV_LOGIN: '1', SWITCHBOARD_SECRET_KEY: SECRET_KEY },
  });
  workspace = cli(['workspace', 'create', '--name', 'Acme Support', '--owner-email', ALICE.email]);
  inbox = cli(['inbox', 'create-whatsapp', '--workspace', String(workspace.workspace_id), '--name', 'Support line',
    '--phone-number-id', PHONE_NUMBER_ID, '--app-secret', APP_SECRET]);
  // More open conversations than one page of the list (25), to scroll through.
  cli(['seed', '--workspace', String(workspace.workspace_id), '--conversations', String(SEEDED), '--messages', '1']);
  await server.start();
  port = server.port;
  await api('invitations', { method: 'POST', body: { email: BOB.email, role: 'agent' } });
  await api('canned_responses', { method: 'POST', body: { short_code: 'thanks', content: 'Thanks for reaching out! We are looking into it.' } });
  await api('labels', { method: 'POST', body: { name: 'delivery', color: '#2b59c3', description: 'Shipping questions' } });
  browser = await launchBrowser();
}, { timeout: 600_000 });

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('agent inbox in the browser', { skip }, () => {
  let alice; // {context, page, problems}
  let bob;
  let bobBlocked = false; // while true, Bob's websocket connections are refused
  let conversationId;

  it('shows the sign-in page, accessible, in light and dark', async () => {
    for (const colorScheme of ['light', 'dark']) {
      const { context, page, problems } = await newAgentPage(browser, base(), { colorScheme });
      await page.goto('/');
      await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
      assert.ok(await page.getByLabel('Email').isVisible(), 'the development sign-in form is offered');
      assert.equal(await page.getByRole('link', { name: 'Sign in with Google' }).count(), 0, 'Google is not configured');
      await screenshot(page, `signin-${colorScheme}`);
      assert.deepEqual(await axeScan(page), []);
      assert.deepEqual(problems, []);
      await context.close();
    }
  });

  it('signs two agents in; a customer message appears in both lists and the open conversation', async () => {
    alice = await newAgentPage(browser, base());
    bob = await newAgentPage(browser, base());
    // Bob's websockets go through a switch, so a test can keep him offline
    // (as a laptop on a train would be) while the server takes changes.
    await bob.context.routeWebSocket(/\/app\//, (ws) => {
      if (bobBlocked) ws.close({ code: 1001, reason: 'offline' });
      else ws.connectToServer();
    });
    await devSignIn(alice.page, ALICE.email, ALICE.name);
    await devSignIn(bob.page, BOB.email, BOB.name);
    for (const { page } of [alice, bob]) await page.getByRole('button', { name: 'All' }).click();

    await customerWrites({ from: '15551234567', name: 'Ann Customer', text: 'Hello, my order #1234 has not arrived yet.' });
    for (const { page } of [alice, bob]) {
      const row = page.locator('.conv-item', { hasText: 'Ann Customer' });
      await row.waitFor({ timeout: LIVE_MS });
      await row.locator('.conv-preview', { hasText: 'order #1234' }).waitFor({ timeout: LIVE_MS });
    }
    conversationId = Number(await alice.page.locator('.conv-item', { hasText: 'Ann Customer' }).getAttribute('data-id'));
    assert.ok(conversationId > 0);

    await alice.page.locator('.conv-item', { hasText: 'Ann Customer' }).click();
    await bob.page.locator('.conv-item', { hasText: 'Ann Customer' }).click();
    for (const { page } of [alice, bob]) {
      await page.locator('#conv-title', { hasText: 'Ann Customer' }).waitFor();
      await page.locator('.msg-in', { hasText: 'order #1234' }).waitFor();
    }

    await customerWrites({ from: '15551234567', name: 'Ann Customer', text: 'It was due on Monday.' });
    for (const { page } of [alice, bob]) {
      await page.locator('.msg-in', { hasText: 'due on Monday' }).waitFor({ timeout: LIVE_MS });
    }
    await screenshot(alice.page, 'inbox-conversation');
  });

  it('shows who is viewing, who is typing, and warns of a colliding reply', async () => {
    await bob.page.locator('.viewer[aria-label="Alice Agent is viewing"]').waitFor({ timeout: LIVE_MS });
    await alice.page.locator('.viewer[aria-label="Bob Builder is viewing"]').waitFor({ timeout: LIVE_MS });

    await bob.page.locator('#composer-input').fill('Hi Ann, let me check');
    await alice.page.locator('#composer-input').pressSequentially('Hi Ann, I am on it', { delay: 10 });
    await bob.page.locator('.typing', { hasText: 'Alice Agent is typing…' }).waitFor({ timeout: LIVE_MS });
    await bob.page.locator('.collision', { hasText: 'Alice Agent is also replying' }).waitFor({ timeout: LIVE_MS });
    await screenshot(bob.page, 'conversation-typing-presence');
    await bob.page.locator('#composer-input').fill('');
  });

  it('applies assignment, status and replies by one agent live for the other', async () => {
    const a = alice.page;
    const b = bob.page;
    await a.getByLabel('Assignee', { exact: true }).selectOption({ label: BOB.name });
    await eventually(async () => (await b.getByLabel('Assignee', { exact: true }).inputValue()) !== '', { timeout: LIVE_MS, what: 'Bob sees the assignee' });
    assert.match(await b.locator('#conv-assignee option:checked').textContent(), /Bob Builder \(you\)/);

    await a.getByLabel('Status', { exact: true }).selectOption('pending');
    await eventually(async () => (await b.getByLabel('Status', { exact: true }).inputValue()) === 'pending', { timeout: LIVE_MS, what: 'Bob sees pending' });

    // Canned response by short code, then send.
    await a.locator('#composer-input').fill('');
    await a.locator('#composer-input').pressSequentially('/tha');
    await a.getByRole('option', { name: /\/thanks/ }).waitFor();
    await a.locator('#composer-input').press('Enter');
    assert.equal(await a.locator('#composer-input').inputValue(), 'Thanks for reaching out! We are looking into it.');
    await a.locator('#composer-input').press('Enter');
    await b.locator('.msg-out', { hasText: 'Thanks for reaching out' }).waitFor({ timeout: LIVE_MS });
    await b.locator('.typing:empty').waitFor({ timeout: LIVE_MS });

    // The inbox has no access token, so WhatsApp refuses the reply: both
    // agents see why, with a Retry button.
    await b.locator('.msg-failed .msg-error', { hasText: 'Not delivered' }).waitFor({ timeout: LIVE_MS });
    await a.locator('.msg-failed').getByRole('button', { name: 'Retry' }).waitFor({ timeout: LIVE_MS });

    // A private note, styled apart, @mentioning Bob: he is told on his
    // own channel (private-agent-{id}).
    await a.getByRole('radio', { name: 'Private note' }).click();
    await a.locator('#composer-input').fill('Carrier says Tuesday. ');
    await a.locator('#composer-input').pressSequentially('@Bo');
    await a.getByRole('option', { name: /@Bob Builder/ }).waitFor();
    await a.locator('#composer-input').press('Enter');
    assert.equal(await a.locator('#composer-input').inputValue(), 'Carrier says Tuesday. @Bob Builder ');
    await a.locator('#composer-input').press('Enter');
    await b.locator('.msg-note', { hasText: 'Carrier says Tuesday. @Bob Builder' }).waitFor({ timeout: LIVE_MS });
    await b.locator('.toast', { hasText: 'You were mentioned in a note.' }).waitFor({ timeout: LIVE_MS });
    await screenshot(b, 'conversation-reply-failed-note');
  });

  it('catches up after a server restart, showing the banner and no duplicates', async () => {
    const b = bob.page;
    bobBlocked = true;
    await server.stop();
    await b.locator('.banner', { hasText: 'Reconnecting' }).waitFor({ timeout: LIVE_MS });
    await screenshot(b, 'reconnecting-banner');
    await server.start({ port });

    // Committed while Bob is away: a message in the open conversation, a
    // new conversation, and a status change through the API.
    await customerWrites({ from: '15551234567', name: 'Ann Customer', text: 'Any news? Sent while you were away.' });
    await customerWrites({ from: '15557654321', name: 'Ben Buyer', text: 'Do you ship to Canada?' });
    await api(`conversations/${conversationId}`, { method: 'PATCH', body: { status: 'open' } });
    assert.equal(await b.locator('.msg', { hasText: 'Sent while you were away' }).count(), 0, 'Bob was offline');

    bobBlocked = false;
    await b.locator('.banner', { hasText: 'Back online' }).waitFor({ timeout: 40_000 });
    await b.locator('.msg-in', { hasText: 'Sent while you were away' }).waitFor({ timeout: LIVE_MS });
    await b.locator('.conv-item', { hasText: 'Ben Buyer' }).waitFor({ timeout: LIVE_MS });
    await eventually(async () => (await b.getByLabel('Status', { exact: true }).inputValue()) === 'open', { timeout: LIVE_MS, what: 'status caught up' });

    // And live again afterwards.
    await customerWrites({ from: '15551234567', name: 'Ann Customer', text: 'Thanks, talk soon.' });
    await b.locator('.msg-in', { hasText: 'talk soon' }).waitFor({ timeout: LIVE_MS });

    const msgIDs = await b.locator('.msg').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.equal(new Set(msgIDs).size, msgIDs.length, `duplicate message rows: ${msgIDs}`);
    assert.equal(await b.locator('.msg', { hasText: 'Sent while you were away' }).count(), 1);
    const rowIDs = await b.locator('.conv-item').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.equal(new Set(rowIDs).size, rowIDs.length, `duplicate list rows: ${rowIDs}`);

    // Ben's conversation arrived while Bob looked at Ann's: it is unread,
    // and counted in the title, until Bob moves to it with "j".
    await b.locator('.conv-item.unread', { hasText: 'Ben Buyer' }).waitFor();
    assert.match(await b.title(), /^\(\d+\) Acme Support · Switchboard$/);
    const unreadBefore = Number(/^\((\d+)\)/.exec(await b.title())[1]);
    await b.evaluate(() => document.activeElement?.blur());
    await b.keyboard.press('j');
    await b.locator('#conv-title', { hasText: 'Ben Buyer' }).waitFor();
    await b.locator('.conv-item:not(.unread)', { hasText: 'Ben Buyer' }).waitFor();
    await eventually(async () => {
      const m = /^\((\d+)\)/.exec(await b.title());
      return (m ? Number(m[1]) : 0) === unreadBefore - 1;
    }, { what: 'one unread conversation fewer in the title' });
    await b.keyboard.press('k');
    await b.locator('#conv-title', { hasText: 'Ann Customer' }).waitFor();
    await b.evaluate(() => document.activeElement?.blur());
    await b.keyboard.press('r');
    assert.equal(await b.evaluate(() => document.activeElement?.id), 'composer-input');
    await b.keyboard.press('Escape');
    await b.keyboard.press('/');
    assert.equal(await b.evaluate(() => document.activeElement?.id), 'search');

    // Chromium logs each refused reconnect while the server was down; that
    // is the outage, not a fault of the page.
    for (const agent of [alice, bob]) {
      const kept = agent.problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
      agent.problems.splice(0, agent.problems.length, ...kept);
    }
  });

  it('searches messages, has no serious accessibility violations, and a settings page', async () => {
    await alice.page.getByLabel('Search messages and contacts').fill('Canada');
    await alice.page.getByLabel('Search messages and contacts').press('Enter');
    await alice.page.locator('.conv-item.result', { hasText: 'Do you ship to Canada?' }).waitFor({ timeout: LIVE_MS });
    await alice.page.getByRole('button', { name: 'Clear' }).click();
    await alice.page.locator('.conv-item', { hasText: 'Ben Buyer' }).waitFor();

    // Infinite scroll: the first page holds 25; scrolling to the end of the
    // list fetches the rest through the cursor, each conversation once.
    // The pages come with each row's contact and newest message
    // (include=preview): no request per row.
    const perRow = [];
    const watch = (req) => { if (/\/api\/v1\/contacts\/\d+$|\/messages\?limit=1$/.test(req.url())) perRow.push(req.url()); };
    alice.page.on('request', watch);
    const rows = alice.page.locator('.conv-item');
    const open = SEEDED + 2; // the seeded ones, Ann's and Ben's
    assert.ok(await rows.count() < open, `the first page lists ${await rows.count()} of ${open}`);
    await eventually(async () => {
      await alice.page.locator('#conv-list').evaluate((el) => { el.scrollTop = el.scrollHeight; });
      return (await rows.count()) === open;
    }, { timeout: LIVE_MS, what: `all ${open} conversations listed` });
    const listed = await rows.evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.equal(new Set(listed).size, open);
    alice.page.off('request', watch);
    assert.deepEqual(perRow, [], 'rows fetched their contact or message one by one');
    const names = await rows.locator('.conv-name').allTextContents();
    assert.deepEqual(names.filter((n) => /^Conversation #/.test(n)), [], 'every row names its contact');
    const previews = await rows.locator('.conv-preview').allTextContents();
    assert.deepEqual(previews.filter((t) => !t.trim()), [], 'every row shows its newest message');
    assert.deepEqual(await axeScan(alice.page), []);
    await alice.page.goto('/#/settings');
    await alice.page.locator('#app-key', { hasText: workspace.app_key }).waitFor();
    await alice.page.locator('td', { hasText: BOB.email }).waitFor();
    await screenshot(alice.page, 'settings');
    assert.deepEqual(await axeScan(alice.page), []);

    const dark = await newAgentPage(browser, base(), { colorScheme: 'dark', viewport: { width: 700, height: 800 } });
    await devSignIn(dark.page, ALICE.email, ALICE.name);
    await dark.page.getByRole('button', { name: 'All' }).click();
    await dark.page.goto(`/#/c/${conversationId}`);
    await dark.page.locator('.msg-in', { hasText: 'talk soon' }).waitFor();
    await screenshot(dark.page, 'conversation-dark-700px');
    assert.deepEqual(await axeScan(dark.page), []);
    assert.deepEqual(dark.problems, []);
    await dark.context.close();

    assert.deepEqual(alice.problems, []);
    await alice.context.close();
    await bob.context.close();
  });
});
