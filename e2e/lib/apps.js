// The apps every test server is configured with. Each exercises one switch
// of the apps file: client events on or off, a disabled app, a connection
// quota. Secrets are test fixtures, never real credentials.

import { randomBytes } from 'node:crypto';

/** MAIN is the everyday app: client events on, generous limits. */
export const MAIN = {
  id: '1001',
  key: 'e2e-main-key',
  secret: 'e2e-main-secret-0001',
  enabled: true,
  client_events: true,
  max_connections: 500,
  max_presence_members: 100,
  webhooks: [],
};

/** NO_CLIENT_EVENTS refuses client-* events. */
export const NO_CLIENT_EVENTS = {
  id: '1002',
  key: 'e2e-no-client-events-key',
  secret: 'e2e-no-client-events-secret',
  enabled: true,
  client_events: false,
  max_connections: 500,
  max_presence_members: 100,
  webhooks: [],
};

/** DISABLED refuses connections with 4003. */
export const DISABLED = {
  id: '1003',
  key: 'e2e-disabled-key',
  secret: 'e2e-disabled-secret',
  enabled: false,
  client_events: true,
  max_connections: 500,
  max_presence_members: 100,
  webhooks: [],
};

/** QUOTA allows one connection; the second is refused with 4004. */
export const QUOTA = {
  id: '1004',
  key: 'e2e-quota-key',
  secret: 'e2e-quota-secret',
  enabled: true,
  client_events: true,
  max_connections: 1,
  max_presence_members: 100,
  webhooks: [],
};

/** SMALL_PRESENCE allows two members per presence channel. */
export const SMALL_PRESENCE = {
  id: '1005',
  key: 'e2e-small-presence-key',
  secret: 'e2e-small-presence-secret',
  enabled: true,
  client_events: true,
  max_connections: 500,
  max_presence_members: 2,
  webhooks: [],
};

/** A key no app has: connecting with it is refused with 4001. */
export const UNKNOWN_KEY = 'e2e-no-such-app-key';

/**
 * ENCRYPTION_MASTER_KEY is what the server SDK derives per-channel secrets
 * of private-encrypted- channels from. The server never sees it: that is
 * the point of end-to-end encrypted channels.
 */
export const ENCRYPTION_MASTER_KEY = randomBytes(32).toString('base64');

/**
 * appsConfig returns the apps file contents. webhooks, when given, are
 * configured on MAIN.
 */
export function appsConfig({ webhooks } = {}) {
  return [
    webhooks ? { ...MAIN, webhooks } : MAIN,
    NO_CLIENT_EVENTS,
    DISABLED,
    QUOTA,
    SMALL_PRESENCE,
  ];
}
