// The conversation list: views (mine, unassigned, all), filters, unread
// badges, live re-ordering, infinite scroll through the cursor, and
// search results in the same pane.

import { api } from './api.js';
import { h, replace, timeAgo, initials, hue } from './dom.js';
import {
  state, on, emit, matches, listQuery, loadContact, cachedContact, contactName, agentName, inboxName,
} from './state.js';

const PAGE = 25;
let pane;
let listEl;
let sentinel;
let cursor = null;
let loading = false;
let generation = 0; // bumps on every filter change, so stale pages are dropped
let ids = []; // the ids listed, in order
let searchResults = null; // {q, messages, contacts} while searching

/** mountInbox renders the list pane into el. */
export function mountInbox(el) {
  pane = el;
  pane.append(
    h('div.list-head',
      h('div.views', { role: 'group', 'aria-label': 'View' },
        ...[['mine', 'Mine'], ['unassigned', 'Unassigned'], ['all', 'All']].map(([v, label]) =>
          h('button.view', { type: 'button', dataset: { view: v }, 'aria-pressed': String(state.filters.view === v), onclick: () => setFilter('view', v) }, label))),
      h('div.filters#filters')),
    h('div.search-head#search-head', { hidden: true }),
    listEl = h('ul.conv-list#conv-list', { 'aria-label': 'Conversations' }),
  );
  // The sentinel is the list's last row: when it scrolls into view, the
  // next page is fetched.
  sentinel = h('li.sentinel', { 'aria-hidden': 'true' });
  renderFilters();
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { root: listEl, rootMargin: '0px 0px 200px 0px' }).observe(sentinel);
  on('catalog', () => {
    renderFilters();
    renderAll(); // rows name their inbox
  });
  on('conversation', (c) => upsert(c));
  on('open', () => markCurrent());
  on('unread', () => renderAll());
  on('contact', () => renderAll());
  on('preview', (id) => renderItem(id));
  setInterval(() => renderAll(), 60_000); // keep "5m ago" honest
}

function renderFilters() {
  const f = state.filters;
  const select = (key, label, options) => {
    const id = `filter-${key}`;
    return h('div.filter',
      h('label.visually-hidden', { for: id }, label),
      h('select', { id, onchange: (e) => setFilter(key, e.target.value) },
        ...options.map(([v, text]) => h('option', { value: v, selected: String(f[key]) === String(v) }, text))));
  };
  const parts = [select('status', 'Filter by status', [['open', 'Open'], ['pending', 'Pending'], ['snoozed', 'Snoozed'], ['resolved', 'Resolved'], ['', 'All statuses']])];
  if (state.inboxes.length) parts.push(select('inbox', 'Filter by inbox', [['', 'All inboxes'], ...state.inboxes.map((i) => [i.id, i.name])]));
  if (state.labels.length) parts.push(select('label', 'Filter by label', [['', 'All labels'], ...state.labels.map((l) => [l.name, l.name])]));
  if (state.teams.length) parts.push(select('team', 'Filter by team', [['', 'All teams'], ...state.teams.map((t) => [t.id, t.name])]));
  replace(pane.querySelector('#filters'), parts);
  for (const b of pane.querySelectorAll('.view')) b.setAttribute('aria-pressed', String(b.dataset.view === f.view));
}

function setFilter(key, value) {
  state.filters[key] = value;
  localStorage.setItem('sb.filters', JSON.stringify(state.filters));
  renderFilters();
  reload();
}

/** reload refetches the list from the first page. */
export async function reload() {
  generation++;
  ids = [];
  cursor = null;
  listEl.replaceChildren(sentinel);
  listEl.setAttribute('aria-busy', 'true');
  await loadMore(true);
  loadUnread(generation);
}

async function loadMore(first = false) {
  if (loading || searchResults || (!first && !cursor)) return;
  loading = true;
  const gen = generation;
  try {
    // include=preview: each row comes with its contact's name and newest
    // message, so the list needs no request per row.
    const page = await api('conversations', { query: { ...listQuery(), include: 'preview', limit: PAGE, cursor: first ? '' : cursor } });
    if (gen !== generation) return;
    cursor = page.next_cursor || null;
    const convs = page.conversations.map(takePreview);
    for (const c of convs) {
      state.conversations.set(c.id, c);
      if (!ids.includes(c.id)) ids.push(c.id);
    }
    sortIDs();
    renderAll();
    fillDetails(convs);
  } catch (err) {
    if (gen === generation) sentinel.before(h('li.list-error', `Could not load conversations: ${err.message}`));
  } finally {
    loading = false;
    listEl.removeAttribute('aria-busy');
  }
  // A short first page on a tall screen: keep going while the sentinel shows.
  if (cursor && gen === generation && sentinel.isConnected
    && sentinel.getBoundingClientRect().top < listEl.getBoundingClientRect().bottom) loadMore();
}

async function loadUnread(gen) {
  try {
    const page = await api('conversations', { query: { ...listQuery(), unread: 'true', limit: 100 } });
    if (gen !== generation) return;
    for (const c of page.conversations) {
      if (c.id !== state.openID && !state.unread.has(c.id)) state.unread.set(c.id, Infinity);
    }
    emit('unread');
  } catch {
    // unread dots are a nicety; the list itself loaded
  }
}

/**
 * takePreview keeps a list row's contact summary and newest message, and
 * returns the conversation without them.
 */
function takePreview(row) {
  const { contact, last_message: last, ...c } = row;
  if (contact) state.contactSummaries.set(contact.id, contact);
  const had = state.previews.get(c.id);
  if (last && (!had || had.id <= last.id)) state.previews.set(c.id, last);
  return c;
}

/** rowContact is what a row names: the contact, or its summary from the list. */
function rowContact(c) {
  return cachedContact(c.contact_id) || state.contactSummaries.get(c.contact_id);
}

/** fillDetails loads contacts and latest messages the list did not bring, a few at a time. */
async function fillDetails(convs) {
  const todo = convs.filter((c) => !rowContact(c) || (!state.previews.has(c.id) && c.last_message_id));
  const worker = async () => {
    for (let c = todo.shift(); c; c = todo.shift()) {
      try {
        if (!rowContact(c)) {
          await loadContact(c.contact_id);
          renderItem(c.id);
        }
        if (!state.previews.has(c.id) && c.last_message_id) {
          const page = await api(`conversations/${c.id}/messages`, { query: { limit: 1 } });
          if (page.messages[0] && !state.previews.has(c.id)) state.previews.set(c.id, page.messages[0]);
          renderItem(c.id);
        }
      } catch {
        // a row without a preview is still a row
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

function sortIDs() {
  ids.sort((a, b) => {
    const ca = state.conversations.get(a);
    const cb = state.conversations.get(b);
    return (Date.parse(cb.last_activity_at) - Date.parse(ca.last_activity_at)) || b - a;
  });
}

/** upsert places a changed conversation: in, out or moved up the list. */
function upsert(c) {
  if (searchResults) return;
  const listed = ids.includes(c.id);
  if (matches(c)) {
    if (!listed) ids.push(c.id);
    sortIDs();
    // Beyond the loaded pages it belongs to a later page, not this one.
    const last = ids[ids.length - 1];
    if (cursor && last === c.id && listed === false && ids.length > 1) {
      ids.pop();
      return;
    }
    if (!rowContact(c)) fillDetails([c]);
  } else if (listed) {
    ids = ids.filter((x) => x !== c.id);
  } else {
    return;
  }
  renderAll();
}

function renderAll() {
  if (searchResults) return;
  const focused = document.activeElement?.closest?.('.conv-item')?.dataset.id;
  const items = ids.map((id) => item(state.conversations.get(id)));
  listEl.replaceChildren(...items);
  if (!items.length && !loading) {
    listEl.append(h('li.empty', h('p', 'No conversations here.'), h('p.muted', 'New messages appear as they arrive.')));
  }
  listEl.append(sentinel);
  if (focused) listEl.querySelector(`.conv-item[data-id="${focused}"]`)?.focus();
  markCurrent();
}

function renderItem(id) {
  const old = listEl.querySelector(`li[data-id="${id}"]`);
  const c = state.conversations.get(id);
  if (!old || !c) return;
  const hadFocus = old.contains(document.activeElement);
  const fresh = item(c);
  old.replaceWith(fresh);
  if (hadFocus) fresh.querySelector('a').focus();
  markCurrent();
}

function item(c) {
  const ct = rowContact(c);
  const name = ct ? contactName(ct) : `Conversation #${c.id}`;
  const unread = state.unread.get(c.id) || 0;
  const preview = state.previews.get(c.id);
  let previewText = preview ? preview.body : c.subject || '';
  if (preview?.type === 'note') previewText = `Note: ${preview.body}`;
  else if (preview?.direction === 'out') previewText = `You: ${preview.body}`;
  const meta = [];
  if (c.priority && c.priority !== 'none') meta.push(h(`span.prio.prio-${c.priority}`, { title: `Priority ${c.priority}` }, c.priority));
  for (const l of (c.labels || []).slice(0, 2)) meta.push(h('span.chip.chip-small', l));
  if (state.inboxes.length) meta.push(h('span.muted.small', inboxName(c.inbox_id)));
  return h('li', { dataset: { id: c.id } },
    h(`a.conv-item${unread ? '.unread' : ''}`, { href: `#/c/${c.id}`, dataset: { id: c.id } },
      h(`span.avatar.hue-${hue(name)}`, { 'aria-hidden': 'true' }, initials(name)),
      h('span.conv-main',
        h('span.conv-top',
          h('span.conv-name', name),
          h('time.conv-time', { datetime: c.last_activity_at }, timeAgo(c.last_activity_at))),
        h('span.conv-bottom',
          h('span.conv-preview', previewText || '\u00a0'),
          unread === Infinity ? h('span.dot-badge', { title: 'Unread' }, h('span.visually-hidden', 'unread')) : null,
          unread > 0 && unread !== Infinity ? h('span.badge', { title: 'Unread messages' }, String(unread), h('span.visually-hidden', ' unread')) : null),
        meta.length || c.assignee_id ? h('span.conv-meta', ...meta,
          c.assignee_id ? h(`span.assignee.hue-${hue(agentName(c.assignee_id))}`, { title: `Assigned to ${agentName(c.assignee_id)}` }, initials(agentName(c.assignee_id).replace(' (you)', ''))) : null) : null)));
}

function markCurrent() {
  for (const a of listEl.querySelectorAll('.conv-item')) {
    if (Number(a.dataset.id) === state.openID) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** step moves the selection by delta (j/k) and opens that conversation. */
export function step(delta) {
  const items = [...listEl.querySelectorAll('.conv-item')];
  if (!items.length) return;
  let i = items.findIndex((a) => Number(a.dataset.id) === state.openID);
  i = i < 0 ? 0 : Math.max(0, Math.min(items.length - 1, i + delta));
  items[i].focus();
  location.hash = `#/c/${items[i].dataset.id}`;
}

/** search shows results for q in the pane; an empty q returns to the list. */
export async function search(q) {
  const head = pane.querySelector('#search-head');
  if (!q) {
    searchResults = null;
    head.hidden = true;
    renderAll();
    return;
  }
  const res = await api('search', { query: { q, limit: 20 } });
  searchResults = { q, ...res };
  head.hidden = false;
  replace(head, h('span', `Results for “${q}”`),
    h('button.link', { type: 'button', onclick: () => { emit('search-clear'); search(''); } }, 'Clear'));
  const rows = [];
  for (const ct of res.contacts) {
    rows.push(h('li', h('a.conv-item.result', { href: '#', onclick: (e) => { e.preventDefault(); openContact(ct.id); } },
      h(`span.avatar.hue-${hue(contactName(ct))}`, { 'aria-hidden': 'true' }, initials(contactName(ct))),
      h('span.conv-main', h('span.conv-top', h('span.conv-name', contactName(ct)), h('span.muted.small', 'Contact')),
        h('span.conv-preview', [ct.email, ct.phone].filter(Boolean).join(' · ') || '\u00a0')))));
  }
  for (const m of res.messages) {
    rows.push(h('li', h('a.conv-item.result', { href: `#/c/${m.conversation_id}` },
      h('span.avatar.hue-0', { 'aria-hidden': 'true' }, m.type === 'note' ? 'N' : m.direction === 'in' ? '↘' : '↗'),
      h('span.conv-main', h('span.conv-top', h('span.conv-name', `Conversation #${m.conversation_id}`),
        h('time.conv-time', { datetime: m.created_at }, timeAgo(m.created_at))),
      h('span.conv-preview', m.body)))));
  }
  if (!rows.length) rows.push(h('li.empty', h('p', 'Nothing found.')));
  listEl.replaceChildren(...rows);
}

async function openContact(id) {
  const page = await api(`contacts/${id}/conversations`, { query: { limit: 1 } });
  if (page.conversations[0]) location.hash = `#/c/${page.conversations[0].id}`;
}

/** listedIDs are the conversations currently listed, in order. */
export function listedIDs() {
  return [...ids];
}
