// The popup: the agent's open conversations with their last message, a
// quick reply in each, and the AI draft to accept or edit. It talks to the
// server with the extension's token, like the service worker, and opens
// its own Pusher connection only while a conversation is expanded, to
// show that conversation's draft as it streams on
// presence-conversation-{id} (where the agent is then, truly, viewing it).

import { PusherClient, fetchAuthorizer } from './pusher.js';
import { APIError, call, contactLabel, conversationURL, loadConnection } from './api.js';

const LIST_LIMIT = 20;
const MESSAGES_SHOWN = 3;
const STATUS_TEXT = { live: 'Live', connecting: 'Connecting', offline: 'Disconnected', revoked: 'Access revoked', 'signed-out': 'Not connected' };

const main = document.getElementById('main');
let conn; // {server, token, me}
let pusher = null;
const open = new Map(); // conversation id → its expanded view state

/** h builds an element: h('li#id.conv', {attrs}, ...children). */
function h(tag, attrs, ...children) {
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const el = document.createElement(name);
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function api(path, opts) {
  return call(conn.server, conn.token, path, opts);
}

boot().catch((err) => fail(err));

async function boot() {
  // Waking the worker (if Chrome had stopped it) reconnects it.
  chrome.runtime.sendMessage({ type: 'status' }).catch(() => {});
  const c = await loadConnection();
  paintStatus(c.status);
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' && changes.status) paintStatus(changes.status.newValue);
  });
  if (!c.token || !c.me) {
    main.replaceChildren(h('section.pad.empty',
      h('p', c.status === 'revoked' ? 'The server revoked this extension\'s access.' : 'The extension is not connected to a Switchboard server.'),
      h('button.primary', { type: 'button', onclick: () => chrome.runtime.openOptionsPage() }, 'Connect…')));
    return;
  }
  conn = c;
  const inbox = document.getElementById('open-inbox');
  inbox.href = `${c.server}/#/`;
  inbox.hidden = false;
  await render();
}

function paintStatus(status = 'signed-out') {
  const el = document.getElementById('conn');
  el.dataset.status = status;
  document.getElementById('conn-text').textContent = STATUS_TEXT[status] || status;
  el.setAttribute('aria-label', `Connection: ${STATUS_TEXT[status] || status}`);
}

function fail(err) {
  const msg = err instanceof APIError && err.status === 401 ? 'The server no longer accepts this extension\'s token. Connect again in the options.' : `Could not load the inbox: ${err.message}`;
  main.replaceChildren(h('p.pad.error', { role: 'alert' }, msg));
}

async function render() {
  const [list, mentionsStore] = await Promise.all([
    api('/api/v1/conversations', { query: { assignee: 'me', status: 'open', limit: LIST_LIMIT } }),
    chrome.storage.local.get('mentions'),
  ]);
  const unread = new Set((await api('/api/v1/conversations', { query: { assignee: 'me', status: 'open', unread: 'true', limit: 100 } }))
    .conversations.map((c) => c.id));
  const rows = await Promise.all(list.conversations.map(async (c) => {
    const [contact, messages] = await Promise.all([
      api(`/api/v1/contacts/${c.contact_id}`).catch(() => null),
      api(`/api/v1/conversations/${c.id}/messages`, { query: { limit: MESSAGES_SHOWN } }).catch(() => ({ messages: [] })),
    ]);
    return { c, contact, messages: messages.messages || [] };
  }));
  const mentions = Object.entries(mentionsStore.mentions || {});
  const sections = [];
  if (mentions.length) {
    sections.push(h('section.mentions', { 'aria-labelledby': 'mentions-h' },
      h('h2#mentions-h', `Mentions (${mentions.length})`),
      h('ul.plain', ...mentions.map(([, m]) => h('li', h('a', {
        href: conversationURL(conn.server, m.conversation_id),
        target: '_blank',
        rel: 'noopener',
        onclick: () => chrome.runtime.sendMessage({ type: 'opened', conversationId: m.conversation_id }),
      }, m.preview ? `“${m.preview}”` : `You were mentioned in conversation #${m.conversation_id}`))))));
  }
  sections.push(h('h2.list-h', `Your open conversations (${rows.length}${list.next_cursor ? '+' : ''})`));
  if (!rows.length) {
    sections.push(h('p.pad.muted.empty', 'Nothing assigned to you is open. Enjoy the quiet.'));
  } else {
    sections.push(h('ul.plain.convs', ...rows.map((r) => row(r, unread.has(r.c.id)))));
  }
  main.replaceChildren(...sections);
}

function row({ c, contact, messages }, unread) {
  const last = messages[0];
  const name = contactLabel(contact);
  const li = h(`li.conv${unread ? '.unread' : ''}`, { dataset: { id: c.id } });
  const head = h('button.conv-head', { type: 'button', 'aria-expanded': 'false', 'aria-controls': `conv-${c.id}`, onclick: () => toggle(li, c, name, messages) },
    h('span.conv-top', h('span.conv-name', name), unread ? h('span.unread-dot', { title: 'Unread' }, h('span.visually-hidden', ' unread')) : null,
      h('time.conv-time.muted', { datetime: c.last_activity_at }, ago(c.last_activity_at))),
    h('span.conv-preview.muted', last ? previewText(last) : 'No messages yet'));
  li.append(head, h('div.conv-body', { id: `conv-${c.id}`, hidden: true }));
  return li;
}

function previewText(m) {
  const who = m.type === 'note' ? 'Note: ' : m.direction === 'out' ? 'You: ' : '';
  return who + ((m.body || '').replace(/\s+/g, ' ').trim() || (m.media?.length ? 'Attachment' : '…'));
}

function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

function toggle(li, c, name, messages) {
  const head = li.querySelector('.conv-head');
  const body = li.querySelector('.conv-body');
  const expand = body.hidden;
  body.hidden = !expand;
  head.setAttribute('aria-expanded', String(expand));
  if (!expand) {
    collapse(c.id);
    return;
  }
  const view = { draftID: null, key: null };
  open.set(c.id, view);
  const list = h('ol.msgs.plain', ...messages.slice().reverse().map((m) => h(`li.msg.msg-${m.type === 'note' ? 'note' : m.direction}`, m.body || '(attachment)')));
  view.draft = h('section.draft', { 'aria-label': 'AI draft', hidden: true });
  view.input = h('textarea', { id: `reply-${c.id}`, rows: '3', placeholder: `Reply to ${name}…` });
  view.note = h('p.small.reply-status', { role: 'status' });
  const form = h('form.reply', { onsubmit: (e) => { e.preventDefault(); send(c, view); } },
    h('label.visually-hidden', { for: `reply-${c.id}` }, `Reply to ${name}`),
    view.input,
    h('div.reply-actions',
      h('a.link.small', { href: conversationURL(conn.server, c.id), target: '_blank', rel: 'noopener' }, 'Open in inbox'),
      h('button.primary', { type: 'submit' }, 'Send')),
    view.note);
  body.replaceChildren(list, view.draft, form);
  li.classList.remove('unread');
  li.querySelector('.unread-dot')?.remove();
  // Read in the popup is read: the badge drops it.
  api(`/api/v1/conversations/${c.id}/read`, { method: 'POST' }).catch(() => {});
  chrome.runtime.sendMessage({ type: 'opened', conversationId: c.id }).catch(() => {});
  watchDraft(c, view, messages[0]);
  view.input.focus();
}

function collapse(id) {
  open.delete(id);
  pusher?.unsubscribe(`presence-conversation-${id}`);
}

// --- quick reply -----------------------------------------------------------

/**
 * send posts the reply. Its Idempotency-Key is kept until the send
 * succeeds, so pressing Send again after a failure cannot post twice.
 */
async function send(c, view) {
  const body = view.input.value.trim();
  if (!body) {
    view.note.textContent = 'Write a reply first.';
    return;
  }
  view.key ||= crypto.randomUUID();
  const button = view.input.form.querySelector('button[type=submit]');
  button.disabled = true;
  view.note.textContent = 'Sending…';
  try {
    const req = { body, type: 'text' };
    if (view.draftID) req.draft_id = view.draftID;
    await api(`/api/v1/conversations/${c.id}/messages`, { method: 'POST', body: req, headers: { 'Idempotency-Key': view.key } });
    view.key = null;
    view.draftID = null;
    view.input.value = '';
    view.note.textContent = 'Sent.';
    view.input.closest('.conv-body').querySelector('.msgs').append(h('li.msg.msg-out', body));
  } catch (err) {
    view.note.textContent = `Not sent: ${err.message}`;
    view.note.classList.add('error');
  } finally {
    button.disabled = false;
  }
}

// --- AI draft --------------------------------------------------------------

function connectPusher() {
  if (pusher) return pusher;
  const headers = { Authorization: `Bearer ${conn.token}` };
  pusher = new PusherClient(conn.me.workspace.app_key, {
    url: conn.server.replace(/^http/, 'ws'),
    authorize: fetchAuthorizer(`${conn.server}/pusher/auth`, { headers }),
  });
  pusher.connect();
  return pusher;
}

/**
 * watchDraft shows the conversation's drafts as they stream, and asks for
 * one when the customer spoke last and none was asked for that message
 * yet (from this browser). AI turned off is no error: the panel stays
 * hidden.
 */
function watchDraft(c, view, last) {
  const ch = connectPusher().subscribe(`presence-conversation-${c.id}`);
  const draft = { id: null, pieces: new Map(), done: null };
  const reset = (id) => {
    if (draft.id === id) return;
    Object.assign(draft, { id, pieces: new Map(), done: null });
  };
  ch.bind('draft.delta', (d) => {
    reset(d.draft_id);
    if (draft.done) return;
    draft.pieces.set(d.seq, d.text);
    paintDraft(view, draft);
  });
  ch.bind('draft.completed', (d) => {
    reset(d.draft_id);
    draft.done = d;
    paintDraft(view, draft);
  });
  ch.bind('draft.failed', (d) => {
    reset(d.draft_id);
    draft.done = { failed: true, reason: d.reason, message: d.message };
    paintDraft(view, draft);
  });
  if (!last || last.direction !== 'in' || last.type === 'note') return;
  ch.bind('pusher:subscription_succeeded', async () => {
    const key = `draft-asked-${c.id}`;
    const asked = (await chrome.storage.session.get(key))[key];
    if (asked === last.id && draft.id) return;
    await chrome.storage.session.set({ [key]: last.id });
    try {
      const r = await api(`/api/v1/conversations/${c.id}/draft`, { method: 'POST' });
      reset(r.draft_id);
      if (!draft.done) paintDraft(view, draft);
    } catch (err) {
      if (!(err instanceof APIError && (err.status === 409 || err.status === 503))) console.warn('draft', err);
    }
  });
}

function draftText(draft) {
  if (draft.done && !draft.done.failed) return draft.done.text || '';
  let out = '';
  for (let i = 1; draft.pieces.has(i); i++) out += draft.pieces.get(i);
  return out;
}

function paintDraft(view, draft) {
  const el = view.draft;
  el.hidden = false;
  if (draft.done?.failed) {
    el.replaceChildren(h('p.small.muted', `No AI draft: ${draft.done.message || draft.done.reason || 'it failed'}.`));
    return;
  }
  const writing = !draft.done;
  el.setAttribute('aria-busy', String(writing));
  const use = (focus) => {
    view.input.value = draftText(draft);
    view.draftID = draft.id;
    el.hidden = true;
    if (focus) {
      view.input.focus();
      view.input.setSelectionRange(view.input.value.length, view.input.value.length);
    }
  };
  el.replaceChildren(
    h('div.draft-head', h('strong', 'AI draft'), h('span.small.muted', writing ? 'Writing…' : draft.done.model || '')),
    h('p.draft-text', draftText(draft) || '…'),
    h('div.draft-actions',
      h('button.primary.small', { type: 'button', disabled: writing, onclick: () => use(false) }, 'Accept'),
      h('button.small', { type: 'button', disabled: writing, onclick: () => use(true) }, 'Edit'),
      h('button.small', { type: 'button', onclick: () => { el.hidden = true; } }, 'Discard')));
}
