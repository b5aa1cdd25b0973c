// Live inbox state: one Pusher connection subscribed to the workspace's
// and the agent's channels. Events are applied in seq order exactly once:
// an event at or below the last applied seq is a duplicate and dropped; a
// gap, or a reconnect, is filled from GET /api/v1/events?after=<last seq>
// (paged) before live events resume; a 410 there means the log no longer
// reaches back, and the caller refetches its state.

import { PusherClient, fetchAuthorizer } from './pusher.js';
import { api } from './api.js';

const BIG_SEQ = '4611686018427387904'; // 1<<62: "after everything", to read latest_seq

/**
 * Realtime connects for me (GET /api/v1/me) and reports through handlers:
 * onEvent(event) for each workspace event in order, onAgentEvent(event)
 * for the agent channel, onStatus(status) with "connecting", "live",
 * "reconnecting" or "offline", and onResync() when state must be
 * refetched (the log was pruned past our last seq).
 */
export class Realtime {
  constructor(me, { onEvent, onAgentEvent, onStatus, onResync }) {
    this.me = me;
    this.handlers = { onEvent, onAgentEvent, onStatus, onResync };
    this.lastSeq = null; // null until the baseline is known
    this.buffer = []; // live events waiting for the baseline or a catch-up
    this.catchingUp = false;
    this.agentSeqs = new Set();
    this.everConnected = false;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    this.client = new PusherClient(me.workspace.app_key, {
      url: `${proto}://${location.host}`,
      authorize: fetchAuthorizer('/pusher/auth'),
      // Signed in, the connection is closed (4009) when this agent's access
      // is revoked: removed, signed out everywhere.
      authenticateUser: fetchAuthorizer('/pusher/user-auth'),
    });
    this.client.onState((s) => this.onState(s));
    this.workspace = this.client.subscribe(`private-workspace-${me.workspace.id}`);
    this.agent = this.client.subscribe(`private-agent-${me.agent.id}`);
    this.workspace.bind('pusher:subscription_succeeded', () => this.onSubscribed());
    this.workspace.bind('pusher:subscription_error', (e) => console.warn('workspace channel refused', e));
  }

  /** start connects and returns once the baseline seq is known. */
  async start() {
    const subscribed = new Promise((resolve) => {
      this.workspace.bind('pusher:subscription_succeeded', resolve);
      setTimeout(resolve, 4000); // render anyway; catch-up fills in later
    });
    this.client.connect();
    await subscribed;
    const page = await api('events', { query: { after: BIG_SEQ, limit: 1 } });
    this.lastSeq = page.latest_seq;
    this.bindEvents();
    this.drain();
  }

  /**
   * bindEvents takes every event on the workspace channel; kinds are open
   * ended, so they are caught by overriding emit rather than by name.
   */
  bindEvents() {
    const ws = this.workspace;
    const origWS = ws.emit.bind(ws);
    ws.emit = (event, data, meta) => {
      origWS(event, data, meta);
      if (!event.startsWith('pusher:') && data && typeof data.seq === 'number') this.onLive(data);
    };
    const ag = this.agent;
    const origAg = ag.emit.bind(ag);
    ag.emit = (event, data, meta) => {
      origAg(event, data, meta);
      if (event.startsWith('pusher:') || !data) return;
      const key = `${event}:${data.seq}`;
      if (this.agentSeqs.has(key)) return;
      this.agentSeqs.add(key);
      this.handlers.onAgentEvent?.({ ...data, kind: event });
    };
  }

  onState(s) {
    if (s === 'connected') {
      this.everConnected = true;
      return; // "live" once the workspace channel is subscribed again
    }
    if (s === 'connecting') this.status(this.everConnected ? 'reconnecting' : 'connecting');
    else if (s === 'unavailable') this.status('reconnecting');
    else if (s === 'disconnected') this.status('offline');
  }

  status(s) {
    if (s === this.lastStatus) return;
    this.lastStatus = s;
    this.handlers.onStatus?.(s);
  }

  /** onSubscribed runs on every (re)subscription: fill what was missed. */
  async onSubscribed() {
    if (this.lastSeq !== null) await this.catchUp();
    this.status('live');
  }

  onLive(ev) {
    if (this.lastSeq === null || this.catchingUp) {
      this.buffer.push(ev);
      return;
    }
    if (ev.seq <= this.lastSeq) return; // seen
    if (ev.seq > this.lastSeq + 1) {
      // A gap: something was lost on the way. Fetch it in order.
      this.buffer.push(ev);
      this.catchUp();
      return;
    }
    this.apply(ev);
  }

  apply(ev) {
    if (ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    try {
      this.handlers.onEvent(ev);
    } catch (err) {
      console.error('applying event', ev.kind, ev.seq, err);
    }
  }

  /**
   * drain applies buffered live events in order. Right after a catch-up
   * the log has everything up to them, so a remaining hole cannot be
   * filled and is stepped over; otherwise a hole starts a catch-up.
   */
  drain(afterCatchUp = false) {
    const pending = this.buffer.sort((a, b) => a.seq - b.seq);
    this.buffer = [];
    for (const ev of pending) {
      if (ev.seq === this.lastSeq + 1 || (afterCatchUp && ev.seq > this.lastSeq)) this.apply(ev);
      else if (ev.seq > this.lastSeq + 1) this.buffer.push(ev);
    }
    if (this.buffer.length) this.catchUp();
  }

  /** catchUp pages through /events after lastSeq, then applies buffered live events. */
  async catchUp() {
    if (this.catchingUp || this.lastSeq === null) return;
    this.catchingUp = true;
    try {
      for (;;) {
        const page = await api('events', { query: { after: this.lastSeq, limit: 500 } });
        for (const ev of page.events) this.apply(ev);
        if (!page.has_more) break;
      }
    } catch (err) {
      if (err.status === 410) {
        const page = await api('events', { query: { after: BIG_SEQ, limit: 1 } });
        this.lastSeq = page.latest_seq;
        this.buffer = this.buffer.filter((e) => e.seq > this.lastSeq);
        this.handlers.onResync?.();
      } else {
        console.warn('catch-up failed; retrying on the next event', err);
        this.catchingUp = false;
        return;
      }
    } finally {
      this.catchingUp = false;
    }
    this.drain(true);
  }
}
