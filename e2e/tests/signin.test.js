// Browser sign-in with the real pusher-js: a person signs in through the
// development sign-in (SWITCHBOARD_DEV_LOGIN on a loopback server), and
// pusher-js authorizes private-workspace-{id} and signs its connection in
// through /pusher/auth and /pusher/user-auth with nothing but the session
// cookie; the same with an API token. A cross-site request carrying the
// cookie is refused, and after logout the cookie authorizes nothing.
//
// Node's pusher-js sends its auth requests with an XMLHttpRequest
// emulation that, like a browser, may not set Cookie and keeps no cookie
// jar; the customHandler below sends what a browser's same-origin request
// would: the cookie, Origin and Sec-Fetch-Site.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appsConfig } from '../lib/apps.js';
import { Pusher, subscribe } from '../lib/clients.js';
import { HOST, SwitchboardServer } from '../lib/server.js';
import { Recorder, STEP_TIMEOUT_MS, withTimeout } from '../lib/wait.js';

let server;
let workspace; // output of `switchboard workspace create`
let conversationId;

const OWNER = 'owner@signin.e2e.test';

function base() {
  return `http://${HOST}:${server.port}`;
}

/** cli runs a switchboard command against the server's store. */
function cli(args) {
  return server.cli(args);
}

/** sameOrigin are the headers a browser adds to its own page's POST. */
function sameOrigin() {
  return { Origin: base(), 'Sec-Fetch-Site': 'same-origin' };
}

/** devSignIn signs in as email and returns the Cookie header to send. */
async function devSignIn(email) {
  const res = await fetch(`${base()}/auth/dev`, {
    method: 'POST',
    headers: { ...sameOrigin(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name: 'Olive Owner' }),
  });
  assert.equal(res.status, 200, `dev sign-in: ${await res.clone().text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('switchboard_session='));
  assert.ok(cookie, 'no session cookie');
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Lax/i);
  return cookie.split(';')[0];
}

/** post sends a pusher-js-style form to path with extra headers. */
function postForm(path, form, headers) {
  return fetch(`${base()}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** authHandler is a pusher-js customHandler posting to path with headers. */
function authHandler(path, headers) {
  return async (params, callback) => {
    try {
      const form = { socket_id: params.socketId };
      if (params.channelName) form.channel_name = params.channelName;
      const res = await postForm(path, form, headers);
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      callback(null, await res.json());
    } catch (err) {
      callback(err, null);
    }
  };
}

/** connect returns pusher-js for appKey, authorizing with headers. */
function connect(appKey, headers) {
  return new Pusher(appKey, {
    cluster: 'mt1',
    wsHost: HOST,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    enableStats: false,
    channelAuthorization: { customHandler: authHandler('/pusher/auth', headers) },
    userAuthentication: { customHandler: authHandler('/pusher/user-auth', headers) },
  });
}

/** signin runs pusher.signin() and resolves with the signed-in user data. */
function signin(pusher) {
  const done = new Recorder('pusher:signin_success');
  pusher.connection.bind('message', (m) => m.event === 'pusher:signin_success' && done.push(m.data));
  pusher.signin();
  return done.waitFor(undefined, { what: 'pusher:signin_success' }).then((d) => JSON.parse(d.user_data));
}

before(async () => {
  server = new SwitchboardServer(appsConfig(), { name: 'signin', env: { SWITCHBOARD_DEV_LOGIN: '1' } });
  workspace = cli(['workspace', 'create', '--name', 'Sign-in Co', '--owner-email', OWNER]);
  const seeded = cli(['seed', '--workspace', String(workspace.workspace_id), '--conversations', '1', '--messages', '1']);
  conversationId = seeded.conversation_ids[0];
  await server.start();
}, { timeout: 600_000 });

after(async () => {
  await server?.close();
});

describe('sign-in and pusher-js', () => {
  it('authorizes private-workspace-{id} and pusher:signin with the session cookie', async () => {
    const cookie = await devSignIn(OWNER);
    const session = await (await fetch(`${base()}/auth/session`, { headers: { Cookie: cookie } })).json();
    assert.equal(session.signed_in, true);
    assert.equal(session.workspace.id, workspace.workspace_id);
    assert.equal(session.workspace.app_key, workspace.app_key);
    assert.equal(session.workspace.role, 'owner');

    const pusher = connect(session.workspace.app_key, { Cookie: cookie, ...sameOrigin() });
    try {
      const channelName = `private-workspace-${workspace.workspace_id}`;
      const channel = pusher.subscribe(channelName);
      const live = new Recorder('message.created');
      channel.bind('message.created', (ev) => live.push(ev));
      await withTimeout(new Promise((resolve, reject) => {
        channel.bind('pusher:subscription_succeeded', resolve);
        channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error ${JSON.stringify(e)}`)));
      }), STEP_TIMEOUT_MS, `subscription to ${channelName}`);

      const user = await signin(pusher);
      assert.equal(user.id, String(session.agent.id));
      assert.equal(user.user_info.name, 'Olive Owner');

      // A reply sent with the cookie arrives live on the channel.
      const res = await fetch(`${base()}/api/v1/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: { Cookie: cookie, ...sameOrigin(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ body: 'Sent from a signed-in browser' }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const msg = await res.json();
      const ev = await live.waitFor((e) => e.payload.message.id === msg.id, { what: 'message.created for the reply' });
      assert.equal(ev.payload.message.body, 'Sent from a signed-in browser');
    } finally {
      pusher.disconnect();
    }
  });

  it('authorizes private-workspace-{id} and pusher:signin with a bearer token', async () => {
    const pusher = connect(workspace.app_key, { Authorization: `Bearer ${workspace.api_token}` });
    try {
      await subscribe(pusher, `private-workspace-${workspace.workspace_id}`);
      const user = await signin(pusher);
      assert.equal(user.id, String(workspace.owner_agent_id));
    } finally {
      pusher.disconnect();
    }
  });

  it('refuses a cross-site request with the cookie, and the cookie after logout', async () => {
    const cookie = await devSignIn(OWNER);
    const form = { socket_id: '1.2', channel_name: `private-workspace-${workspace.workspace_id}` };

    const forged = await postForm('/pusher/auth', form, { Cookie: cookie, Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).error.code, 'cross_origin');

    const ok = await postForm('/pusher/auth', form, { Cookie: cookie, ...sameOrigin() });
    assert.equal(ok.status, 200);

    const out = await fetch(`${base()}/auth/logout`, { method: 'POST', headers: { Cookie: cookie, ...sameOrigin() } });
    assert.equal(out.status, 204);
    const after = await postForm('/pusher/auth', form, { Cookie: cookie, ...sameOrigin() });
    assert.equal(after.status, 401);
  });
});
