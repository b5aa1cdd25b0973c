// The wire itself, frame by frame, with a bare websocket: the exact shapes
// pusher-js and the other Pusher clients parse. These are the details a
// library tolerates silently but another client would trip over.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { frameData, uniqueName } from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';

const ctx = useSwitchboard('protocol');

describe('websocket protocol 7 frames', () => {
  it('opens with pusher:connection_established carrying a JSON-string data', async () => {
    const a = await ctx.pool.raw();
    const b = await ctx.pool.raw();
    const fa = await a.next('pusher:connection_established');
    const fb = await b.next('pusher:connection_established');

    assert.equal(typeof fa.data, 'string', `data must be a JSON string, got ${JSON.stringify(fa)}`);
    const data = JSON.parse(fa.data);
    assert.match(data.socket_id, /^\d+\.\d+$/);
    assert.equal(typeof data.activity_timeout, 'number');
    assert.ok(data.activity_timeout > 0, `activity_timeout ${data.activity_timeout}`);
    assert.notEqual(JSON.parse(fb.data).socket_id, data.socket_id, 'socket ids must be unique');
  });

  it('answers pusher:ping with pusher:pong', async () => {
    const sock = await ctx.pool.raw();
    await sock.socketId();
    sock.send({ event: 'pusher:ping', data: {} });
    await sock.next('pusher:pong');
  });

  it('confirms a public subscription with data "{}" and relays the data string untouched', async () => {
    const sock = await ctx.pool.raw();
    await sock.socketId();
    const name = uniqueName('raw-');
    sock.send({ event: 'pusher:subscribe', data: { channel: name } });
    const ok = await sock.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);
    assert.equal(typeof ok.data, 'string', `data must be a JSON string, got ${JSON.stringify(ok)}`);
    assert.deepEqual(JSON.parse(ok.data), {});

    // The server must not re-encode the payload: whitespace and key order
    // are the publisher's.
    const payload = '{ "b": 2,  "a": [1, 2] }';
    await ctx.sdk().trigger(name, 'my-event', payload);
    const ev = await sock.next('my-event');
    assert.equal(ev.channel, name);
    assert.equal(ev.data, payload);
  });

  it('refuses client events on public channels', async () => {
    const sender = await ctx.pool.raw();
    const receiver = await ctx.pool.raw();
    await sender.socketId();
    await receiver.socketId();
    const name = uniqueName('public-client-');
    for (const s of [sender, receiver]) {
      s.send({ event: 'pusher:subscribe', data: { channel: name } });
      await s.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);
    }

    sender.send({ event: 'client-hello', channel: name, data: { x: 1 } });
    const err = await sender.next('pusher:error');
    assert.equal(typeof frameData(err).message, 'string', `pusher:error frame: ${JSON.stringify(err)}`);

    await ctx.sdk().trigger(name, 'marker', 'm');
    await receiver.next('marker');
    assert.ok(!receiver.frames.items.some((f) => f.event === 'client-hello'),
      'a client event on a public channel was delivered');
  });

  const refusedHandshakes = [
    { what: 'no protocol version', query: 'client=js&version=8.4.0', code: 4008 },
    { what: 'an unsupported protocol version', query: 'protocol=1&client=js&version=8.4.0', code: 4007 },
  ];
  for (const c of refusedHandshakes) {
    it(`closes a connection with ${c.what} with ${c.code}`, async () => {
      const sock = await ctx.pool.raw(MAIN.key, c.query);
      const closed = await sock.waitClosed();
      assert.equal(closed.code, c.code, `close frame: ${JSON.stringify(closed)}, frames: ${sock.frames.describe()}`);
      const errors = sock.frames.items.filter((f) => f.event === 'pusher:error');
      for (const e of errors) assert.equal(frameData(e).code, c.code, JSON.stringify(e));
    });
  }

  it('answers a malformed frame with a pusher:error carrying a code', async () => {
    const sock = await ctx.pool.raw();
    await sock.socketId();
    sock.send('this is not json');
    const err = await sock.next('pusher:error');
    assert.equal(typeof err.data, 'object', `pusher:error data is an object: ${JSON.stringify(err)}`);
    assert.equal(typeof err.data.code, 'number', `pusher:error data: ${JSON.stringify(err.data)}`);
  });
  const badNames = [
    { what: 'longer than 164 characters', name: 'a'.repeat(165) },
    { what: 'with a space', name: 'bad name' },
    { what: 'with a slash', name: 'bad/name' },
    { what: 'empty', name: '' },
  ];
  for (const c of badNames) {
    it(`refuses a channel name ${c.what}, keeping the connection`, async () => {
      const sock = await ctx.pool.raw();
      await sock.socketId();
      sock.send({ event: 'pusher:subscribe', data: { channel: c.name } });
      const answer = await sock.frames.waitFor(
        (f) => ['pusher:subscription_error', 'pusher:error', 'pusher_internal:subscription_succeeded'].includes(f.event),
        { what: `an answer to subscribing to ${JSON.stringify(c.name.slice(0, 20))}` },
      );
      assert.notEqual(answer.event, 'pusher_internal:subscription_succeeded');
      sock.send({ event: 'pusher:ping', data: {} });
      await sock.next('pusher:pong');
    });
  }

  it('accepts a 164-character name using every allowed punctuation', async () => {
    const sock = await ctx.pool.raw();
    await sock.socketId();
    const base = uniqueName('ok_-=@,.;');
    const name = base + 'x'.repeat(164 - base.length);
    sock.send({ event: 'pusher:subscribe', data: { channel: name } });
    await sock.next('pusher_internal:subscription_succeeded', (f) => f.channel === name);
  });
});
