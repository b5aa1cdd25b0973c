// Settings: the workspace's name and Pusher app key, inboxes (see
// inboxes.js), members and their roles, invitations, API tokens, this
// browser's notifications (notify.js), dead letters and, where the server has them, the AI assistant's settings.

import { api } from './api.js';
import { h, replace, clock } from './dom.js';
import { state, emit } from './state.js';
import { renderInboxes, renderDeadLetters } from './inboxes.js';
import { renderAISettings } from './ai-settings.js';
import { renderNotificationSettings } from './notify.js';
import { renderDataRights } from './datarights.js';

const ROLES = ['agent', 'admin', 'owner'];

/** renderSettings fills el with the settings page. */
export async function renderSettings(el) {
  const admin = state.me.role === 'owner' || state.me.role === 'admin';
  replace(el, h('div.settings',
    h('h1', 'Settings'),
    h('nav.settings-nav', { 'aria-label': 'Settings sections' },
      ...sections.filter((s) => s.show(admin)).map((s) => h('a', { href: `#${s.id}`, onclick: jump }, s.title))),
    ...sections.filter((s) => s.show(admin)).map((s) => h(`section.card#${s.id}`, { 'aria-labelledby': s.head, tabindex: '-1' },
      h(`h2#${s.head}`, s.title), h('p.muted', 'Loading…')))));
  await Promise.all(sections.filter((s) => s.show(admin)).map((s) => s.render(el.querySelector(`#${s.id}`), admin)
    .catch((err) => replace(el.querySelector(`#${s.id}`), h(`h2#${s.head}`, s.title), h('p.form-error', { role: 'alert' }, `Could not load: ${err.message}`)))));
}

// The settings page's sections, in order; ids are anchors (#inboxes).
const sections = [
  { id: 'ws-section', head: 'ws-h', title: 'Workspace', show: () => true, render: (sec, admin) => workspace(sec, admin) },
  { id: 'inboxes', head: 'inboxes-h', title: 'Inboxes', show: () => true, render: (sec) => renderInboxes(sec) },
  { id: 'members-section', head: 'members-h', title: 'Members', show: () => true, render: (sec, admin) => members(sec, admin) },
  { id: 'inv-section', head: 'inv-h', title: 'Invitations', show: (admin) => admin, render: (sec) => invitations(sec) },
  { id: 'tokens-section', head: 'tokens-h', title: 'API tokens', show: () => true, render: (sec) => tokens(sec) },
  { id: 'notify-section', head: 'notify-h', title: 'Notifications', show: () => true, render: async (sec) => renderNotificationSettings(sec) },
  { id: 'dead-letters', head: 'dead-h', title: 'Dead letters', show: (admin) => admin, render: (sec) => renderDeadLetters(sec) },
  { id: 'ai-section', head: 'ai-h', title: 'AI assistant', show: (admin) => admin && state.features.aiSettings, render: (sec) => renderAISettings(sec) },
  { id: 'data-section', head: 'data-h', title: 'Data & privacy', show: (admin) => admin, render: (sec) => renderDataRights(sec) },
  { id: 'extension-section', head: 'extension-h', title: 'Chrome extension', show: (admin) => admin, render: (sec) => extension(sec) },
];

// extension offers the packed Chrome extension (GET /extension/switchboard.zip, admins only).
async function extension(sec) {
  replace(sec, h('h2#extension-h', 'Chrome extension'),
    h('p.muted.small', 'A live badge, notifications and quick replies for agents without the inbox tab. Unzip it, open chrome://extensions, turn on Developer mode and choose Load unpacked; then connect it to this server from its options.'),
    h('p', h('a.button#extension-download', { href: '/extension/switchboard.zip', download: 'switchboard-extension.zip' }, 'Download the extension')));
}

// jump scrolls to a section without changing the route's hash.
function jump(e) {
  e.preventDefault();
  const sec = document.getElementById(e.currentTarget.getAttribute('href').slice(1));
  sec?.scrollIntoView({ block: 'start' });
  sec?.focus({ preventScroll: true });
}

async function workspace(sec, admin) {
  const ws = await api('workspace');
  const wsURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/app/${ws.app_key}`;
  replace(sec, h('h2#ws-h', 'Workspace'),
    h('form.row-form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        const out = await api('workspace', { method: 'PATCH', body: { name: e.target.elements.name.value } });
        state.me.workspace.name = out.name;
        emit('workspace', out);
        emit('toast', 'Workspace renamed.');
      } catch (err) {
        emit('toast', `Could not rename: ${err.message}`);
      }
    } },
    h('label', { for: 'ws-name' }, 'Name'),
    h('input#ws-name', { name: 'name', value: ws.name, required: true, disabled: !admin }),
    admin ? h('button', { type: 'submit' }, 'Save') : null),
    h('dl.kv',
      h('dt', 'Pusher app id'), h('dd', h('code', ws.app_id)),
      h('dt', 'Pusher app key'), h('dd', h('code#app-key', ws.app_key)),
      h('dt', 'Websocket'), h('dd', h('code', wsURL)),
      h('dt', 'Auto-join domain'), h('dd', ws.auto_join_domain || 'Off')),
    h('p.muted.small', 'Connect pusher-js with this key and wsHost set to this server; the secret is never shown here.'));
}

async function members(sec, admin) {
  const { members: list } = await api('members');
  replace(sec, h('h2#members-h', 'Members'),
    h('table',
      h('thead', h('tr', h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Joined'))),
      h('tbody', ...list.map((m) => h('tr',
        h('td', m.name || '—'),
        h('td', m.email),
        h('td', admin && m.id !== state.me.agent.id
          ? h('select', { 'aria-label': `Role of ${m.email}`, onchange: async (e) => {
            try {
              await api(`members/${m.id}`, { method: 'PATCH', body: { role: e.target.value } });
              emit('toast', `${m.email} is now ${e.target.value}.`);
            } catch (err) {
              emit('toast', err.message);
              e.target.value = m.role;
            }
          } }, ...ROLES.map((r) => h('option', { value: r, selected: r === m.role }, r)))
          : m.role),
        h('td', clock(m.created_at)))))));
}

async function invitations(sec) {
  const { invitations: list } = await api('invitations');
  replace(sec, h('h2#inv-h', 'Invitations'),
    h('form.row-form', { onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target.elements;
      try {
        await api('invitations', { method: 'POST', body: { email: f.email.value, role: f.role.value } });
        emit('toast', `Invited ${f.email.value}. They join by signing in with that address.`);
        invitations(sec);
      } catch (err) {
        emit('toast', `Could not invite: ${err.message}`);
      }
    } },
    h('label', { for: 'inv-email' }, 'Email'),
    h('input#inv-email', { name: 'email', type: 'email', required: true, placeholder: 'teammate@example.com' }),
    h('label', { for: 'inv-role' }, 'Role'),
    h('select#inv-role', { name: 'role' }, ...ROLES.slice(0, 2).map((r) => h('option', { value: r }, r))),
    h('button', { type: 'submit' }, 'Invite')),
    list.length ? h('ul.plain', ...list.map((i) => h('li.row',
      h('span', i.email), h('span.muted.small', `${i.role} · ${i.status || 'pending'} · expires ${clock(i.expires_at)}`),
      h('button.small-button', { type: 'button', onclick: async () => {
        await api(`invitations/${i.id}`, { method: 'DELETE' }).catch((err) => emit('toast', err.message));
        invitations(sec);
      } }, 'Revoke')))) : h('p.muted.small', 'No outstanding invitations.'));
}

async function tokens(sec, created) {
  const { tokens: list } = await api('tokens');
  replace(sec, h('h2#tokens-h', 'API tokens'),
    created ? h('div.notice', { role: 'status' },
      h('p', 'Copy the new token now; it is not shown again:'),
      h('code.token', created.token)) : null,
    h('form.row-form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        const t = await api('tokens', { method: 'POST', body: { name: e.target.elements.name.value } });
        tokens(sec, t);
      } catch (err) {
        emit('toast', `Could not create the token: ${err.message}`);
      }
    } },
    h('label', { for: 'token-name' }, 'Name'),
    h('input#token-name', { name: 'name', required: true, placeholder: 'Zapier, CRM sync…' }),
    h('button', { type: 'submit' }, 'Create token')),
    list.length ? h('ul.plain', ...list.map((t) => h('li.row',
      h('span', t.name), h('span.muted.small', `${t.role} · created ${clock(t.created_at)}`),
      h('button.small-button', { type: 'button', onclick: async () => {
        await api(`tokens/${t.id}`, { method: 'DELETE' }).catch((err) => emit('toast', err.message));
        tokens(sec);
      } }, 'Revoke')))) : h('p.muted.small', 'No tokens yet.'));
}
