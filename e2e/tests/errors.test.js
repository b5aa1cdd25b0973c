// Refused connections: pusher-js must see the documented close code and,
// for 4000-4099, stop trying instead of reconnecting in a loop.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { errorCode, waitForState } from '../lib/clients.js';
import { DISABLED, MAIN, QUOTA, UNKNOWN_KEY } from '../lib/apps.js';
import { eventually } from '../lib/wait.js';

const ctx = useSwitchboard('errors');

/**
 * expectRefused waits until pusher-js reports code on its connection and
 * gives up (state "disconnected" for a refusal; "failed" and "unavailable"
 * are accepted as the other ways pusher-js reports a dead connection).
 */
async function expectRefused(pusher, code) {
  await pusher.e2e.errors.waitFor((e) => errorCode(e) === code, {
    what: `a connection error with code ${code}`,
  });
  await pusher.e2e.states.waitFor((s) => ['disconnected', 'failed', 'unavailable'].includes(s), {
    what: `pusher-js to give up after ${code}`,
  });
  assert.ok(!pusher.e2e.states.items.includes('connected'),
    `pusher-js reached "connected" for a refused connection: ${pusher.e2e.states.describe()}`);
}

describe('refused connections', () => {
  it('refuses an unknown app key with 4001', async () => {
    const pusher = ctx.pool.create({ ...MAIN, key: UNKNOWN_KEY });
    await expectRefused(pusher, 4001);
  });

  it('refuses a disabled app with 4003', async () => {
    const pusher = ctx.pool.create(DISABLED);
    await expectRefused(pusher, 4003);
  });

  it('refuses a connection over the app quota with 4004 and keeps the first', async () => {
    const first = await ctx.pool.connect(QUOTA);
    const second = ctx.pool.create(QUOTA);
    await expectRefused(second, 4004);
    assert.equal(first.connection.state, 'connected');

    // The quota frees up when the first connection goes.
    first.disconnect();
    await eventually(async () => {
      const raw = await ctx.pool.raw(QUOTA.key);
      const f = await raw.frames.waitFor(
        (x) => x.event === 'pusher:connection_established' || x.event === 'pusher:error',
      );
      await raw.close();
      return f.event === 'pusher:connection_established';
    }, { what: 'a new QUOTA connection to be accepted once the first closed', timeout: 10_000, interval: 200 });
  });

  it('sends the same codes in the close frame to a bare websocket client', async () => {
    for (const [key, code] of [[UNKNOWN_KEY, 4001], [DISABLED.key, 4003]]) {
      const sock = await ctx.pool.raw(key);
      const closed = await sock.waitClosed();
      assert.equal(closed.code, code, `key ${key}: close ${JSON.stringify(closed)}, frames ${sock.frames.describe()}`);
    }
  });

  it('does not keep reconnecting after a refusal', async () => {
    const pusher = ctx.pool.create(DISABLED);
    await expectRefused(pusher, 4003);
    // A refused client that retried would go back to "connecting"; give it
    // a round trip's worth of chances by waiting on a fresh refusal.
    const again = ctx.pool.create(DISABLED);
    await expectRefused(again, 4003);
    assert.equal(pusher.connection.state, 'disconnected');
    const states = pusher.e2e.states.items;
    assert.deepEqual(states.slice(states.indexOf('disconnected') + 1), [],
      `state changes after the refusal: ${pusher.e2e.states.describe()}`);
  });
});
