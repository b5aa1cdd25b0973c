// A cluster: three Switchboard processes joined through Redis act as one
// Pusher server. Clients spread over the replicas get what one server would
// give them: every publication once, one presence member list, client
// events and terminate_connections across replicas, and a dead replica's
// members removed once its lease lapses.
//
// The replicas share the static app MAIN and a key prefix of this run's
// own, which is deleted at the end. Without Redis the file is skipped,
// loudly, unless REQUIRE_SERVICES=1 (as in CI), when it fails.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ClientPool, barrier, errorCode, record, serverSDK, subscribe, uniqueName, waitForState,
} from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';
import { REDIS_URL, RedisConn, probeRedis } from '../lib/redis.js';
import { startServer } from '../lib/server.js';
import { Recorder, eventually } from '../lib/wait.js';

/** HEARTBEAT_MS is the replicas' SWITCHBOARD_CLUSTER_HEARTBEAT. */
const HEARTBEAT_MS = 200;
/**
 * REAP_BOUND_MS is how long survivors may take to remove a SIGKILLed
 * replica's members: a lease lasts 3 heartbeats and a survivor looks for
 * lapsed ones every heartbeat, so about 4 heartbeats, plus slack for a busy
 * machine.
 */
const REAP_BOUND_MS = 4 * HEARTBEAT_MS + 3000;
const SETUP_TIMEOUT_MS = 600_000;
const REPLICAS = 3;

const redisProblem = await probeRedis(REDIS_URL);
const required = process.env.REQUIRE_SERVICES === '1';
if (redisProblem && !required) {
  console.error(`\n*** SKIPPING cluster.test.js: Redis at ${REDIS_URL} is unreachable (${redisProblem}).`
    + '\n*** Set REQUIRE_SERVICES=1 to make this a failure, or SWITCHBOARD_TEST_REDIS_URL to point elsewhere.\n');
}

// Wrapped in a function so a skip needs no checks in the hooks: a skipped
// suite runs none of them.
function clusterSuite() {
  const prefix = `sbe2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  /** @type {import('../lib/server.js').SwitchboardServer[]} */
  const replicas = [];
  /** @type {ClientPool[]} */
  const pools = [];
  let redis;

  before(async () => {
    redis = await RedisConn.connect(REDIS_URL);
    const env = {
      SWITCHBOARD_APP_ID: MAIN.id,
      SWITCHBOARD_APP_KEY: MAIN.key,
      SWITCHBOARD_APP_SECRET: MAIN.secret,
      SWITCHBOARD_APP_CLIENT_EVENTS: 'true',
      SWITCHBOARD_REDIS_URL: REDIS_URL,
      SWITCHBOARD_REDIS_PREFIX: prefix,
      SWITCHBOARD_CLUSTER_HEARTBEAT: `${HEARTBEAT_MS}ms`,
    };
    // Started one after another so a failure leaves nothing half-known:
    // every replica that started is in replicas, and after() stops it.
    for (let i = 0; i < REPLICAS; i += 1) {
      replicas.push(await startServer(null, { name: `cluster-${i + 1}`, env }));
      pools.push(new ClientPool(replicas[i]));
    }
  }, { timeout: SETUP_TIMEOUT_MS });

  afterEach(async () => {
    await Promise.all(pools.map((p) => p.closeAll()));
  });

  after(async () => {
    await Promise.all(pools.map((p) => p.closeAll()));
    const stops = await Promise.allSettled(replicas.map((r) => r.close()));
    if (redis) {
      try {
        await redis.deletePrefix(prefix);
      } finally {
        redis.close();
      }
    }
    const failed = stops.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  });

  /** sdk is the pusher server SDK pointed at replica i. */
  const sdk = (i) => serverSDK(replicas[i], MAIN);

  /**
   * clusterBarrier is barrier() through every live replica's HTTP API in
   * turn: whatever any replica sent the clients before is in by then.
   */
  async function clusterBarrier(channelName, channels, live = [0, 1, 2]) {
    for (const i of live) await barrier(sdk(i), channelName, channels);
  }

  /** users asks replica i for a presence channel's user ids, sorted. */
  async function users(i, name) {
    const res = await sdk(i).get({ path: `/channels/${name}/users` });
    return (await res.json()).users.map((u) => u.id).sort();
  }

  /** usersEverywhere waits until every live replica reports want. */
  async function usersEverywhere(name, want, live = [0, 1, 2]) {
    const sorted = [...want].sort();
    for (const i of live) {
      let last;
      await eventually(async () => {
        last = await users(i, name);
        return JSON.stringify(last) === JSON.stringify(sorted);
      }, { what: () => `replica ${i + 1} to list users ${JSON.stringify(sorted)} on ${name}, last ${JSON.stringify(last)}` });
    }
  }

  function memberIds(members) {
    const ids = [];
    members.each((m) => ids.push(m.id));
    return ids.sort();
  }

  /** signIn connects a pusher-js client to replica i and signs it in. */
  async function signIn(i, user) {
    const pusher = await pools[i].connect(MAIN, { user });
    const success = new Recorder('pusher:signin_success');
    pusher.connection.bind('message', (m) => {
      if (m.event === 'pusher:signin_success') success.push(m.data);
    });
    pusher.signin();
    await success.waitFor(undefined, { what: `pusher:signin_success for ${user.id} on replica ${i + 1}` });
    return pusher;
  }

  /**
   * unrefCloseTimer works around a pusher-js quirk, not a server fault: on
   * a server close with a 4000-4099 code pusher-js closes the transport
   * again after it has closed, and its websocket library then arms a 30 s
   * close timer that nothing clears. The timer is harmless but would keep
   * this test file's process alive; it is only unref'd, not changed.
   */
  function unrefCloseTimer(socket) {
    socket?._closeTimer?.unref?.();
  }

  it('delivers an event published through one replica to every client on every replica, once and in order', async () => {
    const name = uniqueName('cluster-');
    const clients = [];
    for (let i = 0; i < 2 * REPLICAS; i += 1) clients.push(await pools[i % REPLICAS].connect());
    const channels = [];
    for (const p of clients) {
      await subscribe(p, name);
      channels.push(p.channel(name));
    }
    const got = channels.map((c) => record(c, 'order-placed'));

    for (let n = 0; n < 3; n += 1) await sdk(0).trigger(name, 'order-placed', { n });

    await clusterBarrier(name, channels);
    got.forEach((rec, i) => {
      assert.deepEqual(rec.items.map((e) => e.data), [{ n: 0 }, { n: 1 }, { n: 2 }],
        `client #${i} on replica ${(i % REPLICAS) + 1} received ${rec.describe()}`);
    });

    // socket_id excludes one client on another replica, and only it.
    const excluded = 2; // on replica 3
    const rest = channels.map((c) => record(c, 'excluded-one'));
    await sdk(0).trigger(name, 'excluded-one', { x: 1 }, { socket_id: clients[excluded].connection.socket_id });
    await clusterBarrier(name, channels);
    rest.forEach((rec, i) => {
      assert.equal(rec.items.length, i === excluded ? 0 : 1, `client #${i} received ${rec.describe()}`);
    });
  });

  it('keeps one presence member list across replicas, with member_added and member_removed once', async () => {
    const name = uniqueName('presence-');
    const carol = { user_id: 'carol', user_info: { name: 'Carol' } };
    const dave = { user_id: 'dave', user_info: { name: 'Dave' } };
    const erin = { user_id: 'erin' };

    const c1 = await pools[0].connect(MAIN, { presence: carol });
    await subscribe(c1, name);
    const added = record(c1.channel(name), 'pusher:member_added');
    const removed = record(c1.channel(name), 'pusher:member_removed');
    await usersEverywhere(name, ['carol']);

    // A member on another replica sees carol, and carol sees it arrive.
    const d2 = await pools[1].connect(MAIN, { presence: dave });
    const dMembers = await subscribe(d2, name);
    assert.deepEqual(memberIds(dMembers), ['carol', 'dave']);
    assert.deepEqual(dMembers.get('carol'), { id: 'carol', info: carol.user_info });
    assert.deepEqual((await added.waitFor((e) => e.data.id === 'dave')).data, { id: 'dave', info: dave.user_info });
    await usersEverywhere(name, ['carol', 'dave']);

    const e3 = await pools[2].connect(MAIN, { presence: erin });
    const eMembers = await subscribe(e3, name);
    assert.deepEqual(memberIds(eMembers), ['carol', 'dave', 'erin']);
    const eAdded = record(e3.channel(name), 'pusher:member_added');
    const eRemoved = record(e3.channel(name), 'pusher:member_removed');
    await added.waitFor((e) => e.data.id === 'erin');
    await usersEverywhere(name, ['carol', 'dave', 'erin']);

    // dave again, on a third replica: still one member, no member_added.
    const d3 = await pools[2].connect(MAIN, { presence: dave });
    const d3Members = await subscribe(d3, name);
    assert.deepEqual(memberIds(d3Members), ['carol', 'dave', 'erin']);
    const watchers = [c1.channel(name), e3.channel(name)];
    await clusterBarrier(name, watchers);
    assert.deepEqual(added.items.map((e) => e.data.id), ['dave', 'erin'], `carol saw ${added.describe()}`);
    assert.equal(eAdded.items.length, 0, `erin saw ${eAdded.describe()}`);

    // The HTTP API of every replica gives the cluster's numbers.
    for (let i = 0; i < REPLICAS; i += 1) {
      await eventually(async () => {
        const res = await sdk(i).get({ path: `/channels/${name}`, params: { info: 'user_count,subscription_count' } });
        const info = await res.json();
        return info.occupied === true && info.user_count === 3 && info.subscription_count === 4;
      }, { what: `replica ${i + 1}: ${name} occupied with user_count 3 and subscription_count 4` });
      const res = await sdk(i).get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } });
      const list = await res.json();
      assert.deepEqual(list.channels[name], { user_count: 3 }, `replica ${i + 1} lists ${JSON.stringify(list)}`);
      assert.deepEqual(await users(i, name), ['carol', 'dave', 'erin']);
    }

    // dave leaves one replica: still a member. Then the other: removed once.
    d2.unsubscribe(name);
    await eventually(async () => {
      const res = await sdk(0).get({ path: `/channels/${name}`, params: { info: 'subscription_count' } });
      return (await res.json()).subscription_count === 3;
    }, { what: `subscription_count of ${name} to drop to 3` });
    await clusterBarrier(name, watchers);
    assert.equal(removed.items.length, 0, `member_removed while dave was still on replica 3: ${removed.describe()}`);

    d3.unsubscribe(name);
    assert.deepEqual((await removed.waitFor()).data, { id: 'dave', info: dave.user_info });
    await eRemoved.waitFor((e) => e.data.id === 'dave');
    await clusterBarrier(name, watchers);
    assert.equal(removed.items.length, 1, `carol saw ${removed.describe()}`);
    assert.equal(eRemoved.items.length, 1, `erin saw ${eRemoved.describe()}`);
    assert.deepEqual(memberIds(c1.channel(name).members), ['carol', 'erin']);
    await usersEverywhere(name, ['carol', 'erin']);
  });

  it('relays client events to subscribers on other replicas, never echoed', async () => {
    const name = uniqueName('private-');
    const sender = await pools[0].connect();
    const receivers = [await pools[0].connect(), await pools[1].connect(), await pools[2].connect()];
    await subscribe(sender, name);
    for (const r of receivers) await subscribe(r, name);
    const echoed = record(sender.channel(name), 'client-typing');
    const got = receivers.map((r) => record(r.channel(name), 'client-typing'));

    assert.equal(sender.channel(name).trigger('client-typing', { who: 'sender' }), true);

    for (const rec of got) await rec.waitFor();
    const all = [sender.channel(name), ...receivers.map((r) => r.channel(name))];
    await clusterBarrier(name, all);
    got.forEach((rec, i) => {
      assert.deepEqual(rec.items.map((e) => e.data), [{ who: 'sender' }], `receiver on replica ${i + 1}: ${rec.describe()}`);
    });
    assert.equal(echoed.items.length, 0, `echoed to the sender: ${echoed.describe()}`);

    // On presence channels the receiving replica sees the sender's user_id.
    const room = uniqueName('presence-');
    const frank = await pools[1].connect(MAIN, { presence: { user_id: 'frank' } });
    const grace = await pools[2].connect(MAIN, { presence: { user_id: 'grace' } });
    await subscribe(frank, room);
    await subscribe(grace, room);
    const moved = record(grace.channel(room), 'client-moved');
    frank.channel(room).trigger('client-moved', { x: 1 });
    const ev = await moved.waitFor();
    assert.deepEqual(ev.data, { x: 1 });
    assert.equal(ev.meta.user_id, 'frank', `metadata: ${JSON.stringify(ev.meta)}`);
  });

  it('closes a user\'s connections on other replicas on terminate_connections, with 4009', async () => {
    const id = uniqueName('user-');
    const onTwo = await signIn(1, { id });
    const onThree = await signIn(2, { id });
    const bystander = await signIn(2, { id: uniqueName('user-') });
    const sockets = [onTwo, onThree].map((p) => p.connection.connection?.transport?.socket);

    const res = await sdk(0).terminateUserConnections(id);
    assert.equal(res.status, 200);

    for (const p of [onTwo, onThree]) {
      await waitForState(p, 'disconnected');
      const codes = p.e2e.errors.items.map(errorCode).filter((c) => c !== undefined);
      assert.ok(codes.includes(4009), `want close code 4009, pusher-js saw errors ${p.e2e.errors.describe()}`);
    }
    sockets.forEach(unrefCloseTimer);
    const still = record(bystander.user, 'still-here');
    await sdk(0).sendToUser(bystander.user.user_data.id, 'still-here', 'yes');
    assert.equal((await still.waitFor()).data, 'yes');
    assert.equal(bystander.connection.state, 'connected');
  });

  // Last: it kills replica 3.
  it('removes a SIGKILLed replica\'s members within the lease bound, and only those', async (t) => {
    const name = uniqueName('presence-');
    const heidi = await pools[0].connect(MAIN, { presence: { user_id: 'heidi' } });
    const ivan = await pools[1].connect(MAIN, { presence: { user_id: 'ivan' } });
    const judy = await pools[2].connect(MAIN, { presence: { user_id: 'judy' } }); // only on replica 3
    const kim3 = await pools[2].connect(MAIN, { presence: { user_id: 'kim' } }); // on 3 and on 1
    const kim1 = await pools[0].connect(MAIN, { presence: { user_id: 'kim' } });
    for (const p of [heidi, ivan, judy, kim3, kim1]) await subscribe(p, name);
    await usersEverywhere(name, ['heidi', 'ivan', 'judy', 'kim']);
    const watchers = [heidi.channel(name), ivan.channel(name)];
    const removed = watchers.map((c) => record(c, 'pusher:member_removed'));

    const killedAt = Date.now();
    await replicas[2].kill();

    for (const rec of removed) {
      await rec.waitFor((e) => e.data.id === 'judy', {
        timeout: REAP_BOUND_MS,
        what: `member_removed for judy within ${REAP_BOUND_MS} ms of SIGKILL (heartbeat ${HEARTBEAT_MS} ms)`,
      });
    }
    t.diagnostic(`member_removed reached both survivors ${Date.now() - killedAt} ms after SIGKILL (bound ${REAP_BOUND_MS} ms)`);
    await clusterBarrier(name, watchers, [0, 1]);
    removed.forEach((rec, i) => {
      assert.deepEqual(rec.items.map((e) => e.data.id), ['judy'], `watcher on replica ${i + 1} saw ${rec.describe()}`);
    });
    for (const c of watchers) assert.deepEqual(memberIds(c.members), ['heidi', 'ivan', 'kim']);
    await usersEverywhere(name, ['heidi', 'ivan', 'kim'], [0, 1]);
  });
}

if (!redisProblem) {
  describe('a cluster of three replicas joined by Redis', clusterSuite);
} else if (required) {
  describe('a cluster of three replicas joined by Redis', () => {
    it('needs Redis (REQUIRE_SERVICES=1)', () => {
      assert.fail(`Redis at ${REDIS_URL} is required (REQUIRE_SERVICES=1) but unreachable: ${redisProblem}`);
    });
  });
} else {
  describe('a cluster of three replicas joined by Redis', () => {
    it('needs Redis', { skip: `SKIPPING: Redis at ${REDIS_URL} is unreachable (${redisProblem}); set REQUIRE_SERVICES=1 to make this a failure` }, () => {});
  });
}
