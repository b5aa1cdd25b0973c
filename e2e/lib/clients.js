// Clients of the server under test, configured exactly as an application
// would configure them: the real pusher-js (Node build, which includes
// encrypted-channel support), laravel-echo on top of it, and the official
// pusher Node SDK for the HTTP API and for signing channel authorizations
// and user sign-ins in pusher-js's customHandler hooks.

import { randomBytes } from 'node:crypto';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import Echo from 'laravel-echo';
import WebSocket from 'ws';
import { HOST } from './server.js';
import { ENCRYPTION_MASTER_KEY, MAIN } from './apps.js';
import { Recorder, STEP_TIMEOUT_MS, withTimeout } from './wait.js';

export { Pusher, PusherServer, Echo };

let seq = 0;

/**
 * uniqueName returns a channel (or user) name no other test uses, so tests
 * sharing one server never see each other's traffic.
 */
export function uniqueName(prefix) {
  seq += 1;
  return `${prefix}e2e-${process.pid}-${seq}-${randomBytes(3).toString('hex')}`;
}

/**
 * serverSDK returns the pusher Node SDK pointed at the server, for app.
 * It always carries the encryption master key, so it can trigger on and
 * authorize private-encrypted- channels.
 */
export function serverSDK(server, app = MAIN, overrides = {}) {
  return new PusherServer({
    appId: app.id,
    key: app.key,
    secret: app.secret,
    host: HOST,
    port: server.port,
    useTLS: false,
    timeout: STEP_TIMEOUT_MS,
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY,
    ...overrides,
  });
}

/**
 * pusherOptions builds pusher-js options for app on server.
 *
 * @param {object} o
 * @param {{user_id:string,user_info?:object}} [o.presence] channel_data for presence channels
 * @param {{id:string,user_info?:object,watchlist?:string[]}} [o.user] user data for pusher.signin()
 * @param {Function} [o.authorize] replaces the signer: ({socketId, channelName}) => auth object
 */
export function pusherOptions(server, app = MAIN, { presence, user, authorize } = {}) {
  const sdk = serverSDK(server, app);
  return {
    cluster: 'mt1',
    wsHost: HOST,
    wsPort: server.port,
    wssPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    enableStats: false,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        let auth;
        try {
          if (authorize) {
            auth = authorize({ socketId, channelName, sdk });
          } else {
            const data = channelName.startsWith('presence-') ? presence : undefined;
            auth = sdk.authorizeChannel(socketId, channelName, data);
          }
        } catch (err) {
          callback(err, null);
          return;
        }
        callback(null, auth);
      },
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        let auth;
        try {
          auth = sdk.authenticateUser(socketId, user);
        } catch (err) {
          callback(err, null);
          return;
        }
        callback(null, auth);
      },
    },
  };
}

/**
 * watchConnection records a pusher-js connection's errors and state
 * changes from the moment it is created, so early failures are never
 * missed.
 */
function watchConnection(pusher) {
  const errors = new Recorder('connection error');
  const states = new Recorder('connection state');
  pusher.connection.bind('error', (err) => errors.push(err));
  pusher.connection.bind('state_change', (s) => states.push(s.current));
  pusher.e2e = { errors, states };
  return pusher.e2e;
}

/**
 * closeCode digs the Pusher error code out of whatever pusher-js emitted on
 * connection 'error': {type:'PusherError', data:{code}} for a pusher:error
 * frame or a close frame, wrapped in {type:'WebSocketError', error:…} when
 * the handshake was refused.
 */
export function errorCode(err) {
  if (!err) return undefined;
  if (err.data && err.data.code !== undefined) return err.data.code;
  if (err.error) return errorCode(err.error);
  return undefined;
}

/** waitForState resolves once pusher's connection reaches state. */
export function waitForState(pusher, state, timeout = STEP_TIMEOUT_MS) {
  if (pusher.connection.state === state) return Promise.resolve();
  return pusher.e2e.states
    .waitFor((s) => s === state, {
      timeout,
      what: `pusher-js connection state "${state}" (errors: ${pusher.e2e.errors.describe()})`,
    })
    .then(() => undefined);
}

/**
 * subscribe subscribes pusher to name and resolves with the
 * pusher:subscription_succeeded data (the Members object on presence
 * channels); it rejects with the pusher:subscription_error data.
 */
export function subscribe(pusher, name, timeout = STEP_TIMEOUT_MS) {
  const channel = pusher.subscribe(name);
  return subscribed(channel, timeout);
}

/** subscribed waits for channel's subscription outcome. */
export function subscribed(channel, timeout = STEP_TIMEOUT_MS) {
  if (channel.subscribed) return Promise.resolve(channel.members);
  const outcome = new Promise((resolve, reject) => {
    const ok = (data) => {
      channel.unbind('pusher:subscription_succeeded', ok);
      channel.unbind('pusher:subscription_error', bad);
      resolve(data);
    };
    const bad = (data) => {
      channel.unbind('pusher:subscription_succeeded', ok);
      channel.unbind('pusher:subscription_error', bad);
      const err = new Error(`subscription to ${channel.name} failed: ${JSON.stringify(data)}`);
      err.data = data;
      reject(err);
    };
    channel.bind('pusher:subscription_succeeded', ok);
    channel.bind('pusher:subscription_error', bad);
  });
  return withTimeout(outcome, timeout, `pusher:subscription_succeeded on ${channel.name}`);
}

/**
 * record binds a Recorder to event on a pusher-js channel (or any
 * pusher-js Dispatcher). Items are {data, meta}.
 */
export function record(target, event) {
  const rec = new Recorder(`"${event}" event`);
  target.bind(event, (data, meta) => rec.push({ data, meta }));
  return rec;
}

/**
 * barrier triggers a marker event through the HTTP API and waits until
 * every given pusher-js channel has received it. Frames to one connection
 * are delivered in order, so once the marker is in, anything the server
 * sent before it is in too: "X did not arrive" can be asserted without a
 * sleep.
 */
export async function barrier(sdk, channelName, channels) {
  const id = randomBytes(6).toString('hex');
  const recs = channels.map((c) => record(c, 'e2e-barrier'));
  try {
    await sdk.trigger(channelName, 'e2e-barrier', { id });
  } catch (err) {
    throw new Error(`barrier trigger on ${channelName} failed: ${describeRequestError(err)}`);
  }
  await Promise.all(recs.map((r, i) => r.waitFor((e) => e.data && e.data.id === id, {
    what: `barrier event ${id} on client #${i} of ${channelName}`,
  })));
  for (const c of channels) c.unbind('e2e-barrier');
}

/**
 * describeRequestError spells out a pusher SDK RequestError, whose own
 * message ("Request failed with an error") hides the cause.
 */
export function describeRequestError(err) {
  const parts = [err.message];
  if (err.status) parts.push(`status ${err.status}`);
  if (err.body) parts.push(`body ${err.body}`);
  if (err.error) parts.push(`cause ${err.error.message || err.error}`);
  return parts.join('; ');
}

/**
 * ClientPool creates clients for a test and disconnects every one of them
 * afterwards, so no test leaks connections (or timers that keep the test
 * process alive) into the next.
 */
export class ClientPool {
  constructor(server) {
    this.server = server;
    this.pushers = new Set();
    this.echos = new Set();
    this.raws = new Set();
  }

  /** create makes a pusher-js client; it starts connecting at once. */
  create(app = MAIN, opts = {}) {
    const key = opts.key || app.key;
    const pusher = new Pusher(key, pusherOptions(this.server, app, opts));
    watchConnection(pusher);
    this.pushers.add(pusher);
    return pusher;
  }

  /** connect makes a pusher-js client and waits until it is connected. */
  async connect(app = MAIN, opts = {}) {
    const pusher = this.create(app, opts);
    await waitForState(pusher, 'connected');
    return pusher;
  }

  /**
   * echo makes a laravel-echo instance with the pusher broadcaster, the
   * real pusher-js class and the classic custom authorizer, signing with
   * the server SDK as a Laravel backend would.
   */
  echo(app = MAIN, { presence } = {}) {
    const sdk = serverSDK(this.server, app);
    const echo = new Echo({
      broadcaster: 'pusher',
      Pusher,
      key: app.key,
      cluster: 'mt1',
      wsHost: HOST,
      wsPort: this.server.port,
      wssPort: this.server.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      enableStats: false,
      authorizer: (channel) => ({
        authorize: (socketId, callback) => {
          try {
            const data = channel.name.startsWith('presence-') ? presence : undefined;
            callback(null, sdk.authorizeChannel(socketId, channel.name, data));
          } catch (err) {
            callback(err, null);
          }
        },
      }),
    });
    watchConnection(echo.connector.pusher);
    this.echos.add(echo);
    return echo;
  }

  /** raw opens a bare websocket, for assertions on exact frames. */
  async raw(key = MAIN.key, query) {
    const sock = new RawSocket(this.server.wsURL(key, query));
    this.raws.add(sock);
    await sock.opened;
    return sock;
  }

  /** closeAll disconnects every client made through this pool. */
  async closeAll() {
    for (const echo of this.echos) echo.disconnect();
    for (const pusher of this.pushers) pusher.disconnect();
    await Promise.all([...this.raws].map((r) => r.close()));
    this.echos.clear();
    this.pushers.clear();
    this.raws.clear();
  }
}

/**
 * frameData returns a raw frame's data decoded the way pusher-js decodes
 * it: a JSON string is parsed, anything else is taken as is.
 */
export function frameData(frame) {
  if (typeof frame.data !== 'string') return frame.data;
  try {
    return JSON.parse(frame.data);
  } catch {
    return frame.data;
  }
}

/**
 * RawSocket is a websocket speaking Pusher frames by hand. Every received
 * frame is kept, parsed, in frames; closed resolves with {code, reason}.
 */
export class RawSocket {
  constructor(url) {
    this.frames = new Recorder('frame');
    this.ws = new WebSocket(url);
    this.opened = withTimeout(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of a websocket upgrade`)));
    }), STEP_TIMEOUT_MS, `websocket open ${url}`);
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (buf) => {
      const text = buf.toString();
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { unparsable: text };
      }
      this.frames.push(frame);
    });
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** next waits for a frame whose event is event (and that satisfies match). */
  next(event, match = () => true, timeout = STEP_TIMEOUT_MS) {
    return this.frames.waitFor((f) => f.event === event && match(f), {
      timeout,
      what: `a ${event} frame`,
    });
  }

  /** socketId waits for connection_established and returns its socket_id. */
  async socketId() {
    const f = await this.next('pusher:connection_established');
    return JSON.parse(f.data).socket_id;
  }

  /** waitClosed waits for the server to close the socket. */
  waitClosed(timeout = STEP_TIMEOUT_MS) {
    return withTimeout(this.closed, timeout, 'the server to close the websocket');
  }

  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
      return;
    }
    this.ws.close();
    try {
      await withTimeout(this.closed, 2000, 'websocket close handshake');
    } catch {
      this.ws.terminate();
    }
  }
}
