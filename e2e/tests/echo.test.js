// laravel-echo 2 with the pusher broadcaster, configured as a Laravel app
// configures it (the Pusher class passed in, a custom authorizer standing
// in for /broadcasting/auth), against Switchboard instead of Pusher.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { uniqueName } from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';
import { Recorder } from '../lib/wait.js';

const ctx = useSwitchboard('echo');

/** subscribedRecorder records an Echo channel's successful subscription. */
function subscribedRecorder(echoChannel) {
  const rec = new Recorder('Echo subscribed()');
  echoChannel.subscribed(() => rec.push(true));
  echoChannel.error((e) => rec.push({ error: e }));
  return rec;
}

async function waitSubscribed(rec) {
  const first = await rec.waitFor();
  assert.equal(first, true, `subscription failed: ${JSON.stringify(first)}`);
}

describe('laravel-echo', () => {
  it('Echo.channel().listen(".Name") receives a public event', async () => {
    const echo = ctx.pool.echo();
    const name = uniqueName('orders.');
    const got = new Recorder('OrderShipped');
    const channel = echo.channel(name).listen('.OrderShipped', (e) => got.push(e));
    await waitSubscribed(subscribedRecorder(channel));

    await ctx.sdk().trigger(name, 'OrderShipped', { order: { id: 12, total: '9.99' } });

    assert.deepEqual(await got.waitFor(), { order: { id: 12, total: '9.99' } });
  });

  it('Echo.channel().listen("Name") uses the App\\Events namespace', async () => {
    const echo = ctx.pool.echo();
    const name = uniqueName('orders.');
    const got = new Recorder('namespaced OrderShipped');
    const channel = echo.channel(name).listen('OrderShipped', (e) => got.push(e));
    await waitSubscribed(subscribedRecorder(channel));

    await ctx.sdk().trigger(name, 'App\\Events\\OrderShipped', { id: 1 });

    assert.deepEqual(await got.waitFor(), { id: 1 });
  });

  it('Echo.private() authorizes and receives', async () => {
    const echo = ctx.pool.echo();
    const name = uniqueName('user.');
    const got = new Recorder('private event');
    const channel = echo.private(name).listen('.InvoicePaid', (e) => got.push(e));
    await waitSubscribed(subscribedRecorder(channel));

    await ctx.sdk().trigger(`private-${name}`, 'InvoicePaid', { invoice: 5 });

    assert.deepEqual(await got.waitFor(), { invoice: 5 });
  });

  it('Echo.encryptedPrivate() decrypts an SDK-encrypted event', async () => {
    const echo = ctx.pool.echo();
    const name = uniqueName('vault.');
    const got = new Recorder('encrypted event');
    const channel = echo.encryptedPrivate(name).listen('.Secret', (e) => got.push(e));
    await waitSubscribed(subscribedRecorder(channel));

    await ctx.sdk().trigger(`private-encrypted-${name}`, 'Secret', { code: 'swordfish' });

    assert.deepEqual(await got.waitFor(), { code: 'swordfish' });
  });

  it('Echo.join() reports here, joining and leaving', async () => {
    const name = uniqueName('chat.');
    const hanna = { user_id: 'hanna', user_info: { id: 'hanna', name: 'Hanna' } };
    const ivan = { user_id: 'ivan', user_info: { id: 'ivan', name: 'Ivan' } };
    const first = ctx.pool.echo(MAIN, { presence: hanna });
    const here = new Recorder('here');
    const joining = new Recorder('joining');
    const leaving = new Recorder('leaving');
    first.join(name)
      .here((users) => here.push(users))
      .joining((user) => joining.push(user))
      .leaving((user) => leaving.push(user));
    assert.deepEqual(await here.waitFor(), [hanna.user_info]);

    const second = ctx.pool.echo(MAIN, { presence: ivan });
    const hereSecond = new Recorder('here (second)');
    second.join(name).here((users) => hereSecond.push(users));
    const seen = await hereSecond.waitFor();
    assert.deepEqual([...seen].sort((x, y) => x.id.localeCompare(y.id)), [hanna.user_info, ivan.user_info]);
    assert.deepEqual(await joining.waitFor(), ivan.user_info);

    second.leave(name);
    assert.deepEqual(await leaving.waitFor(), ivan.user_info);
  });

  it('whisper() reaches listenForWhisper() on the other client only', async () => {
    const name = uniqueName('doc.');
    const writer = ctx.pool.echo();
    const reader = ctx.pool.echo();
    const heard = new Recorder('whisper heard');
    const selfHeard = new Recorder('whisper echoed');
    const wChannel = writer.private(name).listenForWhisper('typing', (e) => selfHeard.push(e));
    const rChannel = reader.private(name).listenForWhisper('typing', (e) => heard.push(e));
    const subscriptions = [subscribedRecorder(wChannel), subscribedRecorder(rChannel)];
    for (const s of subscriptions) await waitSubscribed(s);

    wChannel.whisper('typing', { name: 'writer', typing: true });

    assert.deepEqual(await heard.waitFor(), { name: 'writer', typing: true });
    // A server event after the whisper arrives after any echo of it.
    const marker = new Recorder('marker');
    wChannel.listen('.Marker', () => marker.push(true));
    await ctx.sdk().trigger(`private-${name}`, 'Marker', {});
    await marker.waitFor();
    assert.equal(selfHeard.items.length, 0, 'a whisper was echoed to its sender');
  });

  it('whisper() works on presence channels too', async () => {
    const name = uniqueName('room.');
    const a = ctx.pool.echo(MAIN, { presence: { user_id: 'a', user_info: { id: 'a' } } });
    const b = ctx.pool.echo(MAIN, { presence: { user_id: 'b', user_info: { id: 'b' } } });
    const aHere = new Recorder('here a');
    const bHere = new Recorder('here b');
    const heard = new Recorder('whisper');
    const aChannel = a.join(name).here((u) => aHere.push(u));
    b.join(name).here((u) => bHere.push(u)).listenForWhisper('cursor', (e) => heard.push(e));
    await aHere.waitFor();
    await bHere.waitFor();

    aChannel.whisper('cursor', { x: 10 });

    assert.deepEqual(await heard.waitFor(), { x: 10 });
  });
});
