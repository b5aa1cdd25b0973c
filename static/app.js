// Switchboard's agent inbox: boots the page, routes (#/, #/c/{id},
// #/settings), applies live events to the shared state, and owns the
// connection banner, the title's unread count and keyboard shortcuts.

import { api } from './js/api.js';
import { h, replace, initials, hue } from './js/dom.js';
import { state, on, emit, loadCatalog, loadFeatures, putContact, forgetContact, unreadTotal, contact, contactName } from './js/state.js';
import { notify } from './js/notify.js';
import { Realtime } from './js/realtime.js';
import { mountInbox, reload, step, search } from './js/inbox.js';
import { mountConversation, open, close, focusComposer, setStatus } from './js/conversation.js';
import { mountContact } from './js/contact.js';
import { renderSettings } from './js/settings.js';
import { renderSignIn } from './js/signin.js';

const root = document.getElementById('root');
let realtime;
let shell;

boot().catch((err) => {
  console.error(err);
  replace(root, h('main.signin', h('div.signin-card', h('h1', 'Switchboard is unavailable'), h('p.muted', err.message),
    h('button.primary', { type: 'button', onclick: () => location.reload() }, 'Try again'))));
});

async function boot() {
  const session = await api('/auth/session');
  if (!session.signed_in || !session.workspace) {
    renderSignIn(root, session.sign_in_methods);
    return;
  }
  try {
    state.me = await api('me');
  } catch (err) {
    if (err.status === 401) {
      renderSignIn(root, session.sign_in_methods);
      return;
    }
    throw err;
  }
  try {
    Object.assign(state.filters, JSON.parse(localStorage.getItem('sb.filters') || '{}'));
  } catch {
    // keep the defaults
  }
  window.addEventListener('sb:unauthenticated', () => location.reload());
  realtime = new Realtime(state.me, { onEvent, onAgentEvent, onStatus, onResync });
  buildShell();
  await Promise.all([realtime.start(), loadCatalog(), loadFeatures()]);
  await reload();
  route();
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', shortcut);
  on('unread', title);
  title();
}

function buildShell() {
  const me = state.me;
  const name = me.agent.name || me.agent.email;
  shell = {};
  replace(root,
    h('a.skip', { href: '#conversation' }, 'Skip to conversation'),
    h('header.topbar',
      h('a.brand', { href: '#/' }, h('span.brand-mark', { 'aria-hidden': 'true' }, 'S'), h('span.brand-name', 'Switchboard')),
      shell.wsName = h('span.ws-name', me.workspace.name),
      h('form.search', { role: 'search', onsubmit: (e) => { e.preventDefault(); runSearch(); } },
        h('label.visually-hidden', { for: 'search' }, 'Search messages and contacts'),
        shell.search = h('input#search', { type: 'search', placeholder: 'Search  ( / )', autocomplete: 'off', onkeydown: (e) => { if (e.key === 'Escape') { e.target.value = ''; search(''); e.target.blur(); } } })),
      shell.conn = h('span.conn', { role: 'status', 'aria-label': 'Connection: connecting' }, h('span.dot'), h('span.conn-text', 'Connecting')),
      h('nav.topnav', { 'aria-label': 'Main' },
        shell.navInbox = h('a', { href: '#/' }, 'Inbox'),
        shell.navSettings = h('a', { href: '#/settings' }, 'Settings')),
      h('div.me',
        h(`span.avatar.avatar-sm.hue-${hue(name)}`, { 'aria-hidden': 'true', title: name }, initials(name)),
        h('button.link', { type: 'button', onclick: signOut }, 'Sign out'))),
    shell.banner = h('div.banner', { role: 'status', 'aria-live': 'polite', hidden: true }),
    shell.layout = h('div.layout',
      shell.list = h('section.list-pane', { 'aria-label': 'Conversation list' }),
      shell.conv = h('main.conv-pane#conversation', { tabindex: '-1', 'aria-label': 'Conversation' }),
      shell.contact = h('aside.contact-pane#contact-pane', { 'aria-label': 'Contact' })),
    shell.settings = h('main.settings-pane#settings', { hidden: true, tabindex: '-1' }),
    shell.toasts = h('div.toasts', { 'aria-live': 'polite' }),
  );
  mountInbox(shell.list);
  mountConversation(shell.conv, realtime);
  mountContact(shell.contact);
  on('toast', toast);
  on('toggle-contact', () => shell.layout.classList.toggle('show-contact'));
  on('workspace', (w) => { shell.wsName.textContent = w.name; });
  on('search-clear', () => { shell.search.value = ''; });
}

function route() {
  const hash = location.hash || '#/';
  const settings = hash === '#/settings';
  shell.layout.hidden = settings;
  shell.settings.hidden = !settings;
  shell.navSettings.toggleAttribute('aria-current', settings);
  if (settings) shell.navSettings.setAttribute('aria-current', 'page');
  else shell.navInbox.setAttribute('aria-current', 'page');
  if (settings) shell.navInbox.removeAttribute('aria-current');
  if (settings) {
    renderSettings(shell.settings);
    return;
  }
  const m = /^#\/c\/(\d+)$/.exec(hash);
  shell.layout.classList.toggle('has-open', Boolean(m));
  if (m) open(Number(m[1]));
  else close();
}

async function runSearch() {
  const q = shell.search.value.trim();
  try {
    await search(q);
  } catch (err) {
    toast(`Search failed: ${err.message}`);
  }
}

async function signOut() {
  await api('/auth/logout', { method: 'POST' }).catch(() => {});
  location.href = '/';
}

// --- live events -----------------------------------------------------------

function onEvent(ev) {
  const p = ev.payload || {};
  if (p.redacted) return; // erased (data rights): nothing left to show
  switch (ev.kind) {
    case 'conversation.created':
    case 'conversation.updated':
      putConversation(p.conversation);
      break;
    case 'conversation.read':
      putConversation(p.conversation);
      if (p.agent_id === state.me.agent.id && state.unread.delete(p.conversation.id)) emit('unread');
      break;
    case 'message.created':
    case 'message.updated':
    case 'note.created': {
      const m = p.message;
      if (ev.kind !== 'message.updated') {
        state.previews.set(m.conversation_id, m);
        const mine = m.author_kind === 'agent' && m.author_agent_id === state.me.agent.id;
        if (m.direction === 'in' && !mine && (m.conversation_id !== state.openID || document.hidden)) {
          const n = state.unread.get(m.conversation_id) || 0;
          state.unread.set(m.conversation_id, n === Infinity ? n : n + 1);
          emit('unread');
        }
        const conv = p.conversation;
        if (m.direction === 'in' && conv && (!conv.assignee_id || conv.assignee_id === state.me.agent.id)) {
          contact(conv.contact_id).then((c) => contactName(c), () => 'A customer').then((name) =>
            notify({ title: `${name} wrote`, body: m.body, href: `#/c/${conv.id}`, tag: `conversation-${conv.id}` }));
        }
      }
      if (p.conversation) putConversation(p.conversation);
      emit('preview', m.conversation_id);
      emit('message', { message: m });
      break;
    }
    case 'contact.created':
    case 'contact.updated':
      putContact(p.contact);
      emit('contact', p.contact);
      break;
    case 'contact.deleted':
      forgetContact(p.contact.id);
      break;
    case 'contact.merged':
      forgetContact(p.merged_id);
      putContact(p.contact);
      emit('contact', p.contact);
      break;
    case 'workspace.updated':
      state.me.workspace.name = p.name;
      emit('workspace', p);
      break;
    case 'workspace.imported':
      onResync();
      break;
    case 'conversation.deleted': {
      // Retention deleted it: drop it everywhere, leave it if it is open.
      const id = p.conversation_id;
      state.conversations.delete(id);
      state.previews.delete(id);
      if (state.unread.delete(id)) emit('unread');
      if (state.openID === id) {
        location.hash = '#/';
        toast(p.reason === 'erasure' ? `Conversation #${id} was erased with its contact.`
          : `Conversation #${id} was deleted by the workspace's retention settings.`);
      }
      reload();
      break;
    }
    default:
      if (/^(label|team|canned_response|member)\./.test(ev.kind)) loadCatalog();
      // unknown kinds are skipped: new ones are added over time
  }
}

function putConversation(c) {
  if (!c) return;
  const old = state.conversations.get(c.id);
  if (old && Date.parse(old.updated_at) > Date.parse(c.updated_at)) return; // a stale copy
  state.conversations.set(c.id, c);
  // An inbox connected since the catalogue was loaded (inboxes have no
  // events of their own): fetch the catalogue again, once per inbox.
  if (!state.inboxes.some((i) => i.id === c.inbox_id) && !unknownInboxes.has(c.inbox_id)) {
    unknownInboxes.add(c.inbox_id);
    loadCatalog();
  }
  emit('conversation', c);
}
const unknownInboxes = new Set();

function onAgentEvent(ev) {
  if (ev.kind === 'conversation.assigned') {
    const c = ev.payload?.conversation;
    if (c && c.id !== state.openID) toast(`Conversation #${c.id} was assigned to you.`, `#/c/${c.id}`);
    if (c) notify({ title: 'Assigned to you', body: `Conversation #${c.id}`, href: `#/c/${c.id}`, tag: `assigned-${c.id}` });
  } else if (ev.kind === 'note.mentioned') {
    const m = ev.payload?.message;
    if (m) toast('You were mentioned in a note.', `#/c/${m.conversation_id}`);
    if (m) notify({ title: 'You were mentioned', body: m.body, href: `#/c/${m.conversation_id}`, tag: `note-${m.id}` });
  }
}

let backOnlineTimer;
function onStatus(s) {
  const text = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting', offline: 'Offline' }[s];
  shell.conn.className = `conn conn-${s}`;
  shell.conn.setAttribute('aria-label', `Connection: ${text}`);
  shell.conn.querySelector('.conn-text').textContent = text;
  const b = shell.banner;
  clearTimeout(backOnlineTimer);
  if (s === 'reconnecting') {
    b.className = 'banner banner-warn';
    b.textContent = 'Reconnecting… Changes made meanwhile will appear once the connection is back.';
    b.hidden = false;
  } else if (s === 'offline') {
    b.className = 'banner banner-error';
    b.textContent = 'Offline: the server closed the connection. Reload the page to try again.';
    b.hidden = false;
    // Closed for good (4009 and kin) is often a revoked session: if so,
    // show the sign-in page rather than a dead inbox.
    api('/auth/session').then((sess) => {
      if (!sess.signed_in || !sess.workspace) location.reload();
    }).catch(() => {});
  } else if (s === 'live' && !b.hidden) {
    b.className = 'banner banner-ok';
    b.textContent = 'Back online.';
    backOnlineTimer = setTimeout(() => { b.hidden = true; }, 3000);
  }
}

async function onResync() {
  await loadCatalog();
  await reload();
  const id = state.openID;
  if (id) {
    close();
    open(id);
  }
}

// --- title, toasts, shortcuts -------------------------------------------------

function title() {
  const n = unreadTotal();
  document.title = `${n ? `(${n}) ` : ''}${state.me.workspace.name} · Switchboard`;
}

function toast(text, href) {
  const t = h('div.toast', { role: 'status' }, href ? h('a', { href }, text) : text);
  shell.toasts.append(t);
  setTimeout(() => t.remove(), 6000);
}

function shortcut(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest && t.closest('input, textarea, select, [contenteditable]')) return;
  switch (e.key) {
    case 'j': step(1); break;
    case 'k': step(-1); break;
    case 'r': if (focusComposer('reply')) break; return;
    case 'n': if (focusComposer('note')) break; return;
    case 'e': if (state.openID) setStatus('resolved'); break;
    case 'a': document.getElementById('conv-assignee')?.focus(); break;
    case '/': shell.search.focus(); break;
    case '?': toast('Shortcuts: j/k next/previous · r reply · n note · e resolve · a assign · / search'); break;
    default: return;
  }
  e.preventDefault();
}
