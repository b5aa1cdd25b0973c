// The sign-in page, shown when nobody is signed in: Google, and the
// development sign-in when the server offers it.

import { h, replace } from './dom.js';

/** renderSignIn fills root with the sign-in page for the session's methods. */
export function renderSignIn(root, methods = {}) {
  const options = [];
  if (methods.google) {
    options.push(h('a.button.google', { href: '/auth/google' },
      h('span.g', { 'aria-hidden': 'true' }, 'G'), 'Sign in with Google'));
  }
  if (methods.dev) {
    options.push(h('form.dev-form', { method: 'post', action: '/auth/dev', 'aria-labelledby': 'dev-title' },
      h('h2#dev-title', 'Development sign-in'),
      h('p.muted.small', 'This server allows signing in as anyone, without a password. Never enabled in production.'),
      h('label', { for: 'dev-email' }, 'Email'),
      h('input#dev-email', { type: 'email', name: 'email', required: true, autocomplete: 'email', placeholder: 'you@example.com' }),
      h('label', { for: 'dev-name' }, 'Name'),
      h('input#dev-name', { type: 'text', name: 'name', autocomplete: 'name', placeholder: 'Your name' }),
      h('button.primary', { type: 'submit' }, 'Sign in')));
  }
  if (!options.length) {
    options.push(h('p.muted', 'No sign-in method is configured on this server. Set SWITCHBOARD_GOOGLE_CLIENT_ID, SWITCHBOARD_GOOGLE_CLIENT_SECRET and SWITCHBOARD_PUBLIC_URL.'));
  }
  if (methods.google && methods.dev) options.splice(1, 0, h('div.or', h('span', 'or')));
  document.title = 'Sign in · Switchboard';
  replace(root, h('main.signin#main',
    h('div.signin-card',
      h('div.brand-mark', { 'aria-hidden': 'true' }, 'S'),
      h('h1', 'Sign in to Switchboard'),
      h('p.muted', 'Your team’s shared inbox for WhatsApp, Messenger, Instagram, SMS and the web.'),
      ...options)));
}
