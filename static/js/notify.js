// Desktop notifications and a sound for what needs an agent while the
// inbox is in the background: a customer writing in a conversation that is
// theirs or unassigned, an assignment, a mention. Both are off until the
// agent turns them on (Settings → Notifications); the choice is kept per
// browser. Desktop notifications need the browser's permission, asked when
// they are turned on.

import { h, replace } from './dom.js';

const KEY = 'sb.notify';

/** prefs returns {desktop, sound} as this browser keeps them. */
export function prefs() {
  try {
    return { desktop: false, sound: false, ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch {
    return { desktop: false, sound: false };
  }
}

function save(p) {
  localStorage.setItem(KEY, JSON.stringify(p));
}

/**
 * notify tells the agent: a desktop notification (clicking it opens href
 * in this tab) and a short chime, each if turned on. It stays quiet while
 * the agent is looking at the page and at that very conversation.
 */
export function notify({ title, body, href, tag }) {
  const p = prefs();
  const watching = !document.hidden && href && location.hash === href;
  if (watching) return;
  if (p.sound) chime();
  if (p.desktop && 'Notification' in window && Notification.permission === 'granted') {
    const n = new Notification(title, { body: body?.slice(0, 180), tag, icon: '/static/favicon.svg' });
    n.onclick = () => {
      window.focus();
      if (href) location.hash = href;
      n.close();
    };
  }
}

let audio;
// chime plays two short tones with Web Audio: no sound file to serve.
function chime() {
  try {
    audio ||= new AudioContext();
    const t = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1320]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.15, t + i * 0.12 + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.11);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + i * 0.12);
      osc.stop(t + i * 0.12 + 0.12);
    }
  } catch {
    // No audio (autoplay policy before any click, no device): stay quiet.
  }
}

/** renderNotificationSettings fills the settings section. */
export function renderNotificationSettings(sec) {
  const p = prefs();
  const supported = 'Notification' in window;
  const status = h('p.muted#notify-status', { role: 'status' });
  const explain = () => {
    if (!supported) status.textContent = 'This browser has no desktop notifications.';
    else if (Notification.permission === 'denied') status.textContent = 'The browser blocks notifications for this site; allow them in its site settings.';
    else status.textContent = '';
  };
  const desktop = h('input#notify-desktop', { type: 'checkbox', checked: p.desktop && supported, disabled: !supported, onchange: async () => {
    const next = prefs();
    next.desktop = desktop.checked;
    if (desktop.checked && Notification.permission === 'default') {
      await Notification.requestPermission();
    }
    if (desktop.checked && Notification.permission !== 'granted') {
      desktop.checked = false;
      next.desktop = false;
    }
    save(next);
    explain();
  } });
  const sound = h('input#notify-sound', { type: 'checkbox', checked: p.sound, onchange: () => {
    const next = prefs();
    next.sound = sound.checked;
    save(next);
    if (sound.checked) chime();
  } });
  explain();
  replace(sec, h('h2#notify-h', 'Notifications'),
    h('p.muted', 'When a customer writes in a conversation that is yours or unassigned, a conversation is assigned to you, or someone mentions you, while this tab is in the background or on another conversation. Kept in this browser only.'),
    h('div.field.field-check', desktop, h('label', { for: 'notify-desktop' }, 'Desktop notifications')),
    h('div.field.field-check', sound, h('label', { for: 'notify-sound' }, 'Play a sound')),
    status);
}
