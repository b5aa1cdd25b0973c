// Data rights in a real Chromium. An owner opens Settings → Data &
// privacy: saves retention settings, sees a dry run's counts, finds the
// workspace archive button, and the erasure requests with their status.
// From a customer's contact panel she exports the contact as JSON and CSV
// (the files carry the customer's messages) and erases them behind a
// typed confirmation: the request completes, the contact and conversation
// are gone from the API, and the settings list shows it completed. An
// agent sees none of these controls. Meta's data-deletion callback,
// signed with the inbox's app secret, answers the documented JSON and its
// status page shows completed; a bad signature is refused. axe-core finds
// no serious or critical violation; screenshots go to e2e/artifacts/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { appsConfig } from '../lib/apps.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { eventually } from '../lib/wait.js';
import { axeScan, CHROMIUM, devSignIn, haveChromium, launchBrowser, missing, newAgentPage, screenshot } from '../lib/browser.js';

const SECRET_KEY = crypto.randomBytes(32).toString('base64');
const APP_SECRET = 'meta-app-secret-for-ui-datarights-tests';
const PHONE_NUMBER_ID = '106540352242977';
const OWNER = { email: 'olga@datarights.e2e.test', name: 'Olga Owner' };
const AGENT = { email: 'arno@datarights.e2e.test', name: 'Arno Agent' };
const LIVE_MS = 15_000; // a UI step on shared cores: generous, never a pass/fail timing

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
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** customerWrites posts a WhatsApp Cloud API webhook, signed as Meta signs it. */
async function customerWrites({ from, name, text }) {
  const body = JSON.stringify({
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
  });
  const sig = crypto.createHmac('sha256', APP_SECRET).update(body).digest('hex');
  const res = await fetch(`${base()}/channels/whatsapp/${inbox.inbox_id}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` },
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

/** contactNamed finds the contact called name through the API. */
async function contactNamed(name) {
  const { body } = await api(`contacts?q=${encodeURIComponent(name.split(' ')[0])}`);
  const c = body.contacts.find((x) => x.name === name);
  assert.ok(c, `no contact ${name} in ${JSON.stringify(body)}`);
  return c;
}

/** signedRequest signs a data-deletion payload as Meta does. */
function signedRequest(userID, secret = APP_SECRET) {
  const payload = Buffer.from(JSON.stringify({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: userID })).toString('base64url');
  const sig = crypto.createHmac('sha256', secret).update(payload).digest('base64url');
  return `${sig}.${payload}`;
}

before(async () => {
  if (skip) return;
  server = new SwitchboardServer(appsConfig(), {
    name: 'ui-datarights',
    env: { SWITCHBOARD_DEV_LOGIN: '1', SWITCHBOARD_SECRET_KEY: SECRET_KEY },
  });
  workspace = cli(['workspace', 'create', '--name', 'Initech Care', '--owner-email', OWNER.email]);
  inbox = cli(['inbox', 'create-whatsapp', '--workspace', String(workspace.workspace_id), '--name', 'WhatsApp line',
    '--phone-number-id', PHONE_NUMBER_ID, '--app-secret', APP_SECRET]);
  await server.start();
  const inv = await api('invitations', { method: 'POST', body: { email: AGENT.email, role: 'agent' } });
  assert.equal(inv.status, 201, JSON.stringify(inv.body));
  browser = await launchBrowser();
}, { timeout: 600_000 });

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('data rights in the browser', { skip }, () => {
  let owner;

  it('shows Data & privacy to an owner: retention saved, a dry run counted, the archive button, erasure requests', async () => {
    owner = await newAgentPage(browser, base());
    await devSignIn(owner.page, OWNER.email, OWNER.name);
    const p = owner.page;
    await p.goto('/#/settings');
    const sec = p.locator('#data-section');
    await sec.getByRole('heading', { name: 'Data & privacy' }).waitFor();
    assert.equal(await sec.getByLabel('Keep conversations (days after last activity)').inputValue(), '90');
    assert.equal(await sec.getByLabel('Keep media (days)').inputValue(), '30');

    await sec.getByLabel('Keep conversations (days after last activity)').fill('365');
    await sec.getByRole('button', { name: 'Save retention' }).click();
    await eventually(async () => (await api('retention')).body.message_days === 365, { timeout: LIVE_MS, what: 'retention saved' });

    await sec.getByRole('button', { name: 'Dry run' }).click();
    await sec.locator('#retention-result', { hasText: /A run now would delete 0 conversations, 0 messages, 0 media items and \d+ events\./ })
      .waitFor({ timeout: LIVE_MS });

    const archive = sec.getByRole('button', { name: 'Download workspace archive' });
    assert.equal(await archive.isVisible(), true);
    // The download reports the bytes it received.
    const [download] = await Promise.all([p.waitForEvent('download', { timeout: LIVE_MS }), archive.click()]);
    assert.ok(fs.statSync(await download.path()).size > 0);
    await sec.locator('#archive-progress', { hasText: /^Downloaded \d/ }).waitFor({ timeout: LIVE_MS });
    await sec.getByText('No erasure requests.').waitFor();
    // The packed Chrome extension, for admins to hand out.
    const ext = p.locator('#extension-section a#extension-download');
    const zip = await p.evaluate(async (href) => {
      const r = await fetch(href);
      const b = new Uint8Array(await r.arrayBuffer());
      return [r.status, String.fromCharCode(b[0], b[1])];
    }, await ext.getAttribute('href'));
    assert.deepEqual(zip, [200, 'PK']);
    await sec.scrollIntoViewIfNeeded();
    await screenshot(p, 'datarights-settings');
    assert.deepEqual(await axeScan(p), []);
    assert.deepEqual(owner.problems, []);
  });

  it('exports a contact as JSON and CSV and erases them behind a typed confirmation', async () => {
    await customerWrites({ from: '15550127001', name: 'Zed Erasable', text: 'Please delete my parcel history zq-e2e-secret' });
    const p = owner.page;
    await p.goto('/#/');
    await p.getByRole('button', { name: 'All' }).click();
    const row = p.locator('.conv-item', { hasText: 'Zed Erasable' });
    await row.waitFor({ timeout: LIVE_MS });
    await row.click();
    await p.locator('.msg-in', { hasText: 'zq-e2e-secret' }).waitFor({ timeout: LIVE_MS });
    const data = p.locator('section', { has: p.getByRole('heading', { name: 'Data', exact: true }) });
    await data.waitFor({ timeout: LIVE_MS });

    const [json] = await Promise.all([p.waitForEvent('download'), data.getByRole('link', { name: 'Export JSON' }).click()]);
    const doc = JSON.parse(fs.readFileSync(await json.path(), 'utf8'));
    assert.equal(doc.contact.name, 'Zed Erasable');
    assert.deepEqual(doc.contact.identities.map((i) => i.external_id), ['15550127001']);
    assert.ok(doc.conversations[0].messages.some((m) => m.body.includes('zq-e2e-secret')), JSON.stringify(doc));
    const [csv] = await Promise.all([p.waitForEvent('download'), data.getByRole('link', { name: 'Export CSV' }).click()]);
    const lines = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.match(lines[0], /^contact_id,contact_name,conversation_id,/);
    assert.ok(lines.slice(1).some((l) => l.includes('zq-e2e-secret')), lines.join('\n'));

    const contact = await contactNamed('Zed Erasable');
    const audit = await api('audit?action=contact.exported');
    assert.equal(audit.body.entries.length, 2, JSON.stringify(audit.body));

    await data.getByRole('button', { name: 'Erase…' }).click();
    const erase = data.getByRole('button', { name: 'Erase contact' });
    assert.equal(await erase.isDisabled(), true, 'erasing needs the typed confirmation');
    await data.getByLabel('Type ERASE to confirm').fill('erase');
    assert.equal(await erase.isDisabled(), true, 'the confirmation is case-sensitive');
    await data.getByLabel('Type ERASE to confirm').fill('ERASE');
    await screenshot(p, 'datarights-erase-confirm');
    assert.deepEqual(await axeScan(p), []);
    await erase.click();

    await eventually(async () => {
      const { body } = await api('erasures');
      return body.erasures.length === 1 && body.erasures[0].status === 'completed' && body.erasures[0];
    }, { timeout: LIVE_MS, what: 'the erasure completed' });
    assert.equal((await api(`contacts/${contact.id}`)).status, 404);
    const search = await api('search?q=zq-e2e-secret');
    assert.deepEqual(search.body.messages, [], JSON.stringify(search.body));
    // Live clients drop the erased conversation.
    await row.waitFor({ state: 'detached', timeout: LIVE_MS });

    await p.goto('/#/settings');
    const list = p.locator('#erasure-list');
    await list.locator('tr', { hasText: `#${contact.id}` }).locator('.pill', { hasText: 'completed' }).waitFor({ timeout: LIVE_MS });
    await p.locator('#data-section').scrollIntoViewIfNeeded();
    await screenshot(p, 'datarights-erasures');
    assert.deepEqual(await axeScan(p), []);
    assert.deepEqual(owner.problems, []);
  });

  it('hides data rights from agents', async () => {
    await customerWrites({ from: '15550127002', name: 'Yara Kept', text: 'I stay' });
    const agent = await newAgentPage(browser, base());
    await devSignIn(agent.page, AGENT.email, AGENT.name);
    const p = agent.page;
    await p.getByRole('button', { name: 'All' }).click();
    await p.locator('.conv-item', { hasText: 'Yara Kept' }).click();
    await p.locator('.msg-in', { hasText: 'I stay' }).waitFor({ timeout: LIVE_MS });
    await p.getByRole('heading', { name: 'Conversations', exact: true }).waitFor();
    assert.equal(await p.getByRole('link', { name: 'Export JSON' }).count(), 0);
    await p.goto('/#/settings');
    await p.locator('#members-section table').waitFor();
    assert.equal(await p.locator('#data-section').count(), 0);
    assert.equal(await p.locator('#extension-section').count(), 0);
    const contact = await contactNamed('Yara Kept');
    const res = await fetch(`${base()}/api/v1/contacts/${contact.id}/export`, { headers: { Cookie: (await agent.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
    assert.equal(res.status, 403);
    assert.deepEqual(agent.problems, []);
    await agent.context.close();
  });

  it('answers Meta\'s data-deletion callback and shows its status page', async () => {
    await customerWrites({ from: '15550127003', name: 'Meta Mona', text: 'delete me via Facebook' });
    const mona = await contactNamed('Meta Mona');
    const url = `${base()}/channels/meta/${inbox.inbox_id}/data-deletion`;
    const bad = await fetch(url, { method: 'POST', body: new URLSearchParams({ signed_request: signedRequest('15550127003', 'not-the-secret') }) });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json()).error.code, 'bad_signature');
    assert.equal((await api(`contacts/${mona.id}`)).status, 200, 'a bad signature erases nothing');

    const res = await fetch(url, { method: 'POST', body: new URLSearchParams({ signed_request: signedRequest('15550127003') }) });
    assert.equal(res.status, 200);
    const reply = await res.json();
    assert.deepEqual(Object.keys(reply).sort(), ['confirmation_code', 'url']);
    assert.equal(reply.url, `${base()}/channels/meta/data-deletion/${reply.confirmation_code}`);
    await eventually(async () => (await api(`contacts/${mona.id}`)).status === 404, { timeout: LIVE_MS, what: 'Mona erased' });

    const page = await newAgentPage(browser, base());
    await page.page.goto(reply.url);
    await page.page.locator('#status', { hasText: 'completed' }).waitFor({ timeout: LIVE_MS });
    const html = await page.page.content();
    assert.ok(!html.includes('Mona') && !html.includes('15550127003'), html);
    await screenshot(page.page, 'datarights-meta-status');
    assert.deepEqual(await axeScan(page.page), []);
    assert.deepEqual(page.problems, []);
    await page.context.close();

    const unknown = await fetch(`${base()}/channels/meta/data-deletion/AAAAAAAAAAAAAAAAAAAA`);
    assert.equal(unknown.status, 404);
  });
});
