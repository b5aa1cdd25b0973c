// A message's attachments: GET /api/v1/media/{id} serves the bytes
// same-origin with the session cookie (so the CSP's img-src 'self'
// allows them). Images show as thumbnails that open full size, audio and
// video with controls, anything else as a download link. An attachment
// still being fetched from the provider shows "downloading…" until a
// message.updated event brings its new state.

import { h } from './dom.js';

/** mediaList renders a message's media, or null without any. */
export function mediaList(media) {
  if (!media?.length) return null;
  return h('div.media', ...media.map(item));
}

function item(m) {
  const name = m.filename || kindOf(m.mime_type);
  if (m.state === 'pending') {
    return h('span.media-file.media-pending', { role: 'status' }, `${name}: downloading…`);
  }
  if (m.state === 'failed') {
    return h('span.media-file.media-failed', `${name}: could not be downloaded from the provider`);
  }
  const url = `/api/v1/media/${encodeURIComponent(m.id)}`;
  const type = m.mime_type || '';
  if (type.startsWith('image/')) {
    return h('a.media-thumb', { href: url, target: '_blank', rel: 'noopener', title: `Open ${name}` },
      h('img', { src: url, alt: m.filename ? `Image ${m.filename}` : 'Image from the customer', loading: 'lazy', decoding: 'async' }));
  }
  if (type.startsWith('audio/')) {
    return h('audio', { controls: true, preload: 'none', src: url, 'aria-label': `Audio ${name}` });
  }
  if (type.startsWith('video/')) {
    return h('video', { controls: true, preload: 'metadata', src: url, 'aria-label': `Video ${name}` });
  }
  return h('a.media-file', { href: url, download: m.filename || '' },
    h('span.media-icon', { 'aria-hidden': 'true' }, '⤓'), name, m.size ? h('span.muted.small', ` (${size(m.size)})`) : null);
}

function kindOf(mime = '') {
  const top = mime.split('/')[0];
  return { image: 'Image', audio: 'Audio', video: 'Video' }[top] || 'File';
}

/** size renders a byte count for people. */
export function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
