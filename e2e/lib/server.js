// The Switchboard process under test: built once from the repository (or
// taken from SWITCHBOARD_BIN), started on a random loopback port with a
// generated apps file, and always stopped when the test file ends.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, withTimeout } from './wait.js';

/** e2eDir is this suite's folder; repoRoot the Go module it tests. */
export const e2eDir = fileURLToPath(new URL('../', import.meta.url));
export const repoRoot = path.resolve(e2eDir, '..');

/** The only host the suite ever talks to. */
export const HOST = '127.0.0.1';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const BUILD_TIMEOUT_MS = 600_000;

let builtBinary;

/**
 * serverBinary returns the path of the server to test: SWITCHBOARD_BIN when
 * set, else e2e/.bin/switchboard built from the repository root. go build
 * leaves an up-to-date binary alone, so every test file may call this.
 */
export function serverBinary() {
  if (process.env.SWITCHBOARD_BIN) {
    const bin = path.resolve(process.env.SWITCHBOARD_BIN);
    if (!fs.existsSync(bin)) throw new Error(`SWITCHBOARD_BIN=${bin}: no such file`);
    return bin;
  }
  if (builtBinary) return builtBinary;
  const out = path.join(e2eDir, '.bin', 'switchboard');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const lock = `${out}.lock`;
  acquireLock(lock);
  try {
    const res = spawnSync('go', ['build', '-o', out, '.'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: BUILD_TIMEOUT_MS,
      env: process.env,
    });
    if (res.error) throw new Error(`go build: ${res.error.message}`);
    if (res.status !== 0) {
      throw new Error(`go build -o ${path.relative(repoRoot, out)} . failed (exit ${res.status}):\n${res.stderr}`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  builtBinary = out;
  return out;
}

// acquireLock keeps two test processes (were the suite run with concurrency)
// from writing the same binary at once. A lock older than the build timeout
// is a leftover from a killed run and is taken over.
function acquireLock(dir) {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs > BUILD_TIMEOUT_MS) {
          fs.rmSync(dir, { recursive: true, force: true });
          continue;
        }
      } catch {
        continue;
      }
      if (Date.now() > deadline) throw new Error(`could not take build lock ${dir}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

const running = new Set();
const tempDirs = new Set();
function killRunning() {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
// Last resort: a test file that crashed, or was interrupted, must not leave
// a server behind.
process.on('exit', killRunning);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killRunning();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

/**
 * SwitchboardServer is one server process. start() may be called again
 * after stop() (same apps, and the same port when asked), which is how the
 * restart tests work.
 */
export class SwitchboardServer {
  /**
   * @param {object[]|null} apps the apps file contents; null writes no apps
   *   file, for a server configured by environment (the static app) alone
   * @param {object} [opts]
   * @param {string} [opts.name] names the log file under e2e/artifacts/
   * @param {Record<string,string>} [opts.env] extra environment
   */
  constructor(apps, { name = 'server', env = {} } = {}) {
    this.apps = apps;
    this.name = name;
    this.extraEnv = env;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-'));
    tempDirs.add(this.dir);
    this.appsFile = null;
    if (apps) {
      this.appsFile = path.join(this.dir, 'apps.json');
      fs.writeFileSync(this.appsFile, JSON.stringify(apps, null, 2));
    }
    this.logLines = [];
    this.child = null;
    this.port = 0;
    this.exit = null;
    fs.mkdirSync(path.join(e2eDir, 'artifacts'), { recursive: true });
    this.logFile = path.join(e2eDir, 'artifacts', `${name}.server.log`);
    fs.writeFileSync(this.logFile, '');
  }

  /** start launches the server and resolves once /readyz answers 200. */
  async start({ port = 0 } = {}) {
    if (this.child) throw new Error('server already running');
    const bin = serverBinary();
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SWITCHBOARD_')) delete env[k];
    Object.assign(env, {
      SWITCHBOARD_ADDR: `${HOST}:${port}`,
      SWITCHBOARD_LOG_FORMAT: 'json',
      ...(this.appsFile ? { SWITCHBOARD_APPS_FILE: this.appsFile } : {}),
      ...this.extraEnv,
    });
    this.log(`--- start ${bin} on ${HOST}:${port}`);
    const child = spawn(bin, [], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = null;
    running.add(child);
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exit = { code, signal };
        this.log(`--- exited code=${code} signal=${signal}`);
        resolve(this.exit);
      });
    });
    this.exited = exited;
    const listening = new Promise((resolve) => {
      const onLine = (line) => {
        this.log(line);
        let rec;
        try {
          rec = JSON.parse(line);
        } catch {
          return;
        }
        if (rec && rec.msg === 'listening' && typeof rec.addr === 'string') {
          const m = /:(\d+)$/.exec(rec.addr);
          if (m) resolve(Number(m[1]));
        }
      };
      createInterface({ input: child.stderr }).on('line', onLine);
      createInterface({ input: child.stdout }).on('line', onLine);
    });
    const early = exited.then((e) => {
      throw new Error(`server exited before listening (code=${e.code} signal=${e.signal})`);
    });
    try {
      this.port = await withTimeout(Promise.race([listening, early]), START_TIMEOUT_MS,
        'the server\'s {"msg":"listening","addr":…} log line');
      await eventually(async () => {
        if (this.exit) throw new Error(`server exited (code=${this.exit.code})`);
        const res = await fetch(`${this.httpURL}/readyz`);
        return res.status === 200;
      }, { timeout: START_TIMEOUT_MS, interval: 100, what: `GET /readyz → 200 on port ${this.port}` });
    } catch (err) {
      await this.kill();
      err.message += `\n--- server log tail:\n${this.tail()}`;
      throw err;
    }
    return this;
  }

  /** httpURL is the base of the HTTP API and health endpoints. */
  get httpURL() {
    return `http://${HOST}:${this.port}`;
  }

  /** wsURL is the websocket URL for an app key, as pusher-js builds it. */
  wsURL(key, query = 'protocol=7&client=js&version=8.4.0&flash=false') {
    return `ws://${HOST}:${this.port}/app/${key}?${query}`;
  }

  /**
   * stop sends SIGTERM and waits for the process to exit; a server that
   * does not exit in time is killed and the failure reported.
   */
  async stop() {
    const child = this.child;
    if (!child) return this.exit;
    if (this.exit) {
      this.child = null;
      return this.exit;
    }
    child.kill('SIGTERM');
    try {
      await withTimeout(this.exited, STOP_TIMEOUT_MS, 'the server to exit after SIGTERM');
    } catch (err) {
      await this.kill();
      throw err;
    } finally {
      this.child = null;
    }
    return this.exit;
  }

  /** kill ends the process at once; safe to call when it is not running. */
  async kill() {
    const child = this.child;
    this.child = null;
    if (!child || this.exit) return;
    child.kill('SIGKILL');
    await withTimeout(this.exited, STOP_TIMEOUT_MS, 'the server to exit after SIGKILL');
  }

  /** close stops the server (forcefully if need be) and removes its files. */
  /**
   * cli runs a switchboard command against this server's store (its
   * directory, none of the test runner's SWITCHBOARD_* settings, env
   * added) and returns its JSON output.
   */
  cli(args, env = {}) {
    const full = { ...process.env };
    for (const k of Object.keys(full)) if (k.startsWith('SWITCHBOARD_')) delete full[k];
    Object.assign(full, env);
    return JSON.parse(execFileSync(serverBinary(), args, { cwd: this.dir, env: full, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  async close() {
    try {
      await this.stop();
    } finally {
      await this.kill();
      fs.rmSync(this.dir, { recursive: true, force: true });
      tempDirs.delete(this.dir);
    }
  }

  log(line) {
    this.logLines.push(line);
    if (this.logLines.length > 2000) this.logLines.splice(0, 1000);
    fs.appendFileSync(this.logFile, `${line}\n`);
  }

  /** tail returns the last n log lines, for failure messages. */
  tail(n = 30) {
    return this.logLines.slice(-n).join('\n');
  }
}

/**
 * startServer starts a server for one test file. Call close() in after().
 */
export async function startServer(apps, opts) {
  const server = new SwitchboardServer(apps, opts);
  try {
    await server.start();
  } catch (err) {
    fs.rmSync(server.dir, { recursive: true, force: true });
    tempDirs.delete(server.dir);
    throw err;
  }
  return server;
}
