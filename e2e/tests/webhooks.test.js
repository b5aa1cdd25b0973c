// Webhooks: the server POSTs signed batches of channel and member events to
// the app's endpoints; the official SDK's webhook validator must accept them.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useSwitchboard } from '../lib/suite.js';
import { appsConfig } from '../lib/apps.js';
import { HOST } from '../lib/server.js';
import { record, subscribe, uniqueName } from '../lib/clients.js';
import { Recorder } from '../lib/wait.js';

/** Webhooks are batched and may be retried: allow for the batching delay. */
const WEBHOOK_TIMEOUT_MS = 20_000;

// received holds one item per webhook event: {event, request}.
const received = new Recorder('webhook event');
const requests = [];
let receiver;

const ctx = useSwitchboard('webhooks', {
  setup: async () => {
    receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const request = { method: req.method, url: req.url, headers: req.headers, rawBody };
        requests.push(request);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        let body;
        try {
          body = JSON.parse(rawBody);
        } catch {
          received.push({ event: { name: 'unparsable' }, request });
          return;
        }
        for (const event of body.events || []) received.push({ event, body, request });
      });
    });
    await new Promise((resolve, reject) => {
      receiver.once('error', reject);
      receiver.listen(0, HOST, resolve);
    });
    const url = `http://${HOST}:${receiver.address().port}/pusher/webhooks`;
    return appsConfig({
      webhooks: [{
        url,
        event_types: ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss'],
      }],
    });
  },
});

after(async () => {
  if (!receiver) return;
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

function waitWebhook(name, match) {
  return received.waitFor((r) => r.event.name === name && match(r.event), {
    timeout: WEBHOOK_TIMEOUT_MS,
    what: `a ${name} webhook`,
  });
}

describe('webhooks', () => {
  it('reports channel_occupied and channel_vacated, signed for the SDK validator', async () => {
    const name = uniqueName('hooked-');
    const p = await ctx.pool.connect();
    await subscribe(p, name);

    const occupied = await waitWebhook('channel_occupied', (e) => e.channel === name);
    const { request, body } = occupied;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/pusher/webhooks');
    assert.equal(typeof body.time_ms, 'number');
    const hook = ctx.sdk().webhook({ headers: request.headers, rawBody: request.rawBody });
    assert.equal(hook.isValid(), true,
      `the SDK rejected the webhook: headers ${JSON.stringify(request.headers)}`);
    assert.equal(hook.getData().time_ms, body.time_ms);

    p.unsubscribe(name);
    await waitWebhook('channel_vacated', (e) => e.channel === name);
  });

  it('reports member_added and member_removed with the user_id', async () => {
    const name = uniqueName('presence-hooked-');
    const p = await ctx.pool.connect(undefined, { presence: { user_id: 'jules' } });
    await subscribe(p, name);
    await waitWebhook('member_added', (e) => e.channel === name && e.user_id === 'jules');

    p.unsubscribe(name);
    await waitWebhook('member_removed', (e) => e.channel === name && e.user_id === 'jules');
  });

  it('reports client events with event, data and socket_id', async () => {
    const name = uniqueName('presence-hooked-');
    const sender = await ctx.pool.connect(undefined, { presence: { user_id: 'kim' } });
    const other = await ctx.pool.connect(undefined, { presence: { user_id: 'lee' } });
    await subscribe(sender, name);
    await subscribe(other, name);
    const got = record(other.channel(name), 'client-note');
    sender.channel(name).trigger('client-note', { text: 'hi' });
    await got.waitFor();

    const { event } = await waitWebhook('client_event', (e) => e.channel === name);
    assert.equal(event.event, 'client-note');
    // Pusher documents data as the JSON text of the client's payload.
    const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
    assert.deepEqual(data, { text: 'hi' }, JSON.stringify(event));
    assert.equal(event.socket_id, sender.connection.socket_id);
    assert.equal(event.user_id, 'kim');
  });

  it('reports cache_miss for an empty cache channel', async () => {
    const name = uniqueName('cache-hooked-');
    const p = await ctx.pool.connect();
    await subscribe(p, name);
    await waitWebhook('cache_miss', (e) => e.channel === name);
  });
});
