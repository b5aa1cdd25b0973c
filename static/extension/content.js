// The connect relay, registered by the service worker for the server's
// /extension/connect page only while a connection is being asked for
// (chrome.scripting.registerContentScripts, at document_start, so it
// listens before the page's script runs). The page posts the new token
// with the nonce the extension put in its URL; this script passes both to
// the service worker, which accepts them only for that nonce and that
// origin, and posts the outcome back to the page. Nothing else of the page
// is read.

(() => {
  const TOKEN = 'switchboard-extension:token';
  const RESULT = 'switchboard-extension:result';
  let done = false;
  window.addEventListener('message', async (ev) => {
    if (ev.source !== window || ev.origin !== location.origin) return;
    const d = ev.data;
    if (!d || d.type !== TOKEN || done) return;
    done = true;
    let reply;
    try {
      reply = await chrome.runtime.sendMessage({ type: 'handoff', nonce: String(d.nonce || ''), token: String(d.token || ''), token_id: Number(d.token_id) || 0 });
    } catch (err) {
      reply = { ok: false, error: String(err?.message || err) };
    }
    window.postMessage({ type: RESULT, ok: Boolean(reply?.ok), error: reply?.ok ? '' : String(reply?.error || 'no answer') }, location.origin);
  });
})();
