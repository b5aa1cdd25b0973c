// The channels' rules for replies, as the server enforces them (422 on
// POST /conversations/{id}/messages), computed ahead so the composer can
// explain itself instead of failing: WhatsApp allows free-form replies
// within 24 hours of the customer's last message and a template after
// that; Messenger and Instagram allow human-agent replies for 7 days;
// nothing may be sent to a contact who opted out. Notes are never refused.

import { clock } from './dom.js';

const HOUR = 3600e3;

/** WINDOWS are the messaging windows by inbox kind; others have none. */
export const WINDOWS = { whatsapp: 24 * HOUR, messenger: 7 * 24 * HOUR, instagram: 7 * 24 * HOUR };

const TITLES = { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram' };

/**
 * replyBlock says why a reply cannot be sent now, or returns null:
 * {code, template (a WhatsApp template may still be sent), text}. conv
 * and contact are the API's objects, kind the inbox kind, refused the
 * code of a 422 the server answered since the customer last wrote.
 */
export function replyBlock({ conv, contact, kind, name, now = Date.now(), refused = '', optOutSource = '' }) {
  if (contact?.opted_out_at) {
    const how = optOutSource ? ` (${optOutSource})` : '';
    return {
      code: 'contact_opted_out',
      template: false,
      text: `${name} opted out of messages on ${day(contact.opted_out_at)}${how}. Replies are off until they write START or are opted back in; private notes still work.`,
    };
  }
  const window = WINDOWS[kind];
  if (!window) return null;
  const last = conv?.last_inbound_at ? Date.parse(conv.last_inbound_at) : null;
  const closed = last === null || now - last > window || refused === 'outside_messaging_window';
  if (!closed) return null;
  const since = last === null
    ? `${name} has not written in this conversation`
    : `${name} last wrote ${clock(conv.last_inbound_at)}`;
  if (kind === 'whatsapp') {
    return {
      code: 'outside_messaging_window',
      template: true,
      text: `Outside WhatsApp's 24-hour window: ${since}. Only an approved template can be sent until they write again.`,
    };
  }
  return {
    code: 'outside_messaging_window',
    template: false,
    text: `Outside ${TITLES[kind]}'s 7-day window: ${since}. Replies are off until they write again; private notes still work.`,
  };
}

/**
 * optOutSource describes how the latest opt-out in consent records came
 * about: the keyword the contact wrote ("STOP"), or who recorded it.
 */
export function optOutSource(records, agentName) {
  const last = [...(records || [])].reverse().find((r) => r.kind === 'opt_out');
  if (!last) return '';
  const m = /^agent:(\d+)$/.exec(last.source || '');
  if (m) return `recorded by ${agentName(Number(m[1])).replace(' (you)', '')}`;
  return last.source || '';
}

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}
