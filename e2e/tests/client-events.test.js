// Client events: client-* events sent by one pusher-js client reach every
// other subscriber of a private or presence channel, never the sender, and
// only on apps that allow them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { barrier, errorCode, frameData, record, subscribe, uniqueName } from '../lib/clients.js';
import { MAIN, NO_CLIENT_EVENTS } from '../lib/apps.js';

const ctx = useSwitchboard('client-events');

describe('client events', () => {
  it('reach the other subscriber of a private channel and are not echoed', async () => {
    const sender = await ctx.pool.connect();
    const receiver = await ctx.pool.connect();
    const name = uniqueName('private-');
    await subscribe(sender, name);
    await subscribe(receiver, name);
    const echoed = record(sender.channel(name), 'client-typing');
    const got = record(receiver.channel(name), 'client-typing');

    assert.equal(sender.channel(name).trigger('client-typing', { who: 'sender', text: 'hé' }), true);

    assert.deepEqual((await got.waitFor()).data, { who: 'sender', text: 'hé' });
    await barrier(ctx.sdk(), name, [sender.channel(name), receiver.channel(name)]);
    assert.equal(echoed.items.length, 0, `client event echoed to its sender: ${echoed.describe()}`);
  });

  it('carry the sender user_id on presence channels', async () => {
    const sender = await ctx.pool.connect(MAIN, { presence: { user_id: 'carol', user_info: { name: 'Carol' } } });
    const receiver = await ctx.pool.connect(MAIN, { presence: { user_id: 'dave' } });
    const name = uniqueName('presence-');
    await subscribe(sender, name);
    await subscribe(receiver, name);
    const echoed = record(sender.channel(name), 'client-moved');
    const got = record(receiver.channel(name), 'client-moved');

    sender.channel(name).trigger('client-moved', { x: 1, y: 2 });

    const ev = await got.waitFor();
    assert.deepEqual(ev.data, { x: 1, y: 2 });
    assert.equal(ev.meta.user_id, 'carol', `metadata: ${JSON.stringify(ev.meta)}`);
    await barrier(ctx.sdk(), name, [sender.channel(name)]);
    assert.equal(echoed.items.length, 0, `client event echoed to its sender: ${echoed.describe()}`);
  });

  it('are refused with pusher:error on an app without client events', async () => {
    const sender = await ctx.pool.connect(NO_CLIENT_EVENTS);
    const receiver = await ctx.pool.connect(NO_CLIENT_EVENTS);
    const name = uniqueName('private-');
    await subscribe(sender, name);
    await subscribe(receiver, name);
    const got = record(receiver.channel(name), 'client-typing');
    const globalErrors = record(sender, 'pusher:error');

    sender.channel(name).trigger('client-typing', { who: 'sender' });

    const err = await sender.e2e.errors.waitFor((e) => e.type === 'PusherError');
    assert.equal(typeof err.data.message, 'string', JSON.stringify(err));
    await globalErrors.waitFor();
    await barrier(ctx.sdk(NO_CLIENT_EVENTS), name, [receiver.channel(name)]);
    assert.equal(got.items.length, 0, `refused client event delivered: ${got.describe()}`);
    assert.equal(sender.connection.state, 'connected');
  });

  it('are refused on private-encrypted channels', async () => {
    // pusher-js refuses to send these itself, so send the frame by hand.
    const [sender, receiver] = [await ctx.pool.raw(), await ctx.pool.raw()];
    const name = uniqueName('private-encrypted-');
    for (const s of [sender, receiver]) {
      const { auth } = ctx.sdk().authorizeChannel(await s.socketId(), name);
      s.send({ event: 'pusher:subscribe', data: { channel: name, auth } });
      await s.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);
    }

    sender.send({ event: 'client-typing', channel: name, data: { nonce: 'x', ciphertext: 'y' } });

    await sender.next('pusher:error');
    await ctx.sdk().trigger(name, 'marker', { m: 1 });
    await receiver.next('marker');
    assert.ok(!receiver.frames.items.some((f) => f.event === 'client-typing'),
      'a client event on an encrypted channel was delivered');
  });

  it('are not relayed for a channel the sender has not subscribed to', async () => {
    const outsider = await ctx.pool.raw();
    await outsider.socketId();
    const receiver = await ctx.pool.connect();
    const name = uniqueName('private-');
    await subscribe(receiver, name);
    const got = record(receiver.channel(name), 'client-intrude');

    outsider.send({ event: 'client-intrude', channel: name, data: {} });

    await outsider.next('pusher:error');
    await barrier(ctx.sdk(), name, [receiver.channel(name)]);
    assert.equal(got.items.length, 0, `client event from a non-subscriber delivered: ${got.describe()}`);
  });

  it('beyond the rate limit are rejected with 4301', async () => {
    const sender = await ctx.pool.raw();
    const name = uniqueName('private-');
    const { auth } = ctx.sdk().authorizeChannel(await sender.socketId(), name);
    sender.send({ event: 'pusher:subscribe', data: { channel: name, auth } });
    await sender.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);

    // The limit is 10 per second per connection; 40 in one burst is over
    // it on any machine.
    for (let i = 0; i < 40; i += 1) {
      sender.send({ event: 'client-burst', channel: name, data: { i } });
    }

    const outcome = await Promise.race([
      sender.next('pusher:error', (f) => frameData(f).code === 4301).then((f) => ({ frame: f })),
      sender.waitClosed().then((c) => ({ close: c })),
    ]);
    if (outcome.close) assert.equal(outcome.close.code, 4301, JSON.stringify(outcome.close));
    else assert.equal(errorCode({ data: frameData(outcome.frame) }), 4301);
  });
});
