// The inbound end-to-end benchmark: a customer's WhatsApp message, as
// Meta's Cloud API delivers it (a signed webhook POST), until an agent's
// pusher-js client has its message.created event. It runs the built server
// on a fresh Postgres database and on a fresh SQLite file, with a real
// pusher-js client subscribed to private-workspace-{id} through
// /pusher/auth, and reports per store:
//
//   - answer: POST sent → 200 answered, i.e. the message is committed (the
//     connector answers only once it is durably stored);
//   - event: POST sent → the matching message.created received by
//     pusher-js (matched by provider_message_id);
//   - sustained messages/s with a bounded number of concurrent requests,
//     and latency at a fixed offered rate.
//
// It checks correctness while it runs: every accepted message yields
// exactly one message.created (the relay delivers at least once, so events
// are first deduplicated by seq, as clients do), the store's event log
// agrees with what the client saw, replayed webhooks are dropped as
// duplicates, and a forged signature is refused. Any failure exits 1.
//
// Everything stays on 127.0.0.1, and every loop is bounded in count and
// time. Usage:
//
//   SWITCHBOARD_BIN=bin/switchboard node bench/inbound.js \
//     [--store=postgres|sqlite|both] [--duration=15] [--warmup=3] \
//     [--concurrency=12] [--rate=100] [--customers=100] [--json]
//
// Postgres: a database named switchboard_bench_… is created (and dropped at
// the end) with psql on the server of SWITCHBOARD_TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// --json prints the summary as JSON on stdout; the table then goes to
// stderr with the progress lines.

import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pusher } from '../lib/clients.js';
import { HOST, SwitchboardServer, repoRoot, serverBinary } from '../lib/server.js';
import { withTimeout } from '../lib/wait.js';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';

/** Bounds that are not flags: every wait below ends. */
const REQUEST_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 30_000;
const SUBSCRIBE_TIMEOUT_MS = 15_000;
const MAX_DURATION_S = 600;
const MAX_RATE = 5_000;
const MAX_CONCURRENCY = 256;
/** How many accepted webhooks are sent again to check deduplication. */
const REPLAYS = 20;

const PHONE_NUMBER_ID = '106540352242922';
const DISPLAY_NUMBER = '15550783881';

function parseFlags() {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'both' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '12' },
      rate: { type: 'string', default: '100' },
      customers: { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '') + '\n');
    process.exit(0);
  }
  const num = (name, min, max) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new Error(`--${name}=${values[name]}: want a number from ${min} to ${max}`);
    }
    return n;
  };
  const stores = { both: ['postgres', 'sqlite'], postgres: ['postgres'], sqlite: ['sqlite'] }[values.store];
  if (!stores) throw new Error(`--store=${values.store}: want postgres, sqlite or both`);
  return {
    stores,
    durationMs: num('duration', 1, MAX_DURATION_S) * 1000,
    warmupMs: num('warmup', 0, MAX_DURATION_S) * 1000,
    concurrency: Math.floor(num('concurrency', 1, MAX_CONCURRENCY)),
    rate: num('rate', 1, MAX_RATE),
    customers: Math.floor(num('customers', 1, 100_000)),
    json: values.json,
  };
}

let flags;
try {
  flags = parseFlags();
} catch (err) {
  process.stderr.write(`inbound.js: ${err.message}\n(node bench/inbound.js --help lists the flags)\n`);
  process.exit(2);
}

// The binary `make build` leaves in bin/ unless SWITCHBOARD_BIN names
// another; with neither, lib/server.js builds one.
if (!process.env.SWITCHBOARD_BIN && fs.existsSync(path.join(repoRoot, 'bin', 'switchboard'))) {
  process.env.SWITCHBOARD_BIN = path.join(repoRoot, 'bin', 'switchboard');
}

function loadavg() {
  return os.loadavg().map((l) => round(l, 2));
}
const loadAtStart = loadavg();
const out = flags.json ? process.stderr : process.stdout;

function progress(line) {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---------------------------------------------------------------------------
// Postgres: a database of the run's own, always dropped.

const createdDatabases = new Set();

function pgAdminURL() {
  return process.env.SWITCHBOARD_TEST_DATABASE_URL || DEFAULT_PG_URL;
}

function psql(sql) {
  const res = spawnSync('psql', [pgAdminURL(), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8', timeout: 60_000,
  });
  if (res.error) throw new Error(`psql: ${res.error.message} (is the PostgreSQL client installed?)`);
  if (res.status !== 0) throw new Error(`psql -c "${sql}" failed (exit ${res.status}): ${res.stderr.trim()}`);
}

function createDatabase() {
  const name = `switchboard_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  psql(`CREATE DATABASE ${name}`);
  createdDatabases.add(name);
  const u = new URL(pgAdminURL());
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

function dropDatabase(name) {
  psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  createdDatabases.delete(name);
}

// An interrupted run must not leave its database behind. lib/server.js
// kills the servers on exit; FORCE ends any connection left over.
process.on('exit', () => {
  for (const name of createdDatabases) {
    try {
      dropDatabase(name);
    } catch (err) {
      process.stderr.write(`[bench] could not drop database ${name}: ${err.message}\n`);
    }
  }
});

// ---------------------------------------------------------------------------
// The server under test, configured through its own command line.

/** cli runs a switchboard command against the server's store; input is its stdin. */
function cli(server, args, input = '') {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHBOARD_')) delete env[k];
  Object.assign(env, server.extraEnv);
  const stdout = execFileSync(serverBinary(), args, {
    cwd: server.dir, env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000,
  });
  return stdout;
}

async function setUp(store) {
  const env = { SWITCHBOARD_SECRET_KEY: randomBytes(32).toString('hex') };
  let db = null;
  if (store === 'postgres') {
    db = createDatabase();
    env.SWITCHBOARD_DATABASE_URL = db.url;
  }
  const server = new SwitchboardServer(null, { name: `bench-inbound-${store}`, env });
  if (store === 'sqlite') server.extraEnv.SWITCHBOARD_SQLITE_PATH = path.join(server.dir, 'bench.db');
  try {
    const migrated = cli(server, ['migrate']).trim();
    const workspace = JSON.parse(cli(server, ['workspace', 'create', '--name', 'Bench Co', '--owner-email', 'owner@bench.test']));
    const secrets = { app_secret: randomBytes(16).toString('hex'), verify_token: randomBytes(8).toString('hex') };
    // The configuration goes in on stdin, as README advises for secrets.
    const inbox = JSON.parse(cli(server, [
      'inbox', 'create', '--workspace', String(workspace.workspace_id), '--kind', 'whatsapp', '--name', 'WhatsApp bench', '--config', '-',
    ], JSON.stringify({ phone_number_id: PHONE_NUMBER_ID, ...secrets })));
    await server.start();
    progress(`${store}: server on ${server.httpURL} (pid ${server.child.pid}); ${migrated.split('\n').pop()}`);
    return { store, db, server, workspace, inbox, appSecret: secrets.app_secret };
  } catch (err) {
    await server.close();
    if (db) dropDatabase(db.name);
    throw err;
  }
}

async function tearDown(env) {
  try {
    await env.server.close();
  } finally {
    if (env.db) dropDatabase(env.db.name);
  }
}

// ---------------------------------------------------------------------------
// The agent: pusher-js authorized with the workspace's API token.

async function connectAgent(env) {
  const { server, workspace } = env;
  const pusher = new Pusher(workspace.app_key, {
    cluster: 'mt1',
    wsHost: HOST,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    enableStats: false,
    channelAuthorization: {
      customHandler: async ({ socketId, channelName }, callback) => {
        try {
          const res = await fetch(`${server.httpURL}/pusher/auth`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${workspace.api_token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
          });
          if (!res.ok) throw new Error(`/pusher/auth answered ${res.status}: ${await res.text()}`);
          callback(null, await res.json());
        } catch (err) {
          callback(err, null);
        }
      },
    },
  });
  const channel = pusher.subscribe(`private-workspace-${workspace.workspace_id}`);
  try {
    await withTimeout(new Promise((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', resolve);
      channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error ${JSON.stringify(e)}`)));
    }), SUBSCRIBE_TIMEOUT_MS, `pusher:subscription_succeeded on ${channel.name}`);
  } catch (err) {
    pusher.disconnect();
    throw err;
  }
  return { pusher, channel };
}

// ---------------------------------------------------------------------------
// The customers: Meta's documented text-message webhook, one message per
// POST, signed with X-Hub-Signature-256 under the inbox's app secret.

function customers(n) {
  return Array.from({ length: n }, (_, i) => ({
    waID: `1555${String(2_000_000 + i).padStart(7, '0')}`,
    name: `Bench Customer ${i + 1}`,
  }));
}

function webhookBody(customer, wamid, text) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: DISPLAY_NUMBER, phone_number_id: PHONE_NUMBER_ID },
          contacts: [{ profile: { name: customer.name }, wa_id: customer.waID }],
          messages: [{
            from: customer.waID,
            id: wamid,
            timestamp: String(Math.floor(Date.now() / 1000)),
            text: { body: text },
            type: 'text',
          }],
        },
        field: 'messages',
      }],
    }],
  });
}

function sign(body, secret) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** post sends one webhook and resolves with {status, json}; it never rejects. */
function post(agent, env, body, signature) {
  return new Promise((resolve) => {
    const req = http.request({
      agent,
      host: HOST,
      port: env.server.port,
      method: 'POST',
      path: env.inbox.webhook_path,
      timeout: REQUEST_TIMEOUT_MS,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'X-Hub-Signature-256': signature,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let json = null;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString());
        } catch {
          // An unparsable answer counts as an error below.
        }
        resolve({ status: res.statusCode, json });
      });
      res.on('error', (err) => resolve({ status: 0, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------
// One store's run: every message sent is a record keyed by its wamid.

class Run {
  constructor(env, agentConn) {
    this.env = env;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    this.customers = customers(flags.customers);
    this.tag = randomBytes(5).toString('hex').toUpperCase();
    this.n = 0;
    this.inflight = 0;
    this.slotWaiters = [];
    /** wamid → {phase, sentAt, answeredAt, status, accepted, eventAt, seq, body} */
    this.sent = new Map();
    this.seqs = new Set();
    this.redelivered = 0; // same seq received again: at-least-once delivery
    this.duplicateEvents = 0; // a second seq for one wamid: a real duplicate
    this.foreign = 0; // message.created for no message of ours
    this.errors = new Map(); // "status error" → count
    agentConn.channel.bind('message.created', (ev) => this.onEvent(ev));
  }

  onEvent(ev) {
    const now = performance.now();
    if (this.seqs.has(ev.seq)) {
      this.redelivered++;
      return;
    }
    this.seqs.add(ev.seq);
    const rec = this.sent.get(ev.payload?.message?.provider_message_id);
    if (!rec) {
      this.foreign++;
      return;
    }
    if (rec.seq !== undefined) {
      this.duplicateEvents++;
      return;
    }
    rec.seq = ev.seq;
    rec.eventAt = now;
  }

  async send(phase) {
    this.n++;
    const customer = this.customers[this.n % this.customers.length];
    const wamid = `wamid.HBgL${this.tag}${String(this.n).padStart(8, '0')}`;
    const body = webhookBody(customer, wamid, `Hello, this is message ${this.n} from the bench. Where is my order?`);
    const rec = { phase, sentAt: performance.now() };
    this.sent.set(wamid, rec);
    this.inflight++;
    const res = await post(this.agent, this.env, body, sign(body, this.env.appSecret));
    this.inflight--;
    this.slotWaiters.shift()?.();
    rec.answeredAt = performance.now();
    rec.status = res.status;
    rec.accepted = res.status === 200 && res.json?.messages === 1;
    if (rec.accepted) {
      rec.body = body;
    } else {
      const key = `${res.status} ${res.error || JSON.stringify(res.json)}`.slice(0, 160);
      this.errors.set(key, (this.errors.get(key) || 0) + 1);
    }
    return rec;
  }

  /** closedLoop keeps concurrency requests in flight for ms. */
  async closedLoop(phase, concurrency, ms) {
    const start = performance.now();
    const end = start + ms;
    const worker = async () => {
      while (performance.now() < end) await this.send(phase);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return performance.now() - start;
  }

  /**
   * openLoop offers rate messages/s for ms, each sent at its scheduled
   * time whatever the answers, with at most maxInflight outstanding (past
   * that it waits, and the achieved rate shows it).
   */
  async openLoop(phase, rate, ms, maxInflight) {
    const total = Math.max(1, Math.round((rate * ms) / 1000));
    const start = performance.now();
    const pending = [];
    let maxBehind = 0;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (this.inflight >= maxInflight) await new Promise((r) => this.slotWaiters.push(r));
      maxBehind = Math.max(maxBehind, performance.now() - due);
      pending.push(this.send(phase));
    }
    const sendSpan = performance.now() - start;
    await Promise.all(pending);
    return { sendSpan, maxBehind };
  }

  /** drain waits until every accepted message of phase has its event. */
  async drain(phase) {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    const missing = () => [...this.sent.values()].filter((r) => r.phase === phase && r.accepted && r.eventAt === undefined).length;
    while (missing() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return missing();
  }

  stats(phase, elapsedMs) {
    const recs = [...this.sent.values()].filter((r) => r.phase === phase);
    const accepted = recs.filter((r) => r.accepted);
    const delivered = accepted.filter((r) => r.eventAt !== undefined);
    return {
      sent: recs.length,
      accepted: accepted.length,
      failed: recs.length - accepted.length,
      delivered: delivered.length,
      seconds: round(elapsedMs / 1000, 2),
      accepted_per_s: round(accepted.length / (elapsedMs / 1000), 1),
      answer_ms: percentiles(accepted.map((r) => r.answeredAt - r.sentAt)),
      event_ms: percentiles(delivered.map((r) => r.eventAt - r.sentAt)),
    };
  }
}

function percentiles(values) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { p50: round(at(50), 2), p95: round(at(95), 2), p99: round(at(99), 2), max: round(sorted[sorted.length - 1], 2) };
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** cpuSeconds is a process's user+system CPU time so far (Linux), or null. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/** CPUMeter takes the CPU time of the server and of this process across one phase. */
class CPUMeter {
  constructor(env) {
    this.env = env;
    this.start = this.sample();
  }

  sample() {
    const own = process.cpuUsage();
    return { server: cpuSeconds(this.env.server.child.pid), client: (own.user + own.system) / 1e6 };
  }

  /** perMessage returns CPU milliseconds per message of each since the start. */
  perMessage(messages) {
    const end = this.sample();
    const ms = (k) => (this.start[k] === null || end[k] === null ? null : round(((end[k] - this.start[k]) * 1000) / Math.max(1, messages), 3));
    return { server: ms('server'), bench_client: ms('client') };
  }
}

/** storeEvents pages through /api/v1/events: the store's message.created seqs by wamid. */
async function storeEvents(env) {
  const byWamid = new Map();
  let after = 0;
  for (let page = 0; page < 10_000; page++) {
    const res = await fetch(`${env.server.httpURL}/api/v1/events?after=${after}&limit=1000`, {
      headers: { Authorization: `Bearer ${env.workspace.api_token}` },
    });
    if (res.status !== 200) throw new Error(`GET /api/v1/events answered ${res.status}: ${await res.text()}`);
    const body = await res.json();
    for (const ev of body.events) {
      after = ev.seq;
      if (ev.kind !== 'message.created') continue;
      const id = ev.payload?.message?.provider_message_id;
      byWamid.set(id, [...(byWamid.get(id) || []), ev.seq]);
    }
    if (!body.has_more) return byWamid;
  }
  throw new Error('GET /api/v1/events: too many pages');
}

async function benchStore(store) {
  const env = await setUp(store);
  let agentConn;
  try {
    agentConn = await connectAgent(env);
    const run = new Run(env, agentConn);
    const result = { store, load_average_at_start: loadavg(), phases: {} };

    if (flags.warmupMs > 0) {
      progress(`${store}: warm-up ${flags.warmupMs / 1000} s at concurrency ${flags.concurrency}`);
      await run.closedLoop('warmup', flags.concurrency, flags.warmupMs);
      await run.drain('warmup');
    }

    progress(`${store}: throughput ${flags.durationMs / 1000} s at concurrency ${flags.concurrency}`);
    const meter = new CPUMeter(env);
    const tElapsed = await run.closedLoop('throughput', flags.concurrency, flags.durationMs);
    await run.drain('throughput');
    result.phases.throughput = { concurrency: flags.concurrency, ...run.stats('throughput', tElapsed) };
    result.phases.throughput.cpu_ms_per_msg = meter.perMessage(result.phases.throughput.accepted);

    progress(`${store}: fixed rate ${flags.rate} msg/s for ${flags.durationMs / 1000} s`);
    const { sendSpan, maxBehind } = await run.openLoop('rate', flags.rate, flags.durationMs, flags.concurrency * 4);
    await run.drain('rate');
    result.phases.rate = { offered_per_s: flags.rate, max_send_behind_ms: round(maxBehind, 1), ...run.stats('rate', sendSpan) };

    // Correctness: replays are dropped and a forged signature refused,
    // then one last message is a barrier: events reach the client in seq
    // order, so once it is in, anything the replays caused would be too.
    const replayed = [...run.sent.values()].filter((r) => r.accepted).slice(0, REPLAYS);
    let replaysDropped = 0;
    for (const r of replayed) {
      const res = await post(run.agent, env, r.body, sign(r.body, env.appSecret));
      if (res.status === 200 && res.json?.duplicates === 1 && res.json?.messages === 0) replaysDropped++;
    }
    const forgedBody = webhookBody(run.customers[0], `wamid.HBgLFORGED${run.tag}`, 'forged');
    const forged = await post(run.agent, env, forgedBody, sign(forgedBody, 'not-the-app-secret'));
    const barrier = await run.send('barrier');
    const barrierLost = await run.drain('barrier');
    if (!barrier.accepted || barrierLost) throw new Error(`${store}: the barrier message was not delivered`);

    const storeLog = await storeEvents(env);
    const accepted = [...run.sent.entries()].filter(([, r]) => r.accepted);
    const lost = accepted.filter(([, r]) => r.eventAt === undefined).map(([id]) => id);
    const storeMissing = accepted.filter(([id]) => !storeLog.has(id)).length;
    const storeDuplicates = [...storeLog.values()].filter((seqs) => seqs.length > 1).length;
    const clientVsStore = accepted.filter(([id, r]) => r.seq !== undefined && storeLog.get(id)?.[0] !== r.seq).length;
    result.correctness = {
      sent: run.sent.size,
      accepted: accepted.length,
      failed: run.sent.size - accepted.length,
      failures: Object.fromEntries(run.errors),
      events_unique: run.seqs.size,
      events_redelivered: run.redelivered,
      lost: lost.length,
      duplicate_events: run.duplicateEvents,
      foreign_events: run.foreign,
      store_missing: storeMissing,
      store_duplicates: storeDuplicates,
      client_store_seq_mismatch: clientVsStore,
      replays_dropped: `${replaysDropped}/${replayed.length}`,
      forged_signature_status: forged.status,
    };
    const c = result.correctness;
    result.ok = c.lost === 0 && c.duplicate_events === 0 && c.foreign_events === 0 && c.store_missing === 0 &&
      c.store_duplicates === 0 && c.client_store_seq_mismatch === 0 && replaysDropped === replayed.length &&
      forged.status === 401;
    if (lost.length) progress(`${store}: LOST (no event within ${DRAIN_TIMEOUT_MS} ms): ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''}`);
    run.agent.destroy();
    return result;
  } finally {
    agentConn?.pusher.disconnect();
    await tearDown(env);
  }
}

// ---------------------------------------------------------------------------
// Report.

function fmt(p) {
  return p ? `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}` : '-';
}

function table(results, version) {
  const rows = [['store', 'phase', 'accepted', 'msgs/s', 'answer ms p50 / p95 / p99 / max', 'event ms p50 / p95 / p99 / max']];
  for (const r of results) {
    const t = r.phases.throughput;
    const f = r.phases.rate;
    rows.push([r.store, `concurrency ${t.concurrency}`, String(t.accepted), String(t.accepted_per_s), fmt(t.answer_ms), fmt(t.event_ms)]);
    const behind = f.max_send_behind_ms > 50 ? `, sends up to ${Math.round(f.max_send_behind_ms)} ms late` : '';
    rows.push([r.store, `offered ${f.offered_per_s}/s${behind}`, String(f.accepted), String(f.accepted_per_s), fmt(f.answer_ms), fmt(f.event_ms)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i >= 2 && i <= 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const lines = [
    `Inbound: signed WhatsApp webhook → committed (200) → message.created at pusher-js, loopback (${version})`,
    `${os.cpus().length} cores; load average ${loadAtStart.join(' ')} before the run, ${loadavg().join(' ')} after; ` +
      `duration ${flags.durationMs / 1000} s per phase after ${flags.warmupMs / 1000} s warm-up, ${flags.customers} customers`,
    '',
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
  ];
  for (const r of results) {
    const c = r.correctness;
    lines.push(`${r.store}: ${r.ok ? 'OK' : 'FAILED'}: accepted ${c.accepted} of ${c.sent}, ` +
      `events ${c.events_unique} unique (+${c.events_redelivered} redelivered, dropped by seq), ` +
      `lost ${c.lost}, duplicates ${c.duplicate_events}, unexpected ${c.foreign_events}, ` +
      `store log missing ${c.store_missing} / duplicated ${c.store_duplicates} / seq mismatch ${c.client_store_seq_mismatch}, ` +
      `replays dropped ${c.replays_dropped}, forged signature → ${c.forged_signature_status}` +
      `; CPU ms per message at full load: ${Object.entries(r.phases.throughput.cpu_ms_per_msg).map(([k, v]) => `${k} ${v ?? '?'}`).join(', ')}`);
    for (const [k, v] of Object.entries(c.failures)) lines.push(`  failed: ${v} × ${k}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const version = execFileSync(serverBinary(), ['version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  progress(`${serverBinary()}: ${version}`);
  const results = [];
  for (const store of flags.stores) results.push(await benchStore(store));
  out.write(table(results, version));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      bench: 'inbound', version, cores: os.cpus().length, load_average: { before: loadAtStart, after: loadavg() }, flags: {
        duration_s: flags.durationMs / 1000, warmup_s: flags.warmupMs / 1000,
        concurrency: flags.concurrency, rate: flags.rate, customers: flags.customers,
      }, results,
    }, null, 2)}\n`);
  }
  return results.every((r) => r.ok);
}

main().then((ok) => {
  process.exitCode = ok ? 0 : 1;
}, (err) => {
  process.stderr.write(`[bench] ${err.stack || err.message}\n`);
  process.exitCode = 1;
});
