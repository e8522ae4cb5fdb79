/**
 * `@push/client` as Node resolves it (the `node` export condition): the same client, whose HTTP
 * transports default to {@link nodeFetch} (`node:http` with keep-alive) instead of the global
 * `fetch`, which costs several times more CPU per request in Node. Pass `fetch` to choose another.
 * Node 20 has no global `WebSocket`: pass one (e.g. from `ws`) to use that transport.
 *
 * @example
 * import { createClient } from '@push/client';
 * import WebSocket from 'ws';
 * const client = createClient({ url: 'http://localhost:8080/push', WebSocket });
 */
import { createClient as createPlatformClient } from './index.js';
import { nodeFetch } from './node-fetch.js';
import type { ClientOptions, PushClient } from './types.js';

export * from './index.js';
export { nodeFetch } from './node-fetch.js';

/**
 * Creates a client that negotiates among all four transports, with `nodeFetch` as its default
 * `fetch`. Same options and behaviour as the browser build's `createClient`.
 * @example const client = createClient({ url: 'http://localhost:8080/push', transports: ['long-polling'] });
 */
export const createClient = (options: ClientOptions): PushClient =>
  createPlatformClient({ ...options, fetch: options.fetch ?? nodeFetch });
