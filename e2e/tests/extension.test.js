// The Chrome extension in a real Chromium (Debian's, driven by
// playwright-core) with static/extension loaded unpacked into a persistent
// profile. The agent connects it by pasting a token; a customer message
// posted to the signed WhatsApp webhook creates a notification and, once
// the conversation is the agent's, the badge counts it; a quick reply from
// the popup reaches the conversation; after Chrome stops the service
// worker, what happened meanwhile is caught up from the events API when
// it starts again; revoking the token turns the badge to the disconnected
// colour. Then the agent connects through the server's connect page and
// signs out, which revokes that token on the server. Screenshots of the
// popup and the pages go to e2e/artifacts/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { appsConfig } from '../lib/apps.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { eventually } from '../lib/wait.js';
import { CHROMIUM, haveChromium, missing, screenshot } from '../lib/browser.js';
import { badge, launchExtension, notificationIds, serviceWorker, stopWorkers, stored } from '../lib/extension.js';

const SECRET_KEY = crypto.randomBytes(32).toString('base64');
const APP_SECRET = 'meta-app-secret-for-extension-tests';
const PHONE_NUMBER_ID = '106540352242977';
const ALICE = { email: 'alice@ext.e2e.test', name: 'Alice Agent' };
const BOB = { email: 'bob@ext.e2e.test', name: 'Bob Builder' };
const CUSTOMER = { from: '15557654321', name: 'Ann Customer' };
const LIVE_MS = 15_000; // a step on two shared cores: generous, never a pass/fail timing
const LIVE = '#2b59c3';
const DISCONNECTED = '#80868b';

let server;
let workspace;
let inbox;
let ext; // {context, extensionId, close}
let me;
const skip = haveChromium() ? false : missing(`Chromium is not installed at ${CHROMIUM}`);

function base() {
  return `http://${HOST}:${server.port}`;
}

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args, { SWITCHBOARD_SECRET_KEY: SECRET_KEY });
}

async function api(path, { method = 'GET', body, token = workspace.api_token } = {}) {
  const res = await fetch(`${base()}/api/v1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** customerWrites posts a WhatsApp Cloud API webhook, signed as Meta signs it. */
async function customerWrites(text, customer = CUSTOMER) {
  const id = `wamid.${crypto.randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
          contacts: [{ profile: { name: customer.name }, wa_id: customer.from }],
          messages: [{ from: customer.from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
        },
      }],
    }],
  });
  const sig = crypto.createHmac('sha256', APP_SECRET).update(body).digest('hex');
  const res = await fetch(`${base()}/channels/whatsapp/${inbox.inbox_id}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` },
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

/** eventOf finds the logged event of kind whose message body is text. */
async function eventOf(kind, text) {
  return eventually(async () => {
    const page = await api('events?after=0&limit=1000');
    return page.events.find((e) => e.kind === kind && e.payload?.message?.body === text);
  }, { what: `the ${kind} event of "${text}"` });
}

/**
 * extensionPage opens one of the extension's pages in a tab, collecting
 * its console errors and uncaught exceptions; closeClean closes it and
 * asserts there were none.
 */
async function extensionPage(name) {
  const page = await ext.context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  await page.setViewportSize({ width: 400, height: 600 });
  await page.goto(`chrome-extension://${ext.extensionId}/${name}`);
  return page;
}

async function closeClean(page) {
  await page.close();
  assert.deepEqual(page.problems, [], `${page.url()} had errors`);
}

async function worker() {
  return serviceWorker(ext.context, ext.extensionId);
}

async function waitBadge(want, what) {
  let seen;
  return eventually(async () => {
    seen = await badge(await worker());
    return seen.text === want.text && seen.colour === want.colour ? seen : false;
  }, { timeout: LIVE_MS, what: () => `${what}: badge ${JSON.stringify(want)}, have ${JSON.stringify(seen)}` });
}

async function waitNotification(id, what) {
  let seen;
  return eventually(async () => {
    seen = await notificationIds(await worker());
    return seen.includes(id);
  }, { timeout: LIVE_MS, what: () => `${what}: notification ${id}, have ${JSON.stringify(seen)}` });
}

before(async () => {
  if (skip) return;
  server = new SwitchboardServer(appsConfig(), {
    name: 'extension',
    env: { SWITCHBOARD_DEV_LOGIN: '1', SWITCHBOARD_SECRET_KEY: SECRET_KEY },
  });
  workspace = cli(['workspace', 'create', '--name', 'Acme Support', '--owner-email', ALICE.email, '--owner-name', ALICE.name]);
  inbox = cli(['inbox', 'create-whatsapp', '--workspace', String(workspace.workspace_id), '--name', 'Support line',
    '--phone-number-id', PHONE_NUMBER_ID, '--app-secret', APP_SECRET]);
  await server.start();
  me = await api('me');
  // A knowledge base the offline suggester drafts the popup's reply from.
  await api('knowledge_articles', { method: 'POST', body: { title: 'Late orders',
    body: 'It was due on Monday? An order that is late ships again at once, free of charge, and arrives within two days.' } });
  ext = await launchExtension();
}, { timeout: 600_000 });

after(async () => {
  await ext?.close();
  await server?.close();
});

describe('the Chrome extension', { skip }, () => {
  let token; // {id, token}: the pasted one
  let conversationId;

  it('connects with a pasted token', async () => {
    const first = await waitBadge({ text: '', colour: DISCONNECTED }, 'not connected yet');
    assert.equal(first.title, 'Switchboard: not connected');
    token = await api('tokens', { method: 'POST', body: { name: 'e2e extension', role: 'agent' } });

    const page = await extensionPage('options.html');
    await page.getByText('Not connected.').waitFor();
    await page.getByLabel('Server address').fill(base());
    await page.getByText('Or paste an API token').click();
    await page.getByLabel('API token').fill('sbt_not-a-real-token');
    await page.getByRole('button', { name: 'Connect with token' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not accept this token' }).waitFor({ timeout: LIVE_MS });

    await page.getByLabel('API token').fill(token.token);
    await page.getByRole('button', { name: 'Connect with token' }).click();
    await page.getByText('Connected, live.').waitFor({ timeout: LIVE_MS });
    await page.getByText(`Connected to Acme Support as ${ALICE.name}`).waitFor();
    await screenshot(page, 'extension-options-connected');
    await closeClean(page);

    const s = await stored(await worker(), ['token', 'tokenId', 'server', 'status', 'lastSeq']);
    assert.equal(s.token, token.token);
    assert.equal(s.tokenId, token.id, 'the token id was looked up, so signing out can revoke it');
    assert.equal(s.server, base());
    assert.equal(s.status, 'live');
    assert.equal(typeof s.lastSeq, 'number');
    await waitBadge({ text: '', colour: LIVE }, 'connected, nothing unread');
  });

  it('notifies of a customer message and counts it on the badge once the conversation is the agent\'s', async () => {
    await customerWrites('Hello, my order #1234 has not arrived yet.');
    const first = await eventOf('message.created', 'Hello, my order #1234 has not arrived yet.');
    conversationId = first.payload.conversation.id;
    const firstID = `sb:${conversationId}:message:${first.seq}`;
    await waitNotification(firstID, 'an unassigned conversation\'s new message');
    // Clicking it opens the conversation in the web inbox.
    const opened = ext.context.waitForEvent('page', { timeout: LIVE_MS });
    await (await worker()).evaluate((id) => globalThis.switchboard.openNotification(id), firstID);
    const tab = await opened;
    await tab.waitForURL(`${base()}/#/c/${conversationId}`);
    await tab.close();
    assert.ok(!(await notificationIds(await worker())).includes(firstID), 'a clicked notification is cleared');
    // Unassigned: nothing of the agent's is unread yet.
    assert.equal((await badge(await worker())).text, '');

    await api(`conversations/${conversationId}`, { method: 'PATCH', body: { assignee_id: me.agent.id } });
    await waitBadge({ text: '1', colour: LIVE }, 'assigned, unread');
    const assigned = await eventually(async () => (await api('events?after=0&limit=1000')).events
      .find((e) => e.kind === 'conversation.updated' && e.payload.conversation.assignee_id === me.agent.id), { what: 'the assignment event' });
    await waitNotification(`sb:${conversationId}:assigned:${assigned.seq}`, 'the assignment');

    await customerWrites('It was due on Monday.');
    const second = await eventOf('message.created', 'It was due on Monday.');
    await waitNotification(`sb:${conversationId}:message:${second.seq}`, 'the assigned conversation\'s new message');
    await waitBadge({ text: '1', colour: LIVE }, 'one conversation, however many messages');
  });

  it('lists the conversation in the popup, and a quick reply reaches it', async () => {
    const page = await extensionPage('popup.html');
    const row = page.locator('.conv', { hasText: CUSTOMER.name });
    await row.waitFor({ timeout: LIVE_MS });
    await row.locator('.conv-preview', { hasText: 'It was due on Monday.' }).waitFor();
    assert.equal(await row.locator('.unread-dot').count(), 1, 'marked unread');
    await page.locator('#conn[data-status=live]').waitFor({ timeout: LIVE_MS });
    await screenshot(page, 'extension-popup');

    await row.locator('.conv-head').click();
    await row.getByText('Hello, my order #1234 has not arrived yet.').waitFor();
    // Read in the popup: the badge drops it.
    await waitBadge({ text: '', colour: LIVE }, 'read in the popup');

    // The AI draft: accepted into the reply box, edited, sent.
    const draft = row.locator('.draft');
    await draft.getByRole('button', { name: 'Accept' }).and(draft.locator(':enabled')).waitFor({ timeout: LIVE_MS });
    const suggested = await draft.locator('.draft-text').textContent();
    assert.match(suggested, /ships again at once/);
    await screenshot(page, 'extension-popup-draft');
    await draft.getByRole('button', { name: 'Accept' }).click();
    const box = row.getByLabel(`Reply to ${CUSTOMER.name}`);
    assert.equal(await box.inputValue(), suggested);
    const reply = `${suggested} Ref ${crypto.randomBytes(3).toString('hex')}.`;
    await box.fill(reply);
    await row.getByRole('button', { name: 'Send' }).click();
    await row.getByText('Sent.').waitFor({ timeout: LIVE_MS });
    await screenshot(page, 'extension-popup-replied');
    await closeClean(page);

    const { messages } = await api(`conversations/${conversationId}/messages?limit=10`);
    const sent = messages.filter((m) => m.body === reply);
    assert.equal(sent.length, 1, `the reply is in the conversation once: ${JSON.stringify(messages.map((m) => m.body))}`);
    assert.equal(sent[0].direction, 'out');
    assert.equal(sent[0].author_agent_id, me.agent.id);
    assert.equal(sent[0].ai_assisted, true, 'sent from the AI draft');
  });

  it('catches up on what happened while Chrome had stopped the service worker', async () => {
    const before = await worker();
    await before.evaluate(() => { self.lifeMarker = 'before the stop'; });
    await stopWorkers(ext.context, before);

    await customerWrites('Hello? Anyone there?');
    const missed = await eventOf('message.created', 'Hello? Anyone there?');

    // Any event starts it again: here, the popup asking for the status.
    const page = await extensionPage('popup.html');
    const w = await worker();
    assert.equal(await w.evaluate(() => self.lifeMarker), undefined, 'a new worker, not the stopped one');
    await eventually(() => w.evaluate(() => chrome.alarms.get('switchboard-watchdog')), { what: 'the watchdog alarm, set again' });
    await waitNotification(`sb:${conversationId}:message:${missed.seq}`, 'the message sent while stopped');
    await waitBadge({ text: '1', colour: LIVE }, 'the missed message is unread');
    const { events } = await api(`events?after=${missed.seq - 1}&limit=1000`);
    const latest = events[events.length - 1].seq;
    await eventually(async () => (await stored(w, ['lastSeq'])).lastSeq >= latest, { what: `lastSeq to reach ${latest}` });
    await page.locator('.conv-preview', { hasText: 'Anyone there?' }).waitFor({ timeout: LIVE_MS });
    await closeClean(page);
  });

  it('notifies of a mention and counts it until the conversation is read', async () => {
    // Bob joins through an invitation and writes a note mentioning Alice.
    await api('invitations', { method: 'POST', body: { email: BOB.email, role: 'agent' } });
    const res = await fetch(`${base()}/auth/dev`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: base() },
      body: JSON.stringify(BOB),
    });
    assert.equal(res.status, 200, await res.text());
    const bob = (await api('members')).members.find((a) => a.email === BOB.email);
    const bobToken = await api('tokens', { method: 'POST', body: { name: 'bob', agent_id: bob.id } });
    const text = '@Alice Agent can you check the courier?';
    await api(`conversations/${conversationId}/messages`, { method: 'POST', token: bobToken.token, body: { type: 'note', body: text, mentions: [me.agent.id] } });
    const note = await eventOf('note.created', text);
    await waitNotification(`sb:${conversationId}:mention:${note.seq}`, 'the mention');
    // The conversation (unread again: the note is new to Alice) plus the mention.
    await waitBadge({ text: '2', colour: LIVE }, 'unread conversation plus mention');

    const page = await extensionPage('popup.html');
    await page.getByRole('heading', { name: 'Mentions (1)' }).waitFor({ timeout: LIVE_MS });
    await page.getByRole('link', { name: `“${text}”` }).waitFor();
    await screenshot(page, 'extension-popup-mention');
    await page.locator('.conv', { hasText: CUSTOMER.name }).locator('.conv-head').click();
    await waitBadge({ text: '', colour: LIVE }, 'read: the mention is done too');
    await closeClean(page);
  });

  it('leaves out the notifications turned off in the options', async () => {
    const options = await extensionPage('options.html');
    const unassigned = options.getByLabel('New messages in unassigned conversations');
    await unassigned.uncheck();
    await eventually(async () => (await stored(await worker(), ['settings'])).settings?.unassigned === false, { what: 'the setting stored' });
    await closeClean(options);

    // A new customer, so a new unassigned conversation: no notification.
    // Its assignment comes after it in the log, so once the assignment's
    // notification is there, the message was seen and left alone.
    const text = 'Do you ship to Norway?';
    await customerWrites(text, { from: '15550001111', name: 'Nils Customer' });
    const msg = await eventOf('message.created', text);
    const convID = msg.payload.conversation.id;
    await api(`conversations/${convID}`, { method: 'PATCH', body: { assignee_id: me.agent.id } });
    const assigned = await eventually(async () => (await api(`events?after=${msg.seq}&limit=1000`)).events
      .find((e) => e.kind === 'conversation.updated' && e.payload.conversation.id === convID), { what: 'the assignment event' });
    await waitNotification(`sb:${convID}:assigned:${assigned.seq}`, 'the assignment, still on');
    assert.ok(!(await notificationIds(await worker())).includes(`sb:${convID}:message:${msg.seq}`), 'no notification for an unassigned conversation');
    await waitBadge({ text: '1', colour: LIVE }, 'the new conversation is the agent\'s and unread');
  });

  it('turns the badge to the disconnected colour when the token is revoked', async () => {
    await api(`tokens/${token.id}`, { method: 'DELETE' });
    await waitBadge({ text: '!', colour: DISCONNECTED }, 'revoked');
    const s = await stored(await worker(), ['token', 'status']);
    assert.equal(s.status, 'revoked');
    assert.equal(s.token, undefined, 'a revoked token is forgotten');

    const page = await extensionPage('popup.html');
    await page.getByText('The server revoked this extension\'s access.').waitFor();
    await screenshot(page, 'extension-popup-revoked');
    await closeClean(page);
  });

  it('connects through the server\'s connect page, and signing out revokes that token', async () => {
    // Sign in to the web inbox in this browser, as the agent would be.
    const web = await ext.context.newPage();
    await web.goto(`${base()}/`);
    await web.getByLabel('Email').fill(ALICE.email);
    await web.getByLabel('Name').fill(ALICE.name);
    await web.getByRole('button', { name: 'Sign in' }).click();
    await web.locator('.conn-live').waitFor({ timeout: LIVE_MS });
    await web.close();

    const options = await extensionPage('options.html');
    await options.getByLabel('Server address').fill(base());
    const opened = ext.context.waitForEvent('page', { timeout: LIVE_MS });
    await options.getByRole('button', { name: 'Connect', exact: true }).click();
    const connect = await opened;
    await connect.waitForURL(/\/extension\/connect\?nonce=/);
    await connect.getByText(`as ${ALICE.name} (${ALICE.email})`).waitFor();
    await screenshot(connect, 'extension-connect-page');
    await connect.getByRole('button', { name: 'Connect the extension' }).click();
    await connect.getByText('The extension is connected. You can close this tab.').waitFor({ timeout: LIVE_MS });
    await connect.getByRole('heading', { name: 'Extension connected' }).waitFor();
    await screenshot(connect, 'extension-connect-done');
    await connect.close();

    await options.getByText('Connected, live.').waitFor({ timeout: LIVE_MS });
    const s = await stored(await worker(), ['tokenId', 'token']);
    assert.ok(s.tokenId > 0 && s.token.startsWith('sbt_'));
    const mine = () => api('tokens').then((r) => r.tokens.map((t) => t.id));
    assert.ok((await mine()).includes(s.tokenId), 'the connect page minted the token');
    await waitBadge({ text: '1', colour: LIVE }, 'reconnected, counting again');

    await options.getByRole('button', { name: 'Sign out' }).click();
    await options.getByText('Signed out; the token is revoked on the server.').waitFor({ timeout: LIVE_MS });
    await options.getByText('Not connected.').waitFor();
    assert.ok(!(await mine()).includes(s.tokenId), 'signing out revoked the token on the server');
    await waitBadge({ text: '', colour: DISCONNECTED }, 'signed out');
    await closeClean(options);
  });
});
