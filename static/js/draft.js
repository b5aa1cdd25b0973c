// The AI draft panel above the composer. A suggestion is asked for with
// POST /conversations/{id}/draft and streams to everyone viewing the
// conversation on presence-conversation-{id}: draft.delta pieces (joined
// in seq order; a missing piece holds back what follows), then
// draft.completed, whose text replaces the pieces, or draft.failed. The
// agent accepts it into the composer (the reply is then sent with
// ai_assisted), edits it first, or discards it; nothing is sent alone.

import { h, replace } from './dom.js';

const FAILED_SHOWN_MS = 8000;

const REASONS = {
  timeout: 'it took too long',
  stalled: 'the model stopped answering',
  unavailable: 'the AI service is unavailable',
  rate_limited: 'the AI service is rate-limiting us; try again in a minute',
  misconfigured: 'the AI settings are wrong (see Settings)',
  bad_response: 'the AI service answered something unusable',
  no_suggestion: 'nothing in the knowledge base fits this question',
};

/** DraftPanel shows one draft at a time; onUse(text, draftID) takes it into the composer. */
export class DraftPanel {
  constructor({ onUse }) {
    this.onUse = onUse;
    this.el = h('section.draft', { 'aria-labelledby': 'draft-h', hidden: true });
    this.id = null;
    this.discarded = new Set();
  }

  /** start shows an empty draft id being written. */
  start(id) {
    if (this.id === id || this.discarded.has(id)) return;
    clearTimeout(this.hideTimer);
    this.id = id;
    this.pieces = new Map();
    this.done = null;
    this.failure = null;
    this.editing = false;
    this.render();
  }

  /** delta applies a draft.delta event. */
  delta(ev) {
    if (this.discarded.has(ev.draft_id)) return;
    this.start(ev.draft_id);
    if (this.done || this.failure) return;
    this.pieces.set(ev.seq, ev.text);
    this.renderText();
  }

  /** completed applies a draft.completed event. */
  completed(ev) {
    if (this.discarded.has(ev.draft_id)) return;
    this.start(ev.draft_id);
    this.done = ev;
    this.render();
  }

  /** failed applies a draft.failed event: the reason, shown briefly. */
  failed(ev) {
    if (this.discarded.has(ev.draft_id)) return;
    this.start(ev.draft_id);
    this.failure = ev;
    this.render();
    this.hideTimer = setTimeout(() => this.discard(), FAILED_SHOWN_MS);
  }

  /** refuse shows why a suggestion could not even be asked for. */
  refuse(message) {
    this.start(`local-${Date.now()}`);
    this.failure = { message };
    this.render();
    this.hideTimer = setTimeout(() => this.discard(), FAILED_SHOWN_MS);
  }

  /** discard hides the draft; its later events are ignored here. */
  discard() {
    clearTimeout(this.hideTimer);
    if (this.id) this.discarded.add(this.id);
    this.id = null;
    this.el.hidden = true;
    this.el.replaceChildren();
  }

  text() {
    if (this.done) return this.done.text || '';
    let out = '';
    for (let i = 1; this.pieces.has(i); i++) out += this.pieces.get(i);
    return out;
  }

  renderText() {
    const p = this.el.querySelector('.draft-text');
    if (p) p.textContent = this.text();
    else this.render();
  }

  render() {
    const writing = !this.done && !this.failure;
    this.el.hidden = false;
    this.el.setAttribute('aria-busy', String(writing));
    if (this.failure) {
      const why = REASONS[this.failure.reason] || this.failure.message || 'it failed';
      replace(this.el,
        h('div.draft-head', h('h3#draft-h', 'AI draft'), h('span.draft-status.draft-failed', { role: 'alert' }, `No suggestion: ${why}.`),
          h('button.small-button', { type: 'button', onclick: () => this.discard() }, 'Dismiss')));
      return;
    }
    const d = this.done;
    const meta = d ? [d.model, d.confidence ? `${Math.round(d.confidence * 100)}% match` : null].filter(Boolean).join(' · ') : '';
    const body = this.editing
      ? [h('label.visually-hidden', { for: 'draft-edit' }, 'Edit the draft'), h('textarea#draft-edit', { rows: '4' }, this.text())]
      : [h('p.draft-text', this.text())];
    replace(this.el,
      h('div.draft-head',
        h('h3#draft-h', 'AI draft'),
        h('span.draft-status.muted.small', writing ? 'Writing…' : meta)),
      ...body,
      d?.sources?.length ? h('div.draft-sources',
        h('span.muted.small', 'Based on: '),
        h('ul.plain', ...d.sources.map((s) => h('li.chip.chip-small', { title: `${s.kind} ${s.id}` }, s.title || `${s.kind} ${s.id}`)))) : null,
      h('div.draft-actions',
        h('button.primary.small-button', { type: 'button', disabled: writing, onclick: () => this.use() }, this.editing ? 'Use this' : 'Accept'),
        this.editing ? null : h('button.small-button', { type: 'button', disabled: writing, onclick: () => this.edit() }, 'Edit'),
        h('button.small-button', { type: 'button', onclick: () => this.discard() }, 'Discard')));
  }

  edit() {
    this.editing = true;
    this.render();
    this.el.querySelector('#draft-edit')?.focus();
  }

  use() {
    const text = this.editing ? this.el.querySelector('#draft-edit').value : this.text();
    const id = this.id;
    this.discard();
    this.onUse(text, id);
  }
}
