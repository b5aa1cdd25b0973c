// AI draft replies with the real pusher-js: two agents' clients on the
// same conversation's presence channel, authorized through POST
// /pusher/auth with the API token, receive the same draft.delta sequence,
// in order, and the same draft.completed. The drafts come from the offline
// suggester over the workspace's knowledge articles, so nothing leaves the
// machine.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appsConfig } from '../lib/apps.js';
import { Pusher } from '../lib/clients.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { Recorder, STEP_TIMEOUT_MS } from '../lib/wait.js';

let server;
let workspace; // output of `switchboard workspace create`
let conversationId;

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args);
}

async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(`http://${HOST}:${server.port}${path}`, {
    method,
    headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** connect returns a pusher-js client that authorizes with the API token. */
function connect() {
  return new Pusher(workspace.app_key, {
    cluster: 'mt1',
    wsHost: HOST,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    enableStats: false,
    channelAuthorization: {
      customHandler: async ({ socketId, channelName }, callback) => {
        try {
          const res = await fetch(`http://${HOST}:${server.port}/pusher/auth`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
          });
          if (!res.ok) throw new Error(`/pusher/auth answered ${res.status}: ${await res.text()}`);
          callback(null, await res.json());
        } catch (err) {
          callback(err, null);
        }
      },
    },
  });
}

/** watch subscribes a client to the conversation's presence channel and records its draft events. */
async function watch(pusher, channelName) {
  const events = new Recorder('draft event');
  const channel = pusher.subscribe(channelName);
  for (const name of ['draft.delta', 'draft.completed', 'draft.failed']) {
    channel.bind(name, (data) => events.push({ name, data }));
  }
  await new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', resolve);
    channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error ${JSON.stringify(e)}`)));
    setTimeout(() => reject(new Error('no subscription_succeeded')), STEP_TIMEOUT_MS);
  });
  return events;
}

before(async () => {
  server = new SwitchboardServer(appsConfig(), { name: 'drafts' });
  workspace = cli(['workspace', 'create', '--name', 'Drafts Co', '--owner-email', 'owner@drafts.test']);
  const seeded = cli(['seed', '--workspace', String(workspace.workspace_id), '--conversations', '1', '--messages', '1']);
  conversationId = seeded.conversation_ids[0];
  await server.start();
}, { timeout: 600_000 });

after(async () => {
  await server?.close();
});

describe('AI drafts', () => {
  it('streams the same draft, in order, to every client on the conversation', async () => {
    // The customer's question, and a knowledge base that answers it.
    const msgs = await api(`/api/v1/conversations/${conversationId}/messages`);
    assert.equal(msgs.status, 200);
    const question = msgs.body.messages.find((m) => m.direction === 'in').body;
    const answer = 'Our support team answers every question like this within one business day, and you can follow it from your account page.';
    for (const article of [
      { title: 'How we handle your question', body: `${question} ${answer}` },
      { title: 'Resetting your password', body: 'On the sign-in page choose Forgot password and enter your email address. We send a reset link valid for one hour.' },
      { title: 'Gift cards', body: 'Gift cards are sent by email and never expire. Redeem a gift card code at checkout.' },
    ]) {
      const res = await api('/api/v1/knowledge_articles', { method: 'POST', body: article });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const settings = await api('/api/v1/ai/settings');
    assert.equal(settings.status, 200);
    assert.equal(settings.body.provider, 'offline');
    assert.equal(settings.body.api_key_set, false);

    const channelName = `presence-conversation-${conversationId}`;
    const alice = connect();
    const bob = connect();
    try {
      const [a, b] = await Promise.all([watch(alice, channelName), watch(bob, channelName)]);

      const started = await api(`/api/v1/conversations/${conversationId}/draft`, { method: 'POST' });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.channel, channelName);
      const id = started.body.draft_id;
      const ended = (e) => e.data.draft_id === id && e.name !== 'draft.delta';
      const [endA, endB] = await Promise.all([
        a.waitFor(ended, { what: "alice's end of the draft" }),
        b.waitFor(ended, { what: "bob's end of the draft" }),
      ]);
      assert.equal(endA.name, 'draft.completed', JSON.stringify(endA.data));
      assert.deepEqual(endB, endA);

      const deltas = (r) => r.items.filter((e) => e.data.draft_id === id && e.name === 'draft.delta').map((e) => e.data);
      const da = deltas(a);
      assert.ok(da.length > 0, 'no draft.delta before draft.completed');
      assert.deepEqual(da.map((d) => d.seq), da.map((_, i) => i + 1), 'deltas numbered from 1, in order');
      assert.deepEqual(deltas(b), da, 'both clients got the same deltas');
      assert.equal(da.map((d) => d.text).join(''), endA.data.text);
      assert.equal(endA.data.model, 'offline');
      assert.ok(endA.data.text.includes('one business day'), endA.data.text);
      assert.equal(endA.data.sources[0].kind, 'article');
      assert.equal(endA.data.sources[0].title, 'How we handle your question');

      // A reply sent from the draft records the assistance.
      const sent = await api(`/api/v1/conversations/${conversationId}/messages`, {
        method: 'POST', body: { body: endA.data.text, draft_id: id },
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.equal(sent.body.ai_assisted, true);
    } finally {
      alice.disconnect();
      bob.disconnect();
    }
  });

  it('refuses a draft for a contact with AI turned off', async () => {
    const conv = await api(`/api/v1/conversations/${conversationId}`);
    assert.equal(conv.status, 200);
    const off = await api(`/api/v1/contacts/${conv.body.contact_id}/ai`, { method: 'POST', body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    const res = await api(`/api/v1/conversations/${conversationId}/draft`, { method: 'POST' });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'contact_ai_off');
  });
});
