// The open conversation: header controls (status, assignee, priority,
// labels), the message log with delivery ticks and retry, who else is
// viewing (presence-conversation-{id}), typing indicators and the
// collision warning (client-typing), the composer with reply/note,
// canned responses on "/" and @mentions in notes, the channel's rules
// for replies (messaging windows, opt-outs: see policy.js) with a
// WhatsApp template form, and the AI draft panel (draft.js).

import { api } from './api.js';
import { h, replace, clock, initials, hue } from './dom.js';
import {
  state, on, emit, loadContact, putContact, contactName, agentName, inboxName, inboxKind,
} from './state.js';
import { replyBlock, optOutSource } from './policy.js';
import { DraftPanel } from './draft.js';
import { mediaList } from './media.js';

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_EXPIRE_MS = 6000;

let root;
let realtime;
let view = null; // the open conversation's view state

/** mountConversation renders the conversation pane into el. */
export function mountConversation(el, rt) {
  root = el;
  realtime = rt;
  empty();
  on('conversation', (c) => {
    if (view && c.id === view.id) {
      view.conv = c;
      renderHeader();
      renderPolicy();
    }
  });
  on('contact', (c) => {
    if (view?.contact && c.id === view.contact.id) {
      view.contact = c;
      renderHeader();
      loadOptOutSource();
    }
  });
  on('message', ({ message }) => {
    if (view && message.conversation_id === view.id) {
      upsertMessage(message);
      if (message.direction === 'in' && !document.hidden) markRead();
    }
  });
  on('features', () => renderPolicy(true));
  on('catalog', () => {
    if (!view) return;
    renderHeader();
    renderPolicy();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && view) markRead();
  });
}

function empty() {
  replace(root, h('div.empty-state',
    h('div.empty-icon', { 'aria-hidden': 'true' }),
    h('h2', 'No conversation selected'),
    h('p.muted', 'Pick one from the list, or press j and k to move through it.')));
}

/** close leaves the open conversation. */
export function close() {
  if (!view) return;
  stopTyping();
  realtime.client.unsubscribe(view.presenceName);
  clearInterval(view.typingSweep);
  view = null;
  state.openID = null;
  emit('open', null);
  empty();
}

/** open shows conversation id. */
export async function open(id) {
  if (view && view.id === id) return;
  close();
  state.openID = id;
  emit('open', id);
  const v = {
    id,
    conv: state.conversations.get(id) || null,
    contact: null,
    messages: new Map(),
    cursor: null,
    typers: new Map(), // user id → {name, mode, until}
    mode: 'reply',
    mentions: new Map(), // "@Name" → agent id
    attachments: [], // Files to send with the reply
    lastTypingSent: 0,
    typingIdle: null,
    presenceName: `presence-conversation-${id}`,
  };
  view = v;
  replace(root, h('div.loading', { role: 'status' }, 'Loading conversation…'));
  try {
    const [conv, page] = await Promise.all([
      api(`conversations/${id}`),
      api(`conversations/${id}/messages`, { query: { limit: 50 } }),
    ]);
    if (view !== v) return;
    v.conv = conv;
    state.conversations.set(id, conv);
    v.cursor = page.next_cursor || null;
    render();
    for (const m of page.messages.slice().reverse()) upsertMessage(m, false);
    scrollToEnd();
    markRead();
    subscribePresence();
    v.typingSweep = setInterval(() => {
      renderTyping();
      renderPolicy(); // a messaging window closes with time alone
    }, 1000);
    loadContact(conv.contact_id).then((c) => {
      if (view !== v) return;
      v.contact = c;
      renderHeader();
      loadOptOutSource();
      for (const m of v.messages.values()) if (m.author_kind === 'contact') upsertMessage(m, false);
      emit('contact-open', c);
    }).catch(() => {});
  } catch (err) {
    if (view !== v) return;
    replace(root, h('div.empty-state', h('h2', 'Could not open this conversation'), h('p.muted', err.message)));
  }
}

function render() {
  const v = view;
  v.els = {};
  const e = v.els;
  replace(root,
    e.header = h('header.conv-header'),
    e.log = h('div.messages', { role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite', tabindex: '0' }),
    e.typing = h('div.typing', { 'aria-live': 'polite' }),
    e.collision = h('div.collision', { role: 'alert', hidden: true }),
    e.policy = h('div.policy#reply-policy', { role: 'status', hidden: true }),
    e.template = templateForm(),
    (v.draft = new DraftPanel({ onUse: useDraft })).el,
    composer());
  renderPolicy();
  if (v.cursor) e.log.prepend(olderButton());
  renderHeader();
}

function olderButton() {
  return h('div.older', h('button.link', { type: 'button', onclick: loadOlder }, 'Load earlier messages'));
}

async function loadOlder() {
  const v = view;
  const page = await api(`conversations/${v.id}/messages`, { query: { limit: 50, cursor: v.cursor } });
  if (view !== v) return;
  v.cursor = page.next_cursor || null;
  v.els.log.querySelector('.older')?.remove();
  const firstOld = v.els.log.firstChild;
  for (const m of page.messages) {
    if (v.messages.has(m.id)) continue;
    v.messages.set(m.id, m);
    v.els.log.insertBefore(messageItem(m), v.els.log.firstChild);
  }
  if (v.cursor) v.els.log.prepend(olderButton());
  firstOld?.scrollIntoView?.({ block: 'start' });
}

// --- header ------------------------------------------------------------

const STATUSES = [['open', 'Open'], ['pending', 'Pending'], ['resolved', 'Resolved']];
const SNOOZES = [['snooze:1h', 'Snooze 1 hour', 3600e3], ['snooze:tomorrow', 'Snooze until tomorrow', null], ['snooze:week', 'Snooze 1 week', 7 * 86400e3]];
const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'];

function renderHeader() {
  const v = view;
  if (!v?.els) return;
  const c = v.conv;
  const name = v.contact ? contactName(v.contact) : `Conversation #${c.id}`;
  // Without the inbox list (older servers) the contact's identity names the channel.
  const channel = inboxKind(c.inbox_id) || v.contact?.identities?.find((i) => !i.channel.startsWith('inbox:'))?.channel;
  const sub = [`#${c.id}`, channel ? channelName(channel) : null, state.inboxes.length ? inboxName(c.inbox_id) : null].filter(Boolean).join(' · ');
  const statusOptions = STATUSES.map(([val, text]) => h('option', { value: val, selected: c.status === val }, text));
  if (c.status === 'snoozed') {
    statusOptions.push(h('option', { value: 'snoozed', selected: true }, `Snoozed until ${clock(c.snoozed_until)}`));
  }
  statusOptions.push(h('optgroup', { label: 'Snooze' }, ...SNOOZES.map(([val, text]) => h('option', { value: val }, text))));
  const agents = [...state.agents.values()].sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email));
  if (c.assignee_id && !state.agents.has(c.assignee_id)) agents.push({ id: c.assignee_id, name: agentName(c.assignee_id) });
  const focusedID = document.activeElement?.id;
  replace(v.els.header,
    h('div.conv-title',
      h('button.back', { type: 'button', 'aria-label': 'Back to the list', onclick: () => { location.hash = '#/'; } }, '←'),
      h(`span.avatar.avatar-lg.hue-${hue(name)}`, { 'aria-hidden': 'true' }, initials(name)),
      h('div',
        h('h2#conv-title', name),
        h('p.muted.small', sub)),
      h('div.viewers#viewers', { 'aria-label': 'Also viewing' }),
      h('button.small-button.contact-toggle', { type: 'button', 'aria-controls': 'contact-pane', onclick: () => emit('toggle-contact') }, 'Contact')),
    h('div.conv-controls',
      control('conv-status', 'Status', h('select#conv-status', { onchange: (e) => setStatus(e.target.value) }, ...statusOptions)),
      control('conv-assignee', 'Assignee', h('select#conv-assignee', { onchange: (e) => patch({ assignee_id: Number(e.target.value) || null }) },
        h('option', { value: '', selected: !c.assignee_id }, 'Unassigned'),
        ...agents.map((a) => h('option', { value: a.id, selected: c.assignee_id === a.id }, agentName(a.id))))),
      control('conv-priority', 'Priority', h('select#conv-priority', { onchange: (e) => patch({ priority: e.target.value }) },
        ...PRIORITIES.map((p) => h('option', { value: p, selected: c.priority === p }, p === 'none' ? 'No priority' : p[0].toUpperCase() + p.slice(1))))),
      h('div.labels', { role: 'group', 'aria-label': 'Labels' },
        ...(c.labels || []).map((l) => labelChip(l,
          h('button.chip-x', { type: 'button', 'aria-label': `Remove label ${l}`, onclick: () => removeLabel(l) }, '×'))),
        h('form.add-label', { onsubmit: (e) => { e.preventDefault(); const i = e.target.elements.label; addLabel(i.value); i.value = ''; } },
          h('label.visually-hidden', { for: 'add-label' }, 'Add label'),
          h('input#add-label', { name: 'label', list: 'label-options', placeholder: '+ Label', autocomplete: 'off', size: '8' }),
          h('datalist#label-options', ...state.labels.map((l) => h('option', { value: l.name }))))),
    ));
  if (focusedID) document.getElementById(focusedID)?.focus();
  renderViewers();
}

function control(id, label, select) {
  return h('div.control', h('label', { for: id }, label), select);
}

function channelName(kind) {
  return { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram', sms: 'SMS', web: 'Website', api: 'API' }[kind] || kind;
}

async function patch(body) {
  const v = view;
  try {
    const c = await api(`conversations/${v.id}`, { method: 'PATCH', body });
    state.conversations.set(c.id, c);
    emit('conversation', c);
  } catch (err) {
    emit('toast', `Could not update the conversation: ${err.message}`);
    renderHeader();
  }
}

/** setStatus applies a status select value, snoozes included. */
export function setStatus(value) {
  if (!view) return;
  if (value.startsWith('snooze:')) {
    const [, , ms] = SNOOZES.find(([v]) => v === value);
    let until;
    if (ms) until = new Date(Date.now() + ms);
    else {
      until = new Date();
      until.setDate(until.getDate() + 1);
      until.setHours(9, 0, 0, 0);
    }
    patch({ status: 'snoozed', snoozed_until: until.toISOString() });
    return;
  }
  if (value === view.conv.status) return;
  patch({ status: value });
}

async function addLabel(name) {
  name = name.trim();
  if (!name || !view) return;
  try {
    const c = await api(`conversations/${view.id}/labels`, { method: 'POST', body: { label: name } });
    if (c && c.id) {
      state.conversations.set(c.id, c);
      emit('conversation', c);
    }
  } catch (err) {
    emit('toast', `Could not add the label: ${err.message}`);
  }
}

async function removeLabel(name) {
  try {
    const c = await api(`conversations/${view.id}/labels/${encodeURIComponent(name)}`, { method: 'DELETE' });
    if (c && c.id) {
      state.conversations.set(c.id, c);
      emit('conversation', c);
    }
  } catch (err) {
    emit('toast', `Could not remove the label: ${err.message}`);
  }
}

// --- messages ------------------------------------------------------------

function upsertMessage(m, follow = true) {
  const v = view;
  if (!v?.els) return;
  const log = v.els.log;
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const old = log.querySelector(`.msg[data-id="${m.id}"]`);
  const prev = v.messages.get(m.id);
  if (prev && prev !== m && Date.parse(prev.updated_at) > Date.parse(m.updated_at)) return; // an older copy, arriving late
  v.messages.set(m.id, m);
  const el = messageItem(m);
  if (old) {
    old.replaceWith(el);
    return;
  }
  // Keep id order (ids grow with time); new messages almost always go last.
  let before = null;
  for (const li of log.querySelectorAll('.msg')) {
    if (Number(li.dataset.id) > m.id) {
      before = li;
      break;
    }
  }
  log.insertBefore(el, before);
  if (follow && (atEnd || m.author_agent_id === state.me.agent.id)) scrollToEnd();
}

function scrollToEnd() {
  const log = view?.els?.log;
  if (log) log.scrollTop = log.scrollHeight;
}

const STATUS_TEXT = {
  queued: ['Queued', 'Queued'],
  sent: ['✓', 'Sent'],
  delivered: ['✓✓', 'Delivered'],
  read: ['✓✓', 'Read'],
  failed: ['!', 'Failed'],
};

function messageItem(m) {
  const note = m.type === 'note';
  const kind = note ? 'note' : m.direction === 'in' ? 'in' : 'out';
  const author = m.author_kind === 'agent' ? agentName(m.author_agent_id).replace(' (you)', '') : m.author_kind === 'contact' ? (view?.contact ? contactName(view.contact) : 'Customer') : m.author_kind === 'ai' ? 'AI assistant' : 'System';
  const [tick, tickText] = STATUS_TEXT[m.status] || [];
  const body = [];
  if (note) body.push(h('span.note-label', 'Private note'));
  if (m.type === 'media' && !m.media?.length) body.push(h('span.media-tag', 'Attachment'));
  if (m.type === 'template') body.push(h('span.media-tag', 'Template'));
  body.push(mediaList(m.media));
  const text = m.media?.length ? withoutPlaceholders(m.body) : m.body;
  if (text || !m.media?.length) body.push(h('p.body', text));
  return h(`article.msg.msg-${kind}${m.status === 'failed' ? '.msg-failed' : ''}`, { dataset: { id: m.id } },
    h('div.bubble', ...body),
    h('div.msg-meta',
      h('span.author', author),
      h('time', { datetime: m.created_at }, clock(m.created_at)),
      m.ai_assisted ? h('span.muted', 'AI-assisted') : null,
      kind === 'out' && tick ? h(`span.tick.tick-${m.status}`, { title: tickText, 'aria-label': tickText, role: 'img' }, tick) : null),
    m.status === 'failed' ? h('div.msg-error',
      h('span', `Not delivered${m.error ? `: ${m.error}` : ''}`),
      h('button.small-button', { type: 'button', onclick: (e) => retry(m, e.target) }, 'Retry')) : null);
}

// withoutPlaceholders drops the "[image]", "[file] name" lines a channel
// writes into a media message's text for previews and search: the media
// themselves are shown.
function withoutPlaceholders(body) {
  return (body || '').split('\n').filter((l) => !/^\[(image|video|audio|voice|file|document|sticker)\]( .*)?$/i.test(l.trim())).join('\n').trim();
}

async function retry(m, button) {
  button.disabled = true;
  try {
    const updated = await api(`messages/${m.id}/retry`, { method: 'POST' });
    if (updated && updated.id) upsertMessage(updated);
  } catch (err) {
    button.disabled = false;
    emit('toast', `Retry failed: ${err.message}`);
  }
}

async function markRead() {
  const v = view;
  if (!v) return;
  state.unread.delete(v.id);
  emit('unread');
  try {
    await api(`conversations/${v.id}/read`, { method: 'POST' });
  } catch {
    // the badge is already cleared locally; the server catches up next time
  }
}

// --- presence and typing ---------------------------------------------------

function subscribePresence() {
  const v = view;
  const ch = realtime.client.subscribe(v.presenceName);
  v.presence = ch;
  ch.bind('pusher:subscription_succeeded', renderViewers);
  ch.bind('pusher:member_added', renderViewers);
  ch.bind('pusher:member_removed', ({ id }) => {
    v.typers.delete(id);
    renderViewers();
    renderTyping();
  });
  // AI drafts stream to everyone viewing the conversation.
  ch.bind('draft.delta', (d) => view === v && d?.draft_id && v.draft.delta(d));
  ch.bind('draft.completed', (d) => view === v && d?.draft_id && v.draft.completed(d));
  ch.bind('draft.failed', (d) => view === v && d?.draft_id && v.draft.failed(d));
  ch.bind('client-typing', (data, meta) => {
    const id = String(meta.userId || data.agent_id);
    if (id === String(state.me.agent.id)) return;
    if (data.typing) v.typers.set(id, { name: data.name || agentName(Number(id)), mode: data.mode, until: Date.now() + TYPING_EXPIRE_MS });
    else v.typers.delete(id);
    renderTyping();
  });
}

function renderViewers() {
  const v = view;
  const el = root.querySelector('#viewers');
  if (!v || !el || !v.presence) return;
  const me = String(state.me.agent.id);
  const others = [...v.presence.members.entries()].filter(([id]) => id !== me);
  replace(el, ...others.map(([id, info]) => {
    const name = info?.name || agentName(Number(id));
    return h(`span.avatar.avatar-sm.viewer.hue-${hue(name)}`, { title: `${name} is viewing`, role: 'img', 'aria-label': `${name} is viewing` }, initials(name));
  }));
  el.hidden = others.length === 0;
}

function renderTyping() {
  const v = view;
  if (!v?.els) return;
  const now = Date.now();
  for (const [id, t] of v.typers) if (t.until < now) v.typers.delete(id);
  const typers = [...v.typers.values()];
  const text = typers.length === 0 ? '' : typers.length === 1
    ? `${typers[0].name} is ${typers[0].mode === 'note' ? 'writing a note' : 'typing'}…`
    : `${typers.map((t) => t.name).join(', ')} are typing…`;
  if (v.els.typing.textContent !== text) v.els.typing.textContent = text;
  // Two replies to one customer at once is the collision to warn about.
  const replying = typers.filter((t) => t.mode !== 'note');
  const mine = v.mode === 'reply' && (v.els.input.value.trim() !== '' || document.activeElement === v.els.input);
  const warn = replying.length > 0 && mine;
  const msg = warn ? `${replying.map((t) => t.name).join(', ')} ${replying.length > 1 ? 'are' : 'is'} also replying to this conversation.` : '';
  v.els.collision.hidden = !warn;
  if (v.els.collision.textContent !== msg) v.els.collision.textContent = msg;
}

function sendTyping(typing) {
  const v = view;
  if (!v?.presence?.subscribed) return;
  v.presence.trigger('client-typing', {
    agent_id: state.me.agent.id, name: state.me.agent.name || state.me.agent.email, mode: v.mode, typing,
  });
}

function onInputTyping() {
  const v = view;
  const now = Date.now();
  if (v.els.input.value.trim() === '') {
    stopTyping();
    return;
  }
  if (now - v.lastTypingSent > TYPING_SEND_EVERY_MS) {
    v.lastTypingSent = now;
    sendTyping(true);
  }
  clearTimeout(v.typingIdle);
  v.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  const v = view;
  if (!v) return;
  clearTimeout(v.typingIdle);
  if (v.lastTypingSent) {
    v.lastTypingSent = 0;
    sendTyping(false);
  }
}

// --- composer ----------------------------------------------------------------

function composer() {
  const v = view;
  const e = v.els;
  const modeButton = (mode, label) => h('button.mode', {
    type: 'button', role: 'radio', 'aria-checked': String(v.mode === mode), dataset: { mode }, onclick: () => setMode(mode),
  }, label);
  e.input = h('textarea#composer-input', {
    rows: '3', placeholder: 'Write a reply…  ("/" for canned responses)', 'aria-autocomplete': 'list', 'aria-controls': 'suggestions',
    oninput: () => {
      if (!e.input.value.trim()) v.aiAssisted = false; // a cleared draft is no longer the AI's
      onInputTyping();
      suggest();
      renderTyping();
    },
    onkeydown: onComposerKey,
    // Late, so a click on a suggestion lands first; not if focus came back meanwhile.
    onblur: () => setTimeout(() => { if (document.activeElement !== e.input) closeSuggest(); }, 150),
  });
  e.suggest = h('ul.suggest#suggestions', { role: 'listbox', 'aria-label': 'Suggestions', hidden: true });
  e.send = h('button.primary', { type: 'submit' }, 'Send');
  // Files go with a reply (not a note), as a media message.
  e.files = h('input.visually-hidden#composer-files', {
    type: 'file', multiple: true, tabindex: '-1', 'aria-label': 'Files to attach',
    onchange: () => { addFiles([...e.files.files]); e.files.value = ''; },
  });
  e.attach = h('button.small-button.attach', {
    type: 'button', title: 'Attach files', 'aria-label': 'Attach files', onclick: () => e.files.click(),
  }, 'Attach');
  e.chips = h('ul.attachments', { 'aria-label': 'Attachments', hidden: true });
  e.suggestReply = h('button.small-button.suggest-reply', { type: 'button', hidden: !state.features.drafts, onclick: suggestReply }, 'Suggest reply');
  e.form = h('form.composer', { onsubmit: (ev) => { ev.preventDefault(); send(); }, 'aria-label': 'Composer' },
    h('div.mode-switch', { role: 'radiogroup', 'aria-label': 'Message type' }, modeButton('reply', 'Reply'), modeButton('note', 'Private note')),
    h('label.visually-hidden', { for: 'composer-input' }, 'Message'),
    e.suggest,
    e.input,
    e.chips,
    e.files,
    h('div.composer-foot',
      h('span.muted.small.hint', 'Enter to send · Shift+Enter for a new line'),
      h('div.composer-actions', e.attach, e.suggestReply, e.send)));
  return e.form;
}

// maxFiles is the most files the conversation's channel takes in one
// message (the server's store.MaxOutboundAttachments).
function maxFiles() {
  const kind = inboxKind(view.conv.inbox_id);
  return kind === 'sms' || kind === 'api' ? 10 : 1;
}

/** addFiles adds chosen files to the reply, as many as the channel takes. */
function addFiles(files) {
  const v = view;
  if (!v?.els || !files.length) return;
  const room = maxFiles() - v.attachments.length;
  if (files.length > room) {
    emit('toast', maxFiles() === 1 ? 'This channel sends one file per message.' : `This channel sends at most ${maxFiles()} files per message.`);
  }
  v.attachments.push(...files.slice(0, Math.max(room, 0)));
  renderAttachments();
}

function renderAttachments() {
  const v = view;
  const e = v.els;
  e.chips.replaceChildren(...v.attachments.map((f, i) => h('li.attachment-chip',
    h('span.attachment-name', f.name || 'file'),
    h('span.muted.small', ` ${formatSize(f.size)}`),
    h('button.link-button', {
      type: 'button', 'aria-label': `Remove ${f.name || 'file'}`,
      onclick: () => { v.attachments.splice(i, 1); renderAttachments(); },
    }, '×'))));
  e.chips.hidden = v.attachments.length === 0;
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

/** setMode switches the composer between reply and private note. */
export function setMode(mode) {
  const v = view;
  if (!v?.els) return;
  v.mode = mode;
  for (const b of v.els.form.querySelectorAll('.mode')) b.setAttribute('aria-checked', String(b.dataset.mode === mode));
  v.els.form.classList.toggle('is-note', mode === 'note');
  renderPolicy(true);
  renderTyping();
}

/** focusComposer puts the cursor in the composer, in mode. */
export function focusComposer(mode = 'reply') {
  if (!view?.els) return false;
  setMode(mode);
  view.els.input.focus();
  return true;
}

async function send() {
  const v = view;
  const body = v.els.input.value.trim();
  const files = v.mode === 'note' ? [] : v.attachments;
  if (!body && !files.length) return;
  const type = v.mode === 'note' ? 'note' : files.length ? 'media' : 'text';
  if (type !== 'note' && v.block) return; // the banner says why
  const mentions = type === 'note' ? [...new Set([...v.mentions].filter(([tag]) => body.includes(tag)).map(([, id]) => id))] : [];
  const req = { body, type };
  if (mentions.length) req.mentions = mentions;
  if (type !== 'note' && v.aiAssisted) {
    req.ai_assisted = true;
    if (typeof v.aiAssisted === 'string') req.draft_id = v.aiAssisted;
  }
  let payload = req;
  if (type === 'media') {
    payload = new FormData();
    for (const [k, val] of Object.entries(req)) payload.set(k, String(val));
    for (const f of files) payload.append('file', f, f.name);
  }
  v.els.send.disabled = true;
  try {
    const m = await api(`conversations/${v.id}/messages`, {
      method: 'POST',
      headers: { 'Idempotency-Key': crypto.randomUUID() },
      body: payload,
    });
    if (view !== v) return;
    v.els.input.value = '';
    v.mentions.clear();
    v.aiAssisted = false;
    v.attachments = [];
    renderAttachments();
    stopTyping();
    upsertMessage(m);
    scrollToEnd();
  } catch (err) {
    if (view === v && err.status === 422) refused(err);
    else emit('toast', `Not sent: ${err.message}`);
  } finally {
    v.els.send.disabled = false;
    renderPolicy(true);
    renderTyping();
  }
}

// --- the channel's rules: windows, opt-outs, templates ----------------------

/**
 * renderPolicy shows why a reply cannot be sent (and the template form on
 * WhatsApp), and turns the reply box off while so; notes stay available.
 * It runs every second, so it touches the page only when something changed.
 */
function renderPolicy(force = false) {
  const v = view;
  if (!v?.els?.policy) return;
  const e = v.els;
  const kind = inboxKind(v.conv.inbox_id);
  // A refusal holds until the customer writes again.
  if (v.refused && v.refused.lastInbound !== (v.conv.last_inbound_at || '')) v.refused = null;
  const block = replyBlock({
    conv: v.conv, contact: v.contact, kind, name: v.contact ? contactName(v.contact) : 'The customer',
    refused: v.refused?.code, optOutSource: v.optOutSource,
  });
  const notice = v.refused && (!block || block.code !== v.refused.code) ? v.refused.message : '';
  const key = JSON.stringify([block, notice, v.mode]);
  if (!force && key === v.policyKey) return;
  v.policyKey = key;
  v.block = block;
  const text = block ? block.text : notice;
  e.policy.hidden = !text;
  e.policy.className = `policy${block?.code === 'contact_opted_out' || (!block && notice) ? ' policy-stop' : ''}`;
  if (e.policy.textContent !== text) e.policy.textContent = text;
  const replyOff = Boolean(block) && v.mode === 'reply';
  e.template.hidden = !(block?.template && v.mode === 'reply');
  e.input.disabled = replyOff;
  e.attach.disabled = replyOff || v.mode === 'note';
  e.send.disabled = replyOff;
  e.suggestReply.hidden = !state.features.drafts || v.mode !== 'reply' || Boolean(block);
  e.form.classList.toggle('is-blocked', replyOff);
  if (replyOff) e.input.setAttribute('aria-describedby', 'reply-policy');
  else e.input.removeAttribute('aria-describedby');
  let placeholder = 'Write a reply…  ("/" for canned responses)';
  if (v.mode === 'note') placeholder = 'Write a private note… ("@" to mention a teammate)';
  else if (block?.template) placeholder = 'Free-form replies are closed: send a template above, or switch to Private note.';
  else if (block) placeholder = 'Replies are off (see above); switch to Private note to write to your team.';
  e.input.placeholder = placeholder;
}

/** refused applies a 422 from a send: its message shows until the customer writes. */
function refused(err) {
  const v = view;
  v.refused = { code: err.code, message: `Not sent: ${err.message}`, lastInbound: v.conv.last_inbound_at || '' };
  if (err.code === 'contact_opted_out') {
    // Our copy of the contact is stale: fetch it, and tell the others.
    api(`contacts/${v.conv.contact_id}`).then((c) => {
      putContact(c);
      emit('contact', c);
    }).catch(() => {});
  }
  renderPolicy(true);
}

/** loadOptOutSource finds how the contact opted out, for the banner. */
async function loadOptOutSource() {
  const v = view;
  if (!v?.contact) return;
  if (!v.contact.opted_out_at) {
    v.optOutSource = '';
    renderPolicy();
    return;
  }
  renderPolicy();
  try {
    const consent = await api(`contacts/${v.contact.id}/consent`);
    if (view !== v) return;
    v.optOutSource = optOutSource(consent.records, agentName);
    renderPolicy();
  } catch {
    // the banner reads well without it
  }
}

function templateForm() {
  const error = h('p.form-error', { role: 'alert' });
  return h('form.template-form', { 'aria-labelledby': 'tpl-h', hidden: true, onsubmit: sendTemplate },
    h('h3#tpl-h', 'Send a WhatsApp template'),
    h('div.tpl-fields',
      h('div.field',
        h('label', { for: 'tpl-name' }, 'Template name'),
        h('input#tpl-name', { name: 'name', required: true, pattern: '[a-z0-9_]+', placeholder: 'order_update', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'tpl-help' })),
      h('div.field',
        h('label', { for: 'tpl-lang' }, 'Language'),
        h('input#tpl-lang', { name: 'language', required: true, value: 'en_US', pattern: '[a-z]{2,3}(_[A-Za-z]{2,4})?', size: '6', autocomplete: 'off' })),
      h('div.field.tpl-params',
        h('label', { for: 'tpl-params' }, 'Parameters, one per line'),
        h('textarea#tpl-params', { name: 'parameters', rows: '2', placeholder: '{{1}}\n{{2}}' }))),
    h('p.help.muted.small#tpl-help', 'An approved template (WhatsApp Manager → Message templates); the parameters fill its {{1}}, {{2}}… in order.'),
    error,
    h('div.form-foot', h('button.primary', { type: 'submit' }, 'Send template')));
}

async function sendTemplate(ev) {
  ev.preventDefault();
  const v = view;
  const form = ev.target;
  const f = form.elements;
  const error = form.querySelector('.form-error');
  const button = form.querySelector('button[type="submit"]');
  error.textContent = '';
  const template = {
    name: f.name.value.trim(),
    language: f.language.value.trim(),
    parameters: f.parameters.value.split('\n').map((p) => p.trim()).filter(Boolean),
  };
  button.disabled = true;
  try {
    const m = await api(`conversations/${v.id}/messages`, {
      method: 'POST', headers: { 'Idempotency-Key': crypto.randomUUID() }, body: { type: 'template', template },
    });
    if (view !== v) return;
    f.parameters.value = '';
    upsertMessage(m);
    scrollToEnd();
  } catch (err) {
    error.textContent = `Not sent: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

// --- AI drafts ---------------------------------------------------------------

async function suggestReply() {
  const v = view;
  v.els.suggestReply.disabled = true;
  try {
    const out = await api(`conversations/${v.id}/draft`, { method: 'POST', body: {} });
    if (view === v && out?.draft_id) v.draft.start(out.draft_id);
  } catch (err) {
    // Not on this server after all (404: the conversation itself is
    // open), no drafts service, or turned off: stop offering it.
    if (err.status === 404 || err.code === 'ai_unavailable' || err.code === 'ai_disabled') {
      state.features.drafts = false;
      renderPolicy(true);
    }
    if (view === v && err.status !== 404) v.draft.refuse(err.message);
  } finally {
    v.els.suggestReply.disabled = false;
  }
}

function useDraft(text, draftID) {
  const v = view;
  if (!v?.els) return;
  setMode('reply');
  v.els.input.value = text;
  v.aiAssisted = draftID || true;
  v.els.input.focus();
  v.els.input.setSelectionRange(text.length, text.length);
}

// Suggestions: "/" at the start of a word offers canned responses by short
// code; "@" in a note offers teammates.
function suggest() {
  const v = view;
  const input = v.els.input;
  const before = input.value.slice(0, input.selectionStart);
  const m = /(^|\s)([/@])([^\s/@]*)$/.exec(before);
  if (!m || (m[2] === '@' && v.mode !== 'note')) {
    closeSuggest();
    return;
  }
  const q = m[3].toLowerCase();
  let items;
  if (m[2] === '/') {
    items = state.canned.filter((c) => c.short_code.toLowerCase().startsWith(q)).slice(0, 8)
      .map((c) => ({ label: `/${c.short_code}`, detail: c.content, insert: c.content }));
  } else {
    items = [...state.agents.values()].filter((a) => (a.name || a.email).toLowerCase().includes(q)).slice(0, 8)
      .map((a) => ({ label: `@${a.name || a.email}`, detail: a.email, insert: `@${a.name || a.email} `, agent: a.id }));
  }
  if (!items.length) {
    closeSuggest();
    return;
  }
  v.suggestion = { start: before.length - m[3].length - 1, end: input.selectionStart, items, active: 0 };
  renderSuggest();
}

function renderSuggest() {
  const v = view;
  const s = v.suggestion;
  replace(v.els.suggest, ...s.items.map((it, i) => h('li', {
    id: `suggestion-${i}`, role: 'option', 'aria-selected': String(i === s.active),
    onmousedown: (e) => { e.preventDefault(); pick(i); },
  }, h('strong', it.label), h('span.muted', it.detail))));
  v.els.suggest.hidden = false;
  v.els.input.setAttribute('aria-activedescendant', `suggestion-${s.active}`);
}

function closeSuggest() {
  const v = view;
  if (!v?.els) return;
  v.suggestion = null;
  v.els.suggest.hidden = true;
  v.els.input.removeAttribute('aria-activedescendant');
}

function pick(i) {
  const v = view;
  const s = v.suggestion;
  const it = s.items[i];
  const input = v.els.input;
  input.value = input.value.slice(0, s.start) + it.insert + input.value.slice(s.end);
  const caret = s.start + it.insert.length;
  input.setSelectionRange(caret, caret);
  if (it.agent) v.mentions.set(it.insert.trim(), it.agent);
  closeSuggest();
  input.focus();
}

function onComposerKey(e) {
  const v = view;
  const s = v.suggestion;
  if (s) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      s.active = (s.active + (e.key === 'ArrowDown' ? 1 : -1) + s.items.length) % s.items.length;
      renderSuggest();
      return;
    }
    if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      pick(s.active);
      return;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      closeSuggest();
      return;
    }
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  } else if (e.key === 'Escape') {
    v.els.input.blur();
  }
}

/** openID is the open conversation's id, or null. */
export function openConversation() {
  return view?.conv || null;
}

/** labelChip is a label with its catalogue colour and a remove button. */
function labelChip(name, ...children) {
  const chip = h('span.chip', name, ...children);
  const color = state.labels.find((l) => l.name === name)?.color;
  if (color) chip.style.setProperty('--label-color', color);
  return chip;
}
