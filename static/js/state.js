// The page's shared state and a tiny event bus. Modules read state and
// listen for "changed" notices; only app.js and the event handlers write.

import { api } from './api.js';

export const state = {
  /** me is GET /api/v1/me: {workspace, agent, role}. */
  me: null,
  agents: new Map(), // id → agent
  labels: [],
  teams: [],
  inboxes: [], // [] while GET /api/v1/inboxes is not served
  canned: [],
  conversations: new Map(), // id → conversation, everything seen
  previews: new Map(), // conversation id → latest message
  contactSummaries: new Map(), // contact id → {id, name, email, phone}, from the list (include=preview)
  unread: new Map(), // conversation id → count of unread messages (0 < n; Infinity: unread, count unknown)
  filters: { view: 'mine', status: 'open', inbox: '', label: '', team: '' },
  openID: null,
  /** features are the optional parts this server offers (see loadFeatures). */
  features: { drafts: false, aiSettings: false, knowledge: false },
};

const bus = new EventTarget();

/** on listens for name; returns a function that stops listening. */
export function on(name, fn) {
  const l = (e) => fn(e.detail);
  bus.addEventListener(name, l);
  return () => bus.removeEventListener(name, l);
}

/** emit notifies listeners of name with detail. */
export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

const contacts = new Map(); // id → Promise<contact>

/** contact returns the contact with id, fetched once and cached. */
export function contact(id) {
  if (!contacts.has(id)) {
    const p = api(`contacts/${id}`).catch((err) => {
      contacts.delete(id);
      throw err;
    });
    contacts.set(id, p);
  }
  return contacts.get(id);
}

/** cachedContact returns a contact already loaded, or undefined. */
export function cachedContact(id) {
  return contactValues.get(id);
}
const contactValues = new Map();

/** putContact records a contact seen in an event or a list. */
export function putContact(c) {
  contacts.set(c.id, Promise.resolve(c));
  contactValues.set(c.id, c);
}

/** loadContact fetches a contact into the cache and resolves with it. */
export async function loadContact(id) {
  const c = await contact(id);
  contactValues.set(id, c);
  return c;
}

/** forgetContact drops a deleted or merged contact. */
export function forgetContact(id) {
  contacts.delete(id);
  contactValues.delete(id);
  state.contactSummaries.delete(id);
}

/** agentName names an agent id for people. */
export function agentName(id) {
  if (!id) return 'Unassigned';
  if (state.me && id === state.me.agent.id) return `${state.me.agent.name || state.me.agent.email} (you)`;
  const a = state.agents.get(id);
  return a ? a.name || a.email : `Agent ${id}`;
}

/** contactName names a contact for people. */
export function contactName(c) {
  if (!c) return '…';
  return c.name || c.phone || c.email || c.identities?.[0]?.external_id || `Contact ${c.id}`;
}

/** inboxName names an inbox id, when the inbox list is known. */
export function inboxName(id) {
  const i = state.inboxes.find((x) => x.id === id);
  return i ? i.name : `Inbox ${id}`;
}

/** inboxKind is an inbox's channel kind, when known. */
export function inboxKind(id) {
  return state.inboxes.find((x) => x.id === id)?.kind || '';
}

/** matches reports whether a conversation belongs in the list under the filters. */
export function matches(c, f = state.filters) {
  if (f.view === 'mine' && c.assignee_id !== state.me.agent.id) return false;
  if (f.view === 'unassigned' && c.assignee_id) return false;
  if (f.status && c.status !== f.status) return false;
  if (f.inbox && String(c.inbox_id) !== String(f.inbox)) return false;
  if (f.team && String(c.team_id || '') !== String(f.team)) return false;
  if (f.label && !(c.labels || []).includes(f.label)) return false;
  return true;
}

/** listQuery turns filters into GET /conversations parameters. */
export function listQuery(f = state.filters) {
  return {
    assignee: f.view === 'mine' ? 'me' : f.view === 'unassigned' ? 'unassigned' : 'any',
    status: f.status,
    inbox_id: f.inbox,
    label: f.label,
    team_id: f.team,
  };
}

/** loadCatalog (re)loads agents, labels, teams, inboxes and canned responses. */
export async function loadCatalog() {
  const [agents, labels, teams, inboxes, canned] = await Promise.all([
    api('agents').catch(() => ({ agents: [] })),
    api('labels').catch(() => ({ labels: [] })),
    api('teams').catch(() => ({ teams: [] })),
    api('inboxes').catch(() => ({ inboxes: [] })), // not served by older servers: 404
    api('canned_responses').catch(() => ({ canned_responses: [] })),
  ]);
  state.agents = new Map((agents.agents || []).map((a) => [a.id, a]));
  state.labels = labels.labels || [];
  state.teams = teams.teams || [];
  state.inboxes = inboxes.inboxes || [];
  state.canned = canned.canned_responses || [];
  emit('catalog');
}

/**
 * loadFeatures reads which optional routes the server has from its
 * OpenAPI document (which lists exactly the routes served), so features
 * still being deployed are hidden rather than failing with a 404.
 */
export async function loadFeatures() {
  let paths = {};
  try {
    paths = (await api('openapi.json')).paths || {};
  } catch {
    // an older server: none of the optional features
  }
  const admin = state.me.role === 'owner' || state.me.role === 'admin';
  const aiSettings = admin && Boolean(paths['/ai/settings']?.get);
  let drafts = Boolean(paths['/conversations/{id}/draft']?.post);
  // Admins can tell whether drafts are turned on; agents learn it from
  // the answer when they ask for one.
  if (drafts && aiSettings) drafts = await api('ai/settings').then((s) => s.enabled, () => false);
  state.features = { drafts, aiSettings, knowledge: Boolean(paths['/knowledge_articles']?.get) };
  emit('features');
}

/** unreadTotal counts conversations with unread messages. */
export function unreadTotal() {
  let n = 0;
  for (const v of state.unread.values()) if (v > 0) n++;
  return n;
}
