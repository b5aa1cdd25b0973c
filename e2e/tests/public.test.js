// Public channels: events triggered through the HTTP API with the official
// server SDK reach pusher-js exactly as they would from Pusher.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { barrier, record, subscribe, uniqueName } from '../lib/clients.js';

const ctx = useSwitchboard('public');

describe('public channels', () => {
  it('delivers triggered events to pusher-js with data decoded as pusher-js expects', async () => {
    const pusher = await ctx.pool.connect();
    const name = uniqueName('orders-');
    await subscribe(pusher, name);
    const channel = pusher.channel(name);
    const got = record(channel, 'order-updated');
    const sdk = ctx.sdk();

    // pusher-js JSON-decodes the data string when it can and hands over
    // the raw string otherwise; the server must relay the string as sent.
    const cases = [
      { sent: 'plain text, not JSON', want: 'plain text, not JSON' },
      { sent: { id: 7, text: 'héllo ✓ 日本', nested: { list: [1, 'two', null, true] } },
        want: { id: 7, text: 'héllo ✓ 日本', nested: { list: [1, 'two', null, true] } } },
      { sent: '{"already":"a JSON string"}', want: { already: 'a JSON string' } },
      { sent: '', want: '' },
      { sent: ['an', 'array'], want: ['an', 'array'] },
    ];
    for (const c of cases) await sdk.trigger(name, 'order-updated', c.sent);

    const items = await got.waitForCount(cases.length);
    assert.deepEqual(items.map((i) => i.data), cases.map((c) => c.want));
  });

  it('delivers one trigger to every listed channel', async () => {
    const a = await ctx.pool.connect();
    const b = await ctx.pool.connect();
    const ch1 = uniqueName('multi-');
    const ch2 = uniqueName('multi-');
    await subscribe(a, ch1);
    await subscribe(b, ch2);
    const gotA = record(a.channel(ch1), 'ping');
    const gotB = record(b.channel(ch2), 'ping');

    await ctx.sdk().trigger([ch1, ch2], 'ping', { n: 1 });

    assert.deepEqual((await gotA.waitFor()).data, { n: 1 });
    assert.deepEqual((await gotB.waitFor()).data, { n: 1 });
  });

  it('excludes the connection named by socket_id', async () => {
    const sender = await ctx.pool.connect();
    const other = await ctx.pool.connect();
    const name = uniqueName('excl-');
    await subscribe(sender, name);
    await subscribe(other, name);
    const senderGot = record(sender.channel(name), 'saved');
    const otherGot = record(other.channel(name), 'saved');
    const sdk = ctx.sdk();

    await sdk.trigger(name, 'saved', { by: 'sender' }, { socket_id: sender.connection.socket_id });

    assert.deepEqual((await otherGot.waitFor()).data, { by: 'sender' });
    await barrier(sdk, name, [sender.channel(name), other.channel(name)]);
    assert.equal(senderGot.items.length, 0, `the excluded connection received ${senderGot.describe()}`);
  });

  it('delivers batch events to their channels in order', async () => {
    const pusher = await ctx.pool.connect();
    const ch1 = uniqueName('batch-');
    const ch2 = uniqueName('batch-');
    await subscribe(pusher, ch1);
    await subscribe(pusher, ch2);
    const got1 = record(pusher.channel(ch1), 'step');
    const got2 = record(pusher.channel(ch2), 'other');

    await ctx.sdk().triggerBatch([
      { channel: ch1, name: 'step', data: { n: 1 } },
      { channel: ch2, name: 'other', data: 'x' },
      { channel: ch1, name: 'step', data: { n: 2 } },
    ]);

    const steps = await got1.waitForCount(2);
    assert.deepEqual(steps.map((s) => s.data), [{ n: 1 }, { n: 2 }]);
    assert.equal((await got2.waitFor()).data, 'x');
  });

  it('stops delivering after pusher-js unsubscribes', async () => {
    const leaver = await ctx.pool.connect();
    const stayer = await ctx.pool.connect();
    const name = uniqueName('leave-');
    await subscribe(leaver, name);
    await subscribe(stayer, name);
    // pusher-js drops events for channels it left, so watch the raw
    // messages the server still sends on the connection.
    const leaked = [];
    leaver.connection.bind('message', (m) => {
      if (m.channel === name && m.event === 'news') leaked.push(m);
    });

    leaver.unsubscribe(name);
    // Frames from one connection are handled in order: once a later
    // subscription succeeded, the unsubscribe has been processed.
    const later = uniqueName('after-leave-');
    await subscribe(leaver, later);
    const sdk = ctx.sdk();
    await sdk.trigger(name, 'news', { n: 1 });
    await barrier(sdk, name, [stayer.channel(name)]);
    await barrier(sdk, later, [leaver.channel(later)]);

    assert.deepEqual(leaked, [], 'an unsubscribed connection still received events');
  });
});
