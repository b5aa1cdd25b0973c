// Settings → AI assistant (admins, and only where the server serves
// /ai/settings): drafts on or off, the provider (offline, from the
// knowledge base alone, or an OpenAI-compatible endpoint) with its URL,
// model and write-only key, instructions, brand voice and redaction; and
// the knowledge articles drafts answer from.

import { api } from './api.js';
import { h, replace, clock } from './dom.js';
import { emit, loadFeatures } from './state.js';

/** renderAISettings fills sec with the AI settings and knowledge articles. */
export async function renderAISettings(sec) {
  const [s, kb] = await Promise.all([
    api('ai/settings'),
    api('knowledge_articles').catch(() => null),
  ]);
  const error = h('p.form-error', { role: 'alert' });
  const endpoint = h('div.config-fields', { hidden: s.provider !== 'openai' },
    field('ai-base-url', 'Endpoint URL', h('input#ai-base-url', { name: 'base_url', type: 'url', value: s.base_url || '', placeholder: 'Server default' })),
    field('ai-model', 'Model', h('input#ai-model', { name: 'model', value: s.model || '', placeholder: 'Server default' })),
    field('ai-key', 'API key', h('input#ai-key', {
      name: 'api_key', type: 'password', autocomplete: 'new-password',
      placeholder: s.api_key_set ? 'Set; type to replace' : 'Server default',
    })));
  replace(sec, h('h2#ai-h', 'AI assistant'),
    h('p.muted.small', 'Suggested replies are drafts: an agent reads, edits and sends them; nothing is sent on its own.'),
    h('form.config-form', { 'aria-labelledby': 'ai-h', onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      const f = e.target.elements;
      const body = {
        enabled: f.enabled.checked, provider: f.provider.value, base_url: f.base_url.value.trim(), model: f.model.value.trim(),
        instructions: f.instructions.value, brand_voice: f.brand_voice.value, redact: f.redact.checked,
      };
      if (f.api_key.value) body.api_key = f.api_key.value;
      try {
        await api('ai/settings', { method: 'PUT', body });
        await loadFeatures();
        emit('toast', 'AI settings saved.');
        await renderAISettings(sec);
      } catch (err) {
        error.textContent = `Not saved: ${err.message}`;
      }
    } },
    h('div.field.field-check', h('input#ai-enabled', { name: 'enabled', type: 'checkbox', checked: s.enabled }),
      h('label', { for: 'ai-enabled' }, 'Offer "Suggest reply" to agents')),
    field('ai-provider', 'Provider', h('select#ai-provider', { name: 'provider', onchange: (e) => { endpoint.hidden = e.target.value !== 'openai'; } },
      h('option', { value: 'offline', selected: s.provider !== 'openai' }, 'Offline: quote the best knowledge article'),
      h('option', { value: 'openai', selected: s.provider === 'openai' }, 'OpenAI-compatible endpoint'))),
    endpoint,
    field('ai-instructions', 'Instructions', h('textarea#ai-instructions', { name: 'instructions', rows: '2', placeholder: 'Always greet by first name; never promise refunds.' }, s.instructions || '')),
    field('ai-voice', 'Brand voice', h('textarea#ai-voice', { name: 'brand_voice', rows: '2', placeholder: 'Friendly, brief, no emoji.' }, s.brand_voice || '')),
    h('div.field.field-check', h('input#ai-redact', { name: 'redact', type: 'checkbox', checked: s.redact }),
      h('label', { for: 'ai-redact' }, 'Redact emails, phone numbers and card numbers before they reach the model')),
    error,
    h('div.form-foot', h('button.primary', { type: 'submit' }, 'Save AI settings'))),
    kb ? knowledge(sec, kb.knowledge_articles || []) : null);
}

function field(id, label, input) {
  return h('div.field', h('label', { for: id }, label), input);
}

function knowledge(sec, articles) {
  const error = h('p.form-error', { role: 'alert' });
  return h('div.knowledge',
    h('h3#kb-h', 'Knowledge articles'),
    h('p.muted.small', 'Drafts answer from these; each suggestion names the articles it used.'),
    articles.length ? h('ul.plain', ...articles.map((a) => h('li.row',
      h('span', a.title),
      h('span.muted.small', `updated ${clock(a.updated_at)}`),
      h('button.small-button', { type: 'button', 'aria-label': `Delete article ${a.title}`, onclick: async () => {
        try {
          await api(`knowledge_articles/${a.id}`, { method: 'DELETE' });
          await renderAISettings(sec);
        } catch (err) {
          emit('toast', `Could not delete: ${err.message}`);
        }
      } }, 'Delete')))) : h('p.muted.small', 'No articles yet.'),
    h('form.config-form', { 'aria-labelledby': 'kb-h', onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      const f = e.target.elements;
      try {
        await api('knowledge_articles', { method: 'POST', body: { title: f.title.value.trim(), body: f.body.value } });
        await renderAISettings(sec);
      } catch (err) {
        error.textContent = `Not added: ${err.message}`;
      }
    } },
    field('kb-title', 'Article title', h('input#kb-title', { name: 'title', required: true, maxlength: '200' })),
    field('kb-body', 'Article text', h('textarea#kb-body', { name: 'body', required: true, rows: '4' })),
    error,
    h('div.form-foot', h('button', { type: 'submit' }, 'Add article'))));
}
