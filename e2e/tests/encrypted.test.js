// End-to-end encrypted channels: the server SDK encrypts with a key derived
// from its master key, pusher-js decrypts with the shared_secret from its
// authorization, and the server in between relays ciphertext it cannot read.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { frameData, record, subscribe, uniqueName } from '../lib/clients.js';

const ctx = useSwitchboard('encrypted');

describe('private-encrypted channels', () => {
  it('delivers an SDK-encrypted event that pusher-js decrypts', async () => {
    const pusher = await ctx.pool.connect();
    const name = uniqueName('private-encrypted-');
    await subscribe(pusher, name);
    const got = record(pusher.channel(name), 'diagnosis');

    const secret = { patient: 42, text: 'only the subscriber can read this ✓' };
    await ctx.sdk().trigger(name, 'diagnosis', secret);

    assert.deepEqual((await got.waitFor()).data, secret);
  });

  it('relays ciphertext only: the plaintext never crosses the server', async () => {
    const sock = await ctx.pool.raw();
    const socketId = await sock.socketId();
    const name = uniqueName('private-encrypted-');
    const { auth } = ctx.sdk().authorizeChannel(socketId, name);
    // shared_secret stays with the client; the subscribe frame carries
    // only the signature, as pusher-js sends it.
    sock.send({ event: 'pusher:subscribe', data: { channel: name, auth } });
    await sock.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);

    await ctx.sdk().trigger(name, 'diagnosis', { text: 'plaintext-marker' });
    const frame = await sock.next('diagnosis');
    const data = frameData(frame);
    assert.equal(typeof data.nonce, 'string', JSON.stringify(frame));
    assert.equal(typeof data.ciphertext, 'string', JSON.stringify(frame));
    assert.ok(!JSON.stringify(frame).includes('plaintext-marker'), 'plaintext leaked into the frame');
  });

  it('refuses a subscription whose auth was signed for a different channel', async () => {
    const pusher = await ctx.pool.connect(undefined, {
      authorize: ({ socketId, channelName, sdk }) => ({
        ...sdk.authorizeChannel(socketId, `${channelName}-other`),
        shared_secret: sdk.authorizeChannel(socketId, channelName).shared_secret,
      }),
    });
    const name = uniqueName('private-encrypted-');
    await assert.rejects(subscribe(pusher, name), (err) => {
      assert.equal(err.data.status, 401, JSON.stringify(err.data));
      return true;
    });
  });
});
