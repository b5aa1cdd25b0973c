// Graceful restart: on SIGTERM the server tells its clients to reconnect
// (4200) and exits; when it is back on the same port, pusher-js reconnects
// by itself, resubscribes every channel, and events flow again.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { errorCode, record, subscribe, uniqueName, waitForState } from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';

const ctx = useSwitchboard('reconnect');

/**
 * pusher-js retries at once on 4200, while the server is still down; that
 * attempt only gives up after pusher-js's 15 s transport timeout, and the
 * next one finds the restarted server. Allow for that cycle.
 */
const RECONNECT_TIMEOUT_MS = 45_000;

describe('server restart', () => {
  it('pusher-js reconnects and resubscribes by itself after a graceful restart', async () => {
    const pub = uniqueName('restart-');
    const priv = uniqueName('private-restart-');
    const pres = uniqueName('presence-restart-');
    const a = await ctx.pool.connect();
    const b = await ctx.pool.connect(MAIN, { presence: { user_id: 'gina', user_info: { name: 'Gina' } } });
    await subscribe(a, pub);
    await subscribe(a, priv);
    await subscribe(b, pres);
    const firstSocketIds = [a.connection.socket_id, b.connection.socket_id];
    const channels = [a.channel(pub), a.channel(priv), b.channel(pres)];
    const resubscribed = channels.map((c) => record(c, 'pusher:subscription_succeeded'));
    const connectedAgain = [a, b].map((p) => p.e2e.states.items.filter((s) => s === 'connected').length + 1);

    const port = ctx.server.port;
    const exit = await ctx.server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'a graceful shutdown exits 0');

    await ctx.server.start({ port });
    assert.equal(ctx.server.port, port);

    await Promise.all([a, b].map((p, i) => p.e2e.states.waitForCount(connectedAgain[i], (s) => s === 'connected', {
      timeout: RECONNECT_TIMEOUT_MS,
      what: `client #${i} to reconnect`,
    })));
    await Promise.all(resubscribed.map((r, i) => r.waitFor(undefined, {
      timeout: RECONNECT_TIMEOUT_MS,
      what: `resubscription to ${channels[i].name}`,
    })));
    assert.notDeepEqual([a.connection.socket_id, b.connection.socket_id], firstSocketIds);

    const sdk = ctx.sdk();
    const got = channels.map((c) => record(c, 'after-restart'));
    for (const c of channels) await sdk.trigger(c.name, 'after-restart', { channel: c.name });
    for (const [i, r] of got.entries()) {
      assert.deepEqual((await r.waitFor()).data, { channel: channels[i].name });
    }
    assert.equal(b.channel(pres).members.count, 1);
    const users = await (await sdk.get({ path: `/channels/${pres}/users` })).json();
    assert.deepEqual(users.users, [{ id: 'gina' }]);

    // The shutdown told the clients to reconnect at once (4200 range),
    // which is why they came back without a backoff.
    for (const p of [a, b]) {
      const codes = p.e2e.errors.items.map(errorCode);
      assert.ok(codes.includes(4200), `pusher-js errors during the restart: ${p.e2e.errors.describe()}`);
    }
  });

  it('serves new connections normally after the restart', async () => {
    const p = await ctx.pool.connect();
    await waitForState(p, 'connected');
    const name = uniqueName('after-');
    await subscribe(p, name);
    const got = record(p.channel(name), 'ok');
    await ctx.sdk().trigger(name, 'ok', 1);
    assert.equal((await got.waitFor()).data, 1);
  });
});
