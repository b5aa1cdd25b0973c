// The HTTP API as the official Node SDK uses it: channel queries, trigger
// replies, request signing, limits and the documented error statuses.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { PusherServer, subscribe, uniqueName } from '../lib/clients.js';
import { DISABLED, MAIN } from '../lib/apps.js';
import { HOST } from '../lib/server.js';

const ctx = useSwitchboard('rest');

async function getJSON(sdk, path, params) {
  const res = await sdk.get({ path, params });
  assert.equal(res.status, 200);
  return res.json();
}

/** rejectsWithStatus expects a request to fail with an HTTP status. */
async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof PusherServer.RequestError, `not a RequestError: ${err}`);
    assert.equal(err.status, status, `status ${err.status}, body ${err.body}`);
    // Every error comes with a JSON body.
    assert.doesNotThrow(() => JSON.parse(err.body), `error body is not JSON: ${err.body}`);
    return true;
  });
}

describe('HTTP API channel queries', () => {
  it('lists occupied channels, filtered by prefix, with presence user counts', async () => {
    const tag = uniqueName('q');
    const pub = `${tag}-public`;
    const pres = `presence-${tag}`;
    const priv = `private-${tag}`;
    const a = await ctx.pool.connect(MAIN, { presence: { user_id: 'u1' } });
    const b = await ctx.pool.connect(MAIN, { presence: { user_id: 'u2' } });
    await subscribe(a, pub);
    await subscribe(a, priv);
    await subscribe(a, pres);
    await subscribe(b, pres);
    const sdk = ctx.sdk();

    const all = await getJSON(sdk, '/channels');
    for (const c of [pub, pres, priv]) assert.ok(c in all.channels, `${c} missing from ${JSON.stringify(all)}`);

    const presence = await getJSON(sdk, '/channels', { filter_by_prefix: 'presence-', info: 'user_count' });
    assert.deepEqual(presence.channels[pres], { user_count: 2 });
    for (const c of Object.keys(presence.channels)) assert.ok(c.startsWith('presence-'), c);

    const priv2 = await getJSON(sdk, '/channels', { filter_by_prefix: `private-${tag}` });
    assert.deepEqual(Object.keys(priv2.channels), [priv]);
  });

  it('reports one channel with subscription_count and user_count', async () => {
    const name = uniqueName('presence-');
    const a = await ctx.pool.connect(MAIN, { presence: { user_id: 'u1' } });
    const b = await ctx.pool.connect(MAIN, { presence: { user_id: 'u1' } });
    const c = await ctx.pool.connect(MAIN, { presence: { user_id: 'u2' } });
    for (const p of [a, b, c]) await subscribe(p, name);

    const info = await getJSON(ctx.sdk(), `/channels/${name}`, { info: 'subscription_count,user_count' });
    assert.equal(info.occupied, true, JSON.stringify(info));
    assert.equal(info.subscription_count, 3, JSON.stringify(info));
    assert.equal(info.user_count, 2, JSON.stringify(info));
  });

  it('reports the subscription_count of a public channel and an unoccupied channel', async () => {
    const name = uniqueName('pub-');
    const a = await ctx.pool.connect();
    const b = await ctx.pool.connect();
    await subscribe(a, name);
    await subscribe(b, name);
    const sdk = ctx.sdk();

    const info = await getJSON(sdk, `/channels/${name}`, { info: 'subscription_count' });
    assert.equal(info.occupied, true);
    assert.equal(info.subscription_count, 2);

    const empty = await getJSON(sdk, `/channels/${uniqueName('nobody-')}`);
    assert.equal(empty.occupied, false, JSON.stringify(empty));
  });

  it('lists the users of a presence channel once each', async () => {
    const name = uniqueName('presence-');
    for (const user_id of ['7', '8', '7']) {
      const p = await ctx.pool.connect(MAIN, { presence: { user_id, user_info: { n: user_id } } });
      await subscribe(p, name);
    }
    const body = await getJSON(ctx.sdk(), `/channels/${name}/users`);
    assert.deepEqual(body.users.map((u) => u.id).sort(), ['7', '8']);
    for (const u of body.users) assert.deepEqual(Object.keys(u), ['id']);
  });

  it('refuses user_count and users for non-presence channels with 400', async () => {
    const sdk = ctx.sdk();
    const name = uniqueName('pub-');
    await rejectsWithStatus(sdk.get({ path: `/channels/${name}/users` }), 400);
    await rejectsWithStatus(sdk.get({ path: `/channels/${name}`, params: { info: 'user_count' } }), 400);
  });
});

describe('HTTP API triggers', () => {
  it('answers a trigger with info with the channel counts', async () => {
    const name = uniqueName('presence-');
    const a = await ctx.pool.connect(MAIN, { presence: { user_id: 'u1' } });
    await subscribe(a, name);

    const res = await ctx.sdk().trigger(name, 'ev', {}, { info: 'subscription_count,user_count' });
    const body = await res.json();
    assert.deepEqual(body, { channels: { [name]: { subscription_count: 1, user_count: 1 } } });
  });

  it('answers a plain trigger with {}', async () => {
    const res = await ctx.sdk().trigger(uniqueName('pub-'), 'ev', 'x');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
  });

  it('refuses event data over 10 KB with 413', async () => {
    await rejectsWithStatus(ctx.sdk().trigger(uniqueName('pub-'), 'big', 'x'.repeat(10 * 1024 + 1)), 413);
  });

  it('refuses a batch of more than 10 events', async () => {
    const batch = Array.from({ length: 11 }, (_, i) => ({ channel: uniqueName('pub-'), name: 'ev', data: String(i) }));
    await assert.rejects(ctx.sdk().triggerBatch(batch), (err) => {
      assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
      return true;
    });
  });
});

describe('HTTP API validation', () => {
  it('refuses a trigger to an invalid channel name with 400', async () => {
    // The SDK validates names itself, so sign the request by hand.
    const sdk = ctx.sdk();
    const path = `/apps/${MAIN.id}/events`;
    const body = JSON.stringify({ name: 'ev', channels: ['bad name!'], data: 'x' });
    const query = sdk.createSignedQueryString({ method: 'POST', path, body });
    const res = await fetch(`http://${HOST}:${ctx.server.port}${path}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 400, await res.text());
  });

  it('refuses a trigger to more than 100 channels with 400', async () => {
    const sdk = ctx.sdk();
    const path = `/apps/${MAIN.id}/events`;
    const channels = Array.from({ length: 101 }, (_, i) => `c${i}`);
    const body = JSON.stringify({ name: 'ev', channels, data: 'x' });
    const query = sdk.createSignedQueryString({ method: 'POST', path, body });
    const res = await fetch(`http://${HOST}:${ctx.server.port}${path}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 400, await res.text());
  });
});

describe('HTTP API authentication', () => {
  it('refuses a request signed with the wrong secret with 401', async () => {
    const forger = ctx.sdk(MAIN, { secret: 'not-the-secret-at-all' });
    await rejectsWithStatus(forger.trigger(uniqueName('pub-'), 'ev', 'x'), 401);
    await rejectsWithStatus(forger.get({ path: '/channels' }), 401);
  });

  it('refuses a request with a stale timestamp with 401', async () => {
    const sdk = ctx.sdk();
    const path = `/apps/${MAIN.id}/channels`;
    const realNow = Date.now;
    let query;
    try {
      Date.now = () => realNow() - 3600 * 1000;
      query = sdk.createSignedQueryString({ method: 'GET', path });
    } finally {
      Date.now = realNow;
    }
    const res = await fetch(`http://${HOST}:${ctx.server.port}${path}?${query}`);
    assert.equal(res.status, 401, await res.text());
  });

  it('refuses a body that does not match body_md5 with 401', async () => {
    const sdk = ctx.sdk();
    const path = `/apps/${MAIN.id}/events`;
    const signed = JSON.stringify({ name: 'ev', channels: ['a'], data: 'signed' });
    const sent = JSON.stringify({ name: 'ev', channels: ['a'], data: 'tampered' });
    const query = sdk.createSignedQueryString({ method: 'POST', path, body: signed });
    const res = await fetch(`http://${HOST}:${ctx.server.port}${path}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sent,
    });
    assert.equal(res.status, 401, await res.text());
  });

  it('answers an unknown app id with 404', async () => {
    const ghost = ctx.sdk({ ...MAIN, id: '999999' });
    await rejectsWithStatus(ghost.get({ path: '/channels' }), 404);
  });

  it('refuses calls for a disabled app with 403', async () => {
    await rejectsWithStatus(ctx.sdk(DISABLED).trigger(uniqueName('pub-'), 'ev', 'x'), 403);
  });

  it('refuses a malformed body with 400', async () => {
    const sdk = ctx.sdk();
    const path = `/apps/${MAIN.id}/events`;
    const body = '{"name": "ev", "channels": [';
    const query = sdk.createSignedQueryString({ method: 'POST', path, body });
    const res = await fetch(`http://${HOST}:${ctx.server.port}${path}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 400, await res.text());
  });
});
