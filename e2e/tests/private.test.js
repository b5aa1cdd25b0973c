// Private channels: a subscription needs an auth signed with the app secret
// over this socket id and this channel; anything else is refused with a
// pusher:subscription_error that pusher-js hands to the application.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { useSwitchboard } from '../lib/suite.js';
import { barrier, record, subscribe, uniqueName } from '../lib/clients.js';
import { MAIN, NO_CLIENT_EVENTS } from '../lib/apps.js';

const ctx = useSwitchboard('private');

function sign(secret, text) {
  return createHmac('sha256', secret).update(text).digest('hex');
}

describe('private channels', () => {
  it('accepts an auth signed by the server SDK and delivers events', async () => {
    const pusher = await ctx.pool.connect();
    const name = uniqueName('private-');
    await subscribe(pusher, name);
    const got = record(pusher.channel(name), 'secret-news');

    await ctx.sdk().trigger(name, 'secret-news', { for: 'subscribers only' });

    assert.deepEqual((await got.waitFor()).data, { for: 'subscribers only' });
  });

  const forgeries = [
    {
      what: 'a signature made with the wrong secret',
      auth: ({ socketId, channelName }) => ({
        auth: `${MAIN.key}:${sign('not-the-secret', `${socketId}:${channelName}`)}`,
      }),
    },
    {
      what: 'a signature for another socket id',
      auth: ({ channelName, sdk }) => sdk.authorizeChannel('1234.5678', channelName),
    },
    {
      what: 'a signature for another channel',
      auth: ({ socketId, sdk }) => sdk.authorizeChannel(socketId, 'private-some-other-channel'),
    },
    {
      what: "another app's key and secret",
      auth: ({ socketId, channelName }) => ({
        auth: `${NO_CLIENT_EVENTS.key}:${sign(NO_CLIENT_EVENTS.secret, `${socketId}:${channelName}`)}`,
      }),
    },
    {
      what: 'a malformed auth string',
      auth: () => ({ auth: 'garbage-without-a-colon' }),
    },
    {
      what: 'an empty auth',
      auth: () => ({ auth: '' }),
    },
  ];
  for (const f of forgeries) {
    it(`refuses ${f.what} with pusher:subscription_error`, async () => {
      const pusher = await ctx.pool.connect(MAIN, { authorize: f.auth });
      const name = uniqueName('private-');
      const channel = pusher.subscribe(name);
      const errors = record(channel, 'pusher:subscription_error');
      const ok = record(channel, 'pusher:subscription_succeeded');

      const { data } = await errors.waitFor();
      assert.equal(data.type, 'AuthError', `subscription_error data: ${JSON.stringify(data)}`);
      assert.equal(data.status, 401, `subscription_error data: ${JSON.stringify(data)}`);
      assert.equal(typeof data.error, 'string');
      assert.equal(ok.items.length, 0);

      // Refused means no events either, and the connection stays usable.
      const got = record(channel, 'leak');
      await ctx.sdk().trigger(name, 'leak', 'must not arrive');
      const probe = uniqueName('probe-');
      await subscribe(pusher, probe);
      await barrier(ctx.sdk(), probe, [pusher.channel(probe)]);
      assert.equal(got.items.length, 0, 'an unauthorized subscriber received an event');
      assert.equal(pusher.connection.state, 'connected');
    });
  }

  it('accepts a correct auth on the same connection after a refused one', async () => {
    // pusher-js never retries a channel the server refused, so send the
    // frames by hand.
    const sock = await ctx.pool.raw();
    const socketId = await sock.socketId();
    const name = uniqueName('private-');
    const forged = `${MAIN.key}:${sign('wrong-secret', `${socketId}:${name}`)}`;
    sock.send({ event: 'pusher:subscribe', data: { channel: name, auth: forged } });
    await sock.next('pusher:subscription_error', (f) => f.channel === name);

    sock.send({ event: 'pusher:subscribe', data: { channel: name, ...ctx.sdk().authorizeChannel(socketId, name) } });
    await sock.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);
    await ctx.sdk().trigger(name, 'now-allowed', 'yes');
    await sock.next('now-allowed');
  });
});
