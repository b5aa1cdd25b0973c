// Cache channels: a new subscriber gets the channel's last event right after
// subscribing, or pusher:cache_miss when there is none.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { barrier, record, subscribe, subscribed, uniqueName } from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';

const ctx = useSwitchboard('cache');

// subscribeRecording subscribes while recording, from the first frame on,
// both the subscription and the events that follow it, in arrival order.
async function subscribeRecording(pusher, name, events) {
  const channel = pusher.subscribe(name);
  const order = [];
  channel.bind_global((event, data) => {
    if (event === 'pusher:subscription_succeeded' || events.includes(event)) order.push({ event, data });
  });
  await subscribed(channel);
  return { channel, order };
}

const kinds = [
  { prefix: 'cache-', opts: {} },
  { prefix: 'private-cache-', opts: {} },
  { prefix: 'presence-cache-', opts: { presence: { user_id: 'erin' } } },
];

describe('cache channels', () => {
  for (const kind of kinds) {
    it(`${kind.prefix}: delivers the last event to a new subscriber right after subscription`, async () => {
      const name = uniqueName(kind.prefix);
      const sdk = ctx.sdk();
      await sdk.trigger(name, 'price', { v: 1 });
      await sdk.trigger(name, 'price', { v: 2 });

      const pusher = await ctx.pool.connect(MAIN, kind.opts);
      const { order } = await subscribeRecording(pusher, name, ['price', 'pusher:cache_miss']);
      await barrier(sdk, name, [pusher.channel(name)]);

      assert.deepEqual(order.map((o) => o.event), ['pusher:subscription_succeeded', 'price'],
        `events in arrival order: ${JSON.stringify(order)}`);
      assert.deepEqual(order[1].data, { v: 2 });
    });

    it(`${kind.prefix}: sends pusher:cache_miss when the channel has no cached event`, async () => {
      const name = uniqueName(kind.prefix);
      const pusher = await ctx.pool.connect(MAIN, kind.opts);
      const miss = record(pusher, 'pusher:cache_miss');
      const { order } = await subscribeRecording(pusher, name, ['pusher:cache_miss']);

      // Bound to the client as a whole from the start, so it cannot miss it.
      await miss.waitFor();
      assert.deepEqual(order.map((o) => o.event), ['pusher:subscription_succeeded', 'pusher:cache_miss']);
    });
  }

  it('keeps serving the cached event to every later subscriber', async () => {
    const name = uniqueName('cache-');
    const sdk = ctx.sdk();
    const first = await ctx.pool.connect();
    await subscribe(first, name);
    await sdk.trigger(name, 'state', 'current');

    for (let i = 0; i < 2; i += 1) {
      const later = await ctx.pool.connect();
      const got = record(later.subscribe(name), 'state');
      assert.equal((await got.waitFor()).data, 'current');
    }
  });
});
