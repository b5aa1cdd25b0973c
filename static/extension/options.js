// The options page: connect to a server (through its connect page, or
// with a pasted token), sign out, and choose the notifications. The
// service worker does the work; this page asks for the host permission
// (which needs the click) and shows the stored state, live.

import { DEFAULT_SETTINGS, loadConnection, normalizeServer, permissionPattern } from './api.js';

const $ = (id) => document.getElementById(id);

const STATUS = {
  live: 'Connected, live.',
  connecting: 'Connecting…',
  offline: 'Disconnected; reconnecting.',
  revoked: 'The server revoked this extension\'s access. Connect again.',
  'signed-out': 'Not connected.',
};

// Waking the worker (if Chrome had stopped it) reconnects it.
chrome.runtime.sendMessage({ type: 'status' }).catch(() => {});
render();
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local') render();
});

$('connect-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const server = normalizeServer($('server').value);
    await allow(server);
    await ask({ type: 'connect-begin', server });
    say('Approve the extension in the tab that opened.');
  });
});

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const server = normalizeServer($('server').value);
    await allow(server);
    await ask({ type: 'connect-token', server, token: $('token').value });
    $('token').value = '';
    say('');
  });
});

$('sign-out').addEventListener('click', () => run(async () => {
  const r = await ask({ type: 'sign-out' });
  say(r.revoked ? 'Signed out; the token is revoked on the server.' : 'Signed out. The server could not be told: revoke the token in Switchboard\'s settings.');
}));

$('settings').addEventListener('change', () => run(async () => {
  const settings = {};
  for (const input of $('settings').querySelectorAll('input[type=checkbox]')) settings[input.name] = input.checked;
  await ask({ type: 'settings', settings });
}));

/** allow asks for access to server (a prompt, the first time). */
async function allow(server) {
  const origins = [permissionPattern(server)];
  if (await chrome.permissions.contains({ origins })) return;
  if (!(await chrome.permissions.request({ origins }))) throw new Error(`the extension needs access to ${server} to connect`);
}

async function ask(msg) {
  const r = await chrome.runtime.sendMessage(msg);
  if (!r?.ok) throw new Error(r?.error || 'the extension did not answer');
  return r;
}

async function run(fn) {
  say('');
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  try {
    await fn();
  } catch (err) {
    say(err.message || String(err), true);
  } finally {
    for (const b of document.querySelectorAll('button')) b.disabled = false;
  }
}

function say(text, error = false) {
  const m = $('message');
  m.textContent = text;
  m.hidden = !text;
  m.classList.toggle('error', error);
}

async function render() {
  const c = await loadConnection();
  const connected = Boolean(c.token && c.me);
  $('status').textContent = STATUS[c.status] || STATUS['signed-out'];
  $('status').dataset.status = c.status || 'signed-out';
  $('connected').hidden = !connected;
  $('connect').hidden = connected;
  if (connected) {
    $('c-workspace').textContent = c.me.workspace.name;
    $('c-agent').textContent = c.me.agent.name || c.me.agent.email;
    $('c-server').textContent = c.server;
    $('c-server').href = c.server;
  } else if (c.server && !$('server').value) {
    $('server').value = c.server;
  }
  const settings = { ...DEFAULT_SETTINGS, ...c.settings };
  for (const input of $('settings').querySelectorAll('input[type=checkbox]')) input.checked = Boolean(settings[input.name]);
}
