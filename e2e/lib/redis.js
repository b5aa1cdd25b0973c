// The smallest Redis client the suite needs for its own bookkeeping: to see
// whether Redis answers before starting a cluster, and to delete a test's
// keys afterwards. It speaks RESP2 over one socket, one command at a time.
// The servers under test use their own client; this one never touches a
// key outside the prefix it is given.

import net from 'node:net';
import { withTimeout } from './wait.js';

/**
 * REDIS_URL is the shared Redis the cluster tests use, each with a key
 * prefix of its own: SWITCHBOARD_TEST_REDIS_URL (as in the Go tests) or the
 * local default.
 */
export const REDIS_URL = process.env.SWITCHBOARD_TEST_REDIS_URL || 'redis://127.0.0.1:6379/0';

/** RedisConn is one connection; every command waits for its reply. */
export class RedisConn {
  /**
   * connect opens a connection to a redis:// URL, authenticating and
   * selecting its database, within timeout ms.
   */
  static async connect(rawURL = REDIS_URL, timeout = 2000) {
    const u = new URL(rawURL);
    if (u.protocol !== 'redis:') throw new Error(`${rawURL}: only redis:// URLs are supported here`);
    const conn = new RedisConn();
    const sock = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || 6379 });
    conn.sock = sock;
    sock.on('data', (chunk) => conn.onData(chunk));
    sock.on('error', (err) => conn.fail(err));
    sock.on('close', () => conn.fail(new Error('redis connection closed')));
    try {
      await withTimeout(new Promise((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      }), timeout, `a connection to Redis at ${u.host}`);
      if (u.password) {
        const args = u.username ? [decodeURIComponent(u.username)] : [];
        await withTimeout(conn.command('AUTH', ...args, decodeURIComponent(u.password)), timeout, 'Redis AUTH');
      }
      const db = u.pathname.replace(/^\//, '');
      if (db) await withTimeout(conn.command('SELECT', db), timeout, 'Redis SELECT');
      await withTimeout(conn.command('PING'), timeout, 'Redis PING');
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  constructor() {
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    this.closed = false;
  }

  /** command sends one command and resolves with its reply. */
  command(...args) {
    if (this.closed) return Promise.reject(new Error('redis connection closed'));
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const s = String(a);
      parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(parts.join(''));
    });
  }

  /**
   * deletePrefix deletes every key starting with prefix and returns how
   * many it deleted. The prefix must be one the caller owns.
   */
  async deletePrefix(prefix) {
    if (!prefix || /[*?[\]\\]/.test(prefix)) throw new Error(`refusing to delete keys under prefix ${JSON.stringify(prefix)}`);
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.command('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.command('DEL', ...keys);
    } while (cursor !== '0');
    return deleted;
  }

  close() {
    this.closed = true;
    this.sock?.destroy();
  }

  fail(err) {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  onData(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const parsed = parseReply(this.buf, 0);
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      const p = this.pending.shift();
      if (!p) continue;
      if (parsed.value instanceof Error) p.reject(parsed.value);
      else p.resolve(parsed.value);
    }
  }
}

// parseReply decodes one RESP2 reply at buf[start:], returning {value, end}
// or undefined while it is incomplete. Error replies become Error values.
function parseReply(buf, start) {
  const eol = buf.indexOf('\r\n', start);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString('utf8', start + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(`redis: ${line}`), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < n; i += 1) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}

/**
 * probeRedis returns undefined when Redis at url answers PING, else the
 * reason it does not.
 */
export async function probeRedis(url = REDIS_URL) {
  try {
    const conn = await RedisConn.connect(url);
    conn.close();
    return undefined;
  } catch (err) {
    return err && err.message ? err.message : String(err);
  }
}
