// Data & privacy (owners and admins): the workspace's retention settings
// with a dry run and a run now, the workspace archive download (with the
// bytes received so far), and the erasure requests with their status;
// and, in the contact panel, a contact's export (JSON, CSV) and erasure
// behind a typed confirmation.

import { api } from './api.js';
import { h, replace, clock } from './dom.js';
import { state, emit } from './state.js';

/** isAdmin reports whether the signed-in member may use these tools. */
export function isAdmin() {
  return state.me?.role === 'owner' || state.me?.role === 'admin';
}

/** renderDataRights fills sec with the Data & privacy settings. */
export async function renderDataRights(sec) {
  const [settings, erasures] = await Promise.all([api('retention'), api('erasures', { query: { limit: 50 } })]);
  const list = h('div#erasure-list');
  replace(sec, h('h2#data-h', 'Data & privacy'),
    h('p.muted.small', 'How long this workspace keeps conversations, media and its event log, a full archive of it, and the contacts erased on request.'),
    retentionForm(settings),
    archive(),
    h('h3#erasures-h', 'Erasure requests'),
    h('p.muted.small', 'Contacts erased by an admin (from the contact panel) or by a Meta data-deletion request. Only ids, counts and dates are kept.'),
    h('div.form-foot', h('button.small-button', { type: 'button', onclick: () => refreshErasures(list) }, 'Refresh')),
    list);
  showErasures(list, erasures.erasures);
}

// --- retention -------------------------------------------------------------

function retentionForm(s) {
  const error = h('p.form-error', { role: 'alert' });
  const result = h('p#retention-result', { role: 'status' });
  const days = (id, name, label, max, value, hint) => h('div.field',
    h('label', { for: id }, label),
    h(`input#${id}`, { name, type: 'number', min: '1', max: String(max), required: true, value: String(value), 'aria-describedby': `${id}-hint` }),
    h(`span.muted.small#${id}-hint`, hint));
  const run = async (dryRun, button) => {
    error.textContent = '';
    result.textContent = dryRun ? 'Counting…' : 'Deleting…';
    button.disabled = true;
    try {
      const n = await api('retention/run', { method: 'POST', body: { dry_run: dryRun } });
      const what = `${n.conversations} conversations, ${n.messages} messages, ${n.media} media items and ${n.events} events`;
      result.textContent = dryRun ? `A run now would delete ${what}.` : `Deleted ${what}.`;
    } catch (err) {
      result.textContent = '';
      error.textContent = err.code === 'retention_unavailable' ? 'Retention does not run on this server.' : `Could not run: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  };
  return h('form.config-form#retention-form', {
    'aria-labelledby': 'retention-h',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      const f = e.target.elements;
      try {
        await api('retention', { method: 'PUT', body: {
          message_days: Number(f.message_days.value), media_days: Number(f.media_days.value), event_days: Number(f.event_days.value),
        } });
        emit('toast', 'Retention settings saved.');
      } catch (err) {
        error.textContent = `Not saved: ${err.message}`;
      }
    },
  },
  h('h3#retention-h', 'Retention'),
  days('ret-messages', 'message_days', 'Keep conversations (days after last activity)', 3650, s.message_days, '1 to 3650'),
  days('ret-media', 'media_days', 'Keep media (days)', 180, s.media_days, '1 to 180'),
  days('ret-events', 'event_days', 'Keep the event log (days)', 3650, s.event_days, '1 to 3650'),
  error,
  h('div.form-foot',
    h('button.primary', { type: 'submit' }, 'Save retention'),
    h('button.small-button', { type: 'button', onclick: (e) => run(true, e.currentTarget) }, 'Dry run'),
    h('button.small-button.danger', { type: 'button', onclick: (e) => run(false, e.currentTarget) }, 'Run now')),
  result);
}

// --- workspace archive -----------------------------------------------------

function archive() {
  const progress = h('p#archive-progress', { role: 'status' });
  const button = h('button.small-button#archive-download', { type: 'button', onclick: () => download(button, progress) }, 'Download workspace archive');
  return h('div.archive',
    h('h3#archive-h', 'Workspace archive'),
    h('p.muted.small', 'Every table as NDJSON with the media files: a backup, or a move to another server.'),
    button, progress);
}

// download streams GET /api/v1/export, showing the bytes received, then
// hands the file to the browser.
async function download(button, progress) {
  button.disabled = true;
  progress.textContent = 'Starting…';
  try {
    const res = await fetch('/api/v1/export', { credentials: 'same-origin' });
    if (res.status === 404) {
      progress.textContent = 'This server does not offer workspace archives yet.';
      return;
    }
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      progress.textContent = `Could not download: ${body?.error?.message || `HTTP ${res.status}`}`;
      return;
    }
    const reader = res.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      progress.textContent = `Received ${bytes(received)}…`;
    }
    const name = /filename="?([^";]+)"?/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'switchboard-export';
    const url = URL.createObjectURL(new Blob(chunks, { type: res.headers.get('Content-Type') || 'application/octet-stream' }));
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    progress.textContent = `Downloaded ${bytes(received)}.`;
  } catch (err) {
    progress.textContent = `Could not download: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function bytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// --- erasure requests ------------------------------------------------------

async function refreshErasures(list) {
  try {
    const { erasures } = await api('erasures', { query: { limit: 50 } });
    showErasures(list, erasures);
  } catch (err) {
    replace(list, h('p.form-error', { role: 'alert' }, `Could not load: ${err.message}`));
  }
}

const SOURCES = { agent: 'Admin', meta: 'Meta request' };

function showErasures(list, erasures) {
  if (!erasures.length) {
    replace(list, h('p.muted.small', 'No erasure requests.'));
    return;
  }
  replace(list, h('table.erasures', { 'aria-labelledby': 'erasures-h' },
    h('thead', h('tr', ...['Request', 'From', 'Contacts', 'Status', 'Requested', 'Completed', 'Erased', 'Confirmation code']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', ...erasures.map((r) => h('tr', { dataset: { id: String(r.id) } },
      h('td', `#${r.id}`),
      h('td', SOURCES[r.source] || r.source),
      h('td', r.contact_ids.length ? r.contact_ids.map((id) => `#${id}`).join(', ') : 'none found'),
      h('td', h(`span.pill.erasure-${r.status}`, r.status), r.error ? h('span.muted.small', ` ${r.error}`) : null),
      h('td', h('time', { datetime: r.requested_at }, clock(r.requested_at))),
      h('td', r.completed_at ? h('time', { datetime: r.completed_at }, clock(r.completed_at)) : '—'),
      h('td.small', `${r.counts.conversations} conversations, ${r.counts.messages} messages, ${r.counts.media} media`),
      h('td', h('code', r.confirmation_code)))))));
}

// --- the contact panel -----------------------------------------------------

// eraseDraft keeps the contact panel's erase form across the panel's
// re-renders (it redraws on live events): which contact's form is open,
// what was typed, and the last outcome.
let eraseDraft = { id: 0, open: false, typed: '', status: '' };

/**
 * contactDataRights returns the contact panel's Data section: export
 * links and an erasure behind a typed confirmation; null for agents.
 */
export function contactDataRights(c) {
  if (!isAdmin()) return null;
  if (eraseDraft.id !== c.id) eraseDraft = { id: c.id, open: false, typed: '', status: '' };
  const draft = eraseDraft;
  const exportURL = (format) => `/api/v1/contacts/${c.id}/export?format=${format}`;
  const status = h('p.small', { role: 'status' }, draft.status);
  const say = (text) => {
    draft.status = text;
    status.textContent = text;
  };
  const input = h('input#erase-confirm', { name: 'confirm', autocomplete: 'off', required: true, value: draft.typed, oninput: (e) => {
    draft.typed = e.target.value;
    submit.disabled = draft.typed.trim() !== 'ERASE';
  } });
  const submit = h('button.danger', { type: 'submit', disabled: draft.typed.trim() !== 'ERASE' }, 'Erase contact');
  const setOpen = (open) => {
    draft.open = open;
    form.hidden = !open;
  };
  const form = h('form.erase-form', {
    hidden: !draft.open,
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      say('');
      try {
        const req = await api(`contacts/${c.id}/erase`, { method: 'POST', body: { confirm: true } });
        draft.typed = '';
        setOpen(false);
        say(`Erasure requested (#${req.id}, ${req.status}). Confirmation code ${req.confirmation_code}.`);
        emit('toast', 'The contact is being erased.');
      } catch (err) {
        say(`Could not erase: ${err.message}`);
        submit.disabled = false;
      }
    },
  },
  h('p.small', 'This deletes the contact, their conversations, messages, notes and media everywhere. It cannot be undone.'),
  h('label', { for: 'erase-confirm' }, 'Type ERASE to confirm'),
  input,
  h('div.form-foot',
    submit,
    h('button.small-button', { type: 'button', onclick: () => setOpen(false) }, 'Cancel')));
  return h('section', { 'aria-labelledby': 'contact-data' },
    h('h3#contact-data', 'Data'),
    h('p.data-actions',
      h('a.small-button', { href: exportURL('json'), download: `contact-${c.id}.json` }, 'Export JSON'),
      h('a.small-button', { href: exportURL('csv'), download: `contact-${c.id}.csv` }, 'Export CSV'),
      h('button.small-button.danger', { type: 'button', onclick: () => {
        setOpen(true);
        input.focus();
      } }, 'Erase…')),
    form, status);
}
