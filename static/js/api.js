// The REST client: same-origin fetch with the session cookie, JSON in and
// out, and errors that carry the server's {"error": {code, message}}.

/** APIError is a non-2xx answer. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * api calls path (under /api/v1 unless it starts with "/") and resolves
 * with the decoded JSON body, or null for 204.
 */
export async function api(path, { method = 'GET', body, headers = {}, query } = {}) {
  let url = path.startsWith('/') ? path : `/api/v1/${path}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += `?${s}`;
  }
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body instanceof FormData) {
    init.body = body; // the browser sets multipart/form-data with its boundary
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new APIError(res.status, e.code, e.message || (typeof data?.error === 'string' ? data.error : `HTTP ${res.status}`));
    if (res.status === 401) window.dispatchEvent(new CustomEvent('sb:unauthenticated'));
    throw err;
  }
  return data;
}
