/**
 * `@push/client/websocket`: the same client with only the WebSocket transport, for apps that know
 * WebSockets get through (smallest bundle).
 *
 * @example
 * import { createClient } from '@push/client/websocket';
 * const client = createClient({ url: 'https://example.com/push' });
 */
import { createClientFactory } from './client.js';
import { websocket } from './transports/websocket.js';
import type { ClientOptions, PushClient } from './types.js';

export { isRetriable, PushError, type PushErrorCode } from './errors.js';
export { TransportError } from './transports/transport.js';
export { websocket } from './transports/websocket.js';
export type * from './types.js';

/**
 * Creates a WebSocket-only client.
 * @example const client = createClient({ url: 'http://localhost:8080/push', WebSocket: WS });
 */
export const createClient: (options: ClientOptions) => PushClient = createClientFactory([websocket()]);
