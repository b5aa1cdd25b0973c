// The extension's service worker: one Pusher-protocol connection to the
// server for the connected agent, the badge, the notifications, and the
// connect and sign-out flows the options page and the connect page's
// content script ask for.
//
// Staying alive. Chrome suspends an idle MV3 worker after 30 s, but
// websocket traffic resets that clock (Chrome 116+): the worker pings the
// server every KEEPALIVE_MS. When Chrome stops the worker anyway (an
// update, memory pressure, the browser restarting), the watchdog alarm
// (every 30 s, the shortest Chrome allows) or any message starts it again,
// and it reconnects.
//
// Nothing missed. Every workspace event has a seq; the last one applied
// is kept in chrome.storage.local (lastSeq). Whenever the workspace
// channel is (re)subscribed, and whenever a live event skips a seq, the
// worker first pages through GET /api/v1/events?after=<lastSeq>, so events
// that happened while it was suspended, offline or restarting are applied
// exactly once, in order. Notifications come from those events; the badge
// is recounted from the API after them.
//
// Revocation. A revoked token, a removed member or signing out everywhere
// closes the connection with 4009; a 401 from /pusher/auth or the API says
// the same. The worker then checks GET /api/v1/me, and on 401 forgets the
// token and paints the badge in the disconnected colour with "!".

import { PusherClient, fetchAuthorizer } from './pusher.js';
import { APIError, call, contactLabel, conversationURL, loadConnection, permissionPattern } from './api.js';

const KEEPALIVE_MS = 20_000;
const WATCHDOG = 'switchboard-watchdog';
const WATCHDOG_MINUTES = 0.5;
const BADGE_DELAY_MS = 300;
const BIG_SEQ = '4611686018427387904'; // 1<<62: "after everything", to read latest_seq
const EVENT_PAGE = 500;
const MAX_CATCHUP_NOTIFICATIONS = 10;
const CONNECT_SCRIPT = 'switchboard-connect';
const PENDING_TTL_MS = 15 * 60_000;
const COLOURS = { live: '#2b59c3', disconnected: '#80868b' };

/** conn is the live connection, or null. */
let conn = null;
/** lastSeq mirrors chrome.storage.local's lastSeq once loaded. */
let lastSeq = null;
/** queue runs event work one piece at a time, in order. */
let queue = Promise.resolve();
let badgeTimer = null;
let starting = null;
const contacts = new Map(); // contact id → label
let agentNames = null; // agent id → name

// Listeners are registered synchronously, at the top level, so that an
// event that starts the worker is delivered to them.
chrome.runtime.onInstalled.addListener(() => start());
chrome.runtime.onStartup.addListener(() => start());
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === WATCHDOG) watchdog();
});
chrome.notifications.onClicked.addListener(openNotification);
chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  handleMessage(msg, sender).then(reply, (err) => reply({ ok: false, error: err.message || String(err) }));
  return true; // answered asynchronously
});

start();

// For DevTools and the e2e tests: what a notification click does, since a
// click cannot be synthesized.
globalThis.switchboard = { openNotification };

/** serial runs fn after everything queued before it. */
function serial(fn) {
  const run = queue.then(fn);
  queue = run.catch((err) => console.warn('switchboard:', err));
  return run;
}

/** start connects with the stored token, once per worker life. */
function start() {
  if (!starting) {
    starting = (async () => {
      if (!(await chrome.alarms.get(WATCHDOG))) await chrome.alarms.create(WATCHDOG, { periodInMinutes: WATCHDOG_MINUTES });
      const st = await chrome.storage.local.get(['lastSeq']);
      lastSeq = typeof st.lastSeq === 'number' ? st.lastSeq : null;
      const c = await loadConnection();
      if (!c.token) {
        await setStatus(c.status === 'revoked' ? 'revoked' : 'signed-out');
        return;
      }
      connect(c);
    })().catch((err) => console.warn('switchboard: start', err));
  }
  return starting;
}

/** watchdog runs every 30 s: it revives a dropped connection. */
async function watchdog() {
  await start();
  if (!conn) return;
  const s = conn.client.state;
  if (s === 'disconnected') {
    conn.client.connect();
  } else if (s === 'connected') {
    serial(catchUp); // cheap: one request, usually empty
  }
}

// --- the connection ----------------------------------------------------

function connect(c) {
  disconnect();
  const headers = { Authorization: `Bearer ${c.token}` };
  const client = new PusherClient(c.me.workspace.app_key, {
    url: c.server.replace(/^http/, 'ws'),
    authorize: fetchAuthorizer(`${c.server}/pusher/auth`, { headers }),
    // Signed in, the connection is closed (4009) the moment the token is
    // revoked or the agent loses access.
    authenticateUser: fetchAuthorizer(`${c.server}/pusher/user-auth`, { headers }),
    log: (...args) => console.debug('pusher:', ...args),
  });
  const me = { ...c, client };
  conn = me;
  client.onState((state) => {
    if (conn !== me) return;
    if (state === 'connecting' || state === 'unavailable') setStatus(state === 'connecting' ? 'connecting' : 'offline');
    if (state === 'disconnected') verify(me); // refused for good: revoked?
  });
  client.onError((err) => {
    if (conn === me && err.status === 401) verify(me);
  });
  const ws = client.subscribe(`private-workspace-${c.me.workspace.id}`);
  ws.bind('pusher:subscription_succeeded', () => {
    serial(async () => {
      await catchUp();
      if (conn === me) await setStatus('live');
    });
  });
  ws.bind('pusher:subscription_error', (err) => {
    if (err.status === 401 || err.status === 403) verify(me);
  });
  // Event kinds are open ended, so every event is taken at emit.
  const emit = ws.emit.bind(ws);
  ws.emit = (event, data, meta) => {
    emit(event, data, meta);
    if (!event.startsWith('pusher:') && data && typeof data.seq === 'number') onLive(me, data);
  };
  // The agent channel carries what concerns this agent (assignments,
  // mentions), derived from the same log: a seq we have not reached
  // means the workspace channel lost something, so catch up.
  const agent = client.subscribe(`private-agent-${c.me.agent.id}`);
  for (const kind of ['conversation.assigned', 'note.mentioned']) {
    agent.bind(kind, (data) => {
      if (conn === me && data && typeof data.seq === 'number' && lastSeq !== null && data.seq > lastSeq) serial(catchUp);
    });
  }
  // Websocket traffic at least every 30 s keeps the worker alive.
  me.keepalive = setInterval(() => client.send({ event: 'pusher:ping', data: {} }), KEEPALIVE_MS);
  setStatus('connecting');
  client.connect();
}

function disconnect() {
  const c = conn;
  if (!c) return;
  conn = null; // first: the client's "disconnected" is then no news to verify
  clearInterval(c.keepalive);
  c.client.disconnect();
}

/**
 * verify asks the API whether the token still works: a 401 means it was
 * revoked (or the agent lost access), and the extension forgets it;
 * anything else leaves the watchdog to reconnect.
 */
async function verify(c) {
  try {
    await call(c.server, c.token, '/api/v1/me');
    if (conn === c && c.client.state !== 'connected') setStatus('offline');
  } catch (err) {
    if (err instanceof APIError && err.status === 401) {
      if (conn === c) await revoked();
    } else if (conn === c) {
      setStatus('offline');
    }
  }
}

/** revoked forgets a token the server no longer accepts. */
async function revoked() {
  disconnect();
  await chrome.storage.local.remove(['token', 'tokenId', 'lastSeq', 'mentions', 'badge']);
  lastSeq = null;
  await setStatus('revoked');
}

// --- events --------------------------------------------------------------

function onLive(c, ev) {
  serial(async () => {
    if (conn !== c || lastSeq === null || ev.seq <= lastSeq) return; // the baseline catch-up covers it, or seen
    if (ev.seq > lastSeq + 1) {
      await catchUp(); // a gap: fetch it in order (this event included)
      return;
    }
    await apply(c, ev, { live: true });
    await saveSeq(ev.seq);
  });
}

async function saveSeq(seq) {
  lastSeq = seq;
  await chrome.storage.local.set({ lastSeq: seq });
}

/**
 * catchUp applies every event after lastSeq, page by page. The first
 * time (no lastSeq) it only records where the log stands: history is not
 * news. A 410 means the log no longer reaches back: it starts again from
 * the newest seq, and the badge recount covers the state.
 */
async function catchUp() {
  const c = conn;
  if (!c) return;
  if (lastSeq === null) {
    const page = await call(c.server, c.token, '/api/v1/events', { query: { after: BIG_SEQ, limit: 1 } });
    await saveSeq(page.latest_seq);
    scheduleBadge();
    return;
  }
  const budget = { notifications: MAX_CATCHUP_NOTIFICATIONS };
  for (;;) {
    let page;
    try {
      page = await call(c.server, c.token, '/api/v1/events', { query: { after: lastSeq, limit: EVENT_PAGE } });
    } catch (err) {
      if (err instanceof APIError && err.status === 410) {
        const latest = await call(c.server, c.token, '/api/v1/events', { query: { after: BIG_SEQ, limit: 1 } });
        await saveSeq(latest.latest_seq);
        scheduleBadge();
        return;
      }
      if (err instanceof APIError && err.status === 401) verify(c);
      throw err;
    }
    for (const ev of page.events) {
      if (conn !== c) return;
      await apply(c, ev, { budget });
      lastSeq = ev.seq;
    }
    if (page.events.length) await saveSeq(lastSeq);
    if (!page.has_more) break;
  }
}

/**
 * apply takes one workspace event: notifications for what concerns the
 * agent, mentions kept until read, and a badge recount for anything that
 * can change it.
 */
async function apply(c, ev, { budget } = {}) {
  const myID = c.me.agent.id;
  const p = ev.payload || {};
  const conv = p.conversation;
  const s = c.settings;
  const notify = (kind, fn) => {
    if (budget) {
      if (budget.notifications <= 0) return null;
      budget.notifications--;
    }
    return fn().then((n) => show(`sb:${conv.id}:${kind}:${ev.seq}`, n)).catch((err) => console.warn('switchboard: notify', err));
  };
  switch (ev.kind) {
    case 'message.created': {
      const m = p.message;
      if (!m || !conv || m.direction !== 'in') break;
      const mine = conv.assignee_id === myID;
      const unassigned = !conv.assignee_id;
      if ((mine && s.assigned) || (unassigned && s.unassigned)) {
        await notify('message', async () => ({
          title: await contactName(c, conv.contact_id),
          message: preview(m),
          contextMessage: mine ? 'Assigned to you' : 'Unassigned',
        }));
      }
      break;
    }
    case 'note.created': {
      const m = p.message;
      if (!m || !conv || !(m.mentions || []).includes(myID) || m.author_agent_id === myID) break;
      const mentions = (await chrome.storage.local.get('mentions')).mentions || {};
      mentions[m.id] = { conversation_id: conv.id, seq: ev.seq, preview: preview(m) };
      await chrome.storage.local.set({ mentions });
      if (s.mentions) {
        await notify('mention', async () => ({
          title: `${await agentName(c, m.author_agent_id)} mentioned you`,
          message: preview(m),
          contextMessage: await contactName(c, conv.contact_id),
        }));
      }
      break;
    }
    case 'conversation.created':
    case 'conversation.updated': {
      if (!conv || conv.assignee_id !== myID) break;
      if (ev.kind === 'conversation.updated' && !(p.changed || []).includes('assignee_id')) break;
      if (s.assignments) {
        await notify('assigned', async () => ({
          title: 'Assigned to you',
          message: `${await contactName(c, conv.contact_id)}${conv.subject ? `: ${conv.subject}` : ''}`,
          contextMessage: c.me.workspace.name,
        }));
      }
      break;
    }
    case 'conversation.read': {
      if (p.agent_id !== myID || !conv) break;
      await forgetMentions(conv.id);
      break;
    }
    default:
  }
  if (/^(conversation|message|note)\./.test(ev.kind) || ev.kind === 'workspace.imported') scheduleBadge();
}

function preview(m) {
  const text = (m.body || '').replace(/\s+/g, ' ').trim();
  if (text) return text.length > 180 ? `${text.slice(0, 179)}…` : text;
  return m.media?.length ? 'Sent an attachment' : 'New message';
}

async function contactName(c, id) {
  if (!id) return 'Customer';
  if (!contacts.has(id)) {
    try {
      contacts.set(id, contactLabel(await call(c.server, c.token, `/api/v1/contacts/${id}`)));
    } catch {
      return 'Customer';
    }
  }
  return contacts.get(id);
}

async function agentName(c, id) {
  if (!agentNames || !agentNames.has(id)) {
    try {
      const list = await call(c.server, c.token, '/api/v1/agents');
      agentNames = new Map(list.agents.map((a) => [a.id, a.name || a.email]));
    } catch {
      return 'A colleague';
    }
  }
  return agentNames.get(id) || 'A colleague';
}

async function forgetMentions(conversationID) {
  const mentions = (await chrome.storage.local.get('mentions')).mentions || {};
  let changed = false;
  for (const [id, m] of Object.entries(mentions)) {
    if (m.conversation_id === conversationID) {
      delete mentions[id];
      changed = true;
    }
  }
  if (changed) {
    await chrome.storage.local.set({ mentions });
    scheduleBadge();
  }
}

// --- notifications -------------------------------------------------------

async function show(id, { title, message, contextMessage }) {
  await chrome.notifications.create(id, {
    type: 'basic',
    iconUrl: chrome.runtime.getURL('icons/icon128.png'),
    title,
    message,
    contextMessage,
    priority: 1,
  });
}

/** openNotification opens the conversation a notification is about. */
async function openNotification(id) {
  const m = /^sb:(\d+):/.exec(id);
  chrome.notifications.clear(id);
  if (!m) return;
  const { server } = await loadConnection();
  if (!server) return;
  await chrome.tabs.create({ url: conversationURL(server, Number(m[1])) });
}

// --- badge ---------------------------------------------------------------

/** scheduleBadge recounts the badge soon, once for a burst of events. */
function scheduleBadge() {
  clearTimeout(badgeTimer);
  badgeTimer = setTimeout(() => {
    badgeTimer = null;
    recount().catch((err) => console.warn('switchboard: badge', err));
  }, BADGE_DELAY_MS);
}

/**
 * recount sets the badge to the open conversations assigned to the agent
 * with unread messages, plus the mentions not read yet.
 */
async function recount() {
  const c = conn;
  if (!c) return;
  const page = await call(c.server, c.token, '/api/v1/conversations', {
    query: { assignee: 'me', status: 'open', unread: 'true', limit: 100 },
  });
  if (conn !== c) return;
  const mentions = (await chrome.storage.local.get('mentions')).mentions || {};
  const count = page.conversations.length + Object.keys(mentions).length;
  await chrome.storage.local.set({ badge: { count, more: Boolean(page.next_cursor) } });
  await paint();
}

async function setStatus(status) {
  const prev = (await chrome.storage.local.get('status')).status;
  if (prev !== status) await chrome.storage.local.set({ status });
  await paint();
}

/**
 * paint draws the badge: the count on the live colour, or on the
 * disconnected colour while not live; "!" once the token is revoked.
 */
async function paint() {
  const { status, badge, server, me } = await chrome.storage.local.get(['status', 'badge', 'server', 'me']);
  let text = '';
  if (status === 'revoked') text = '!';
  else if (status !== 'signed-out' && badge?.count) text = badge.more ? '99+' : String(Math.min(badge.count, 99)) + (badge.count > 99 ? '+' : '');
  const colour = status === 'live' ? COLOURS.live : COLOURS.disconnected;
  const where = me ? `${me.workspace.name} (${server})` : server || '';
  const title = {
    live: `Switchboard: connected to ${where}`,
    connecting: `Switchboard: connecting to ${where}`,
    offline: `Switchboard: disconnected from ${where}; reconnecting`,
    revoked: 'Switchboard: access was revoked; connect again in the options',
    'signed-out': 'Switchboard: not connected',
  }[status] || 'Switchboard';
  await Promise.all([
    chrome.action.setBadgeText({ text }),
    chrome.action.setBadgeBackgroundColor({ color: colour }),
    chrome.action.setTitle({ title }),
  ]);
}

// --- messages from the extension's pages and the content script ------------

async function handleMessage(msg, sender) {
  // Only the extension's own pages and its content script talk to it.
  if (sender.id !== chrome.runtime.id) throw new Error('unknown sender');
  await start();
  switch (msg?.type) {
    case 'status':
      return { ok: true, status: (await chrome.storage.local.get('status')).status, connected: Boolean(conn) };
    case 'connect-begin':
      return beginConnect(msg.server);
    case 'connect-token':
      return connectWithToken(msg.server, msg.token);
    case 'handoff':
      return handoff(msg, sender);
    case 'sign-out':
      return signOut();
    case 'settings': {
      const settings = { ...(await loadConnection()).settings, ...msg.settings };
      await chrome.storage.local.set({ settings });
      if (conn) conn.settings = settings;
      return { ok: true, settings };
    }
    case 'refresh':
      scheduleBadge();
      return { ok: true };
    case 'opened':
      await forgetMentions(Number(msg.conversationId));
      return { ok: true };
    default:
      throw new Error(`unknown request ${msg?.type}`);
  }
}

async function hasPermission(server) {
  return chrome.permissions.contains({ origins: [permissionPattern(server)] });
}

/**
 * beginConnect opens the server's connect page with a fresh nonce, after
 * registering the content script that brings the token back from it.
 */
async function beginConnect(server) {
  if (!(await hasPermission(server))) throw new Error(`the extension may not reach ${server} yet: allow it first`);
  const nonce = randomNonce();
  await chrome.storage.session.set({ pending: { server, nonce, expires: Date.now() + PENDING_TTL_MS } });
  await chrome.scripting.unregisterContentScripts({ ids: [CONNECT_SCRIPT] }).catch(() => {});
  await chrome.scripting.registerContentScripts([{
    id: CONNECT_SCRIPT,
    matches: [`${server}/extension/connect*`],
    js: ['content.js'],
    runAt: 'document_start',
    persistAcrossSessions: false,
  }]);
  const url = `${server}/extension/connect?nonce=${encodeURIComponent(nonce)}`;
  await chrome.tabs.create({ url });
  return { ok: true, url };
}

function randomNonce() {
  const b = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** handoff takes the token the connect page gave the content script. */
async function handoff(msg, sender) {
  const { pending } = await chrome.storage.session.get('pending');
  if (!pending || pending.expires < Date.now()) throw new Error('no connection was asked for from the extension (or it expired)');
  if (sender.origin !== pending.server) throw new Error(`the token came from ${sender.origin}, not ${pending.server}`);
  if (typeof msg.nonce !== 'string' || msg.nonce !== pending.nonce) throw new Error('the page answered a different request');
  await chrome.storage.session.remove('pending'); // one time
  await chrome.scripting.unregisterContentScripts({ ids: [CONNECT_SCRIPT] }).catch(() => {});
  return connectWithToken(pending.server, msg.token, Number(msg.token_id) || null);
}

/**
 * connectWithToken checks the token against the server (GET /api/v1/me),
 * stores it and connects.
 */
async function connectWithToken(server, token, tokenId = null) {
  token = String(token || '').trim();
  if (!token) throw new Error('paste a token');
  if (!(await hasPermission(server))) throw new Error(`the extension may not reach ${server} yet: allow it first`);
  let me;
  try {
    me = await call(server, token, '/api/v1/me');
  } catch (err) {
    if (err instanceof APIError && err.status === 401) throw new Error('the server does not accept this token (wrong, or revoked)');
    throw new Error(`could not reach ${server}: ${err.message}`);
  }
  if (!tokenId) {
    try {
      tokenId = (await call(server, token, '/extension/token')).id;
    } catch {
      tokenId = null; // an older server: sign-out then cannot revoke it
    }
  }
  disconnect();
  await chrome.storage.local.remove(['lastSeq', 'mentions', 'badge']);
  lastSeq = null;
  contacts.clear();
  agentNames = null;
  await chrome.storage.local.set({ server, token, tokenId, me: { workspace: me.workspace, agent: me.agent, role: me.role } });
  connect(await loadConnection());
  return { ok: true, me };
}

/** signOut revokes the extension's token on the server and forgets it. */
async function signOut() {
  const c = await loadConnection();
  disconnect();
  let revokedOnServer = false;
  if (c.token && c.tokenId) {
    try {
      await call(c.server, c.token, `/api/v1/tokens/${c.tokenId}`, { method: 'DELETE' });
      revokedOnServer = true;
    } catch (err) {
      revokedOnServer = err instanceof APIError && err.status === 401; // already revoked
    }
  }
  await chrome.storage.local.remove(['token', 'tokenId', 'me', 'lastSeq', 'mentions', 'badge']);
  lastSeq = null;
  await chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id))));
  await setStatus('signed-out');
  return { ok: true, revoked: revokedOnServer };
}
