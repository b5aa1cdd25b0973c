// An agent sends files from the composer in a real Chromium. The customer
// writes through an API-channel inbox; the agent attaches a PNG and a PDF
// (chips show them, one removable), types a caption and sends. The
// message shows both files for the agent and, live, for a colleague; the
// reply reaches the inbox's webhook receiver with signed links to this
// server, and fetching them (as a provider would) gives back exactly the
// files, while a tampered link is 404. Screenshots go to e2e/artifacts/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { appsConfig } from '../lib/apps.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { eventually } from '../lib/wait.js';
import { testPNG } from '../lib/images.js';
import { axeScan, CHROMIUM, devSignIn, haveChromium, launchBrowser, missing, newAgentPage, screenshot } from '../lib/browser.js';

const SECRET_KEY = crypto.randomBytes(32).toString('base64');
const INBOUND_TOKEN = crypto.randomBytes(24).toString('hex');
const WEBHOOK_SECRET = crypto.randomBytes(24).toString('hex');
const ALICE = { email: 'alice@attach.e2e.test', name: 'Alice Admin' };
const BOB = { email: 'bob@attach.e2e.test', name: 'Bob Agent' };
const LIVE_MS = 15_000; // a UI step on shared cores: generous, never a pass/fail timing

// A PNG and a PDF, as the files the agent picks.
const PNG = testPNG(120, 80);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

let server;
let port;
let workspace;
let browser;
let receiver;
const hooks = []; // the webhooks the receiver got
const skip = haveChromium() ? false : missing(`Chromium is not installed at ${CHROMIUM}`);

function base() {
  return `http://${HOST}:${port}`;
}

/** freePort finds a loopback port to start the server on, so its public URL is known first. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args, { SWITCHBOARD_SECRET_KEY: SECRET_KEY });
}

async function api(p) {
  const res = await fetch(`${base()}/api/v1/${p}`, { headers: { Authorization: `Bearer ${workspace.api_token}` } });
  const text = await res.text();
  assert.ok(res.ok, `GET ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

before(async () => {
  if (skip) return;
  // The inbox's webhook receiver: it answers with an id and keeps what it got.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hooks.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: `ext-${hooks.length}` }));
    });
  });
  await new Promise((resolve) => receiver.listen(0, HOST, resolve));
  port = await freePort();
  server = new SwitchboardServer(appsConfig(), {
    name: 'ui-attachments',
    env: { SWITCHBOARD_DEV_LOGIN: '1', SWITCHBOARD_SECRET_KEY: SECRET_KEY, SWITCHBOARD_PUBLIC_URL: `http://${HOST}:${port}` },
  });
  workspace = cli(['workspace', 'create', '--name', 'Attach Co', '--owner-email', ALICE.email]);
  const config = JSON.stringify({ inbound_token: INBOUND_TOKEN, webhook_url: `http://${HOST}:${receiver.address().port}/hook`, webhook_secret: WEBHOOK_SECRET });
  cli(['inbox', 'create', '--workspace', String(workspace.workspace_id), '--kind', 'api', '--name', 'Website', '--config', config]);
  await server.start({ port });
  browser = await launchBrowser();
}, { timeout: 600_000 });

after(async () => {
  await browser?.close();
  await server?.close();
  receiver?.close();
});

describe('sending files from the composer', { skip }, () => {
  it('sends a PNG and a PDF with a caption; the receiver gets signed links that serve exactly them', async () => {
    const inboxes = await api('inboxes');
    const website = inboxes.inboxes.find((i) => i.name === 'Website');
    const res = await fetch(`${base()}/channels/api/${website.id}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${INBOUND_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ contact: { id: 'u-7', name: 'Wanda Web' }, message: { id: 'w1', text: 'Can you send the invoice and the chart?' } }),
    });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);

    const alice = await newAgentPage(browser, base());
    const bob = await newAgentPage(browser, base());
    await devSignIn(alice.page, ALICE.email, ALICE.name);
    await cliInvite(BOB.email);
    await devSignIn(bob.page, BOB.email, BOB.name);
    for (const p of [alice.page, bob.page]) {
      await p.getByRole('button', { name: 'All' }).click();
      await p.locator('.conv-item', { hasText: 'Wanda Web' }).click({ timeout: LIVE_MS });
      await p.locator('.msg-in', { hasText: 'Can you send the invoice' }).waitFor({ timeout: LIVE_MS });
    }

    const a = alice.page;
    await a.locator('#composer-files').setInputFiles([
      { name: 'chart.png', mimeType: 'image/png', buffer: PNG },
      { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'oops.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') },
    ]);
    const chips = a.locator('.attachments .attachment-chip');
    await eventually(async () => (await chips.count()) === 3, { what: 'three chips' });
    await a.getByRole('button', { name: 'Remove oops.txt' }).click();
    await eventually(async () => (await chips.count()) === 2, { what: 'the removed chip gone' });
    await a.locator('#composer-input').fill('Here they are');
    await screenshot(a, 'composer-attachments');
    assert.deepEqual(await axeScan(a), []);
    await a.getByRole('button', { name: 'Send', exact: true }).click();

    // Both agents see the files on the sent message; the composer is clear.
    for (const p of [a, bob.page]) {
      const msg = p.locator('.msg-out', { hasText: 'Here they are' });
      await msg.waitFor({ timeout: LIVE_MS });
      const img = msg.locator('.media-thumb img');
      await img.waitFor({ timeout: LIVE_MS });
      await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth === 120), { timeout: LIVE_MS, what: 'the image loaded' });
      await msg.locator('a.media-file', { hasText: 'invoice.pdf' }).waitFor({ timeout: LIVE_MS });
    }
    assert.equal(await chips.count(), 0);
    assert.equal(await a.locator('#composer-input').inputValue(), '');

    // The receiver got the reply with signed links; they serve the files.
    await eventually(() => hooks.length === 1, { timeout: LIVE_MS, what: 'the webhook' });
    const { message } = hooks[0].body;
    assert.equal(message.type, 'media');
    assert.equal(message.text, 'Here they are');
    assert.deepEqual(message.attachments.map((x) => [x.filename, x.content_type]), [['chart.png', 'image/png'], ['invoice.pdf', 'application/pdf']]);
    for (const [i, want] of [PNG, PDF].entries()) {
      const u = message.attachments[i].url;
      assert.ok(u.startsWith(`${base()}/media/public/`), u);
      const got = await fetch(u);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), want);
      const bad = new URL(u);
      bad.searchParams.set('signature', '0'.repeat(64));
      assert.equal((await fetch(bad)).status, 404, 'a tampered link is refused');
    }
    // Delivered: the message is marked sent on the agent's screen.
    await a.locator('.msg-out', { hasText: 'Here they are' }).locator('.tick-sent').waitFor({ timeout: LIVE_MS });
    await screenshot(bob.page, 'conversation-sent-attachments');
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});

/** cliInvite lets Bob in as an agent. */
async function cliInvite(email) {
  const res = await fetch(`${base()}/api/v1/invitations`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, role: 'agent' }),
  });
  assert.ok(res.ok, `${res.status} ${await res.text()}`);
}
