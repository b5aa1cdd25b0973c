// useSwitchboard wires one server and one client pool into a test file's
// lifecycle: the server starts before the first test and is always stopped
// after the last; every test's clients are disconnected when it ends.

import { after, afterEach, before } from 'node:test';
import { appsConfig } from './apps.js';
import { ClientPool, serverSDK } from './clients.js';
import { startServer } from './server.js';

/** Building the server from a cold Go cache can take minutes. */
const SETUP_TIMEOUT_MS = 600_000;

/**
 * useSwitchboard registers the hooks and returns a context whose server,
 * pool and sdk() are ready inside tests.
 *
 * @param {string} name names the server log under e2e/artifacts/
 * @param {object} [opts]
 * @param {object} [opts.apps] apps file contents (default: appsConfig())
 * @param {Function} [opts.setup] async () => extra {apps} computed at setup time
 */
export function useSwitchboard(name, { apps, setup } = {}) {
  const ctx = {
    server: null,
    pool: null,
    /** sdk returns the pusher Node SDK for app (default MAIN). */
    sdk(app, overrides) {
      return serverSDK(ctx.server, app, overrides);
    },
  };
  before(async () => {
    let config = apps || appsConfig();
    if (setup) config = (await setup()) || config;
    ctx.server = await startServer(config, { name });
    ctx.pool = new ClientPool(ctx.server);
  }, { timeout: SETUP_TIMEOUT_MS });
  afterEach(async () => {
    await ctx.pool?.closeAll();
  });
  after(async () => {
    await ctx.pool?.closeAll();
    await ctx.server?.close();
  });
  return ctx;
}
