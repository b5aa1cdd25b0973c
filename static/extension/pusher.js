// A small client for the Pusher Channels protocol (version 7), written for
// Switchboard's own pages. It uses no DOM, only WebSocket, timers and
// fetch-like callbacks, so it also runs in a Chrome extension's service
// worker and in Node (pass a WebSocket implementation).
//
//   const client = new PusherClient(appKey, {
//     url: `ws://${location.host}`,
//     authorize: async (socketId, channelName) => ({ auth, channel_data }),
//   });
//   client.onState((state, previous) => ...);
//   const ch = client.subscribe('private-workspace-1');
//   ch.bind('message.created', (data) => ...);
//   client.connect();
//
// States: "initialized" → "connecting" → "connected"; a dropped connection
// goes to "unavailable" while a reconnect is pending; "disconnected" after
// disconnect() or an error the protocol says not to retry (4000–4099).
// Reconnects back off exponentially (1 s doubling to 30 s) with jitter;
// 4200–4299 reconnect at once, 4100–4199 after a backoff.
// Subscriptions survive reconnects: every channel is subscribed again, with
// fresh authorization, on each new connection.

const PROTOCOL = 7;
const CLIENT_NAME = 'switchboard-web';
const CLIENT_VERSION = '1.0';
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const PONG_TIMEOUT_MS = 30000;

/** Channel is one subscription: bind handlers, trigger client events. */
export class Channel {
  constructor(client, name) {
    this.client = client;
    this.name = name;
    this.subscribed = false;
    this.handlers = new Map(); // event name → Set of functions
    /** members of a presence channel: Map user_id → user_info. */
    this.members = new Map();
    /** myID is this connection's user_id on a presence channel. */
    this.myID = null;
  }

  /** bind calls fn(data, meta) for every event named event on the channel. */
  bind(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return this;
  }

  /** unbind removes fn, or every handler of event when fn is omitted. */
  unbind(event, fn) {
    if (!fn) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(fn);
    return this;
  }

  /**
   * trigger sends a client event (its name must start with "client-") to
   * the channel's other subscribers; false when it could not be sent.
   */
  trigger(event, data) {
    if (!event.startsWith('client-')) throw new Error(`client events must start with "client-": ${event}`);
    if (!this.subscribed) return false;
    return this.client.send({ event, channel: this.name, data });
  }

  emit(event, data, meta = {}) {
    for (const fn of this.handlers.get(event) || []) {
      try {
        fn(data, meta);
      } catch (err) {
        this.client.log('handler failed', event, err);
      }
    }
  }
}

/** PusherClient is one websocket connection and its channels. */
export class PusherClient {
  /**
   * @param {string} key the app key
   * @param {object} opts
   * @param {string} opts.url websocket base, such as "wss://inbox.example.com"
   * @param {(socketId: string, channel: string) => Promise<object>} [opts.authorize]
   *   answers {auth, channel_data?} for private and presence channels
   * @param {(socketId: string) => Promise<object>} [opts.authenticateUser]
   *   answers {auth, user_data} for pusher:signin; when given, every new
   *   connection signs in, so the server can find (and, on revocation,
   *   close with 4009) this user's connections
   * @param {Function} [opts.WebSocket] the WebSocket constructor (default: global)
   * @param {Function} [opts.log] debug logger
   */
  constructor(key, { url, authorize, authenticateUser, WebSocket: WS, log } = {}) {
    this.key = key;
    this.url = `${url.replace(/\/$/, '')}/app/${encodeURIComponent(key)}?protocol=${PROTOCOL}&client=${CLIENT_NAME}&version=${CLIENT_VERSION}`;
    this.authorize = authorize;
    this.authenticateUser = authenticateUser;
    /** user is the signed-in user data ({id, user_info}) once pusher:signin succeeded. */
    this.user = null;
    this.signinListeners = new Set();
    this.WS = WS || globalThis.WebSocket;
    this.log = log || (() => {});
    this.state = 'initialized';
    this.socketId = null;
    this.channels = new Map();
    this.stateListeners = new Set();
    this.errorListeners = new Set();
    this.ws = null;
    this.attempt = 0;
    this.timers = { retry: null, activity: null, pong: null };
    this.activityTimeoutMs = 120000;
    this.wanted = false; // connect() called and not disconnect()ed
  }

  /** onState calls fn(state, previous) on every state change; returns an unsubscribe function. */
  onState(fn) {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** onError calls fn({code, message}) for every pusher:error received. */
  onError(fn) {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  /** onSignin calls fn(user) each time a connection is signed in. */
  onSignin(fn) {
    this.signinListeners.add(fn);
    return () => this.signinListeners.delete(fn);
  }

  /** connect opens the connection (and keeps reconnecting until disconnect). */
  connect() {
    this.wanted = true;
    if (this.ws || this.state === 'connecting') return;
    this.open();
  }

  /** disconnect closes the connection and stops reconnecting. */
  disconnect() {
    this.wanted = false;
    this.clearTimers();
    this.drop(1000);
    this.setState('disconnected');
  }

  /** subscribe returns the channel named name, subscribing when connected. */
  subscribe(name) {
    let ch = this.channels.get(name);
    if (!ch) {
      ch = new Channel(this, name);
      this.channels.set(name, ch);
      if (this.state === 'connected') this.subscribeChannel(ch);
    }
    return ch;
  }

  /** unsubscribe leaves the channel and forgets its handlers. */
  unsubscribe(name) {
    const ch = this.channels.get(name);
    if (!ch) return;
    this.channels.delete(name);
    if (ch.subscribed) this.send({ event: 'pusher:unsubscribe', data: { channel: name } });
    ch.subscribed = false;
  }

  /** channel returns a subscribed-to channel, or undefined. */
  channel(name) {
    return this.channels.get(name);
  }

  /** send writes one frame; false when not connected. */
  send(frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // --- connection lifecycle -------------------------------------------

  open() {
    this.clearTimers();
    this.setState('connecting');
    let ws;
    try {
      ws = new this.WS(this.url);
    } catch (err) {
      this.log('websocket', err);
      this.scheduleReconnect('backoff');
      return;
    }
    this.ws = ws;
    // A frame still in flight on a socket already dropped (disconnect,
    // reconnect) is ignored: it would restart the activity timer of a
    // connection nobody holds.
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClosed(ev.code);
    };
    ws.onerror = () => {}; // onclose follows and decides
  }

  onClosed(code) {
    this.clearTimers();
    this.socketId = null;
    for (const ch of this.channels.values()) ch.subscribed = false;
    if (!this.wanted) return;
    if (code >= 4000 && code <= 4099) {
      this.wanted = false;
      this.setState('disconnected');
    } else if (code >= 4200 && code <= 4299) {
      this.scheduleReconnect('now');
    } else {
      this.scheduleReconnect('backoff');
    }
  }

  /**
   * scheduleReconnect waits and opens again. "now" retries after a short
   * jittered pause (so a restarted server is not hit by every client in
   * the same millisecond); "backoff" waits min(30 s, 1 s · 2^attempt),
   * scaled by a random factor in [0.5, 1).
   */
  scheduleReconnect(kind) {
    this.setState('unavailable');
    const base = kind === 'now' ? 250 : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = base * (0.5 + Math.random() / 2);
    this.attempt++;
    this.timers.retry = setTimeout(() => {
      this.timers.retry = null;
      if (this.wanted) this.open();
    }, delay);
  }

  drop(code) {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(code);
      } catch {
        // already closing
      }
    }
    this.socketId = null;
    for (const ch of this.channels.values()) ch.subscribed = false;
  }

  clearTimers() {
    for (const k of Object.keys(this.timers)) {
      clearTimeout(this.timers[k]);
      this.timers[k] = null;
    }
  }

  setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    for (const fn of this.stateListeners) fn(state, previous);
  }

  /**
   * resetActivity restarts the inactivity clock: after activity_timeout
   * of silence we ping, and a pong (or any frame) must follow within
   * PONG_TIMEOUT_MS or the connection is dropped and reopened.
   */
  resetActivity() {
    clearTimeout(this.timers.activity);
    clearTimeout(this.timers.pong);
    this.timers.pong = null;
    this.timers.activity = setTimeout(() => {
      this.send({ event: 'pusher:ping', data: {} });
      this.timers.pong = setTimeout(() => {
        this.log('no pong; reconnecting');
        this.drop(4201);
        this.scheduleReconnect('now');
      }, PONG_TIMEOUT_MS);
    }, this.activityTimeoutMs);
  }

  // --- frames ----------------------------------------------------------

  onFrame(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.log('unparsable frame', raw);
      return;
    }
    this.resetActivity();
    const data = parseData(msg.data);
    switch (msg.event) {
      case 'pusher:connection_established':
        this.socketId = data.socket_id;
        if (data.activity_timeout) this.activityTimeoutMs = Math.min(data.activity_timeout * 1000, 120000);
        this.attempt = 0;
        this.resetActivity();
        this.setState('connected');
        if (this.authenticateUser) this.signin();
        for (const ch of this.channels.values()) this.subscribeChannel(ch);
        return;
      case 'pusher:signin_success':
        try {
          this.user = JSON.parse(data.user_data);
        } catch {
          this.user = null;
        }
        for (const fn of this.signinListeners) fn(this.user);
        return;
      case 'pusher:ping':
        this.send({ event: 'pusher:pong', data: {} });
        return;
      case 'pusher:pong':
        return;
      case 'pusher:error':
        this.onPusherError(data || {});
        return;
    }
    const ch = msg.channel && this.channels.get(msg.channel);
    if (!ch) return;
    switch (msg.event) {
      case 'pusher_internal:subscription_succeeded':
        ch.subscribed = true;
        if (data && data.presence) {
          ch.members = new Map(Object.entries(data.presence.hash || {}));
        }
        ch.emit('pusher:subscription_succeeded', ch.members);
        return;
      case 'pusher_internal:member_added':
        ch.members.set(String(data.user_id), data.user_info);
        ch.emit('pusher:member_added', { id: String(data.user_id), info: data.user_info });
        return;
      case 'pusher_internal:member_removed':
        ch.members.delete(String(data.user_id));
        ch.emit('pusher:member_removed', { id: String(data.user_id) });
        return;
      default:
        ch.emit(msg.event, data, { userId: msg.user_id });
    }
  }

  onPusherError(err) {
    for (const fn of this.errorListeners) fn(err);
    const code = Number(err.code);
    // A pusher:error with a 4000–4299 code precedes a close with that
    // code; the close handler decides. Nothing to do here but report.
    this.log('pusher:error', code, err.message);
  }

  /** signin authenticates the connection as a user (pusher:signin). */
  async signin() {
    const socketId = this.socketId;
    let auth;
    try {
      auth = await this.authenticateUser(socketId);
    } catch (err) {
      this.log('user authentication failed', err);
      for (const fn of this.errorListeners) fn({ code: null, message: `sign-in refused: ${err.message || err}`, status: err.status });
      return;
    }
    if (socketId !== this.socketId) return;
    this.send({ event: 'pusher:signin', data: { auth: auth.auth, user_data: auth.user_data } });
  }

  async subscribeChannel(ch) {
    const socketId = this.socketId;
    const frame = { channel: ch.name };
    if (ch.name.startsWith('private-') || ch.name.startsWith('presence-')) {
      if (!this.authorize) {
        ch.emit('pusher:subscription_error', { status: 0, error: 'no authorizer' });
        return;
      }
      let auth;
      try {
        auth = await this.authorize(socketId, ch.name);
      } catch (err) {
        ch.emit('pusher:subscription_error', { status: err.status || 0, error: String(err.message || err) });
        return;
      }
      // The connection may have changed, or the channel been left, meanwhile.
      if (socketId !== this.socketId || this.channels.get(ch.name) !== ch) return;
      frame.auth = auth.auth;
      if (auth.channel_data) {
        frame.channel_data = auth.channel_data;
        try {
          ch.myID = String(JSON.parse(auth.channel_data).user_id);
        } catch {
          ch.myID = null;
        }
      }
    }
    this.send({ event: 'pusher:subscribe', data: frame });
  }
}

/** parseData decodes a frame's data, which Pusher sends as a JSON string. */
function parseData(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/**
 * fetchAuthorizer returns an authorize (or authenticateUser) callback that
 * POSTs pusher-js's form (socket_id, and channel_name when given) to
 * endpoint with the page's credentials.
 */
export function fetchAuthorizer(endpoint, { headers = {}, fetch: f = globalThis.fetch } = {}) {
  return async (socketId, channelName) => {
    const form = { socket_id: socketId };
    if (channelName) form.channel_name = channelName;
    const res = await f(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    if (!res.ok) {
      const err = new Error(`${endpoint} answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return res.json();
  };
}
