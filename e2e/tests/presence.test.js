// Presence channels: members are users, not connections. pusher-js builds
// its member list from subscription_succeeded and keeps it current from
// member_added / member_removed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { barrier, frameData, record, subscribe, uniqueName } from '../lib/clients.js';
import { MAIN, SMALL_PRESENCE } from '../lib/apps.js';
import { eventually } from '../lib/wait.js';

const ctx = useSwitchboard('presence');

const alice = { user_id: 'alice', user_info: { name: 'Alice', role: 'agent' } };
const bob = { user_id: 'bob', user_info: { name: 'Bob' } };

function memberList(members) {
  const out = {};
  members.each((m) => {
    out[m.id] = m.info;
  });
  return out;
}

async function subscriptionCount(name) {
  const res = await ctx.sdk().get({ path: `/channels/${name}`, params: { info: 'subscription_count' } });
  return (await res.json()).subscription_count;
}

describe('presence channels', () => {
  it('lists members on subscribe and announces member_added and member_removed', async () => {
    const name = uniqueName('presence-');
    const a = await ctx.pool.connect(MAIN, { presence: alice });
    const b = await ctx.pool.connect(MAIN, { presence: bob });

    const aMembers = await subscribe(a, name);
    assert.equal(aMembers.count, 1);
    assert.deepEqual(aMembers.me, { id: 'alice', info: alice.user_info });
    const aChannel = a.channel(name);
    const added = record(aChannel, 'pusher:member_added');
    const removed = record(aChannel, 'pusher:member_removed');

    const bMembers = await subscribe(b, name);
    assert.equal(bMembers.count, 2);
    assert.deepEqual(bMembers.me, { id: 'bob', info: bob.user_info });
    assert.deepEqual(memberList(bMembers), { alice: alice.user_info, bob: bob.user_info });

    assert.deepEqual((await added.waitFor()).data, { id: 'bob', info: bob.user_info });
    assert.equal(aMembers.count, 2);

    b.unsubscribe(name);
    assert.deepEqual((await removed.waitFor()).data, { id: 'bob', info: bob.user_info });
    assert.equal(aMembers.count, 1);
    assert.deepEqual(memberList(aMembers), { alice: alice.user_info });
  });

  it('removes a member whose connection closes', async () => {
    const name = uniqueName('presence-');
    const a = await ctx.pool.connect(MAIN, { presence: alice });
    const b = await ctx.pool.connect(MAIN, { presence: bob });
    const aMembers = await subscribe(a, name);
    const removed = record(a.channel(name), 'pusher:member_removed');
    await subscribe(b, name);

    b.disconnect();

    assert.equal((await removed.waitFor()).data.id, 'bob');
    assert.equal(aMembers.count, 1);
  });

  it('counts one user on two connections as one member', async () => {
    const name = uniqueName('presence-');
    const watcher = await ctx.pool.connect(MAIN, { presence: alice });
    const bob1 = await ctx.pool.connect(MAIN, { presence: bob });
    const bob2 = await ctx.pool.connect(MAIN, { presence: bob });
    const sdk = ctx.sdk();

    const members = await subscribe(watcher, name);
    const wChannel = watcher.channel(name);
    const added = record(wChannel, 'pusher:member_added');
    const removed = record(wChannel, 'pusher:member_removed');

    await subscribe(bob1, name);
    await added.waitFor((e) => e.data.id === 'bob');
    const bob2Members = await subscribe(bob2, name);
    assert.equal(bob2Members.count, 2, `members seen by bob's second connection: ${JSON.stringify(memberList(bob2Members))}`);
    await barrier(sdk, name, [wChannel]);
    assert.equal(added.items.length, 1, `member_added for an already present user: ${added.describe()}`);
    assert.equal(members.count, 2);

    const users = await (await sdk.get({ path: `/channels/${name}/users` })).json();
    assert.deepEqual(users.users.map((u) => u.id).sort(), ['alice', 'bob']);

    // The first of bob's connections leaves: bob is still there.
    bob1.disconnect();
    await eventually(async () => (await subscriptionCount(name)) === 2, {
      what: `subscription_count of ${name} to drop to 2 after bob's first connection closed`,
    });
    await barrier(sdk, name, [wChannel]);
    assert.equal(removed.items.length, 0, `member_removed while bob still had a connection: ${removed.describe()}`);

    // The last one leaves: now bob is gone.
    bob2.unsubscribe(name);
    assert.deepEqual((await removed.waitFor()).data, { id: 'bob', info: bob.user_info });
    assert.equal(members.count, 1);
  });

  it('reports the user count of a presence channel through the HTTP API', async () => {
    const name = uniqueName('presence-');
    const a = await ctx.pool.connect(MAIN, { presence: alice });
    const b1 = await ctx.pool.connect(MAIN, { presence: bob });
    const b2 = await ctx.pool.connect(MAIN, { presence: bob });
    for (const p of [a, b1, b2]) await subscribe(p, name);

    const res = await ctx.sdk().get({ path: `/channels/${name}`, params: { info: 'user_count,subscription_count' } });
    const info = await res.json();
    assert.equal(info.occupied, true, JSON.stringify(info));
    assert.equal(info.user_count, 2, JSON.stringify(info));
    assert.equal(info.subscription_count, 3, JSON.stringify(info));
  });

  it('refuses a presence subscription whose auth carries no channel_data', async () => {
    // pusher-js would refuse such an auth response itself, so speak the
    // frame by hand: a valid private-style signature, but no user.
    const sock = await ctx.pool.raw();
    const socketId = await sock.socketId();
    const name = uniqueName('presence-');
    const { auth } = ctx.sdk().authorizeChannel(socketId, name);
    sock.send({ event: 'pusher:subscribe', data: { channel: name, auth } });
    const refusal = await sock.frames.waitFor(
      (f) => f.event === 'pusher:subscription_error' || f.event === 'pusher:error'
        || f.event === 'pusher_internal:subscription_succeeded',
      { what: `an answer to a presence subscription without channel_data` },
    );
    assert.notEqual(refusal.event, 'pusher_internal:subscription_succeeded',
      `a presence subscription without channel_data succeeded: ${JSON.stringify(refusal)}`);
  });

  it('refuses channel_data that does not match the signature', async () => {
    const sock = await ctx.pool.raw();
    const socketId = await sock.socketId();
    const name = uniqueName('presence-');
    const { auth } = ctx.sdk().authorizeChannel(socketId, name, bob);
    const impostor = JSON.stringify({ user_id: 'mallory', user_info: { name: 'Bob' } });
    sock.send({ event: 'pusher:subscribe', data: { channel: name, auth, channel_data: impostor } });
    const answer = await sock.frames.waitFor(
      (f) => f.event === 'pusher:subscription_error' || f.event === 'pusher_internal:subscription_succeeded',
      { what: 'an answer to a subscription with tampered channel_data' },
    );
    assert.equal(answer.event, 'pusher:subscription_error', JSON.stringify(answer));
    assert.equal(frameData(answer).status, 401, JSON.stringify(answer));
  });
  it('refuses a new user beyond max_presence_members but admits one already present', async () => {
    const name = uniqueName('presence-');
    for (const user_id of ['u1', 'u2', 'u1']) {
      const p = await ctx.pool.connect(SMALL_PRESENCE, { presence: { user_id } });
      await subscribe(p, name);
    }
    const third = await ctx.pool.connect(SMALL_PRESENCE, { presence: { user_id: 'u3' } });
    await assert.rejects(subscribe(third, name), (err) => {
      assert.equal(typeof err.data?.type, 'string', `subscription_error data: ${JSON.stringify(err.data)}`);
      return true;
    });
    const users = await (await ctx.sdk(SMALL_PRESENCE).get({ path: `/channels/${name}/users` })).json();
    assert.deepEqual(users.users.map((u) => u.id).sort(), ['u1', 'u2']);
  });

  it('refuses user_info larger than the limit', async () => {
    const p = await ctx.pool.connect(MAIN, { presence: { user_id: 'big', user_info: { blob: 'x'.repeat(4096) } } });
    const name = uniqueName('presence-');
    await assert.rejects(subscribe(p, name), /subscription to .* failed/);
    assert.equal(p.connection.state, 'connected');
  });
});
