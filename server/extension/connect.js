// The connect page's hand-over: posts the new token, with the nonce the
// extension opened the page with, to this window for the extension's
// content script, which answers with the outcome. Only this origin can
// receive it. Without an answer (the extension is not installed here, or
// lacks access to this site) the token is shown to paste instead.

const TOKEN = 'switchboard-extension:token';
const RESULT = 'switchboard-extension:result';
const WAIT_MS = 5000;

const status = document.getElementById('handoff');
const fallback = document.getElementById('fallback');
let answered = false;

window.addEventListener('message', (ev) => {
  if (ev.source !== window || ev.origin !== location.origin) return;
  const d = ev.data;
  if (!d || d.type !== RESULT) return;
  answered = true;
  const title = document.getElementById('title');
  if (d.ok) {
    title.textContent = 'Extension connected';
    status.textContent = 'The extension is connected. You can close this tab.';
    document.title = 'Extension connected · Switchboard';
    fallback.hidden = true;
  } else {
    title.textContent = 'The extension is not connected';
    status.textContent = `The extension refused the connection: ${d.error || 'unknown error'}. Start again from the extension.`;
  }
});

window.postMessage({
  type: TOKEN,
  nonce: status.dataset.nonce,
  token: status.dataset.token,
  token_id: Number(status.dataset.tokenId),
}, location.origin);

setTimeout(() => {
  if (answered) return;
  status.textContent = 'Waiting for the extension…';
  fallback.hidden = false;
}, WAIT_MS);
