// Bounded waiting. Every wait in the suite goes through these helpers so a
// broken server fails a test with a message that says what never happened,
// instead of hanging the run or passing by luck after a fixed sleep.

/**
 * The default bound for one awaited protocol step. A healthy server answers
 * in milliseconds; the bound is generous because the suite may share two
 * cores with a Go build or a -race test run. E2E_STEP_TIMEOUT_MS overrides.
 */
export const STEP_TIMEOUT_MS = Number(process.env.E2E_STEP_TIMEOUT_MS) || 10_000;

/**
 * withTimeout resolves like promise, or rejects with an Error naming what
 * was awaited once ms have passed.
 */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * eventually calls check until it returns a truthy value (which it then
 * returns) or stops throwing, polling every interval ms. After timeout ms it
 * throws, carrying the last error or value seen.
 */
export async function eventually(check, { timeout = STEP_TIMEOUT_MS, interval = 50, what = 'condition' } = {}) {
  // what may be a function, so a failure message shows the state at the
  // deadline rather than at the start.
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (err) {
      last = `last error: ${err && err.message ? err.message : err}`;
    }
    if (Date.now() >= deadline) {
      const label = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeout} ms waiting for ${label} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/**
 * Recorder keeps every call it is handed, in order, and lets a test wait
 * for one that matches. Binding a Recorder before acting means an event
 * that arrives early is never missed.
 */
export class Recorder {
  constructor(label) {
    this.label = label;
    this.items = [];
    this.waiters = [];
  }

  /** push records an item and wakes matching waiters. */
  push(item) {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /**
   * waitFor resolves with the first recorded item (past or future) that
   * satisfies match, or rejects after ms.
   */
  waitFor(match = () => true, { timeout = STEP_TIMEOUT_MS, what } = {}) {
    const seen = this.items.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    let waiter;
    const p = new Promise((resolve) => {
      waiter = { match, resolve };
      this.waiters.push(waiter);
    });
    const label = what || `a matching ${this.label}`;
    return withTimeout(p, timeout, `${label}; recorded so far: ${this.describe()}`).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  /** waitForCount resolves once n items satisfying match were recorded. */
  async waitForCount(n, match = () => true, opts = {}) {
    const what = opts.what || `${n} × ${this.label}`;
    await eventually(() => this.items.filter(match).length >= n, {
      ...opts,
      what: () => `${what}; recorded so far: ${this.describe()}`,
    });
    return this.items.filter(match);
  }

  describe() {
    const text = JSON.stringify(this.items);
    return text.length > 600 ? `${text.slice(0, 600)}…` : text;
  }
}
