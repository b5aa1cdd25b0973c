// static/js/pusher.js, the inbox's own Pusher protocol client, run in Node
// (with the ws package as its WebSocket) against the real server: public,
// private and presence channels, client events, pusher:error codes that
// must not be retried, and reconnecting with resubscription after a
// server restart on the same port.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { PusherClient } from '../../static/js/pusher.js';
import { MAIN } from '../lib/apps.js';
import { uniqueName } from '../lib/clients.js';
import { useSwitchboard } from '../lib/suite.js';
import { HOST } from '../lib/server.js';
import { Recorder, eventually } from '../lib/wait.js';

const ctx = useSwitchboard('ui-pusher');

const open = new Set();

/** client returns a connected-on-demand PusherClient signing as user. */
function client(key = MAIN.key, user = { user_id: 'u1', user_info: { name: 'One' } }) {
  const sdk = ctx.sdk();
  const c = new PusherClient(key, {
    url: `ws://${HOST}:${ctx.server.port}`,
    WebSocket,
    authorize: async (socketId, channel) => (channel.startsWith('presence-')
      ? sdk.authorizeChannel(socketId, channel, user)
      : sdk.authorizeChannel(socketId, channel)),
  });
  open.add(c);
  return c;
}

function closeAll() {
  for (const c of open) c.disconnect();
  open.clear();
}

function states(c) {
  const r = new Recorder('states');
  c.onState((s) => r.push(s));
  return r;
}

function subscribed(ch) {
  const r = new Recorder(`subscribed ${ch.name}`);
  ch.bind('pusher:subscription_succeeded', (m) => r.push(m));
  ch.bind('pusher:subscription_error', (e) => r.push({ error: e }));
  return r.waitFor(undefined, { what: `subscription to ${ch.name}` }).then((v) => {
    if (v && v.error) throw new Error(`subscription_error ${JSON.stringify(v.error)}`);
    return v;
  });
}

describe('static/js/pusher.js against the server', () => {
  it('receives events on public and private channels, parsed', async (t) => {
    t.after(closeAll);
    const c = client();
    const pub = c.subscribe(uniqueName('public'));
    const priv = c.subscribe(uniqueName('private-ui'));
    const ready = Promise.all([subscribed(pub), subscribed(priv)]);
    c.connect();
    await ready;
    assert.equal(c.state, 'connected');
    assert.match(c.socketId, /^\d+\.\d+$/);
    const got = new Recorder('events');
    pub.bind('greet', (d) => got.push(['pub', d]));
    priv.bind('greet', (d) => got.push(['priv', d]));
    await ctx.sdk().trigger([pub.name, priv.name], 'greet', { hello: 'world' });
    await got.waitFor(([ch]) => ch === 'pub', { what: 'public event' });
    const [, d] = await got.waitFor(([ch]) => ch === 'priv', { what: 'private event' });
    assert.deepEqual(d, { hello: 'world' });
  });

  it('keeps presence members and relays client events with the sender', async (t) => {
    t.after(closeAll);
    const name = uniqueName('presence-ui');
    const a = client(MAIN.key, { user_id: 'alice', user_info: { name: 'Alice' } });
    const b = client(MAIN.key, { user_id: 'bob', user_info: { name: 'Bob' } });
    const cha = a.subscribe(name);
    const added = new Recorder('member_added');
    const removed = new Recorder('member_removed');
    cha.bind('pusher:member_added', (m) => added.push(m));
    cha.bind('pusher:member_removed', (m) => removed.push(m));
    const typing = new Recorder('client-typing');
    cha.bind('client-typing', (d, meta) => typing.push({ d, meta }));
    const aReady = subscribed(cha);
    a.connect();
    await aReady;
    assert.deepEqual([...cha.members.keys()], ['alice']);
    assert.equal(cha.myID, 'alice');

    const chb = b.subscribe(name);
    const bReady = subscribed(chb);
    b.connect();
    const members = await bReady;
    assert.deepEqual([...members.keys()].sort(), ['alice', 'bob']);
    assert.deepEqual(members.get('alice'), { name: 'Alice' });
    const m = await added.waitFor((x) => x.id === 'bob', { what: 'bob added' });
    assert.deepEqual(m.info, { name: 'Bob' });

    assert.equal(chb.trigger('client-typing', { typing: true }), true);
    const ev = await typing.waitFor(undefined, { what: 'client-typing from bob' });
    assert.deepEqual(ev.d, { typing: true });
    assert.equal(ev.meta.userId, 'bob');
    assert.throws(() => chb.trigger('typing', {}), /client-/);

    b.unsubscribe(name);
    await removed.waitFor((x) => x.id === 'bob', { what: 'bob removed' });
    assert.equal(cha.members.has('bob'), false);
  });

  it('reports a refused authorization as subscription_error', async (t) => {
    t.after(closeAll);
    const c = new PusherClient(MAIN.key, {
      url: `ws://${HOST}:${ctx.server.port}`,
      WebSocket,
      authorize: async () => {
        const err = new Error('403 from /pusher/auth');
        err.status = 403;
        throw err;
      },
    });
    open.add(c);
    const ch = c.subscribe(uniqueName('private-refused'));
    const errors = new Recorder('subscription_error');
    ch.bind('pusher:subscription_error', (e) => errors.push(e));
    c.connect();
    const e = await errors.waitFor(undefined, { what: 'subscription_error' });
    assert.equal(e.status, 403);
    assert.equal(ch.subscribed, false);
  });

  it('stops at 4001 (no such app) instead of reconnecting', async (t) => {
    t.after(closeAll);
    const c = client('no-such-app-key');
    const s = states(c);
    const errs = new Recorder('pusher:error');
    c.onError((e) => errs.push(e));
    c.connect();
    const e = await errs.waitFor(undefined, { what: 'pusher:error' });
    assert.equal(e.code, 4001);
    await s.waitFor((x) => x === 'disconnected', { what: 'disconnected' });
    assert.equal(c.wanted, false, 'no reconnect is scheduled');
    assert.equal(c.timers.retry, null);
  });

  it('signs the connection in, and stops when the user\'s connections are terminated (4009)', async (t) => {
    t.after(closeAll);
    const sdk = ctx.sdk();
    const userID = uniqueName('user');
    const c = new PusherClient(MAIN.key, {
      url: `ws://${HOST}:${ctx.server.port}`,
      WebSocket,
      authenticateUser: async (socketId) => sdk.authenticateUser(socketId, { id: userID, user_info: { name: 'Signed In' } }),
    });
    open.add(c);
    const signedIn = new Recorder('signin');
    c.onSignin((u) => signedIn.push(u));
    const s = states(c);
    c.connect();
    const user = await signedIn.waitFor(undefined, { what: 'pusher:signin_success' });
    assert.equal(user.id, userID);
    assert.deepEqual(c.user.user_info, { name: 'Signed In' });

    await sdk.terminateUserConnections(userID);
    await s.waitFor((x) => x === 'disconnected', { what: 'disconnected after 4009' });
    assert.equal(c.wanted, false, 'no reconnect is scheduled');
  });

  it('reconnects and resubscribes after a server restart on the same port', async (t) => {
    t.after(closeAll);
    const c = client();
    const ch = c.subscribe(uniqueName('private-restart'));
    const s = states(c);
    let subs = 0;
    ch.bind('pusher:subscription_succeeded', () => { subs++; });
    const got = new Recorder('after');
    ch.bind('after-restart', (d) => got.push(d));
    c.connect();
    await eventually(() => subs === 1, { what: 'first subscription' });

    const port = ctx.server.port;
    await ctx.server.stop();
    await s.waitFor((x) => x === 'unavailable', { what: 'unavailable after the server went away' });
    await ctx.server.start({ port });
    await eventually(() => subs === 2 && c.state === 'connected', { timeout: 40_000, what: 'resubscribed after restart' });
    await ctx.sdk().trigger(ch.name, 'after-restart', { n: 1 });
    assert.deepEqual(await got.waitFor(undefined, { what: 'event after restart' }), { n: 1 });
  });
});
