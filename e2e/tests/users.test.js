// User sign-in: pusher.signin() authenticates the connection as a user; the
// server SDK can then send events to that user and terminate the user's
// connections; watchlists report when watched users come and go.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useSwitchboard } from '../lib/suite.js';
import { Recorder } from '../lib/wait.js';
import { errorCode, record, waitForState, uniqueName } from '../lib/clients.js';
import { MAIN } from '../lib/apps.js';

const ctx = useSwitchboard('users');

/** signIn connects a pusher-js client and signs it in as user. */
async function signIn(user) {
  const pusher = await ctx.pool.connect(MAIN, { user });
  const success = new Recorder('pusher:signin_success');
  pusher.connection.bind('message', (m) => {
    if (m.event === 'pusher:signin_success') success.push(m.data);
  });
  const signinErrors = record(pusher.user, 'pusher:signin_error');
  pusher.signin();
  await Promise.race([
    success.waitFor(undefined, { what: `pusher:signin_success for ${user.id}` }),
    signinErrors.waitFor(undefined, { timeout: 10_000 }).then((e) => {
      throw new Error(`sign-in refused: ${JSON.stringify(e)}`);
    }),
  ]);
  assert.equal(pusher.user.user_data.id, user.id);
  return pusher;
}

describe('user sign-in', () => {
  it('delivers sdk.sendToUser events to the signed-in user on every connection', async () => {
    const id = uniqueName('user-');
    const other = uniqueName('user-');
    const phone = await signIn({ id, user_info: { name: 'Frank' } });
    const laptop = await signIn({ id });
    const stranger = await signIn({ id: other });
    const gotPhone = record(phone.user, 'invoice-paid');
    const gotLaptop = record(laptop.user, 'invoice-paid');
    const gotStranger = record(stranger.user, 'invoice-paid');

    await ctx.sdk().sendToUser(id, 'invoice-paid', { invoice: 'INV-1', amount: 12.5 });

    assert.deepEqual((await gotPhone.waitFor()).data, { invoice: 'INV-1', amount: 12.5 });
    assert.deepEqual((await gotLaptop.waitFor()).data, { invoice: 'INV-1', amount: 12.5 });
    // A later event to the stranger arrives after anything sent before it.
    const marker = record(stranger.user, 'marker');
    await ctx.sdk().sendToUser(other, 'marker', {});
    await marker.waitFor();
    assert.equal(gotStranger.items.length, 0, `another user received it: ${gotStranger.describe()}`);
  });

  it('refuses a sign-in signed with the wrong secret', async () => {
    const id = uniqueName('user-');
    const sock = await ctx.pool.raw();
    const socketId = await sock.socketId();
    const forger = ctx.sdk(MAIN, { secret: 'not-the-app-secret' });
    const { auth, user_data: userData } = forger.authenticateUser(socketId, { id });
    sock.send({ event: 'pusher:signin', data: { auth, user_data: userData } });

    const answer = await Promise.race([
      sock.frames.waitFor((f) => f.event === 'pusher:signin_success' || f.event === 'pusher:error', {
        what: 'an answer to a forged pusher:signin',
      }),
      sock.waitClosed().then((c) => ({ event: 'closed', ...c })),
    ]);
    assert.notEqual(answer.event, 'pusher:signin_success', 'a forged sign-in was accepted');
  });

  it('closes every connection of a user on sdk.terminateUserConnections, and only those', async () => {
    const id = uniqueName('user-');
    const a = await signIn({ id });
    const b = await signIn({ id });
    const bystander = await signIn({ id: uniqueName('user-') });

    const res = await ctx.sdk().terminateUserConnections(id);
    assert.equal(res.status, 200);

    for (const p of [a, b]) {
      await waitForState(p, 'disconnected');
      // A 4000-4099 code tells pusher-js not to reconnect by itself.
      const codes = p.e2e.errors.items.map(errorCode).filter((c) => c !== undefined);
      assert.ok(codes.some((c) => c >= 4000 && c < 4100),
        `want a close code in 4000-4099, pusher-js saw errors ${p.e2e.errors.describe()}`);
    }
    // The bystander's connection is still alive and signed in.
    const got = record(bystander.user, 'still-here');
    await ctx.sdk().sendToUser(bystander.user.user_data.id, 'still-here', 'yes');
    assert.equal((await got.waitFor()).data, 'yes');
    assert.equal(bystander.connection.state, 'connected');
  });

  it('reports watched users going online and offline', async () => {
    const watched = uniqueName('user-');
    const watcherId = uniqueName('user-');
    const watcher = await ctx.pool.connect(MAIN, { user: { id: watcherId, watchlist: [watched] } });
    const online = record(watcher.user.watchlist, 'online');
    const offline = record(watcher.user.watchlist, 'offline');
    const signedIn = new Recorder('pusher:signin_success');
    watcher.connection.bind('message', (m) => m.event === 'pusher:signin_success' && signedIn.push(m));
    watcher.signin();
    await signedIn.waitFor();

    const target = await signIn({ id: watched });
    const on = await online.waitFor();
    assert.deepEqual(on.data.user_ids, [watched], JSON.stringify(on.data));

    // Only an offline event after the online one counts.
    const before = offline.items.length;
    target.disconnect();
    const offs = await offline.waitForCount(before + 1);
    const off = offs[offs.length - 1];
    assert.deepEqual(off.data.user_ids, [watched], JSON.stringify(off.data));
  });
  it("refuses #server-to-user- subscriptions to anyone but that signed-in user", async () => {
    const victim = uniqueName('user-');
    const anonymous = await ctx.pool.raw();
    await anonymous.socketId();
    const impostor = await ctx.pool.raw();
    const impostorId = await impostor.socketId();
    impostor.send({ event: 'pusher:signin', data: ctx.sdk().authenticateUser(impostorId, { id: uniqueName('user-') }) });
    await impostor.next('pusher:signin_success');
    const channel = `#server-to-user-${victim}`;

    for (const sock of [anonymous, impostor]) {
      sock.send({ event: 'pusher:subscribe', data: { channel } });
      const answer = await sock.frames.waitFor(
        (f) => f.channel === channel || f.event === 'pusher:error',
        { what: `an answer to subscribing to ${channel}` },
      );
      assert.notEqual(answer.event, 'pusher_internal:subscription_succeeded', 'subscribed to another user\'s channel');
    }
    const real = await signIn({ id: victim });
    const got = record(real.user, 'private-note');
    await ctx.sdk().sendToUser(victim, 'private-note', 'for the victim only');
    await got.waitFor();
    for (const sock of [anonymous, impostor]) {
      assert.ok(!sock.frames.items.some((f) => f.event === 'private-note'), 'a user event leaked to another connection');
    }
  });
});
