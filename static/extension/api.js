// What the service worker, the popup and the options page share: the
// stored connection, the settings, and calls to the server's REST API with
// the extension's token. Everything the extension keeps lives in
// chrome.storage.local (never in a page's storage):
//
//   server    the server's origin, "https://inbox.example.com"
//   token     the API token (sbt_…), tokenId its id (to revoke it)
//   me        GET /api/v1/me: {workspace: {id, name, app_key}, agent: {id, name, email}}
//   settings  which notifications to show (DEFAULT_SETTINGS)
//   lastSeq   the last workspace event seq applied: catch-up starts after it
//   mentions  note id → {conversation_id, seq, preview}: mentions not read yet
//   status    "signed-out", "connecting", "live", "offline" or "revoked"
//   badge     {count, more}: the last badge count

/** DEFAULT_SETTINGS turns every notification on. */
export const DEFAULT_SETTINGS = {
  assigned: true, // a new message in a conversation assigned to me
  unassigned: true, // a new message in an unassigned conversation
  mentions: true, // a colleague @mentioned me in a note
  assignments: true, // a conversation was assigned to me
};

/** APIError is a non-2xx answer: status, and the API's error code. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message || `the server answered ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** loadConnection returns the stored connection ({server, token, tokenId, me, settings}). */
export async function loadConnection() {
  const st = await chrome.storage.local.get(['server', 'token', 'tokenId', 'me', 'settings', 'status']);
  st.settings = { ...DEFAULT_SETTINGS, ...(st.settings || {}) };
  return st;
}

/**
 * normalizeServer turns what a person typed ("inbox.example.com",
 * "https://inbox.example.com/#/") into an origin, or throws.
 */
export function normalizeServer(input) {
  let s = String(input || '').trim();
  if (!s) throw new Error('enter the address of your Switchboard server');
  if (!/^https?:\/\//i.test(s)) s = `https://${s}`;
  let u;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`"${input}" is not a web address`);
  }
  if (u.username || u.password) throw new Error('the address must not carry a user name or password');
  return u.origin;
}

/** permissionPattern is the host permission the extension needs for server. */
export function permissionPattern(server) {
  const u = new URL(server);
  return `${u.protocol}//${u.hostname}/*`;
}

/**
 * call makes an API request with the token and returns the decoded JSON
 * (null for 204). path is relative to the server ("/api/v1/me"); query
 * values that are undefined are left out.
 */
export async function call(server, token, path, { method = 'GET', query, body, headers = {} } = {}) {
  const url = new URL(path, server);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  const init = { method, headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...headers }, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below by status
  }
  if (!res.ok) throw new APIError(res.status, data?.error?.code, data?.error?.message);
  return data;
}

/** conversationURL is where the web inbox shows a conversation. */
export function conversationURL(server, id) {
  return `${server}/#/c/${id}`;
}

/** contactLabel names a contact for a person. */
export function contactLabel(c) {
  return c?.name || c?.phone || c?.email || 'Customer';
}
