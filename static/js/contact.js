// The contact side panel: who the customer is on each channel, their
// attributes, and their other conversations.

import { api } from './api.js';
import { h, replace, timeAgo, initials, hue } from './dom.js';
import { state, on, contactName, inboxName } from './state.js';

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
  replace(pane,
    h('div.contact-card',
      h(`span.avatar.avatar-xl.hue-${hue(name)}`, { 'aria-hidden': 'true' }, initials(name)),
      h('h2', name),
      c.email ? h('p.small', h('a', { href: `mailto:${c.email}` }, c.email)) : null,
      c.phone ? h('p.small', c.phone) : null),
    h('section', { 'aria-labelledby': 'contact-channels' },
      h('h3#contact-channels', 'Channels'),
      c.identities?.length ? h('ul.identities', ...c.identities.map((i) => h('li',
        h('span.channel-tag', CHANNELS[i.channel] || i.channel),
        h('span.ident', i.external_id)))) : h('p.muted.small', 'None')),
    h('section', { 'aria-labelledby': 'contact-attrs' },
      h('h3#contact-attrs', 'Attributes'),
      attrs.length ? h('dl.attrs', ...attrs.flatMap(([k, v]) => [h('dt', k), h('dd', typeof v === 'object' ? JSON.stringify(v) : String(v))])) : h('p.muted.small', 'None')),
    h('section', { 'aria-labelledby': 'contact-convs' },
      h('h3#contact-convs', 'Conversations'),
      convList));
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
