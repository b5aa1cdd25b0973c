// Settings → Inboxes and Dead letters: the workspace's channels with
// their webhook URLs, connecting a new one with the provider's values,
// rotating an inbox's secrets, renaming, and the provider payloads that
// were authenticated but could not be filed.

import { api } from './api.js';
import { h, replace, clock } from './dom.js';
import { state, emit, loadCatalog, inboxName } from './state.js';

// Each kind's configuration fields, in the order a person finds them.
// secret: a password input, never shown back (the server returns no
// secrets); generate: offer a random value; optional: may stay empty.
const KINDS = {
  whatsapp: {
    title: 'WhatsApp',
    hook: 'In the Meta App Dashboard, WhatsApp → Configuration → Webhook: paste this callback URL and your verify token, then subscribe to "messages".',
    fields: [
      { name: 'phone_number_id', label: 'Phone number ID', help: 'WhatsApp → API Setup in the Meta App Dashboard: the "Phone number ID" under the number (not the number itself).' },
      { name: 'verify_token', label: 'Verify token', secret: true, generate: true, help: 'Any string you choose; Meta sends it back when you save the webhook, so enter the same value there.' },
      { name: 'app_secret', label: 'App secret', secret: true, help: 'App settings → Basic → App secret. It checks the signature of every webhook.' },
      { name: 'access_token', label: 'Access token', secret: true, optional: true, help: 'A permanent token of a system user with whatsapp_business_messaging (Business Settings → System users). Needed to send replies.' },
    ],
  },
  sms: {
    title: 'SMS (Twilio)',
    hook: 'In the Twilio Console, Phone Numbers → your number → Messaging: set "A message comes in" to this URL (HTTP POST).',
    fields: [
      { name: 'account_sid', label: 'Account SID', help: 'Twilio Console home, Account Info: starts with AC.' },
      { name: 'auth_token', label: 'Auth token', secret: true, help: 'Twilio Console home, Account Info. It checks the X-Twilio-Signature of every webhook.' },
      { name: 'phone_number', label: 'Phone number', optional: true, help: 'The Twilio number replies are sent from, as +15551234567. Give this or a Messaging Service SID.' },
      { name: 'messaging_service_sid', label: 'Messaging Service SID', optional: true, help: 'Messaging → Services: starts with MG. Instead of a phone number.' },
      { name: 'api_key_sid', label: 'API key SID', optional: true, help: 'Optional: Account → API keys & tokens, starts with SK, to send with an API key instead of the auth token.' },
      { name: 'api_key_secret', label: 'API key secret', secret: true, optional: true, help: "The API key's secret, shown once when the key is created." },
    ],
  },
  messenger: {
    title: 'Messenger',
    hook: 'In the Meta App Dashboard, Messenger → Settings → Webhooks: paste this callback URL and your verify token, then subscribe the Page to "messages".',
    fields: [
      { name: 'page_id', label: 'Page ID', help: 'Your Facebook Page → About → Page transparency, or Meta Business Suite → Settings → Page info.' },
      { name: 'app_id', label: 'App ID', help: 'App settings → Basic in the Meta App Dashboard.' },
      { name: 'app_secret', label: 'App secret', secret: true, help: 'App settings → Basic → App secret. It checks the signature of every webhook.' },
      { name: 'verify_token', label: 'Verify token', secret: true, generate: true, help: 'Any string you choose; enter the same value in the webhook settings.' },
      { name: 'page_access_token', label: 'Page access token', secret: true, optional: true, help: 'Messenger → Settings → Access tokens → Generate for the Page. Needed to send replies.' },
    ],
  },
  instagram: {
    title: 'Instagram',
    hook: 'In the Meta App Dashboard, Instagram → Webhooks: paste this callback URL and your verify token, then subscribe to "messages".',
    fields: [
      { name: 'instagram_account_id', label: 'Instagram account ID', help: 'Instagram → API setup in the Meta App Dashboard: the professional account\'s ID.' },
      { name: 'page_id', label: 'Page ID', optional: true, help: 'The Facebook Page linked to the Instagram account, if any.' },
      { name: 'app_id', label: 'App ID', help: 'App settings → Basic in the Meta App Dashboard.' },
      { name: 'app_secret', label: 'App secret', secret: true, help: 'App settings → Basic → App secret. It checks the signature of every webhook.' },
      { name: 'verify_token', label: 'Verify token', secret: true, generate: true, help: 'Any string you choose; enter the same value in the webhook settings.' },
      { name: 'page_access_token', label: 'Page access token', secret: true, optional: true, help: 'The linked Page\'s access token with instagram_manage_messages. Needed to send replies.' },
    ],
  },
  api: {
    title: 'API (website, app)',
    hook: 'Your site or backend POSTs customer messages here with "Authorization: Bearer <inbound token>".',
    fields: [
      { name: 'inbound_token', label: 'Inbound token', secret: true, generate: true, help: 'At least 32 characters. Your site sends it as "Authorization: Bearer <token>"; Generate makes one to copy now.' },
      { name: 'webhook_url', label: 'Webhook URL', optional: true, type: 'url', help: 'Where agent replies are POSTed (https). Leave empty if you only receive.' },
      { name: 'webhook_secret', label: 'Webhook secret', secret: true, generate: true, optional: true, help: 'At least 32 characters, required with a webhook URL: each reply is signed with it (X-Switchboard-Signature, HMAC-SHA256).' },
    ],
  },
};

/** kindTitle names an inbox kind for people. */
export function kindTitle(kind) {
  return KINDS[kind]?.title || kind;
}

function isAdmin() {
  return state.me.role === 'owner' || state.me.role === 'admin';
}

/** webhookURL is where the provider posts, as seen from this browser. */
export function webhookURL(inbox) {
  return inbox.webhook_path ? location.origin + inbox.webhook_path : '';
}

/** renderInboxes fills sec (a settings card) with the inbox list and forms. */
export async function renderInboxes(sec, { connected } = {}) {
  const { inboxes } = await api('inboxes');
  const admin = isAdmin();
  replace(sec, h('h2#inboxes-h', 'Inboxes'),
    connected ? h('div.notice', { role: 'status' },
      h('p', `Connected ${connected.name}. `, KINDS[connected.kind]?.hook || ''),
      connected.generated?.length ? h('p', 'Copy the generated values now; secrets are never shown again.') : null,
      ...(connected.generated || []).map(([label, value]) => h('p', h('span.muted', `${label}: `), h('code.token', value)))) : null,
    inboxes.length ? h('ul.plain.inbox-list', ...inboxes.map((i) => inboxItem(sec, i, admin)))
      : h('p.muted.small', 'No inboxes yet. Connect a channel to start receiving messages.'),
    admin ? connectForm(sec) : h('p.muted.small', 'Only owners and admins connect channels.'));
}

function inboxItem(sec, inbox, admin) {
  const url = webhookURL(inbox);
  const urlID = `hook-${inbox.id}`;
  const li = h('li.inbox-item', { dataset: { id: inbox.id } });
  const actions = h('div.inbox-actions');
  const panel = h('div.inbox-panel');
  if (admin) {
    actions.append(
      h('button.small-button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => toggle(e.currentTarget, panel, () => renameForm(sec, inbox)) }, 'Rename'),
      h('button.small-button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => toggle(e.currentTarget, panel, () => configForm(sec, inbox)) },
        inbox.configured ? 'Rotate secrets' : 'Configure'));
  }
  replace(li,
    h('div.inbox-head',
      h('span.inbox-name', inbox.name),
      h('span.channel-tag', kindTitle(inbox.kind)),
      inbox.configured ? h('span.pill.pill-ok', 'Configured') : h('span.pill.pill-warn', 'Not configured'),
      actions),
    url ? h('div.hook',
      h('span.muted.small', { id: `${urlID}-label` }, 'Webhook URL'),
      h('code.hook-url', { id: urlID }, url),
      h('button.small-button', { type: 'button', 'aria-describedby': `${urlID}-label`, onclick: () => copy(url, urlID) }, 'Copy')) : null,
    !inbox.configured ? h('p.muted.small', 'Its webhook refuses messages until it is configured.') : null,
    panel);
  return li;
}

function toggle(button, panel, build) {
  const open = button.getAttribute('aria-expanded') === 'true';
  for (const b of button.parentElement.querySelectorAll('button')) b.setAttribute('aria-expanded', 'false');
  if (open) {
    panel.replaceChildren();
    return;
  }
  button.setAttribute('aria-expanded', 'true');
  replace(panel, build());
  panel.querySelector('input')?.focus();
}

async function copy(text, id) {
  try {
    await navigator.clipboard.writeText(text);
    emit('toast', 'Webhook URL copied.');
  } catch {
    // No clipboard (an insecure origin): select it for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(document.getElementById(id));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    emit('toast', 'Press Ctrl+C to copy the selected URL.');
  }
}

function renameForm(sec, inbox) {
  const id = `rename-${inbox.id}`;
  const error = h('p.form-error', { role: 'alert' });
  return h('form.row-form', { 'aria-label': `Rename ${inbox.name}`, onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await api(`inboxes/${inbox.id}`, { method: 'PATCH', body: { name: e.target.elements.name.value } });
      emit('toast', 'Inbox renamed.');
      await Promise.all([renderInboxes(sec), loadCatalog()]);
    } catch (err) {
      error.textContent = `Could not rename: ${err.message}`;
    }
  } },
  h('label', { for: id }, 'New name'),
  h('input', { id, name: 'name', value: inbox.name, required: true, maxlength: '200' }),
  h('button', { type: 'submit' }, 'Save'),
  error);
}

function configForm(sec, inbox) {
  const error = h('p.form-error', { role: 'alert' });
  const fields = configFields(inbox.kind, `cfg-${inbox.id}`, inbox.settings || {});
  return h('form.config-form', { 'aria-label': `Configure ${inbox.name}`, onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    const { config, generated } = readConfig(e.target, inbox.kind);
    try {
      await api(`inboxes/${inbox.id}/config`, { method: 'PUT', body: config });
      emit('toast', `${inbox.name} is configured.`);
      await renderInboxes(sec, { connected: { ...inbox, generated } });
    } catch (err) {
      error.textContent = configError(err);
    }
  } },
  h('p.muted.small', 'Enter the whole configuration: it replaces the current one. Secrets are stored encrypted and never shown again.'),
  fields,
  error,
  h('div.form-foot', h('button.primary', { type: 'submit' }, 'Save configuration')));
}

function connectForm(sec) {
  const fieldsBox = h('div');
  const error = h('p.form-error', { role: 'alert' });
  const kindSelect = h('select#connect-kind', { name: 'kind', onchange: () => replace(fieldsBox, configFields(kindSelect.value, 'connect', {})) },
    ...Object.entries(KINDS).map(([k, v]) => h('option', { value: k }, v.title)));
  replace(fieldsBox, configFields(kindSelect.value, 'connect', {}));
  return h('form.config-form#connect-form', { 'aria-labelledby': 'connect-h', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    const form = e.target;
    const kind = kindSelect.value;
    const { config, generated } = readConfig(form, kind);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const inbox = await api('inboxes', { method: 'POST', body: { kind, name: form.elements.name.value.trim(), config } });
      await Promise.all([renderInboxes(sec, { connected: { ...inbox, generated } }), loadCatalog()]);
      sec.querySelector(`.inbox-item[data-id="${inbox.id}"] .hook-url`)?.scrollIntoView?.({ block: 'center' });
    } catch (err) {
      error.textContent = configError(err);
      button.disabled = false;
    }
  } },
  h('h3#connect-h', 'Connect a channel'),
  h('div.field',
    h('label', { for: 'connect-kind' }, 'Channel'),
    kindSelect),
  h('div.field',
    h('label', { for: 'connect-name' }, 'Inbox name'),
    h('input#connect-name', { name: 'name', required: true, maxlength: '200', placeholder: 'Support line, Website chat…' })),
  fieldsBox,
  error,
  h('div.form-foot', h('button.primary', { type: 'submit' }, 'Connect')));
}

function configError(err) {
  if (err.status === 503) return `Not saved: ${err.message}`;
  if (err.status === 400) return `Check the values: ${err.message}`;
  if (err.status === 403) return 'Only owners and admins connect channels.';
  return `Not saved: ${err.message}`;
}

/** configFields are the labelled inputs of kind, ids prefixed with prefix. */
function configFields(kind, prefix, settings) {
  return h('div.config-fields', ...KINDS[kind].fields.map((f) => {
    const id = `${prefix}-${f.name}`;
    const input = h('input', {
      id, name: f.name, type: f.secret ? 'password' : f.type || 'text', required: !f.optional,
      autocomplete: f.secret ? 'new-password' : 'off', spellcheck: 'false',
      'aria-describedby': `${id}-help`,
      value: !f.secret && typeof settings[f.name] === 'string' ? settings[f.name] : null,
    });
    return h('div.field',
      h('label', { for: id }, f.label, f.optional ? h('span.muted.small', ' (optional)') : null),
      h('div.input-row', input,
        f.generate ? h('button.small-button', { type: 'button', onclick: () => { input.value = randomToken(); input.type = 'text'; input.dataset.generated = 'true'; } }, 'Generate') : null),
      h('p.help.muted.small', { id: `${id}-help` }, f.help));
  }));
}

/** readConfig collects a form's non-empty configuration values. */
function readConfig(form, kind) {
  const config = {};
  const generated = [];
  for (const f of KINDS[kind].fields) {
    const input = form.elements[f.name];
    const v = input.value.trim();
    if (!v) continue;
    config[f.name] = v;
    if (input.dataset.generated) generated.push([f.label, v]);
  }
  return { config, generated };
}

function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** renderDeadLetters fills sec with the newest dead letters (admins). */
export async function renderDeadLetters(sec) {
  const { dead_letters: list } = await api('dead_letters', { query: { limit: 50 } });
  replace(sec, h('div.card-head',
    h('h2#dead-h', 'Dead letters'),
    h('button.small-button', { type: 'button', onclick: () => renderDeadLetters(sec).catch((err) => emit('toast', err.message)) }, 'Refresh')),
  h('p.muted.small', 'Provider payloads that were authenticated but could not be filed, newest first. Fix the cause, then replay the body by hand if it matters.'),
  list.length ? h('ul.plain.dead-list', ...list.map((d) => h('li.dead-item',
    h('details',
      h('summary',
        h('time.small', { datetime: d.received_at }, clock(d.received_at)),
        h('span.channel-tag', inboxName(d.inbox_id)),
        h('span.dead-error', d.error)),
      h('p.muted.small', `Provider ${d.provider} · inbox #${d.inbox_id} · id ${d.id}`),
      h('pre.raw', { tabindex: '0', 'aria-label': `Raw body of dead letter ${d.id}` }, pretty(d.body))))))
    : h('p.muted.small', 'None: every payload was filed.'));
}

function pretty(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
