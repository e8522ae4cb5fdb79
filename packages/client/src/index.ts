/**
 * `@push/client`: real-time server push over Bayeux with automatic transport negotiation
 * (WebSocket -> SSE -> long-polling -> forever-iframe), resume, presence and acknowledged publishes.
 *
 * @example
 * import { createClient } from '@push/client';
 * const client = createClient({ url: 'http://localhost:8080/push' });
 * client.subscribe('/stocks/aex/*', (data) => console.log(data));
 * await client.publish('/chat/lobby', { text: 'hi' });
 */
import { type ConnectionType, DEFAULT_ORDER } from '@push/protocol';
import { createClientFactory } from './client.js';
import { createHoldPolicy } from './hold.js';
import { createPresences, eventSource, iframe, longPolling, upgrade } from './lazy.js';
import { pageSignal } from './lifecycle.js';
import { transportMemory } from './memory.js';
import type { TransportFactory } from './transports/transport.js';
import { websocket } from './transports/websocket.js';
import type { ClientOptions, PushClient } from './types.js';

export { createClientFactory } from './client.js';
export { isRetriable, PushError, type PushErrorCode } from './errors.js';
export { createHoldPolicy, type HoldPolicy } from './hold.js';
// The fallback transports, the upgrader and presence load on demand (`lazy.ts`): these are
// stand-ins with the same API, so importing them does not pull their code into the first chunk.
export {
  createPresences,
  domFrame,
  eventSource,
  fetchFrame,
  iframe,
  longPolling,
  presenceHandles,
  upgrade,
} from './lazy.js';
export { pageSignal } from './lifecycle.js';
export { memoKey, type TransportMemory, transportMemory } from './memory.js';
export type { PresenceDeps, Presences } from './presence.js';
export type { FrameOpener } from './transports/iframe.js';
export { TransportError } from './transports/transport.js';
export { unreachable } from './transports/unreachable.js';
export { websocket } from './transports/websocket.js';
export type * from './types.js';
export type { UpgradeControl } from './upgrade.js';

/** The transports of this entry by connection type; `DEFAULT_ORDER` (protocol) sets their order. */
const registry: Partial<Record<ConnectionType, TransportFactory>> = {
  websocket: websocket(),
  eventsource: eventSource(),
  'long-polling': longPolling(),
  iframe: iframe(),
};

const create = createClientFactory(
  DEFAULT_ORDER.flatMap((type) => registry[type] ?? []),
  {
    upgrade,
    presence: createPresences,
    holdPolicy: createHoldPolicy,
    memory: transportMemory,
    online: pageSignal,
  },
);

/**
 * Creates a client that negotiates among all four transports (default order websocket,
 * eventsource, long-polling, iframe) and connects at once unless `autoConnect: false`. The HTTP
 * transports, the upgrader and presence are fetched when first needed (`lazy.ts`). It follows
 * the page lifecycle (`pageSignal`, heartbeat patience in `createHoldPolicy`): reconnects soon
 * when the page is shown again, restored from the back/forward cache or resumed.
 * @example
 * const client = createClient({ url: 'http://localhost:8080/push', transports: ['eventsource', 'long-polling'] });
 * client.on('transport', ({ transport, reason }) => console.log('using', transport, reason));
 */
export const createClient: (options: ClientOptions) => PushClient = create;
