/** The server's event names and payloads. */
import type { ConnectionType } from '@push/protocol';
import type { PushIdentity } from './options.js';
import type { SessionEndReason } from './session.js';

/**
 * Events of a Push server, one lowercase word each.
 * @example
 * server.on('subscribe', ({ clientId, channel }) => log(clientId, channel));
 */
export interface PushServerEvents {
  handshake: [event: { clientId: string; identity: PushIdentity; transport: ConnectionType }];
  subscribe: [event: { clientId: string; channel: string }];
  unsubscribe: [event: { clientId: string; channel: string }];
  /** A message was published (by a client, `server.publish` or HTTP publish; `clientId` when by a client). */
  publish: [event: { clientId: string | undefined; channel: string; data: unknown; offset: number }];
  disconnect: [event: { clientId: string; reason: SessionEndReason }];
}
