// The inbox's live events with the real pusher-js: a workspace created with
// `switchboard workspace create` and seeded with `switchboard seed`; a
// pusher-js client authorized through POST /pusher/auth with the API token
// sees message.created after a REST send, disconnects, misses events,
// reconnects and catches up through /api/v1/events with no gap and no
// duplicate.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appsConfig } from '../lib/apps.js';
import { Pusher } from '../lib/clients.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { Recorder, STEP_TIMEOUT_MS, eventually } from '../lib/wait.js';

let server;
let workspace; // output of `switchboard workspace create`
let conversationId;

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args);
}

function api(path, { method = 'GET', body, headers = {} } = {}) {
  return fetch(`http://${HOST}:${server.port}${path}`, {
    method,
    headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function send(text, key) {
  const res = await api(`/api/v1/conversations/${conversationId}/messages`, {
    method: 'POST', body: { body: text }, headers: { 'Idempotency-Key': key },
  });
  const msg = await res.json();
  return { status: res.status, msg };
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

before(async () => {
  server = new SwitchboardServer(appsConfig(), { name: 'inbox' });
  workspace = cli(['workspace', 'create', '--name', 'E2E Co', '--owner-email', 'owner@e2e.test']);
  const seeded = cli(['seed', '--workspace', String(workspace.workspace_id), '--conversations', '2', '--messages', '1']);
  conversationId = seeded.conversation_ids[0];
  await server.start();
}, { timeout: 600_000 });

after(async () => {
  await server?.close();
});

describe('inbox live events', () => {
  it('delivers message.created live, and catches up after a disconnect with no gap and no duplicate', async () => {
    const channelName = `private-workspace-${workspace.workspace_id}`;
    const pusher = connect();
    try {
      const live = new Recorder('message.created');
      const channel = pusher.subscribe(channelName);
      channel.bind('message.created', (ev) => live.push(ev));
      await new Promise((resolve, reject) => {
        channel.bind('pusher:subscription_succeeded', resolve);
        channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error ${JSON.stringify(e)}`)));
        setTimeout(() => reject(new Error('no subscription_succeeded')), STEP_TIMEOUT_MS);
      });

      // A REST send appears live, carrying its seq.
      const first = await send('On its way!', 'e2e-send-1');
      assert.equal(first.status, 201);
      const ev1 = await live.waitFor((e) => e.payload.message.id === first.msg.id, { what: 'message.created for the send' });
      assert.equal(ev1.kind, 'message.created');
      assert.equal(ev1.payload.message.body, 'On its way!');

      // A retried send with the same key posts nothing new.
      const retry = await send('On its way!', 'e2e-send-1');
      assert.equal(retry.status, 200);
      assert.equal(retry.msg.id, first.msg.id);

      // Offline: two events are missed.
      pusher.disconnect();
      await eventually(() => pusher.connection.state === 'disconnected', { what: 'disconnected' });
      const missed = [await send('Missed one', 'e2e-send-2'), await send('Missed two', 'e2e-send-3')];
      missed.forEach((m) => assert.equal(m.status, 201));

      // Catch up: exactly the events after the last one seen.
      const res = await api(`/api/v1/events?after=${ev1.seq}`);
      assert.equal(res.status, 200);
      const page = await res.json();
      assert.equal(page.has_more, false);
      assert.deepEqual(page.events.map((e) => e.seq), [ev1.seq + 1, ev1.seq + 2]);
      assert.deepEqual(page.events.map((e) => e.payload.message.body), ['Missed one', 'Missed two']);

      // Back online: the next live event follows on with no gap, and nothing
      // already seen arrives again.
      pusher.connect();
      await eventually(() => pusher.connection.state === 'connected' && channel.subscribed, { what: 'resubscribed' });
      const next = await send('Back online', 'e2e-send-4');
      const ev4 = await live.waitFor((e) => e.payload.message.id === next.msg.id, { what: 'message.created after reconnect' });
      assert.equal(ev4.seq, ev1.seq + 3);
      const seen = [...live.items.map((e) => e.seq), ...page.events.map((e) => e.seq)].sort((a, b) => a - b);
      assert.deepEqual(seen, [ev1.seq, ev1.seq + 1, ev1.seq + 2, ev1.seq + 3], 'no gap and no duplicate');
    } finally {
      pusher.disconnect();
    }
  });

  it('refuses to authorize another workspace channel for this token', async () => {
    const res = await fetch(`http://${HOST}:${server.port}/pusher/auth`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ socket_id: '1.2', channel_name: `private-workspace-${workspace.workspace_id + 1}` }),
    });
    assert.equal(res.status, 403);
  });
});
