// The contact side panel: who the customer is on each channel, whether
// they may be messaged (opt-out, with the consent history and a control
// to record an opt-out or opt-in), their attributes, and their other
// conversations.

import { api } from './api.js';
import { h, replace, timeAgo, clock, initials, hue } from './dom.js';
import { state, on, emit, contactName, inboxName, agentName, putContact } from './state.js';
import { contactDataRights } from './datarights.js';

let pane;
let shown = null; // contact id
let current = null; // the contact shown
let refresh = null; // a pending re-render

/** mountContact renders the contact panel into el. */
export function mountContact(el) {
  pane = el;
  on('contact-open', (c) => show(c));
  on('open', (id) => {
    if (id === null) {
      shown = null;
      current = null;
      pane.replaceChildren();
    }
  });
  on('contact', (c) => {
    if (c && c.id === shown) show(c);
  });
  // Keep the past conversations' statuses live, without a request per event.
  on('conversation', (cv) => {
    if (!current || cv.contact_id !== shown || refresh) return;
    refresh = setTimeout(() => {
      refresh = null;
      if (current) show(current);
    }, 500);
  });
}

const CHANNELS = { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram', sms: 'SMS', web: 'Website', api: 'API', email: 'Email' };

async function show(c) {
  shown = c.id;
  current = c;
  const name = contactName(c);
  const attrs = Object.entries(c.attributes || {});
  const convList = h('ul.past', h('li.muted.small', 'Loading…'));
  const consentBox = h('div.consent', consentState(c), h('p.muted.small', 'Loading history…'));
  replace(pane,
    h('div.contact-card',
      h(`span.avatar.avatar-xl.hue-${hue(name)}`, { 'aria-hidden': 'true' }, initials(name)),
      h('h2', name),
      c.opted_out_at ? h('p', h('span.pill.pill-stop#opted-out-badge', 'Opted out')) : null,
      c.email ? h('p.small', h('a', { href: `mailto:${c.email}` }, c.email)) : null,
      c.phone ? h('p.small', c.phone) : null),
    h('section', { 'aria-labelledby': 'contact-channels' },
      h('h3#contact-channels', 'Channels'),
      c.identities?.length ? h('ul.identities', ...c.identities.map((i) => h('li',
        h('span.channel-tag', CHANNELS[i.channel] || i.channel),
        h('span.ident', i.external_id)))) : h('p.muted.small', 'None')),
    h('section', { 'aria-labelledby': 'contact-consent' },
      h('h3#contact-consent', 'Messaging consent'),
      consentBox),
    h('section', { 'aria-labelledby': 'contact-attrs' },
      h('h3#contact-attrs', 'Attributes'),
      attrs.length ? h('dl.attrs', ...attrs.flatMap(([k, v]) => [h('dt', k), h('dd', typeof v === 'object' ? JSON.stringify(v) : String(v))])) : h('p.muted.small', 'None')),
    h('section', { 'aria-labelledby': 'contact-convs' },
      h('h3#contact-convs', 'Conversations'),
      convList),
    contactDataRights(c));
  loadConsent(c, consentBox);
  try {
    const page = await api(`contacts/${c.id}/conversations`, { query: { limit: 10 } });
    if (shown !== c.id) return;
    replace(convList, ...page.conversations.map((cv) => h('li',
      h('a', { href: `#/c/${cv.id}`, 'aria-current': cv.id === state.openID ? 'page' : false },
        h('span', `#${cv.id}`),
        h(`span.status-pill.status-${cv.status}`, cv.status),
        state.inboxes.length ? h('span.muted.small', inboxName(cv.inbox_id)) : null,
        h('time.muted.small', { datetime: cv.last_activity_at }, timeAgo(cv.last_activity_at))))));
  } catch (err) {
    replace(convList, h('li.muted.small', `Could not load: ${err.message}`));
  }
}

function consentState(c) {
  return c.opted_out_at
    ? h('p.consent-state', `Opted out of messages since ${new Date(c.opted_out_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}. Replies are off on every channel.`)
    : h('p.consent-state.muted.small', 'May be messaged.');
}

async function loadConsent(c, box) {
  let consent;
  try {
    consent = await api(`contacts/${c.id}/consent`);
  } catch (err) {
    if (shown === c.id) replace(box, consentState(c), h('p.muted.small', `Could not load the history: ${err.message}`));
    return;
  }
  if (shown !== c.id) return;
  const error = h('p.form-error', { role: 'alert' });
  const optedOut = Boolean(consent.opted_out_at);
  replace(box,
    consentState({ ...c, opted_out_at: consent.opted_out_at }),
    h('button.small-button', {
      type: 'button',
      onclick: (e) => setConsent(c, !optedOut, e.currentTarget, error),
    }, optedOut ? 'Opt back in' : 'Opt out'),
    error,
    consent.records?.length ? h('ol.plain.consent-history', { 'aria-label': 'Consent history' },
      ...consent.records.slice().reverse().map((r) => h('li',
        h('span', KINDS[r.kind] || r.kind),
        h('span.muted.small', ` · ${CHANNELS[r.channel] || r.channel} · ${source(r.source)} · `),
        h('time.muted.small', { datetime: r.created_at }, clock(r.created_at)))))
      : h('p.muted.small', 'No opt-outs recorded.'));
}

const KINDS = { opt_out: 'Opted out', opt_in: 'Opted in', ai_off: 'AI processing off', ai_on: 'AI processing on' };

function source(s) {
  const m = /^agent:(\d+)$/.exec(s || '');
  if (m) return `by ${agentName(Number(m[1]))}`;
  return s ? `wrote “${s}”` : 'unknown source';
}

async function setConsent(c, optedOut, button, error) {
  button.disabled = true;
  error.textContent = '';
  try {
    const consent = await api(`contacts/${c.id}/consent`, { method: 'POST', body: { opted_out: optedOut } });
    // The contact.updated event follows; apply the change now for this tab.
    const updated = { ...c, opted_out_at: consent.opted_out_at || undefined };
    if (!consent.opted_out_at) delete updated.opted_out_at;
    putContact(updated);
    emit('contact', updated);
  } catch (err) {
    error.textContent = `Could not change consent: ${err.message}`;
    button.disabled = false;
  }
}
